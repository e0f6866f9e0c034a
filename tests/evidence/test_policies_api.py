"""``/api/v1/policies/`` and ``/api/v1/policy-versions/``: the policy pages' visibility over REST (every role reads
policies; key owners see approved and superseded versions only), GRC's draft -> submit -> approve through the
policy services (409 when the status does not allow), validation as 400s, and constant queries per page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from evidence.models import Policy, PolicyVersion, VersionStatus
from tests.evidence.policies import policy_in_force
from tests.factories import PolicyFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

POLICIES, VERSIONS = "/api/v1/policies/", "/api/v1/policy-versions/"
LINK = "https://intranet.example.com/policies/kmp-2"


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def world(grc_user):
    in_force = policy_in_force(grc=grc_user, approved_on=timezone.localdate() - dt.timedelta(days=10))
    draft = PolicyVersionFactory(policy=in_force, label="2.0", created_by=grc_user)
    return {"policy": in_force, "approved": in_force.current_version, "draft": draft}


ACTIONS = ["list", "retrieve", "versions", "draft_version", "create", "submit", "approve"]


@pytest.mark.parametrize("action", ACTIONS)
def test_the_policies_api_answers_each_role_as_specified(role, action, world, grc_user):
    name, _user, client = role
    policy, draft = world["policy"], world["draft"]
    approval = {
        "governance_body": "Security committee",
        "approver": grc_user.username,
        "approved_on": timezone.localdate().isoformat(),
    }
    if action == "approve":
        PolicyVersion.objects.filter(pk=draft.pk).update(status=VersionStatus.IN_APPROVAL)
    before = PolicyVersion.objects.count()
    calls = {
        "list": lambda: client.get(POLICIES),
        "retrieve": lambda: client.get(f"{POLICIES}{policy.pk}/"),
        "versions": lambda: client.get(VERSIONS),
        "draft_version": lambda: client.get(f"{VERSIONS}{draft.pk}/"),
        "create": lambda: post(client, VERSIONS, {"policy": policy.pk, "label": "3.0", "summary": "S.", "link": LINK}),
        "submit": lambda: post(client, f"{VERSIONS}{draft.pk}/submit/"),
        "approve": lambda: post(client, f"{VERSIONS}{draft.pk}/approve/", approval),
    }
    response = calls[action]()
    if name in ("anonymous", "expired_auditor"):
        expected = 401
    elif name == "outsider":
        expected = 403
    elif name == "grc":
        expected = 201 if action == "create" else 200
    elif action in ("create", "submit", "approve"):
        expected = 403
    elif action == "draft_version":
        expected = 200 if name == "auditor" else 404  # drafts are not for key owners
    else:
        expected = 200
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json().keys() == {"detail"}
    assert PolicyVersion.objects.count() - before == (1 if expected == 201 else 0)
    draft.refresh_from_db()
    if action == "submit":
        assert (draft.status == VersionStatus.IN_APPROVAL) == (expected == 200)
    if action == "approve":
        assert (draft.status == VersionStatus.APPROVED) == (expected == 200)
    if action == "versions" and expected == 200:
        ids = {row["id"] for row in response.json()["results"]}
        assert (draft.pk in ids) == (name in ("grc", "auditor")) and world["approved"].pk in ids


def test_grc_drafts_submits_and_approves_a_version(grc_client, grc_user, world):
    policy = world["policy"]
    created = post(grc_client, VERSIONS, {"policy": policy.pk, "label": "3.0", "summary": "Rotation.", "link": LINK})
    assert created.status_code == 201, created.content
    version = created.json()
    assert version["status"] == "draft" and version["link"] == LINK and version["created_by"] == "alice"
    assert created["Location"] == f"{VERSIONS}{version['id']}/"

    submitted = post(grc_client, f"{VERSIONS}{version['id']}/submit/").json()
    assert submitted["status"] == "in-approval" and submitted["submitted_by"] == "alice"
    again = post(grc_client, f"{VERSIONS}{version['id']}/submit/")
    assert again.status_code == 409 and "not a draft" in again.json()["detail"]

    today = timezone.localdate().isoformat()
    body = {"governance_body": "Board risk committee", "approver": "alice", "approved_on": today, "reference": "M-7"}
    approved = post(grc_client, f"{VERSIONS}{version['id']}/approve/", body).json()
    assert approved["status"] == "approved" and approved["approval"]["governance_body"] == "Board risk committee"
    policy_row = grc_client.get(f"{POLICIES}{policy.pk}/").json()
    assert policy_row["current_version"] == "3.0" and policy_row["status"] == "in-force"
    assert PolicyVersion.objects.get(pk=world["approved"].pk).status == VersionStatus.SUPERSEDED


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("create", {"label": "3.0", "summary": "S.", "link": LINK}, "policy"),
        ("create", {"policy": None, "label": "3.0", "summary": "S.", "link": "not a url"}, "link"),
        ("create", {"policy": None, "label": "1.0", "summary": "S.", "link": LINK}, "__all__"),  # label taken
        ("approve", {"governance_body": "C", "approver": "alice", "approved_on": "2999-01-01"}, "approved_on"),
        ("approve", {"governance_body": "C", "approver": "nobody", "approved_on": "2026-01-01"}, "approver"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(action, body, field, grc_client, world):
    if body.get("policy", 0) is None:
        body = {**body, "policy": world["policy"].pk}
    draft = world["draft"]
    if action == "approve":
        PolicyVersion.objects.filter(pk=draft.pk).update(status=VersionStatus.IN_APPROVAL)
        response = post(grc_client, f"{VERSIONS}{draft.pk}/approve/", body)
    else:
        response = post(grc_client, VERSIONS, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_approving_a_draft_that_was_not_submitted_is_a_409(grc_client, world):
    body = {"governance_body": "C", "approver": "alice", "approved_on": timezone.localdate().isoformat()}
    response = post(grc_client, f"{VERSIONS}{world['draft'].pk}/approve/", body)
    assert response.status_code == 409 and "only a version submitted" in response.json()["detail"]


def test_the_policy_list_filters_and_runs_a_constant_number_of_queries(
    auditor_client, grc_user, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8) as small:
        assert auditor_client.get(POLICIES).json()["count"] == 1
    for _n in range(12):
        PolicyVersionFactory(policy=PolicyFactory())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert auditor_client.get(POLICIES).json()["count"] == 13
    assert auditor_client.get(POLICIES, {"status": "in-force"}).json()["count"] == 1
    assert auditor_client.get(POLICIES, {"status": "draft"}).json()["count"] == 12
    assert auditor_client.get(POLICIES, {"status": "bogus"}).status_code == 400
    assert Policy.objects.count() == 13
    with django_assert_max_num_queries(8) as versions_small:
        assert auditor_client.get(VERSIONS, {"policy": world["policy"].pk}).json()["count"] == 2
    for _n in range(10):
        PolicyVersionFactory(policy=world["policy"])
    with django_assert_max_num_queries(len(versions_small.captured_queries)):
        assert auditor_client.get(VERSIONS, {"policy": world["policy"].pk}).json()["count"] == 12
