"""Writes of the check runs: starting one (inline for a small inventory, else on a Celery worker), executing every
registered check, keeping the findings of the checks' rules in step with what they found, retrying failed runs,
failing stale ones, and recording manual evidence.

Findings are kept in bulk (a handful of queries per rule whatever the number of subjects):

- a failing subject without a finding of the rule gets one (with its history row; COPY on PostgreSQL, else
  ``bulk_create_with_history``; "First seen by
  check run #N");
- a resolved finding whose subject fails again is reopened, and so is a risk acceptance that has ended
  (``bulk_update_with_history``, "Reopened: seen again by check run #N"); an acceptance still running stays;
- every still-failing finding gets its ``last_seen`` moved to the run (one ``UPDATE`` per batch, no history
  row: a sighting is not a change); a changed reason, label or severity is recorded with history;
- an open or risk-accepted finding of the rule whose subject no longer fails is resolved
  (``resolved_by`` None, "Resolved automatically by check run #N").

Only the rules of the registered checks (``registry.OWNED_RULES``) are touched: findings other observers
raise (attestation discrepancies) are theirs to keep. One run at a time: a run is not started while another
is queued or running, so two runs never write the same rule's findings at once.

A run on a worker is a background job (``cek.jobs``, as ``CheckRun.job`` declares): queued through
``cek.jobs.enqueue``, reporting one step per guideline, failed by the shared watchdog when it goes silent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from cek.bulkcopy import copy_available, copy_create, copy_history
from cek.control import load_control
from cek.jobs import Progress, enqueue, job_claim
from cek.jobs.progress import progress_clear
from cek.jobs.watchdog import sweep
from evidence.checks import registry
from evidence.checks.base import Check, CheckContext, Outcome, Subject
from evidence.documents.uploads import document_scan
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
from evidence.writes import require_grc

logger = logging.getLogger(__name__)

BATCH = 2000
BROKER_DOWN = (
    "The background worker queue cannot be reached, so the checks were not started and no run was recorded. "
    "Try again in a few minutes, or ask an administrator to check the broker (REDIS_URL)."
)


class CheckRunError(Exception):
    """A run could not be started (the message is for the user)."""


class CheckRunBusy(CheckRunError):
    """Another run is queued or running: ``run`` (None when it finished in the meantime)."""

    def __init__(self, run: CheckRun | None):
        self.run = run
        if run is None:
            super().__init__("Another check run was started at the same moment; see the latest run.")
        else:
            super().__init__(
                f"{run.title} is still {run.get_status_display().lower()}; only one run may run at a "
                "time. Wait for it to finish, then start another if needed."
            )


# --- Starting, retrying and failing runs --------------------------------------------------------------------


def runs_in_background() -> bool:
    from inventory.models import IN_USE_STATES, Key

    return Key.objects.filter(state__in=IN_USE_STATES).count() > settings.CEK_CHECKS_INLINE_KEYS


def check_run_start(*, trigger: str, actor=None, background: bool | None = None) -> CheckRun:
    """Start a run of every check. People (UI, API) must be GRC. A small inventory is evaluated in this process
    (the run is returned finished); a large one is queued for a worker after the commit (returned queued).
    Raises ``CheckRunError`` when another run is in progress or the broker cannot be reached (no run is left
    behind then)."""
    if trigger not in RunTrigger.values:
        raise ValueError(f"Unknown trigger {trigger!r}")
    if trigger in (RunTrigger.UI, RunTrigger.API):
        require_grc(actor, "run the checks")
    if background is None:
        background = runs_in_background()
    # A run whose worker died must not block every later start until beat's sweep (forever without beat).
    checks_fail_stale()
    try:
        with transaction.atomic():
            busy = CheckRun.objects.filter(status__in=CheckRun.job.active).first()
            if busy is not None:
                raise CheckRunBusy(busy)
            # Two requests can both read "none in progress"; the constraint checkrun_one_active lets one insert
            # through and makes the other wait for it, then fail.
            run = CheckRun.objects.create(
                trigger=trigger, triggered_by=actor, status=RunStatus.QUEUED, catalog_version=load_control().version
            )
    except IntegrityError:
        busy = CheckRun.objects.filter(status__in=CheckRun.job.active).first()
        raise CheckRunBusy(busy) from None
    if not background:
        return check_run_execute(run_id=run.pk)

    def broker_down() -> CheckRunError:
        CheckRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).delete()
        return CheckRunError(BROKER_DOWN)

    # Its row is committed: queued now, so the broker being down is said to this request and leaves no run.
    enqueue(run, on_broker_down=broker_down, at_once=True)
    run.refresh_from_db()
    return run


def check_run_retry(*, run: CheckRun, actor, background: bool | None = None) -> CheckRun:
    """A failed run is retried as a new run (the failed one stays on record with its reason)."""
    require_grc(actor, "retry check runs")
    if run.status != RunStatus.FAILED:
        raise ValidationError("Only a failed run can be retried.")
    trigger = run.trigger if run.trigger in (RunTrigger.UI, RunTrigger.API) else RunTrigger.UI
    return check_run_start(trigger=trigger, actor=actor, background=background)


def checks_fail_stale(*, now: dt.datetime | None = None) -> int:
    """Runs queued or running with no sign of life for over ``CEK_CHECKS_STALE_MINUTES`` (the worker died, the
    queue lost the task) are marked failed, so a new run can start. A run writes in one transaction: nothing of
    theirs was kept. (The shared watchdog for this kind; beat runs it for all.)"""
    done = sweep(CheckRun.job, now=now)
    return done["running_failed"] + done["queued_failed"]


# --- Executing a run ------------------------------------------------------------------------------------------


@dataclass
class FindingChanges:
    opened: int = 0
    resolved: int = 0


def check_run_execute(*, run_id: int, now: dt.datetime | None = None) -> CheckRun:
    """Evaluate every registered check for a queued run, store the results and keep the findings, all in one
    transaction. A failure marks the run failed with its reason (nothing else is written; it is logged)."""
    claimed = job_claim(CheckRun.job, run_id)
    run = CheckRun.objects.get(pk=run_id)
    if not claimed:
        return run  # already taken by another worker, finished, or failed by the watchdog
    started = time.monotonic()
    # Inside the run's transaction: its progress (one step per guideline) reaches the cache only.
    progress = Progress(CheckRun.job, run_id, row=False)
    try:
        with transaction.atomic():
            ctx = CheckContext(now=now)
            results, changes = [], FindingChanges()
            counts: dict[str, int] = {status: 0 for status in CheckStatus.values}
            for position, check in enumerate(registry.CHECKS):
                progress(100 * position // len(registry.CHECKS), f"evaluating {check.guideline_id}")
                check_started = time.monotonic()
                outcome = check.evaluate(ctx)
                if check.rule:
                    sync = findings_sync(check=check, failing=outcome.failing, run=run, now=ctx.now)
                    changes.opened += sync.opened
                    changes.resolved += sync.resolved
                counts[outcome.status] += 1
                results.append(_result(run, position, check, outcome, time.monotonic() - check_started))
                del outcome  # its failing subjects (all of them) are not kept while the next check runs
            CheckResult.objects.bulk_create(results)
            finished = timezone.now()
            CheckRun.objects.filter(pk=run.pk).update(
                status=RunStatus.SUCCEEDED,
                progress=100,
                phase="",
                finished_at=finished,
                duration_ms=int((time.monotonic() - started) * 1000),
                counts={status: n for status, n in counts.items() if n},
                keys_evaluated=len(ctx.keys),
                findings_opened=changes.opened,
                findings_resolved=changes.resolved,
                last_error="",
            )
    except Exception as exc:
        logger.exception("Check run %s failed", run_id)
        CheckRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            phase="failed",
            finished_at=timezone.now(),
            duration_ms=int((time.monotonic() - started) * 1000),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    progress_clear(CheckRun.job, run_id)
    run.refresh_from_db()
    return run


def _result(run: CheckRun, position: int, check: Check, outcome: Outcome, seconds: float) -> CheckResult:
    return CheckResult(
        run=run,
        guideline_id=check.guideline_id,
        position=position,
        status=outcome.status,
        metric=outcome.metric[:200],
        numerator=outcome.numerator,
        denominator=outcome.denominator,
        explanation=outcome.explanation,
        failing=outcome.failing_kept,
        failing_count=len({(s.type, s.id) for s in outcome.failing}),
        evidence=outcome.evidence,
        details={"title": check.title, "rule": check.rule, "severity": check.severity, **outcome.details},
        duration_ms=int(seconds * 1000),
        manual_evidence=outcome.manual_evidence,
    )


def findings_sync(*, check: Check, failing: list[Subject], run: CheckRun, now: dt.datetime) -> FindingChanges:
    """Bring the findings of ``check.rule`` in line with ``failing`` (see the module docstring). Existing
    findings are streamed as tuples and compared as they come (none is kept); model instances are built only for
    the rows that change, a batch at a time, so memory stays bounded whatever the number of failing subjects."""
    rule, severity = check.rule, check.severity
    today = timezone.localdate(now)
    run_label = f"check run #{run.pk}"
    # The failing subjects without a finding of the rule yet: those found among the existing ones are taken out.
    wanted: dict[tuple[str, int], Subject] = {}
    for subject in failing:
        wanted.setdefault((subject.type, subject.id), subject)
    columns = ("pk", "subject_type", "subject_id", "subject_label", "severity", "status", "details", "accepted_until")
    existing = Finding.objects.filter(rule=rule).values_list(*columns).iterator(chunk_size=BATCH)
    changes = FindingChanges()

    def details_of(subject: Subject) -> dict:
        return {"guideline": check.guideline_id, "reason": subject.reason}

    reopened: dict[int, Subject] = {}
    changed: dict[int, Subject] = {}
    gone: list[int] = []
    for pk, subject_type, subject_id, old_label, old_severity, status, old_details, accepted_until in existing:
        subject = wanted.pop((subject_type, subject_id), None)
        if subject is None:
            if status in (FindingStatus.OPEN, FindingStatus.RISK_ACCEPTED):
                gone.append(pk)
            continue
        expired = status == FindingStatus.RISK_ACCEPTED and accepted_until is not None and accepted_until < today
        if status == FindingStatus.RESOLVED or expired:
            reopened[pk] = subject
        elif (old_label, old_severity, old_details) != (subject.label[:300], severity, details_of(subject)):
            changed[pk] = subject

    if wanted:
        reason = f"First seen by {run_label}"
        pending = iter(wanted.values())
        while batch := list(islice(pending, BATCH)):
            new = [
                Finding(
                    rule=rule,
                    subject_type=subject.type,
                    subject_id=subject.id,
                    subject_label=subject.label[:300],
                    severity=severity,
                    status=FindingStatus.OPEN,
                    details=details_of(subject),
                    first_seen=now,
                    last_seen=now,
                )
                for subject in batch
            ]
            if copy_available():  # PostgreSQL: COPY, as the imports write new keys (bulk_create binds in Python)
                copy_create(Finding, new, now=now)
                copy_history(Finding, new, history_type="+", actor=None, reason=reason, date=now)
            else:
                bulk_create_with_history(new, Finding, batch_size=BATCH, default_change_reason=reason)
        changes.opened += len(wanted)
    if reopened:

        def reopen(subject: Subject) -> dict:
            return {
                "subject_label": subject.label[:300],
                "severity": severity,
                "details": details_of(subject),
                "last_seen": now,
                "status": FindingStatus.OPEN,
                "resolved_at": None,
                "resolved_by": None,
            }

        _bulk_update(reopened, reopen, reason=f"Reopened: seen again by {run_label}")
        changes.opened += len(reopened)
    if changed:

        def seen_again(subject: Subject) -> dict:
            return {
                "subject_label": subject.label[:300],
                "severity": severity,
                "details": details_of(subject),
                "last_seen": now,
            }

        _bulk_update(changed, seen_again, reason=f"Seen again by {run_label}")
    if gone:
        resolution = {
            "status": FindingStatus.RESOLVED,
            "resolved_at": now,
            "resolved_by": None,
            "accepted_until": None,
            "accepted_by": None,
            "accepted_reason": "",
        }
        _bulk_update(dict.fromkeys(gone), lambda _: resolution, reason=f"Resolved automatically by {run_label}")
        changes.resolved += len(gone)
    # Every finding of the rule still open or accepted was seen by this run: one UPDATE, no history row (a
    # sighting is not a change of the finding).
    Finding.objects.filter(rule=rule, status__in=[FindingStatus.OPEN, FindingStatus.RISK_ACCEPTED]).exclude(
        last_seen__gte=now
    ).update(last_seen=now)
    return changes


def _bulk_update(
    subjects_by_pk: dict[int, Subject | None], values_of: Callable[[Subject | None], dict], *, reason: str
) -> None:
    """Apply ``values_of(subject)`` to each finding of ``subjects_by_pk`` with ``bulk_update_with_history``, a
    batch at a time: the rows are read whole (one query per batch), because the history row is written from the
    instance."""
    pks = list(subjects_by_pk)
    fields = sorted(values_of(subjects_by_pk[pks[0]]))
    for start in range(0, len(pks), BATCH):
        findings = list(Finding.objects.filter(pk__in=pks[start : start + BATCH]))
        for finding in findings:
            for name, value in values_of(subjects_by_pk[finding.pk]).items():
                setattr(finding, name, value)
        bulk_update_with_history(findings, Finding, fields, batch_size=BATCH, default_change_reason=reason)


# --- Manual evidence ----------------------------------------------------------------------------------------


def manual_evidence_add(*, guideline_id: str, note: str, assessment: str = "", document=None, actor) -> ManualEvidence:
    """GRC records what it verified for a guideline that takes manual evidence (AG-9; AG-8, where it counts while
    no IaC scan is recorded): a note (no key material), optionally a
    document (size-limited, its SHA-256 kept) and an assessment. The newest record counts from the next run on.
    Auditors read it but record nothing: an assessment they wrote would change the results they audit."""
    require_grc(actor, "record manual evidence")
    if guideline_id not in registry.MANUAL_GUIDELINES:
        raise ValidationError(
            f"{guideline_id} is evaluated from the data; manual evidence is for {', '.join(registry.MANUAL_GUIDELINES)}."
        )
    record = ManualEvidence(
        guideline_id=guideline_id, note=(note or "").strip(), assessment=assessment or "", created_by=actor
    )
    if document is not None:
        limit = settings.CEK_MANUAL_EVIDENCE_MAX_BYTES
        if document.size > limit:
            raise ValidationError(
                {"document": f"The document is {document.size:,} bytes; the limit is {limit:,} bytes."}
            )
        data = b"".join(document.chunks())  # within the size limit just checked
        try:
            # Before anything is stored: a refused document is never written (see evidence.documents.uploads).
            document_scan(name=document.name, data=data)
        except ValidationError as exc:
            raise ValidationError({"document": exc.messages}) from None
        digest = hashlib.sha256(data)
        document.seek(0)
        record.sha256 = digest.hexdigest()
        record.size = document.size
        record.document_name = document.name[:255]
        record.document = document
    record.full_clean()
    with transaction.atomic():
        record.save()
    return record
