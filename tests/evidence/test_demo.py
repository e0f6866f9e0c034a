"""The demo policies: a realistic set with deliberate gaps, created once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from evidence import selectors
from evidence.demo import KEY_POLICY, PURPOSE_PROCEDURE, SIGNING_PROCEDURE, demo_policies_seed
from evidence.models import ChangeEvent, EffectivenessEvaluation, Policy, PolicyVersion

pytestmark = pytest.mark.django_db


def test_the_demo_policies_are_created_once_with_their_gaps(settings):
    today = timezone.localdate()
    assert demo_policies_seed() == {"policies": 3, "changes": 1, "evaluations": 2}
    assert demo_policies_seed() == {}
    assert Policy.objects.count() == 3 and ChangeEvent.objects.count() == 1
    assert EffectivenessEvaluation.objects.count() == 2

    key_policy = Policy.objects.get(title=KEY_POLICY)
    assert key_policy.current_version.label == "2.0"
    assert PolicyVersion.objects.get(policy=key_policy, label="1.0").status == "superseded"
    assert key_policy.next_review_due_on == today + dt.timedelta(days=settings.CEK_CHANGE_REVIEW_DAYS)
    row = selectors.policy_list(user=key_policy.owner, today=today).get(pk=key_policy.pk)
    assert (row.acknowledged, row.recipients) == (1, 2)

    procedure = Policy.objects.get(title=PURPOSE_PROCEDURE)
    assert procedure.is_review_overdue(today)
    assert list(selectors.policy_reviews_overdue(today=today)) == [procedure]
    assert Policy.objects.get(title=SIGNING_PROCEDURE).versions.get().status == "in-approval"
