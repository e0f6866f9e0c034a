"""Keeps the usage misuse findings in step with what the rules see (``evidence.usage.misuse``), and announces the
new ones.

``usage_misuse_evaluate`` runs after each ingestion succeeds and daily (beat). In one transaction (one evaluation at a
time: a PostgreSQL advisory lock), per rule, with a fixed number of queries whatever the number of findings:

- a subject without a finding of the rule gets one (with its history row, "First seen in usage logs");
- a resolved finding seen again is reopened, and so is a risk acceptance that has ended (history row);
- a finding still seen gets its last sighting moved (one ``UPDATE``) and its figures updated when they changed
  (no history row: a sighting is not a change, unless its severity or label changed);
- an open or risk-accepted finding of the rule the rules no longer see is resolved (``resolved_by`` None,
  "Resolved automatically: no longer seen in usage logs").

Findings opened for the first time in their life are announced (``evidence.alerts.finding_alerts_create``) in
the same transaction, so each is notified once. The ``usage-*`` rules belong to this module: no check owns them
(``evidence.checks.registry.OWNED_RULES``), so check runs leave them alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from evidence.alerts.services import finding_alerts_create
from evidence.models import Finding, FindingStatus
from evidence.usage.misuse import RULES, Evaluation, Hit, UnknownRef
from evidence.usage.models import UnknownUsageKey

logger = logging.getLogger(__name__)

KEY = "inventory.key"
UNKNOWN = "evidence.unknownusagekey"
BATCH = 500


@dataclass
class MisuseChanges:
    opened: int = 0
    reopened: int = 0
    resolved: int = 0
    seen: int = 0
    alerted: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"opened": self.opened, "reopened": self.reopened, "resolved": self.resolved, "seen": self.seen}


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('cek.usage.misuse'))")


def unknown_dimensions(ref: UnknownRef) -> str:
    parts = [ref.store_id, ref.account, ref.region, ref.key_ref]
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def _unknown_subjects(refs: set[UnknownRef], now: dt.datetime) -> dict[UnknownRef, int]:
    """The ``UnknownUsageKey`` row of each reference, created when missing (two queries and an insert)."""
    if not refs:
        return {}
    by_dims = {unknown_dimensions(ref): ref for ref in refs}
    existing = dict(UnknownUsageKey.objects.filter(dimensions__in=list(by_dims)).values_list("dimensions", "pk"))
    missing = [
        UnknownUsageKey(
            dimensions=dims,
            store_id=ref.store_id,
            account=ref.account[:200],
            region=ref.region[:100],
            key_ref=ref.key_ref[:500],
            first_seen=now,
        )
        for dims, ref in by_dims.items()
        if dims not in existing
    ]
    if missing:
        UnknownUsageKey.objects.bulk_create(missing, batch_size=BATCH, ignore_conflicts=True)
        existing = dict(UnknownUsageKey.objects.filter(dimensions__in=list(by_dims)).values_list("dimensions", "pk"))
    return {ref: existing[dims] for dims, ref in by_dims.items()}


def usage_misuse_evaluate(*, source: str, now: dt.datetime | None = None) -> MisuseChanges:
    """Evaluate every misuse rule and bring the ``usage-*`` findings in line (see the module docstring). ``source``
    names what triggered it for the alerts ("usage ingestion #12 (trail.json.gz)", "daily usage evaluation")."""
    now = now or timezone.now()
    changes = MisuseChanges()
    with transaction.atomic():
        _lock()
        evaluation = Evaluation(now=now)
        hits = evaluation.run()
        changes.seconds = evaluation.seconds
        unknown = _unknown_subjects({hit.subject for hit in hits if isinstance(hit.subject, UnknownRef)}, now)
        new: list[Finding] = []
        for rule in RULES:
            wanted = {}
            for hit in hits:
                if hit.rule != rule:
                    continue
                ident = (UNKNOWN, unknown[hit.subject]) if isinstance(hit.subject, UnknownRef) else (KEY, hit.subject)
                wanted[ident] = hit
            new += _sync(rule, wanted, now=now, changes=changes)
        finding_alerts_create(findings=new, source=source)
        changes.alerted = [finding.pk for finding in new]
    logger.info("Usage misuse evaluation (%s): %s, seconds per rule %s", source, changes.as_dict(), changes.seconds)
    return changes


def _sync(rule: str, wanted: dict[tuple[str, int], Hit], *, now: dt.datetime, changes: MisuseChanges) -> list[Finding]:
    today = timezone.localdate(now)
    columns = ("pk", "subject_type", "subject_id", "subject_label", "severity", "status", "accepted_until", "details")
    existing = {(row[1], row[2]): row for row in Finding.objects.filter(rule=rule).values_list(*columns)}
    new: list[Finding] = []
    reopened: dict[int, dict] = {}
    changed: dict[int, dict] = {}
    seen: dict[int, dict] = {}
    for (subject_type, subject_id), hit in wanted.items():
        row = existing.get((subject_type, subject_id))
        values = {"subject_label": hit.label, "severity": hit.severity, "details": hit.details, "last_seen": now}
        if row is None:
            new.append(
                Finding(
                    rule=rule,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    status=FindingStatus.OPEN,
                    first_seen=now,
                    **values,
                )
            )
            continue
        pk, _type, _id, label, severity, status, accepted_until, details = row
        expired = status == FindingStatus.RISK_ACCEPTED and accepted_until is not None and accepted_until < today
        if status == FindingStatus.RESOLVED or expired:
            reopened[pk] = {**values, "status": FindingStatus.OPEN, "resolved_at": None, "resolved_by": None}
        elif (label, severity) != (hit.label, hit.severity):
            changed[pk] = values
        elif details != hit.details:
            seen[pk] = values
    gone = [
        row[0]
        for ident, row in existing.items()
        if ident not in wanted and row[5] in (FindingStatus.OPEN, FindingStatus.RISK_ACCEPTED)
    ]
    if new:
        created = bulk_create_with_history(
            new, Finding, batch_size=BATCH, default_change_reason="First seen in usage logs"
        )
        if any(finding.pk is None for finding in created):  # a backend that returns no ids: read them back
            idents = [(f.subject_type, f.subject_id) for f in new]
            created = [f for f in Finding.objects.filter(rule=rule) if (f.subject_type, f.subject_id) in set(idents)]
        new = list(created)
        changes.opened += len(new)
    if reopened:
        _update(reopened, reason="Reopened: seen again in usage logs", history=True)
        changes.reopened += len(reopened)
    if changed:
        _update(changed, reason="Seen again in usage logs", history=True)
    if seen:
        _update(seen, reason="", history=False)
    if gone:
        resolution = {
            "status": FindingStatus.RESOLVED,
            "resolved_at": now,
            "resolved_by": None,
            "accepted_until": None,
            "accepted_by": None,
            "accepted_reason": "",
        }
        _update(
            dict.fromkeys(gone, resolution), reason="Resolved automatically: no longer seen in usage logs", history=True
        )
        changes.resolved += len(gone)
    # Every finding still seen had its sighting now: one UPDATE, no history row (a sighting is not a change).
    still = [row[0] for ident, row in existing.items() if ident in wanted]
    for start in range(0, len(still), BATCH * 10):
        Finding.objects.filter(pk__in=still[start : start + BATCH * 10], last_seen__lt=now).update(last_seen=now)
    changes.seen += len(still)
    return new


def _update(values_by_pk: dict[int, dict], *, reason: str, history: bool) -> None:
    pks = list(values_by_pk)
    fields = sorted({name for values in values_by_pk.values() for name in values})
    for start in range(0, len(pks), BATCH):
        findings = list(Finding.objects.filter(pk__in=pks[start : start + BATCH]))
        for finding in findings:
            for name, value in values_by_pk[finding.pk].items():
                setattr(finding, name, value)
        if history:
            bulk_update_with_history(findings, Finding, fields, batch_size=BATCH, default_change_reason=reason)
        else:
            Finding.objects.bulk_update(findings, fields, batch_size=BATCH)
