"""Selectors the dashboard will use: right figures, constant number of queries whatever the data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from evidence.models import ChangeEvent
from evidence.policies import selectors
from evidence.policies.services import policy_version_submit
from evidence.reviews.selectors import policy_review_inputs
from evidence.reviews.services import change_event_save, policy_review_record
from tests.evidence.policies import draft, policy_in_force
from tests.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def build(grc, *, scale: int) -> dt.date:
    today = timezone.localdate()
    for n in range(scale):
        policy_in_force(grc=grc, approved_on=today - dt.timedelta(days=400 + n), title=f"Overdue {n}")
        policy_in_force(grc=grc, approved_on=today - dt.timedelta(days=350), title=f"Due soon {n}")
        policy_in_force(grc=grc, approved_on=today, title=f"Current {n}")
        submitted = draft(PolicyFactory(owner=grc, title=f"New {n}"), actor=grc)
        policy_version_submit(version=submitted, actor=grc)
        PolicyFactory(owner=grc, title=f"Empty {n}")
        retired = policy_in_force(grc=grc, approved_on=today, title=f"Retired {n}")
        policy_review_record(policy=retired, actor=grc, reviewer=grc, reviewed_on=today, outcome="retired")
    return today


def test_the_review_status_counts(grc_user, django_assert_num_queries):
    today = build(grc_user, scale=2)
    with django_assert_num_queries(1):
        counts = selectors.policy_review_status_counts(today=today)
    assert counts == {
        "total": 12,
        "in_force": 6,
        "without_approved_version": 4,
        "retired": 2,
        "in_approval": 2,
        "overdue": 2,
        "due_soon": 2,
    }


@pytest.mark.parametrize("scale", [1, 6])
def test_the_dashboard_selectors_run_a_constant_number_of_queries(grc_user, scale, django_assert_num_queries):
    today = build(grc_user, scale=scale)
    with django_assert_num_queries(1):
        selectors.policy_review_status_counts(today=today)
    with django_assert_num_queries(1):
        overdue = [
            (p.title, p.owner.username, p.current_version.label, p.last_reviewed_on)
            for p in selectors.policy_reviews_overdue(today=today)
        ]
    assert len(overdue) == scale
    assert [title for title, *_ in overdue] == [f"Overdue {n}" for n in reversed(range(scale))]  # most overdue first
    with django_assert_num_queries(2):
        inputs = policy_review_inputs()
    assert len(inputs) == 6 * scale


def test_an_open_change_makes_a_policy_overdue_on_the_dashboard(grc_user):
    today = timezone.localdate()
    policy = policy_in_force(grc=grc_user, approved_on=today - dt.timedelta(days=60))
    change_event_save(
        event=ChangeEvent(
            kind="regulatory", title="New rule", description="x", occurred_on=today - dt.timedelta(days=40)
        ),
        actor=grc_user,
        policies=[policy],
    )
    # Recorded today, so the review is due in 30 days: not overdue yet.
    assert list(selectors.policy_reviews_overdue(today=today)) == []
    assert list(selectors.policy_reviews_overdue(today=today + dt.timedelta(days=31))) == [policy]
