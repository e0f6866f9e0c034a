"""Which keys a campaign with ``only_changed`` carries over instead of asking again.

A key is carried over when it has a confirmed attestation in an earlier campaign that is launched or closed (the
latest such, by ``responded_at``) and nothing it vouched for has changed since that answer. "Changed" is computed
from the django-simple-history tables, against the time of the answer (``responded_at``):

- the key itself: its purpose, owner, backup owner, state or labels differ from those of the key's history row in
  force at that time (the last ``HistoricalKey`` row with ``history_date <= responded_at``), either now or in any
  history row dated after the answer (so a change made and undone since, e.g. suspended and re-activated, counts).
  A key with no history row at that time (created by a bulk import that wrote no history) counts as changed.
  Other key fields (description, dates from imports) do not count: the attestation does not ask about them.
- its bindings and grants: any ``HistoricalBinding`` or ``HistoricalAccessGrant`` row of the key (created,
  changed or deleted) dated after the answer counts as a change, whatever the field.

``key.updated_at`` is not used: it moves on edits the attestation does not ask about (an import's "last seen").
One query per batch of keys whatever the batch size.
"""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from evidence.campaigns.models import Attestation, AttestationStatus, CampaignStatus
from inventory.models import AccessGrant, Binding, Key

COMPARED = ("purpose_id", "owner_id", "backup_owner_id", "state", "labels")


def carried_over(*, campaign, key_ids) -> dict[int, int]:
    """{key id: the confirmed attestation that stands for it} for the keys among ``key_ids`` unchanged since their
    last confirmed attestation in an earlier launched or closed campaign. One query."""
    last = (
        Attestation.objects.filter(
            key_id=OuterRef("pk"),
            status=AttestationStatus.CONFIRMED,
            campaign__status__in=(CampaignStatus.LAUNCHED, CampaignStatus.CLOSED),
        )
        .exclude(campaign_id=campaign.pk)
        .order_by("-responded_at", "-pk")
    )
    snapshot = Key.history.model.objects.filter(id=OuterRef("pk"), history_date__lte=OuterRef("confirmed_at")).order_by(
        "-history_date", "-history_id"
    )
    after = {"key_id": OuterRef("pk"), "history_date__gt": OuterRef("confirmed_at")}
    rows = (
        Key.objects.filter(pk__in=key_ids)
        .annotate(
            confirmed_id=Subquery(last.values("pk")[:1]),
            confirmed_at=Subquery(last.values("responded_at")[:1]),
        )
        .annotate(
            **{f"then_{name}": Subquery(snapshot.values(name)[:1]) for name in COMPARED},
            binding_changed=Exists(Binding.history.model.objects.filter(**after)),
            grant_changed=Exists(AccessGrant.history.model.objects.filter(**after)),
        )
        .filter(confirmed_id__isnull=False, binding_changed=False, grant_changed=False, then_state__isnull=False)
    )
    for name in COMPARED:
        then = f"then_{name}"
        # Equal now, or both empty (a nullable field that was and is null).
        rows = rows.filter(Q(**{then: F(name)}) | Q(**{f"{name}__isnull": True, f"{then}__isnull": True}))
    # And no history row since the answer differs from what was confirmed (a change made and undone).
    nullable = ("purpose_id", "owner_id", "backup_owner_id")
    since = (
        Key.history.model.objects.filter(id=OuterRef("pk"), history_date__gt=OuterRef("confirmed_at"))
        .annotate(**{f"c_{name}": Coalesce(name, 0) for name in nullable})
        .exclude(
            state=OuterRef("then_state"),
            labels=OuterRef("then_labels"),
            **{f"c_{name}": Coalesce(OuterRef(f"then_{name}"), 0) for name in nullable},
        )
    )
    rows = rows.filter(~Exists(since))
    return dict(rows.values_list("pk", "confirmed_id"))
