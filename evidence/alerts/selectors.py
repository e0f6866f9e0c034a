"""Reads of the notification log: one page of deliveries with their findings (two queries), and counts by status."""

from __future__ import annotations

from django.db.models import Count, Prefetch

from evidence.alerts.models import AlertDelivery
from evidence.findings.models import Finding

SEVERITY_ORDER = ["low", "medium", "high", "critical"]


def deliveries(*, status: str = "", channel: str = ""):
    rows = AlertDelivery.objects.prefetch_related(
        Prefetch("findings", queryset=Finding.objects.only("id", "rule", "severity", "subject_label").order_by("id"))
    )
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    return rows.order_by("-created_at", "-id")


def status_counts() -> dict[str, int]:
    return dict(AlertDelivery.objects.values_list("status").annotate(n=Count("id")).order_by())
