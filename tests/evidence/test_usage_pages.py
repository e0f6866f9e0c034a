"""The usage-log pages (GRC): upload with the progress of the job, the result or the reason it failed."""

from __future__ import annotations

import gzip
import io

import pytest
from django.test import Client

from evidence.usage.models import UsageIngestion
from evidence.usage.services import usage_ingest_path
from tests.conftest import login
from tests.evidence.usage_support import CLOUDTRAIL, inventory, other_store

pytestmark = pytest.mark.django_db

PAGE = "/evidence/usage/ingestions/"


@pytest.fixture
def sent(monkeypatch):
    calls = []

    class Result:
        id = "task-1"

    monkeypatch.setattr("cek.jobs.queue.send", lambda name, args: calls.append((name, args)) or Result())
    return calls


def upload_body(data: bytes | None = None, **fields):
    file = io.BytesIO(data if data is not None else gzip.compress(CLOUDTRAIL.read_bytes(), mtime=0))
    file.name = "trail.json.gz"
    return {"file": file, "format": "cloudtrail", **fields}


@pytest.mark.parametrize(("role_name", "status"), [("owner", 403), ("auditor", 403), ("outsider", 403)])
def test_only_grc_sees_the_page(request, role_name, status):
    client = login(request.getfixturevalue(role_name))

    assert client.get(PAGE).status_code == status
    assert client.post(PAGE, upload_body()).status_code == status
    assert not UsageIngestion.objects.exists()


def test_grc_uploads_and_is_sent_to_the_progress_of_the_ingestion(grc_client, sent, django_capture_on_commit_callbacks):
    inventory()
    with django_capture_on_commit_callbacks(execute=True):
        response = grc_client.post(PAGE, upload_body(store="kms-prod"))

    ingestion = UsageIngestion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}{ingestion.pk}/"
    assert sent == [("evidence.tasks.usage_ingest", [ingestion.pk])]
    page = grc_client.get(response["Location"]).content.decode()
    assert f'data-progress-url="/jobs/usage-ingestion/{ingestion.pk}/status/"' in page
    assert "waiting for a worker" in page
    assert "cek/progress.js" in page


def test_the_page_checks_the_csrf_token(grc_user, sent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(grc_user, backend="cek.access.ExpiringAccessBackend")

    assert client.post(PAGE, upload_body()).status_code == 403
    assert not UsageIngestion.objects.exists()


def test_a_finished_ingestion_shows_its_counts(grc_client, grc_user):
    inventory()
    ingestion = usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user)

    page = grc_client.get(f"{PAGE}{ingestion.pk}/").content.decode()

    assert "data-progress-url" not in page
    assert "<dt>Events kept</dt><dd>8</dd>" in page
    assert "3 in the inventory, 1 unknown" in page


def test_a_failed_ingestion_shows_why(grc_client, grc_user):
    inventory()
    ingestion = usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user, store=other_store())

    page = grc_client.get(f"{PAGE}{ingestion.pk}/").content.decode()

    assert "This file was not ingested." in page
    assert "the store kms-other is account 444455556666" in page


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda: upload_body(format="nope"), "Select a valid choice"),
        (lambda: upload_body(b"x" * 100_000), "The file is larger than"),
    ],
)
def test_bad_uploads_re_render_the_form_with_the_reason(grc_client, sent, settings, body, message):
    settings.CEK_USAGE_MAX_UPLOAD_BYTES = 8 * 1024

    response = grc_client.post(PAGE, body())

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not UsageIngestion.objects.exists()


def test_the_same_file_again_is_refused_on_the_page(grc_client, grc_user, sent):
    inventory()
    usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user)

    response = grc_client.post(PAGE, upload_body(CLOUDTRAIL.read_bytes()))

    assert response.status_code == 400
    assert "already ingested" in response.content.decode()
    assert UsageIngestion.objects.count() == 1


def test_the_list_runs_a_fixed_number_of_queries(grc_client, grc_user, tmp_path, django_assert_max_num_queries):
    inventory()
    usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user)
    with django_assert_max_num_queries(12) as few:
        assert grc_client.get(PAGE).status_code == 200
    for n in range(8):
        path = tmp_path / f"f{n}.json"
        path.write_bytes(CLOUDTRAIL.read_bytes() + b" " * (n + 1))
        usage_ingest_path(source="cloudtrail", path=str(path), user=grc_user)

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = grc_client.get(PAGE)
    assert len(page.context["ingestions"]) == 9


@pytest.mark.parametrize("model", ["usageingestion", "usageaggregate"])
def test_the_admin_shows_ingestions_and_aggregates_read_only(model, grc_user):
    from django.urls import reverse

    from evidence.usage.models import UsageAggregate
    from tests.factories import UserFactory

    inventory()
    ingestion = usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user)
    obj = ingestion if model == "usageingestion" else UsageAggregate.objects.first()
    client = login(UserFactory(username="root", is_staff=True, is_superuser=True))

    assert client.get(reverse(f"admin:evidence_{model}_changelist")).status_code == 200
    change_url = reverse(f"admin:evidence_{model}_change", args=[obj.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {}).status_code == 403
    assert client.get(reverse(f"admin:evidence_{model}_add")).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()
