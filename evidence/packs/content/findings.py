"""The findings section (``templates/pdf/_findings.html``): findings open at some point in the window, counted
by severity and status, listed up to the row limit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from evidence.models import Finding, FindingStatus, Severity
from evidence.packs.content.table import Table, person


@dataclass
class FindingSection:
    by_severity: list[dict]  # {"severity", "label", "count"}
    by_status: list[dict]  # {"status", "label", "count"}
    table: Table  # rows: dicts, see _finding_row


SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def finding_section(keys, start: dt.datetime, end: dt.datetime, *, scoped: bool, limit: int) -> FindingSection:
    """Findings open at some point in the window: first seen before its end, not resolved before its start."""
    findings = Finding.objects.filter(first_seen__lt=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    if scoped:  # a finding about a key counts when the key is in scope; other findings always do
        findings = findings.filter(~Q(subject_type="inventory.key") | Q(subject_id__in=keys.values("pk")))
    by_severity = dict(findings.values_list("severity").annotate(n=Count("pk")).order_by())
    by_status = dict(findings.values_list("status").annotate(n=Count("pk")).order_by())
    total = sum(by_severity.values())
    rows = None
    if total <= limit:
        rows = [
            _finding_row(f)
            for f in findings.select_related("resolved_by", "accepted_by", "assigned_to").order_by("first_seen", "id")
        ]
    return FindingSection(
        by_severity=[
            {"severity": s.value, "label": s.label, "count": by_severity.get(s.value, 0)} for s in SEVERITY_ORDER
        ],
        by_status=[{"status": s.value, "label": s.label, "count": by_status.get(s.value, 0)} for s in FindingStatus],
        table=Table(total=total, rows=rows, data_file="findings.csv", limit=limit),
    )


def _finding_row(finding: Finding) -> dict:
    return {
        "id": finding.pk,
        "rule": finding.rule,
        "subject_type": finding.subject_type,
        "subject": finding.subject_label,
        "severity": finding.severity,
        "severity_label": finding.get_severity_display(),
        "status": finding.status,
        "status_label": finding.get_status_display(),
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "resolved_at": finding.resolved_at,
        "resolved_by": person(finding.resolved_by),
        "accepted_until": finding.accepted_until,
        "accepted_by": person(finding.accepted_by),
        "accepted_reason": finding.accepted_reason,
        "assigned_to": person(finding.assigned_to),
        "remediation_due": finding.remediation_due,
    }
