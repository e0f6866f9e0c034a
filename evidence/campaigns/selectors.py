"""Reads of campaigns, attestations and findings, with their joins and aggregates decided once so every page
runs a fixed number of queries whatever the campaign size, and with role visibility applied in one place.

Campaign progress (attestations in total, answered, confirmed, with a discrepancy, pending, overdue, the answered
percentage) is counted here only (``progress_annotations`` and ``Progress``): the campaign pages, the dashboard,
the evidence pack and the CEK-11.1 answer's facts all read it from here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When

from evidence.campaigns.services import may_answer
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus

PENDING = Q(status=AttestationStatus.PENDING)


PROGRESS_FIELDS = ("total", "confirmed", "discrepancies", "pending")


def progress_annotations(path: str = "") -> dict:
    """Counts of attestations by answer; ``path`` reaches the attestations from the queried model. Every figure of
    campaign progress is counted with these (the campaign pages, the dashboard, the evidence pack, the answer)."""
    pk, status = f"{path}pk", f"{path}status"
    return {
        "total": Count(pk),
        "confirmed": Count(pk, filter=Q(**{status: AttestationStatus.CONFIRMED})),
        "discrepancies": Count(pk, filter=Q(**{status: AttestationStatus.DISCREPANCY})),
        "pending": Count(pk, filter=Q(**{status: AttestationStatus.PENDING})),
    }


@dataclass
class Progress:
    """How far a campaign's attestations are answered."""

    total: int
    confirmed: int
    discrepancies: int
    pending: int  # not answered (yet, or ever once the campaign is closed)

    @property
    def answered(self) -> int:
        return self.confirmed + self.discrepancies

    @property
    def percent(self) -> int:
        """Answered, in whole percent rounded down: 100 % only once every attestation is answered."""
        return 100 * self.answered // self.total if self.total else 0


def progress_counts(row) -> dict[str, int]:
    """The counts of ``progress_annotations`` read from an annotated row (a ``values()`` dict or a model)."""
    if isinstance(row, dict):
        return {name: row.get(name) or 0 for name in PROGRESS_FIELDS}
    return {name: getattr(row, name, 0) or 0 for name in PROGRESS_FIELDS}


def campaign_list() -> QuerySet[Campaign]:
    """Campaigns with their progress figures: one query per page."""
    return (
        Campaign.objects.select_related("created_by", "launched_by", "closed_by")
        .annotate(**progress_annotations("attestations__"))
        .order_by("-created_at", "-pk")
    )


@dataclass
class OwnerProgress(Progress):
    user: object | None
    overdue: bool


@dataclass
class CampaignProgress(Progress):
    overdue: int  # pending attestations past the due date
    owners: list[OwnerProgress]


def campaign_totals(campaign: Campaign) -> Progress:
    """A campaign's progress: one query."""
    return Progress(**Attestation.objects.filter(campaign=campaign).aggregate(**progress_annotations()))


def campaigns_totals(campaigns: QuerySet[Campaign]) -> dict[int, Progress]:
    """The progress of each of ``campaigns`` by id (those without attestations left out): one query."""
    rows = (
        Attestation.objects.filter(campaign__in=campaigns.values("pk"))
        .values("campaign")
        .annotate(**progress_annotations())
        .order_by()
    )
    return {row["campaign"]: Progress(**progress_counts(row)) for row in rows}


def campaign_progress(*, campaign: Campaign, today: dt.date) -> CampaignProgress:
    """Overall and per-addressee progress in three queries (aggregate, per owner, the owners' users)."""
    rows = Attestation.objects.filter(campaign=campaign)
    overall = campaign_totals(campaign)
    per_owner = list(
        rows.values("addressed_to").annotate(**progress_annotations()).order_by("-pending", "addressed_to")
    )
    users = get_user_model().objects.in_bulk([r["addressed_to"] for r in per_owner if r["addressed_to"]])
    past_due = campaign.due_on < today and campaign.status != CampaignStatus.DRAFT
    owners = [
        OwnerProgress(
            **progress_counts(r),
            user=users.get(r["addressed_to"]),
            overdue=past_due and r["pending"] > 0,
        )
        for r in per_owner
    ]
    return CampaignProgress(
        **vars(overall),
        overdue=overall.pending if past_due else 0,
        owners=owners,
    )


@dataclass
class CampaignSummary(Progress):
    campaign: Campaign


def current_campaign() -> CampaignSummary | None:
    """The campaign running now (else the last closed one) with its progress: one query."""
    campaign = (
        Campaign.objects.filter(status__in=[CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED, CampaignStatus.CLOSED])
        .annotate(
            **progress_annotations("attestations__"),
            running=Case(
                When(status=CampaignStatus.CLOSED, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .order_by("running", F("launched_at").desc(nulls_last=True), "-pk")
        .first()
    )
    if campaign is None:
        return None
    return CampaignSummary(**progress_counts(campaign), campaign=campaign)


def last_closed_campaign() -> Campaign | None:
    """The campaign closed last: the one whose answers are evidence (CCM-3, the CEK-11.1 answer). One query."""
    return Campaign.objects.filter(status=CampaignStatus.CLOSED).order_by("-closed_at", "-pk").first()


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
