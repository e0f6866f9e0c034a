"""Reads of the reviews: what the next review due date of each policy depends on (``ReviewInputs``, two
queries for any number of policies), the changes a review has not addressed yet, and the lists of changes and
evaluations. The date arithmetic is ``evidence.reviews.schedule``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, OuterRef, QuerySet, Subquery

from evidence.models import ChangeEvent, EffectivenessEvaluation, Policy, PolicyApproval
from evidence.policies.selectors import has_role
from evidence.reviews import schedule as review_schedule

# --- Reviews -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewInputs:
    """What the next review due date of one policy depends on."""

    in_force: bool
    last_reviewed_on: dt.date | None  # the later of the last review and the last approval
    changes: tuple[tuple[dt.date, dt.date], ...]  # (occurred_on, review deadline) of each affecting change

    @property
    def next_review_due(self) -> dt.date | None:
        if not self.in_force:
            return None
        return review_schedule.next_review_due(last_reviewed_on=self.last_reviewed_on, changes=self.changes)


def policy_review_inputs(*, policy_ids=None) -> dict[int, ReviewInputs]:
    """Review inputs of the given policies (all when None): two queries for any number of policies."""
    policies = Policy.objects.all() if policy_ids is None else Policy.objects.filter(pk__in=list(policy_ids))
    rows = policies.annotate(
        last_review=Max("reviews__reviewed_on"),
        last_approval=Subquery(
            PolicyApproval.objects.filter(version__policy=OuterRef("pk"))
            .order_by("-approved_on")
            .values("approved_on")[:1]
        ),
    ).values_list("pk", "retired_on", "current_version_id", "last_review", "last_approval")
    changes: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    through = ChangeEvent.policies.through.objects.all()
    if policy_ids is not None:
        through = through.filter(policy_id__in=list(policy_ids))
    for policy_id, occurred_on, deadline in through.values_list(
        "policy_id", "changeevent__occurred_on", "changeevent__review_due_on"
    ):
        changes[policy_id].append((occurred_on, deadline))
    return {
        pk: ReviewInputs(
            in_force=retired_on is None and current_id is not None,
            last_reviewed_on=review_schedule.last_reviewed(last_review, last_approval),
            changes=tuple(sorted(changes[pk])),
        )
        for pk, retired_on, current_id, last_review, last_approval in rows
    }


def open_changes(*, policy: Policy) -> list[ChangeEvent]:
    """The changes affecting ``policy`` that no review or approval has addressed yet."""
    inputs = policy_review_inputs(policy_ids=[policy.pk]).get(policy.pk)
    last = inputs.last_reviewed_on if inputs else None
    return [
        event
        for event in policy.change_events.select_related("recorded_by").order_by("review_due_on", "pk")
        if review_schedule.change_is_open(occurred_on=event.occurred_on, last_reviewed_on=last)
    ]


# --- Change events and evaluations -----------------------------------------------------------------


def change_event_list(*, user) -> QuerySet[ChangeEvent]:
    if not has_role(user):
        return ChangeEvent.objects.none()
    return (
        ChangeEvent.objects.select_related("recorded_by").prefetch_related("policies").order_by("-occurred_on", "-pk")
    )


def evaluation_list(*, user) -> QuerySet[EffectivenessEvaluation]:
    if not has_role(user):
        return EffectivenessEvaluation.objects.none()
    return (
        EffectivenessEvaluation.objects.select_related("performed_by")
        .prefetch_related("policies")
        .order_by("-performed_on", "-pk")
    )
