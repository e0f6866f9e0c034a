"""The attestation campaigns section (``templates/pdf/_campaigns.html``): campaigns running in the window and
their progress, counted as on the campaign page (``evidence.campaigns.selectors``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from evidence.campaigns.selectors import Progress, campaigns_totals
from evidence.models import Campaign, CampaignStatus


@dataclass
class CampaignRow(Progress):
    """A campaign and its progress (``evidence.campaigns.selectors.Progress``: total, confirmed, discrepancies,
    pending, answered and percent, as the campaign page and the dashboard count them)."""

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


def campaign_rows(start: dt.datetime, end: dt.datetime) -> list[CampaignRow]:
    """Campaigns running at some point in the window (launched before its end, not closed before its start)."""
    campaigns = (
        Campaign.objects.exclude(status=CampaignStatus.DRAFT)
        .filter(launched_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .select_related("scope_store", "scope_purpose", "scope_tenant", "scope_service")
        .order_by("launched_at", "id")
    )
    progress = campaigns_totals(campaigns)
    no_attestation = Progress(total=0, confirmed=0, discrepancies=0, pending=0)
    return [
        CampaignRow(
            **vars(progress.get(campaign.pk, no_attestation)),
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
        )
        for campaign in campaigns
    ]
