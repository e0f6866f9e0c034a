"""The attestation campaigns section (``templates/pdf/_campaigns.html``): campaigns running in the window and
their answer counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus


@dataclass
class CampaignRow:
    id: int
    name: str
    scope: str
    status: str
    status_label: str
    launched_at: dt.datetime | None
    due_on: dt.date
    closed_at: dt.datetime | None
    statement_version: str
    statements_sha256: str
    results_sha256: str
    total: int
    confirmed: int
    discrepancies: int
    pending: int

    @property
    def answered_percent(self) -> int:
        return (self.confirmed + self.discrepancies) * 100 // self.total if self.total else 0


def campaign_rows(start: dt.datetime, end: dt.datetime) -> list[CampaignRow]:
    """Campaigns running at some point in the window (launched before its end, not closed before its start)."""
    campaigns = (
        Campaign.objects.exclude(status=CampaignStatus.DRAFT)
        .filter(launched_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .select_related("scope_store", "scope_purpose", "scope_tenant", "scope_service")
        .order_by("launched_at", "id")
    )
    counts = {
        row["campaign"]: row
        for row in Attestation.objects.filter(campaign__in=campaigns.values("pk"))
        .values("campaign")
        .annotate(
            total=Count("pk"),
            confirmed=Count("pk", filter=Q(status=AttestationStatus.CONFIRMED)),
            discrepancies=Count("pk", filter=Q(status=AttestationStatus.DISCREPANCY)),
            pending=Count("pk", filter=Q(status=AttestationStatus.PENDING)),
        )
        .order_by()
    }
    rows = []
    for campaign in campaigns:
        figures = counts.get(campaign.pk, {})
        rows.append(
            CampaignRow(
                id=campaign.pk,
                name=campaign.name,
                scope=campaign.scope_label(),
                status=campaign.status,
                status_label=campaign.get_status_display(),
                launched_at=campaign.launched_at,
                due_on=campaign.due_on,
                closed_at=campaign.closed_at,
                statement_version=campaign.statement_version,
                statements_sha256=campaign.statements_sha256,
                results_sha256=campaign.results_sha256,
                total=figures.get("total", 0),
                confirmed=figures.get("confirmed", 0),
                discrepancies=figures.get("discrepancies", 0),
                pending=figures.get("pending", 0),
            )
        )
    return rows
