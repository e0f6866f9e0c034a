"""``/api/v1/findings/``: the findings pages' visibility over REST (key owners see the findings on their keys),
the filters validated (a bad value is a 400), a constant number of queries per page, and GRC's judgements as POST
actions going through the same services as the page (a resolve needs its note)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence.models import Finding, FindingStatus
from tests.factories import FindingFactory, KeyFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/findings/"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----"


def finding_on(key, **fields) -> Finding:
    return FindingFactory(subject_id=key.pk, subject_label=key.name, **fields)


def future(days: int = 30) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def world(grc_user, owner, other_owner):
    bob_key = KeyFactory(name="bob-orders-dek", owner=owner)
    carol_key = KeyFactory(name="carol-signer", owner=other_owner)
    today = timezone.localdate()
    return {
        "bob_key": bob_key,
        "carol_key": carol_key,
        "bob_high": finding_on(bob_key, rule="ag-3-single-purpose", severity="high", details={"purposes": ["a", "b"]}),
        "carol_low": finding_on(carol_key, rule="ag-7-purpose-tag", severity="low", assigned_to=grc_user),
        "carol_lapsed": finding_on(
            carol_key,
            rule="ag-2-mapping",
            severity="medium",
            status=FindingStatus.RISK_ACCEPTED,
            accepted_until=today - dt.timedelta(days=2),
            accepted_by=grc_user,
            accepted_reason="Vendor fix due.",
        ),
        "store_finding": FindingFactory(
            rule="ccm-2-inventory",
            subject_type="inventory.keystore",
            subject_id=99,
            subject_label="aws-kms-prod",
            severity="medium",
        ),
    }


# --- Permission matrix ----------------------------------------------------------------------------------------

ACTIONS = ["list", "retrieve", "retrieve_other", "assign", "accept-risk", "resolve"]


def expected_status(role: str, action: str) -> int:
    if role in ("anonymous", "expired_auditor"):
        return 401
    if role == "outsider":
        return 403
    if role == "grc":
        return 200
    if action in ("assign", "accept-risk", "resolve"):
        return 403
    if role == "auditor":
        return 200
    # Key owners: bob ("owner") owns bob_high; carol ("other_owner") owns carol_low.
    if action == "retrieve":
        return 404 if role == "other_owner" else 200
    if action == "retrieve_other":
        return 404 if role == "owner" else 200
    return 200


@pytest.mark.parametrize("action", ACTIONS)
def test_the_findings_api_answers_each_role_as_specified(role, action, world, owner):
    name, _user, client = role
    mine, theirs = world["bob_high"], world["carol_low"]
    bodies = {
        "assign": {"assigned_to": owner.username, "remediation_due": future()},
        "accept-risk": {"until": future(), "reason": "Compensating control in place."},
        "resolve": {"note": "Key split in two."},
    }
    if action == "list":
        response = client.get(URL)
    elif action == "retrieve":
        response = client.get(f"{URL}{mine.pk}/")
    elif action == "retrieve_other":
        response = client.get(f"{URL}{theirs.pk}/")
    else:
        response = post(client, f"{URL}{mine.pk}/{action}/", bodies[action])

    status = expected_status(name, action)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    if status >= 400:
        assert set(response.json()) == {"detail"}
    mine.refresh_from_db()
    changed = mine.status != FindingStatus.OPEN or mine.assigned_to is not None
    assert changed == (action in bodies and status == 200)
    if action == "list" and status == 200:
        ids = {row["id"] for row in response.json()["results"]}
        visible = {
            "owner": {mine.pk},
            "other_owner": {theirs.pk, world["carol_lapsed"].pk},
        }.get(name, {f.pk for f in world.values() if isinstance(f, Finding)})
        assert ids == visible


def test_a_key_owner_cannot_reach_another_owners_findings_through_filters(world, owner_client):
    carol_key = world["carol_key"]
    for params in ({"key": carol_key.pk}, {"owner": "carol"}, {"subject_type": "inventory.keystore"}):
        response = owner_client.get(URL, params)
        assert response.status_code == 200 and response.json()["count"] == 0, params


# --- Filters -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"bob_high", "carol_low", "carol_lapsed", "store_finding"}),
        ({"rule": "ag-7-purpose-tag"}, {"carol_low"}),
        ({"severity": "high"}, {"bob_high"}),
        ({"status": "open"}, {"bob_high", "carol_low", "carol_lapsed", "store_finding"}),  # lapsed counts as open
        ({"status": "acceptance-expired"}, {"carol_lapsed"}),
        ({"status": "risk-accepted"}, set()),
        ({"status": "resolved"}, set()),
        ({"owner": "carol"}, {"carol_low", "carol_lapsed"}),
        ({"assigned_to": "alice"}, {"carol_low"}),
        ({"assigned_to": "none"}, {"bob_high", "carol_lapsed", "store_finding"}),
        ({"subject_type": "inventory.keystore"}, {"store_finding"}),
        ({"subject_type": "inventory.key", "severity": "medium"}, {"carol_lapsed"}),
    ],
)
def test_the_list_filters(params, expected, world, auditor_client):
    response = auditor_client.get(URL, params)
    assert response.status_code == 200
    names = {name for name, obj in world.items() if isinstance(obj, Finding)}
    by_id = {world[name].pk: name for name in names}
    assert {by_id[row["id"]] for row in response.json()["results"]} == expected


def test_the_key_filter_and_the_severity_ordering(world, grc_client):
    rows = grc_client.get(URL, {"key": world["carol_key"].pk}).json()["results"]
    assert {row["subject_label"] for row in rows} == {"carol-signer"} and len(rows) == 2
    ordered = grc_client.get(URL, {"ordering": "severity"}).json()["results"]
    assert [row["severity"] for row in ordered] == ["high", "medium", "medium", "low"]
    row = next(r for r in ordered if r["id"] == world["carol_lapsed"].pk)
    assert row["acceptance_lapsed"] is True and row["key_owner"] == "carol"
    assert row["subject_url"] == world["carol_key"].get_absolute_url() and "details" not in row


def test_open_at_counts_the_findings_open_on_a_day(world, grc_client, grc_user):
    now = timezone.now()
    old = finding_on(KeyFactory(), rule="old-one", first_seen=now - dt.timedelta(days=40))
    old.status, old.resolved_at, old.resolved_by = FindingStatus.RESOLVED, now - dt.timedelta(days=20), grc_user
    old.save()
    day = lambda days_ago: (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()  # noqa: E731

    def ids(when):
        return {row["id"] for row in grc_client.get(URL, {"open_at": when}).json()["results"]}

    assert ids(day(30)) == {old.pk}  # the others were first seen today
    assert ids(day(10)) == set()  # resolved 20 days ago
    assert old.pk not in ids(day(0)) and world["bob_high"].pk in ids(day(0))


@pytest.mark.parametrize(
    "params",
    [
        {"status": "no-such-status"},
        {"severity": "bogus"},
        {"key": "not-a-number"},
        {"key": "99999999999999999999999"},
        {"open_at": "yesterday"},
        {"ordering": "name"},
        {"rule": "not a slug"},
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_field(params, world, grc_client):
    response = grc_client.get(URL, params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(params)


def test_the_list_runs_a_constant_number_of_queries(world, grc_client, owner_client, owner):
    def count(client, **params) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, params).status_code == 200
        return len(queries)

    small = [count(grc_client), count(grc_client, owner="carol", status="open"), count(owner_client)]
    assignees = [UserFactory() for _ in range(3)]
    for n in range(40):
        key = KeyFactory(owner=owner if n % 2 else None)
        finding_on(key, rule=f"rule-{n % 7}", severity="medium", assigned_to=assignees[n % 3])
    large = [count(grc_client), count(grc_client, owner="carol", status="open"), count(owner_client)]
    assert large == small
    assert max(large) <= 6  # session, user, groups, count, page


# --- GRC's judgements ------------------------------------------------------------------------------------------


def test_grc_assigns_accepts_the_risk_and_resolves(world, grc_client, owner):
    finding = world["bob_high"]
    due = future(21)
    body = post(grc_client, f"{URL}{finding.pk}/assign/", {"assigned_to": "bob", "remediation_due": due}).json()
    assert (
        body["assigned_to"] == "bob" and body["remediation_due"] == due and body["details"] == {"purposes": ["a", "b"]}
    )

    until = future(90)
    body = post(grc_client, f"{URL}{finding.pk}/accept-risk/", {"until": until, "reason": "Vendor fix."}).json()
    assert (body["status"], body["accepted_until"], body["accepted_by"]) == ("risk-accepted", until, "alice")

    body = post(grc_client, f"{URL}{finding.pk}/resolve/", {"note": "Key split in two."}).json()
    assert body["status"] == "resolved" and body["resolved_by"] == "alice" and body["accepted_until"] is None
    finding.refresh_from_db()
    assert finding.history.first().history_change_reason == "Key split in two."


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("resolve", {}, "note"),
        ("resolve", {"note": "   "}, "note"),
        ("resolve", {"note": PEM}, "note"),
        ("accept-risk", {"until": "2000-01-01", "reason": "Late."}, "until"),
        ("accept-risk", {"until": future(), "reason": ""}, "reason"),
        ("accept-risk", {"until": future(), "reason": PEM}, "reason"),
        ("assign", {"assigned_to": "nobody", "remediation_due": future()}, "assigned_to"),
        ("assign", {"assigned_to": "bob", "remediation_due": "2000-01-01"}, "remediation_due"),
        ("assign", {"assigned_to": "bob", "remediation_due": "soon"}, "remediation_due"),
    ],
)
def test_a_refused_judgement_is_a_400_and_changes_nothing(action, body, field, world, grc_client):
    finding = world["bob_high"]
    response = post(grc_client, f"{URL}{finding.pk}/{action}/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert "PRIVATE KEY" not in response.content.decode()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and finding.assigned_to is None and finding.history.count() == 1


def test_an_inactive_user_cannot_be_assigned(world, grc_client):
    UserFactory(username="gone", is_active=False)
    response = post(
        grc_client, f"{URL}{world['bob_high'].pk}/assign/", {"assigned_to": "gone", "remediation_due": future()}
    )
    assert response.status_code == 400 and "assigned_to" in response.json()["errors"]


def test_a_resolved_finding_cannot_be_judged_again(world, grc_client):
    finding = world["bob_high"]
    assert post(grc_client, f"{URL}{finding.pk}/resolve/", {"note": "Done."}).status_code == 200
    for action, body in [
        ("resolve", {"note": "Again."}),
        ("accept-risk", {"until": future(), "reason": "Why not."}),
        ("assign", {"assigned_to": "bob", "remediation_due": future()}),
    ]:
        response = post(grc_client, f"{URL}{finding.pk}/{action}/", body)
        assert response.status_code == 400 and "resolved" in json.dumps(response.json()), action


def test_a_judgement_on_a_missing_finding_is_a_404(grc_client):
    assert post(grc_client, f"{URL}999999/resolve/", {"note": "x"}).status_code == 404


def test_a_full_token_reads_and_judges_but_an_iac_scans_token_does_neither(world, grc_user):
    from django.test import Client

    from cek.apitokens import api_token_issue
    from cek.models import TokenScope

    _token, full = api_token_issue(user=grc_user, name="pipeline")
    _token, iac = api_token_issue(user=grc_user, name="ci", scope=TokenScope.IAC_SCANS)
    finding = world["bob_high"]
    with_full, with_iac = Client(HTTP_AUTHORIZATION=f"Bearer {full}"), Client(HTTP_AUTHORIZATION=f"Bearer {iac}")
    assert with_full.get(URL).json()["count"] == 4
    assert with_iac.get(URL).status_code == 403
    assert post(with_iac, f"{URL}{finding.pk}/resolve/", {"note": "Done."}).status_code == 403
    assert post(with_full, f"{URL}{finding.pk}/resolve/", {"note": "Done."}).status_code == 200
