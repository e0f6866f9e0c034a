"""Writes of the reviews: reviews, significant changes, effectiveness evaluations, the derived review due dates
and the reminders to policy owners. Views, admin, tasks and commands call these; none of them save models directly.

Each service validates (``full_clean``), saves inside ``transaction.atomic``, attributes the change to ``actor`` in
the history tables (``evidence.writes``) and keeps ``Policy.next_review_due_on`` current
(``evidence.reviews.schedule`` has the rules)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cek.history import save_attributed
from cek.roles import Role
from evidence.emails import absolute_url, email_send
from evidence.models import (
    ChangeEvent,
    EffectivenessEvaluation,
    Policy,
    PolicyReview,
    ReviewOutcome,
    ReviewReminder,
)
from evidence.reviews import schedule as review_schedule
from evidence.reviews import selectors
from evidence.writes import not_in_future, refuse_if_retired, today_local

logger = logging.getLogger(__name__)


# --- Reviews and changes -------------------------------------------------------------------------------


def policy_review_record(
    *, policy: Policy, actor, reviewer, reviewed_on: dt.date, outcome: str, notes: str = ""
) -> PolicyReview:
    """Record a review. It restarts the 12 months and addresses the changes that took effect on or before
    ``reviewed_on``; the outcome "retired" retires the policy (no more reviews, reminders or acknowledgements)."""
    refuse_if_retired(policy)
    not_in_future(reviewed_on, "reviewed_on", "The review date")
    review = PolicyReview(
        policy=policy, reviewer=reviewer, reviewed_on=reviewed_on, outcome=outcome, notes=notes, recorded_by=actor
    )
    review.full_clean()
    with transaction.atomic():
        save_attributed(review, actor=actor)
        if outcome == ReviewOutcome.RETIRED:
            locked = Policy.objects.select_for_update().get(pk=policy.pk)
            locked.retired_on = reviewed_on
            save_attributed(locked, actor=actor, reason=f"Retired by the review of {reviewed_on:%Y-%m-%d}")
        policy_review_due_refresh(policy_ids=[policy.pk])
    policy.refresh_from_db()
    return review


def _policies_in_areas(areas: Iterable[str]) -> set[Policy]:
    wanted = set(areas)
    if not wanted:
        return set()
    return {p for p in Policy.objects.filter(retired_on__isnull=True) if wanted & set(p.areas or [])}


def change_event_save(*, event: ChangeEvent, actor, policies: Iterable[Policy] = ()) -> ChangeEvent:
    """Record (or correct) a significant change. The affected policies are those chosen plus every policy
    in force covering one of the event's areas; each must be reviewed by ``review_due_on``."""
    creating = event.pk is None
    if creating:
        event.recorded_by = actor
        recorded_on = today_local()
        before: set[int] = set()
    else:
        recorded_on = timezone.localdate(event.created_at)
        before = set(event.policies.values_list("pk", flat=True))
    affected = set(policies) | _policies_in_areas(event.areas)
    if not affected:
        raise ValidationError(
            {"policies": "Choose the affected policies, or areas that at least one policy (not retired) covers."}
        )
    if event.occurred_on is not None:
        event.review_due_on = review_schedule.change_review_deadline(
            occurred_on=event.occurred_on, recorded_on=recorded_on, days=settings.CEK_CHANGE_REVIEW_DAYS
        )
    event.full_clean()
    with transaction.atomic():
        save_attributed(event, actor=actor)
        event.policies.set(affected)
        policy_review_due_refresh(policy_ids=before | {p.pk for p in affected})
    return event


def evaluation_save(
    *, evaluation: EffectivenessEvaluation, actor, policies: Iterable[Policy] = ()
) -> EffectivenessEvaluation:
    """Record (or correct) an effectiveness evaluation of the policies' implementation (IG-5)."""
    if evaluation.pk is None:
        evaluation.recorded_by = actor
    evaluation.full_clean()
    with transaction.atomic():
        save_attributed(evaluation, actor=actor)
        evaluation.policies.set(list(policies))
    return evaluation


def policy_review_due_refresh(*, policy_ids: Iterable[int] | None = None) -> int:
    """Recompute ``next_review_due_on`` of the given policies (all when None) from their approvals, reviews
    and changes (``evidence.reviews.schedule``). A derived column: no history entry. Returns how many moved."""
    ids = None if policy_ids is None else list(policy_ids)
    inputs = selectors.policy_review_inputs(policy_ids=ids)
    current = dict(
        (Policy.objects.all() if ids is None else Policy.objects.filter(pk__in=ids)).values_list(
            "pk", "next_review_due_on"
        )
    )
    changed = 0
    for pk, review_inputs in inputs.items():
        due = review_inputs.next_review_due
        if current.get(pk) != due:
            Policy.objects.filter(pk=pk).update(next_review_due_on=due)
            changed += 1
    return changed


# --- Reminders -------------------------------------------------------------------------------------


def _reminder_recipients(policy: Policy) -> tuple[list[str], bool]:
    """The owner; when the owner cannot receive mail (left, or no address), GRC staff instead."""
    owner = policy.owner
    if owner.is_active and owner.email:
        return [owner.email], False
    grc = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.GRC.value)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(grc), True


def policy_review_reminders_send(*, today: dt.date) -> list[ReviewReminder]:
    """E-mail each policy owner about the review due: 30, 7 and 0 days before, then weekly while overdue
    (``evidence.reviews.schedule.reminder_due``). Each reminder is recorded (``ReviewReminder``, unique per
    policy, due date and day) before it is sent, inside one transaction with the sending, so running this
    twice a day - or in two workers at once - sends each reminder exactly once, and a failed send is
    retried on the next run. Returns the reminders sent."""
    horizon = today + dt.timedelta(days=max(review_schedule.REMINDER_DAYS_BEFORE))
    policies = (
        Policy.objects.filter(
            retired_on__isnull=True,
            current_version__isnull=False,
            next_review_due_on__isnull=False,
            next_review_due_on__lte=horizon,
        )
        .select_related("owner", "current_version")
        .order_by("next_review_due_on", "pk")
    )
    sent: list[ReviewReminder] = []
    for policy in policies:
        due_on = policy.next_review_due_on
        days_before = review_schedule.reminder_due(due_on=due_on, today=today)
        if days_before is None:
            continue
        if ReviewReminder.objects.filter(policy=policy, due_on=due_on, days_before=days_before).exists():
            continue
        recipients, fallback = _reminder_recipients(policy)
        if not recipients:
            logger.warning(
                "Review reminder for policy %s not sent: nobody with an e-mail address to send it to.", policy.pk
            )
            continue
        days_left = review_schedule.days_until(due_on, today)
        context = {
            "policy": policy,
            "due_on": due_on,
            "days_left": days_left,
            "days_overdue": -days_left,
            "fallback": fallback,
            "open_changes": selectors.open_changes(policy=policy),
            "policy_url": absolute_url(policy.get_absolute_url()),
            "review_url": absolute_url(reverse("evidence:review-create", args=[policy.pk])),
        }
        try:
            with transaction.atomic():
                reminder = ReviewReminder.objects.create(
                    policy=policy,
                    due_on=due_on,
                    days_before=days_before,
                    sent_on=today,
                    recipients=", ".join(recipients)[:500],
                )
                email_send(name="policy_review_reminder", to=recipients, context=context)
        except IntegrityError:
            continue  # another run recorded (and sent) this reminder first
        except Exception:
            logger.exception("Review reminder for policy %s not sent; the next run retries it.", policy.pk)
            continue
        sent.append(reminder)
    return sent
