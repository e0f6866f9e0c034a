"""Writes of the findings: the idempotent upsert every observer calls, GRC's judgements (assign, resolve, accept
risk) and the daily reopening of risk acceptances that ended. Views, tasks and the other features' services call
these; none of them save findings directly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from cek.history import save_attributed
from cek.people import person_name
from evidence.models import Finding, FindingStatus, Severity
from evidence.writes import require_grc, today_local


def subject_ref(subject: models.Model) -> tuple[str, int, str]:
    """(subject_type, subject_id, subject_label) of a model instance."""
    return subject._meta.label_lower, subject.pk, str(subject)[:300]


def finding_upsert(
    *, rule: str, subject: models.Model, severity: str, details: dict[str, Any], seen_at: dt.datetime, actor=None
) -> tuple[Finding, bool]:
    """Record that ``rule`` holds for ``subject`` at ``seen_at``: creates the finding, or updates its last
    sighting, severity and details. A resolved finding is reopened; a risk acceptance stands until its end
    date, after which the finding is open again. Returns (finding, created)."""
    if severity not in Severity.values:
        raise ValidationError(
            {"severity": f"“{severity}” is not a severity; expected one of: {', '.join(Severity.values)}."}
        )
    subject_type, subject_id, label = subject_ref(subject)
    for _attempt in range(2):  # a concurrent first sighting loses the insert race and updates instead
        try:
            with transaction.atomic():
                finding = (
                    Finding.objects.select_for_update()
                    .filter(rule=rule, subject_type=subject_type, subject_id=subject_id)
                    .first()
                )
                if finding is None:
                    finding = Finding(
                        rule=rule,
                        subject_type=subject_type,
                        subject_id=subject_id,
                        subject_label=label,
                        severity=severity,
                        details=details,
                        first_seen=seen_at,
                        last_seen=seen_at,
                    )
                    finding.full_clean()
                    save_attributed(finding, actor=actor, reason=f"First seen by {rule}")
                    return finding, True
                finding.subject_label = label
                finding.severity = severity
                finding.details = details
                finding.last_seen = max(finding.last_seen, seen_at)
                reason = f"Seen again by {rule}"
                if finding.status == FindingStatus.RESOLVED or finding.acceptance_expired(seen_at.date()):
                    reason = f"Reopened: seen again by {rule}"
                    finding.status = FindingStatus.OPEN
                    finding.resolved_at = finding.resolved_by = None
                save_attributed(finding, actor=actor, reason=reason)
                return finding, False
        except IntegrityError:
            continue
    raise RuntimeError("finding_upsert lost the insert race twice")  # pragma: no cover


def _locked(finding: Finding) -> Finding:
    return Finding.objects.select_for_update().get(pk=finding.pk)


def finding_resolve(*, finding: Finding, actor, note: str = "") -> Finding:
    """GRC marks the finding resolved (it reopens if its rule sees the subject again)."""
    require_grc(actor, "resolve findings")
    from django.utils import timezone

    with transaction.atomic():
        locked = _locked(finding)
        if locked.status == FindingStatus.RESOLVED:
            raise ValidationError("This finding is already resolved.")
        locked.status = FindingStatus.RESOLVED
        locked.resolved_at = timezone.now()
        locked.resolved_by = actor
        locked.accepted_until = locked.accepted_by = None
        locked.accepted_reason = ""
        save_attributed(locked, actor=actor, reason=note or "Resolved")
    return locked


def finding_accept_risk(*, finding: Finding, actor, until: dt.date | None, reason: str) -> Finding:
    """GRC accepts the risk until a future date, with a reason; the actor is the approver."""
    require_grc(actor, "accept the risk of findings")
    errors = {}
    if until is None:
        errors["until"] = "Give the date the risk acceptance ends."
    elif until <= today_local():
        errors["until"] = f"The acceptance must end after today ({until:%Y-%m-%d} is not in the future)."
    if not (reason or "").strip():
        errors["reason"] = "Say why the risk is accepted."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked(finding)
        if locked.status == FindingStatus.RESOLVED:
            raise ValidationError("This finding is resolved; there is no risk left to accept.")
        locked.status = FindingStatus.RISK_ACCEPTED
        locked.accepted_until = until
        locked.accepted_by = actor
        locked.accepted_reason = reason.strip()
        locked.full_clean()
        save_attributed(locked, actor=actor, reason=f"Risk accepted until {until:%Y-%m-%d}")
    return locked


def finding_assign(*, finding: Finding, actor, assignee, remediation_due: dt.date | None) -> Finding:
    """GRC assigns the remediation of an unresolved finding to an active user, with the date it is planned
    to be done (today or later)."""
    require_grc(actor, "assign findings")
    errors = {}
    if assignee is None or not assignee.is_active:
        errors["assigned_to"] = "Choose an active user to remediate the finding."
    if remediation_due is None:
        errors["remediation_due"] = "Give the date the remediation is due."
    elif remediation_due < today_local():
        errors["remediation_due"] = (
            f"The remediation cannot be due in the past ({remediation_due:%Y-%m-%d} is before today)."
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked(finding)
        if locked.status == FindingStatus.RESOLVED:
            raise ValidationError("This finding is resolved; there is nothing left to remediate.")
        locked.assigned_to = assignee
        locked.remediation_due = remediation_due
        locked.full_clean()
        save_attributed(
            locked, actor=actor, reason=f"Assigned to {person_name(assignee)}, due {remediation_due:%Y-%m-%d}"
        )
    return locked


def finding_acceptances_expire(*, today: dt.date) -> int:
    """Reopen the findings whose risk acceptance ended before ``today`` (the acceptance is kept on the row as
    the record of what was accepted). Idempotent; returns the number reopened."""
    reopened = 0
    expired = Finding.objects.filter(status=FindingStatus.RISK_ACCEPTED, accepted_until__lt=today)
    for pk in expired.values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            locked = Finding.objects.select_for_update().filter(pk=pk).first()
            if locked is None or not locked.acceptance_expired(today):
                continue
            locked.status = FindingStatus.OPEN
            save_attributed(
                locked, actor=None, reason=f"Reopened: risk acceptance ended {locked.accepted_until:%Y-%m-%d}"
            )
            reopened += 1
    return reopened
