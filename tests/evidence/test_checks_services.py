"""Check runs: the run service, findings kept in bulk (open, seen again, auto-resolve, reopen, acceptance
expiry, other rules untouched), the watchdog, manual evidence and ``manage.py run_checks``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from evidence.checks import services
from evidence.checks.registry import CHECKS
from evidence.checks.selectors import latest_results, latest_run, run_results, trend
from evidence.findings.services import finding_accept_risk
from evidence.models import (
    CheckResult,
    CheckRun,
    CheckStatus,
    Finding,
    FindingStatus,
    ManualEvidence,
    RunStatus,
    RunTrigger,
)
from inventory.models import Key
from tests.factories import FindingFactory, KeyFactory, KeyStoreFactory

pytestmark = pytest.mark.django_db


def run_now(actor=None, trigger=RunTrigger.COMMAND) -> CheckRun:
    return services.check_run_start(trigger=trigger, actor=actor, background=False)


@pytest.fixture
def store():
    return KeyStoreFactory(last_full_import_at=timezone.now())


def test_run_records_one_result_per_guideline(grc_user, store):
    KeyFactory(store=store, owner=grc_user, labels={"purpose": "data-encryption"})
    run = run_now(grc_user, RunTrigger.UI)
    assert run.status == RunStatus.SUCCEEDED
    assert run.triggered_by == grc_user and run.duration_ms is not None and run.keys_evaluated == 1
    results = run_results(run)
    assert [r.guideline_id for r in results] == [c.guideline_id for c in CHECKS]
    assert sum(run.counts.values()) == len(CHECKS)
    assert latest_run() == run and latest_results() == results and trend() == [run]
    assert run.catalog_version


def test_people_must_be_grc(auditor, owner):
    for user in (auditor, owner):
        with pytest.raises(PermissionDenied):
            services.check_run_start(trigger=RunTrigger.UI, actor=user, background=False)
    assert not CheckRun.objects.exists()


def test_one_run_at_a_time(grc_user):
    CheckRun.objects.create(
        trigger=RunTrigger.UI, status=RunStatus.RUNNING, catalog_version="x", started_at=timezone.now()
    )
    with pytest.raises(services.CheckRunError, match="still running"):
        run_now(grc_user, RunTrigger.UI)


def test_findings_open_resolve_and_reopen(store):
    bad = KeyFactory(store=store, owner=None, purpose=None, purpose_justification="", purpose_reviewed_on=None)
    other_rule = FindingFactory(rule="attestation-discrepancy", subject_id=bad.pk)
    run = run_now()
    finding = Finding.objects.get(rule="ag-1-purpose", subject_id=bad.pk)
    assert finding.status == FindingStatus.OPEN and finding.severity == "high"
    assert finding.history.first().history_change_reason == f"First seen by check run #{run.pk}"
    assert run.findings_opened >= 4  # AG-1, AG-2, AG-7, CCM-2 at least
    # seen again: one finding per rule and subject, last_seen moves, no new history row
    history_rows = finding.history.count()
    run2 = run_now()
    finding.refresh_from_db()
    assert finding.last_seen >= run2.started_at and finding.history.count() == history_rows
    assert Finding.objects.filter(rule="ag-1-purpose").count() == 1
    # fixed: resolved automatically, by nobody
    Key.objects.filter(pk=bad.pk).update(
        purpose_id=KeyFactory._meta.model._meta.get_field("purpose")
        .related_model.objects.get(slug="data-encryption")
        .pk
    )
    run3 = run_now()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED and finding.resolved_by is None
    assert finding.history.first().history_change_reason == f"Resolved automatically by check run #{run3.pk}"
    assert run3.findings_resolved >= 1
    other_rule.refresh_from_db()
    assert other_rule.status == FindingStatus.OPEN  # not a rule the checks own
    # broken again: reopened
    Key.objects.filter(pk=bad.pk).update(purpose_id=None, purpose_justification="", purpose_reviewed_on=None)
    run_now()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and finding.resolved_at is None


def test_destroyed_key_findings_resolve(store):
    bad = KeyFactory(store=store, owner=None)
    run_now()
    assert Finding.objects.filter(rule="ccm-2-inventory", subject_id=bad.pk, status=FindingStatus.OPEN).exists()
    Key.objects.filter(pk=bad.pk).update(state="destroyed")
    run_now()
    assert Finding.objects.get(rule="ccm-2-inventory", subject_id=bad.pk).status == FindingStatus.RESOLVED


def test_risk_acceptance_stands_until_it_ends(grc_user, store):
    bad = KeyFactory(store=store, owner=None)
    run_now()
    finding = Finding.objects.get(rule="ccm-2-inventory", subject_type="inventory.key", subject_id=bad.pk)
    finding_accept_risk(
        finding=finding,
        actor=grc_user,
        until=timezone.localdate() + dt.timedelta(days=5),
        reason="Owner leaves; successor named next week.",
    )
    run_now()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RISK_ACCEPTED
    Finding.objects.filter(pk=finding.pk).update(accepted_until=timezone.localdate() - dt.timedelta(days=1))
    run_now()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert finding.history.first().history_change_reason.startswith("Reopened: seen again by check run")


def test_failed_run_keeps_nothing_and_can_be_retried(grc_user, store, monkeypatch):
    KeyFactory(store=store, owner=None)
    from evidence.checks.guidelines.ag03 import NoPurposeReuse

    def boom(self, ctx):
        raise RuntimeError("database went away")

    monkeypatch.setattr(NoPurposeReuse, "evaluate", boom)
    run = run_now(grc_user, RunTrigger.UI)
    assert run.status == RunStatus.FAILED and "database went away" in run.last_error
    assert not CheckResult.objects.exists() and not Finding.objects.exists()
    assert latest_run() is None
    monkeypatch.undo()
    retried = services.check_run_retry(run=run, actor=grc_user, background=False)
    assert retried.pk != run.pk and retried.status == RunStatus.SUCCEEDED
    with pytest.raises(ValidationError):
        services.check_run_retry(run=retried, actor=grc_user, background=False)


def test_broker_down_leaves_no_run(grc_user, monkeypatch):
    from kombu.exceptions import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr("cek.jobs.queue.send", down)
    with pytest.raises(services.CheckRunError, match="cannot be reached"):
        services.check_run_start(trigger=RunTrigger.UI, actor=grc_user, background=True)
    assert not CheckRun.objects.exists()


def test_background_start_queues_the_task(grc_user, monkeypatch):
    from evidence.checks import tasks

    queued = []

    class Result:
        id = "task-123"

    monkeypatch.setattr("cek.jobs.queue.send", lambda name, args: queued.append((name, args)) or Result())
    run = services.check_run_start(trigger=RunTrigger.API, actor=grc_user, background=True)
    assert run.status == RunStatus.QUEUED and run.task_id == "task-123"
    assert queued == [("evidence.tasks.checks_run", [run.pk])]
    tasks.checks_run(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_watchdog_fails_stale_runs():
    now = timezone.now()
    stale = CheckRun.objects.create(trigger=RunTrigger.UI, status=RunStatus.RUNNING, catalog_version="x")
    CheckRun.objects.filter(pk=stale.pk).update(
        created_at=now - dt.timedelta(hours=2), started_at=now - dt.timedelta(hours=2)
    )
    assert services.checks_fail_stale(now=now) == 1
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED and "retry" in stale.last_error
    # One run at a time (constraint checkrun_one_active): the fresh one can exist only once the stale one failed.
    fresh = CheckRun.objects.create(
        trigger=RunTrigger.UI, status=RunStatus.RUNNING, catalog_version="x", started_at=now
    )
    assert services.checks_fail_stale(now=now) == 0
    fresh.refresh_from_db()
    assert fresh.status == RunStatus.RUNNING


def test_nightly_task_runs_inline():
    from evidence.checks import tasks

    result = tasks.checks_nightly()
    run = CheckRun.objects.get(pk=result["run"])
    assert run.trigger == RunTrigger.SCHEDULE and run.status == RunStatus.SUCCEEDED


def test_manual_evidence(grc_user, auditor, owner, settings):
    document = SimpleUploadedFile("iac-scan.txt", b"checkov: 0 failed")
    record = services.manual_evidence_add(
        guideline_id="AG-8",
        note="Checkov policy CKV_KEY_1 blocks multi-use keys.",
        assessment="pass",
        document=document,
        actor=grc_user,
    )
    assert len(record.sha256) == 64 and record.size == 17 and record.document_name == "iac-scan.txt"
    services.manual_evidence_add(guideline_id="AG-9", note="CloudTrail alerts reviewed.", actor=grc_user)
    for reader in (auditor, owner):  # auditors read evidence; they change nothing
        with pytest.raises(PermissionDenied):
            services.manual_evidence_add(guideline_id="AG-8", note="x", assessment="pass", actor=reader)
    with pytest.raises(ValidationError):
        services.manual_evidence_add(guideline_id="AG-1", note="x", actor=grc_user)
    with pytest.raises(ValidationError):
        services.manual_evidence_add(
            guideline_id="AG-8",
            note="-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
            actor=grc_user,
        )
    settings.CEK_MANUAL_EVIDENCE_MAX_BYTES = 5
    with pytest.raises(ValidationError, match="limit"):
        services.manual_evidence_add(
            guideline_id="AG-8", note="big", document=SimpleUploadedFile("a.txt", b"123456"), actor=grc_user
        )
    assert ManualEvidence.objects.count() == 2
    run = run_now()
    ag8 = next(r for r in run_results(run) if r.guideline_id == "AG-8")
    assert ag8.status == CheckStatus.MANUAL and ag8.manual_evidence == record


def test_command_prints_table(store):
    KeyFactory(store=store, owner=None)
    out = io.StringIO()
    call_command("run_checks", stdout=out)
    text = out.getvalue()
    assert "AG-1" in text and "CCM-3" in text and "Check run #" in text
    assert CheckRun.objects.get().trigger == RunTrigger.COMMAND
    with pytest.raises(CommandError) as failed:
        call_command("run_checks", "--fail-on", "fail", stdout=io.StringIO())
    assert failed.value.returncode == 1


def test_the_database_refuses_a_second_active_run():
    from django.db import IntegrityError, transaction

    CheckRun.objects.create(trigger=RunTrigger.UI, status=RunStatus.QUEUED, catalog_version="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckRun.objects.create(trigger=RunTrigger.UI, status=RunStatus.RUNNING, catalog_version="x")
    CheckRun.objects.create(trigger=RunTrigger.UI, status=RunStatus.FAILED, catalog_version="x")  # others are free
