"""``/api/v1/policy-reviews/``, ``/api/v1/change-events/``, ``/api/v1/evaluations/``: every role reads, GRC records
through the reviews services (a review restarts the policy's due date, a change sets its affected policies' review
deadline), bad input is a 400 naming the field, and lists run a constant number of queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence.models import ChangeEvent, EffectivenessEvaluation, Policy, PolicyReview
from tests.evidence.policies import policy_in_force

pytestmark = pytest.mark.django_db

REVIEWS, CHANGES, EVALUATIONS = "/api/v1/policy-reviews/", "/api/v1/change-events/", "/api/v1/evaluations/"
MODELS = {REVIEWS: PolicyReview, CHANGES: ChangeEvent, EVALUATIONS: EffectivenessEvaluation}


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def today(days: int = 0) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def policy(grc_user) -> Policy:
    return policy_in_force(grc=grc_user, approved_on=timezone.localdate() - dt.timedelta(days=200))


def bodies(policy: Policy) -> dict[str, dict]:
    return {
        REVIEWS: {"policy": policy.pk, "reviewer": "alice", "reviewed_on": today(), "outcome": "no-change"},
        CHANGES: {
            "kind": "model",
            "title": "New embedding model",
            "description": "Replaces the v1 model.",
            "occurred_on": today(-1),
            "policies": [policy.pk],
        },
        EVALUATIONS: {
            "kind": "internal-audit",
            "title": "FY26 key audit",
            "performed_on": today(-3),
            "scope": "Production KMS keys.",
            "result": "effective",
            "performed_by": "alice",
            "policies": [policy.pk],
        },
    }


@pytest.mark.parametrize("url", [REVIEWS, CHANGES, EVALUATIONS])
@pytest.mark.parametrize("action", ["list", "create"])
def test_every_role_reads_and_only_grc_records(role, url, action, policy):
    name, _user, client = role
    model = MODELS[url]
    before = model.objects.count()
    response = client.get(url) if action == "list" else post(client, url, bodies(policy)[url])
    if name in ("anonymous", "expired_auditor"):
        expected = 401
    elif name == "outsider":
        expected = 403
    elif action == "list":
        expected = 200
    else:
        expected = 201 if name == "grc" else 403
    assert response.status_code == expected, response.content
    assert model.objects.count() - before == (1 if expected == 201 else 0)
    if expected == 201:
        created = response.json()
        assert response["Location"] == f"{url}{created['id']}/"
        assert client.get(response["Location"]).json() == created


def test_a_review_restarts_the_policys_twelve_months(grc_client, policy):
    response = post(grc_client, REVIEWS, bodies(policy)[REVIEWS])
    assert response.status_code == 201 and response.json()["recorded_by"] == "alice"
    policy.refresh_from_db()
    assert policy.next_review_due_on > timezone.localdate() + dt.timedelta(days=360)


def test_a_change_sets_the_review_deadline_of_its_policies(grc_client, policy, settings):
    settings.CEK_CHANGE_REVIEW_DAYS = 30
    created = post(grc_client, CHANGES, bodies(policy)[CHANGES]).json()
    assert created["policies"] == [policy.pk] and created["review_due_on"] == today(30)
    policy.refresh_from_db()
    assert policy.next_review_due_on.isoformat() == today(30)


@pytest.mark.parametrize(
    ("url", "change", "field"),
    [
        (REVIEWS, {"reviewed_on": today(5)}, "reviewed_on"),
        (REVIEWS, {"outcome": "maybe"}, "outcome"),
        (REVIEWS, {"reviewer": "nobody"}, "reviewer"),
        (CHANGES, {"policies": [], "areas": []}, "policies"),
        (CHANGES, {"areas": ["no-such-area"]}, "areas"),
        (CHANGES, {"title": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}, "title"),
        (EVALUATIONS, {"result": "not-effective", "findings": ""}, "findings"),
        (EVALUATIONS, {"performed_on": today(3)}, "performed_on"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(url, change, field, grc_client, policy):
    before = MODELS[url].objects.count()
    response = post(grc_client, url, {**bodies(policy)[url], **change})
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert "4eC39HqLyjWDarjtT1zdp7dc" not in response.content.decode()
    assert MODELS[url].objects.count() == before


@pytest.mark.parametrize("url", [REVIEWS, CHANGES, EVALUATIONS])
def test_the_lists_run_a_constant_number_of_queries(url, grc_client, owner_client, policy):
    def count(expected: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url).json()["count"] == expected
        return len(queries)

    post(grc_client, url, bodies(policy)[url])
    small = count(1)
    for n in range(6):
        body = bodies(policy)[url]
        if url == REVIEWS:
            body["reviewed_on"] = today(-n - 1)
        assert post(grc_client, url, body).status_code == 201
    assert count(7) == small <= 7
