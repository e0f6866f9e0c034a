"""End to end with a real Celery worker and broker: a run over more keys than the inline limit is queued, the
worker evaluates every guideline and records the findings."""

from __future__ import annotations

import pytest
from django.utils import timezone

from evidence.checks import services
from evidence.models import CheckResult, CheckRun, Finding, RunStatus, RunTrigger
from tests.conftest import wait_for
from tests.factories import KeyStoreFactory, UserFactory, keys_bulk

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_lived_connections(monkeypatch):
    """The worker thread closes its connection after each task (see test_policy_worker)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


def test_a_worker_runs_the_checks(short_lived_connections, celery_worker, settings):
    settings.CEK_CHECKS_INLINE_KEYS = 50
    grc = UserFactory(username="grace", roles=["grc"])
    owner = UserFactory(username="olivia", roles=["key-owners"])
    store = KeyStoreFactory(last_full_import_at=timezone.now())
    keys_bulk(count=300, owners=[owner], store=store)
    keys_bulk(count=20, owners=[], store=KeyStoreFactory(name="manual-vault", last_full_import_at=timezone.now()))
    run = services.check_run_start(trigger=RunTrigger.UI, actor=grc)
    assert run.status == RunStatus.QUEUED and run.task_id
    wait_for(lambda: CheckRun.objects.get(pk=run.pk).status in (RunStatus.SUCCEEDED, RunStatus.FAILED))
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.last_error
    assert run.keys_evaluated == 320
    ccm2 = CheckResult.objects.get(run=run, guideline_id="CCM-2")
    assert ccm2.failing_count == 20 and ccm2.status == "fail"
    assert Finding.objects.filter(rule="ccm-2-inventory").count() == 20
