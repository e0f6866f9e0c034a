"""Reads of campaigns, attestations and findings, with their joins and aggregates decided once so every page
runs a fixed number of queries whatever the campaign size, and with role visibility applied in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from evidence.campaigns.services import may_answer
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus

PENDING = Q(status=AttestationStatus.PENDING)


def _progress_annotations(path: str = "") -> dict:
    """Counts of attestations by answer; ``path`` reaches the attestations from the queried model."""
    pk, status = f"{path}pk", f"{path}status"
    return {
        "total": Count(pk),
        "confirmed": Count(pk, filter=Q(**{status: AttestationStatus.CONFIRMED})),
        "discrepancies": Count(pk, filter=Q(**{status: AttestationStatus.DISCREPANCY})),
        "pending": Count(pk, filter=Q(**{status: AttestationStatus.PENDING})),
    }


def campaign_list() -> QuerySet[Campaign]:
    """Campaigns with their progress figures: one query per page."""
    return (
        Campaign.objects.select_related("created_by", "launched_by", "closed_by")
        .annotate(**_progress_annotations("attestations__"))
        .order_by("-created_at", "-pk")
    )


@dataclass
class OwnerProgress:
    user: object | None
    total: int
    confirmed: int
    discrepancies: int
    pending: int
    overdue: bool

    @property
    def answered(self) -> int:
        return self.confirmed + self.discrepancies


@dataclass
class CampaignProgress:
    total: int
    confirmed: int
    discrepancies: int
    pending: int
    overdue: int  # pending attestations past the due date
    owners: list[OwnerProgress]

    @property
    def answered(self) -> int:
        return self.confirmed + self.discrepancies

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def campaign_progress(*, campaign: Campaign, today: dt.date) -> CampaignProgress:
    """Overall and per-addressee progress in three queries (aggregate, per owner, the owners' users)."""
    rows = Attestation.objects.filter(campaign=campaign)
    overall = rows.aggregate(**_progress_annotations())
    per_owner = list(
        rows.values("addressed_to").annotate(**_progress_annotations()).order_by("-pending", "addressed_to")
    )
    users = get_user_model().objects.in_bulk([r["addressed_to"] for r in per_owner if r["addressed_to"]])
    past_due = campaign.due_on < today and campaign.status != CampaignStatus.DRAFT
    owners = [
        OwnerProgress(
            user=users.get(r["addressed_to"]),
            total=r["total"],
            confirmed=r["confirmed"],
            discrepancies=r["discrepancies"],
            pending=r["pending"],
            overdue=past_due and r["pending"] > 0,
        )
        for r in per_owner
    ]
    return CampaignProgress(
        total=overall["total"],
        confirmed=overall["confirmed"],
        discrepancies=overall["discrepancies"],
        pending=overall["pending"],
        overdue=overall["pending"] if past_due else 0,
        owners=owners,
    )


ATTESTATION_JOINS = ("key", "key__store", "key__purpose", "key__owner", "key__backup_owner", "addressed_to", "campaign")


def campaign_attestations(
    *, campaign: Campaign, status: str | None = None, addressed_to=None, unaddressed: bool = False, key_name: str = ""
) -> QuerySet[Attestation]:
    """A campaign's attestations by key name, optionally filtered (one query per page)."""
    rows = Attestation.objects.filter(campaign=campaign)
    if status:
        rows = rows.filter(status=status)
    if unaddressed:
        rows = rows.filter(addressed_to__isnull=True)
    elif addressed_to is not None:
        rows = rows.filter(addressed_to=addressed_to)
    if key_name:
        rows = rows.filter(key__name__icontains=key_name)
    return rows.select_related(*ATTESTATION_JOINS, "responded_by", "reassigned_from").order_by("key__name", "pk")


def attestation_inbox(*, user) -> QuerySet[Attestation]:
    """Pending attestations of launched campaigns ``user`` may answer (addressed to them, or on keys they own
    or back up), oldest due first: one query."""
    return (
        Attestation.objects.filter(may_answer(user), PENDING, campaign__status=CampaignStatus.LAUNCHED)
        .select_related(*ATTESTATION_JOINS)
        .order_by("campaign__due_on", "campaign_id", "key__name", "pk")
    )


def attestations_answered_by(*, user, limit: int = 20) -> QuerySet[Attestation]:
    return (
        Attestation.objects.filter(responded_by=user)
        .select_related("key", "campaign")
        .order_by("-responded_at", "-pk")[:limit]
    )
