"""Large imports are applied by a real Celery worker with progress; the broker being down, a failed or stale
apply, and retrying are all visible and recoverable."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse
from kombu.exceptions import OperationalError

from inventory import importing
from inventory.importing import progress
from inventory.models import Key, KeyImport
from inventory.tasks import apply_key_import
from tests.conftest import wait_for
from tests.factories import KeyStoreFactory, UserFactory
from tests.inventory.test_platform_import import aws_key


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CEK_IMPORT_INLINE_ROWS = 3  # anything larger goes to the worker


def _file(count: int) -> bytes:
    return json.dumps([aws_key(n, tags={"purpose": "data-encryption"}) for n in range(1, count + 1)]).encode()


def _setup():
    grc = UserFactory(username="grace", roles=["grc"])
    KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")
    return grc


def test_a_large_import_is_applied_by_a_celery_worker_and_the_page_follows_it(celery_worker, client):
    grc = _setup()
    record, _ = importing.key_import_preview(data=_file(12), file_name="kms.json", format="aws-kms", actor=grc)
    assert importing.runs_in_background(record)
    client.force_login(grc)
    response = client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True)
    assert "Applying kms.json in the background" in response.content.decode()

    record = wait_for(lambda: KeyImport.objects.filter(pk=record.pk, status="applied").first())
    assert record.counts["new"] == 12 and record.applied_by == grc and record.task_id
    assert Key.objects.count() == 12
    status = client.get(reverse("inventory:import-status", args=[record.pk])).json()
    assert status["status"] == "applied" and status["percent"] == 100
    assert progress.progress_read(record.pk) is None  # cleaned up


def test_a_small_import_is_applied_at_once(db, client):
    grc = _setup()
    record, _ = importing.key_import_preview(data=_file(2), file_name="kms.json", format="aws-kms", actor=grc)
    client.force_login(grc)
    response = client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True)
    assert "Imported 2 keys: 2 new, 0 changed." in response.content.decode()


def test_the_broker_being_down_leaves_the_import_previewed_with_a_clear_message(db, client, monkeypatch):
    grc = _setup()
    record, _ = importing.key_import_preview(data=_file(5), file_name="kms.json", format="aws-kms", actor=grc)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("cek.jobs.queue.send", broker_down)
    client.force_login(grc)
    page = client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True).content.decode()
    assert "The background worker queue cannot be reached" in page
    record.refresh_from_db()
    assert record.status == "previewed" and record.started_at is None and Key.objects.count() == 0


def test_the_progress_bar_reads_the_workers_reports(db, client):
    grc = _setup()
    record, _ = importing.key_import_preview(data=_file(5), file_name="kms.json", format="aws-kms", actor=grc)
    KeyImport.objects.filter(pk=record.pk).update(status="applying", started_at=dt.datetime.now(dt.UTC))
    progress.progress_report(record.pk, 2, 5, phase="writing")
    client.force_login(grc)
    assert client.get(reverse("inventory:import-status", args=[record.pk])).json() | {} == {
        "id": record.pk,
        "status": "applying",
        "percent": 40,
        "phase": "writing",
        "done": 2,
        "total": 5,
        "last_error": "",
    }
    page = client.get(reverse("inventory:import-preview", args=[record.pk])).content.decode()
    assert 'data-progress-url="' in page and '<progress max="100" value="40"' in page and "progress.js" in page


def test_a_task_run_twice_applies_once(db):
    grc = _setup()
    record, _ = importing.key_import_preview(data=_file(5), file_name="kms.json", format="aws-kms", actor=grc)
    KeyImport.objects.filter(pk=record.pk).update(status="applying")
    assert apply_key_import.run(record.pk, grc.pk)["counts"]["new"] == 5
    assert apply_key_import.run(record.pk, grc.pk) == {"import": record.pk, "skipped": "applied"}
    assert Key.objects.count() == 5


def test_a_stale_apply_is_failed_by_the_watchdog_and_can_be_retried(db, client):
    grc = _setup()
    record, _ = importing.key_import_preview(data=_file(5), file_name="kms.json", format="aws-kms", actor=grc)
    start = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
    KeyImport.objects.filter(pk=record.pk).update(status="applying", started_at=start)
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        progress.progress_report(record.pk, 1, 5, phase="writing")
        assert importing.fail_stale_imports() == 0  # recent progress
    with time_machine.travel(start + dt.timedelta(minutes=45)):
        assert importing.fail_stale_imports() == 1
    record.refresh_from_db()
    assert record.status == "failed" and "stopped reporting for over 30 minutes" in record.last_error

    client.force_login(grc)
    page = client.get(reverse("inventory:import-preview", args=[record.pk])).content.decode()
    assert "The import failed:" in page and "Retry" in page
    page = client.post(reverse("inventory:import-retry", args=[record.pk]), follow=True).content.decode()
    assert "planned again against the inventory as it is now" in page
    record.refresh_from_db()
    assert record.status == "previewed"
    importing.key_import_apply(key_import=record, actor=grc)
    assert Key.objects.count() == 5


def test_only_grc_sees_the_status_of_an_import(db, client):
    grc = _setup()
    record, _ = importing.key_import_preview(data=_file(1), file_name="kms.json", format="aws-kms", actor=grc)
    client.force_login(UserFactory(roles=["auditors"]))
    assert client.get(reverse("inventory:import-status", args=[record.pk])).status_code == 403
    assert client.post(reverse("inventory:import-retry", args=[record.pk])).status_code == 403
