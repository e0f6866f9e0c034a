"""``/api/v1/campaigns/`` and ``/api/v1/attestations/``: the campaign pages' permissions over REST (GRC drafts,
launches, closes; auditors read; key owners answer their own attestations only), launch answered 202 while a worker
launches a large scope, 409 when the status does not allow, confirmations only with ``reviewed: true`` (the inbox's
statement), discrepancies opening the key's finding, GRC's reassignments, and constant queries per page."""

from __future__ import annotations

import datetime as dt
import json
import types

import pytest
from django.utils import timezone

from evidence.campaigns import services
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus, Finding
from tests.conftest import login
from tests.factories import KeyFactory, UserFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS, ATTESTATIONS = "/api/v1/campaigns/", "/api/v1/attestations/"


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def due(days: int = 14) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def world(grc_user, owner, other_owner):
    mine = [KeyFactory(owner=owner, name=f"bob-key-{n}") for n in range(3)]
    theirs = KeyFactory(owner=other_owner, name="carol-key")
    campaign = services.campaign_create(actor=grc_user, name="Q1 attestation", due_on=timezone.localdate())
    services.campaign_launch(campaign=campaign, actor=grc_user)
    draft = services.campaign_create(actor=grc_user, name="Q2 attestation", due_on=timezone.localdate())
    return {
        "campaign": campaign,
        "draft": draft,
        "mine": [Attestation.objects.get(key=k) for k in mine],
        "theirs": Attestation.objects.get(key=theirs),
    }


# --- Permission matrices --------------------------------------------------------------------------------------

CAMPAIGN_ACTIONS = ["list", "retrieve", "attestations", "create", "launch", "close"]


@pytest.mark.parametrize("action", CAMPAIGN_ACTIONS)
def test_the_campaigns_api_answers_each_role_as_specified(role, action, world):
    name, _user, client = role
    launched, draft = world["campaign"], world["draft"]
    before = Campaign.objects.count()
    calls = {
        "list": lambda: client.get(CAMPAIGNS),
        "retrieve": lambda: client.get(f"{CAMPAIGNS}{launched.pk}/"),
        "attestations": lambda: client.get(f"{CAMPAIGNS}{launched.pk}/attestations/"),
        "create": lambda: post(client, CAMPAIGNS, {"name": "Q3", "due_on": due()}),
        "launch": lambda: post(client, f"{CAMPAIGNS}{draft.pk}/launch/"),
        "close": lambda: post(client, f"{CAMPAIGNS}{launched.pk}/close/"),
    }
    response = calls[action]()
    if name in ("anonymous", "expired_auditor"):
        expected = 401
    elif name == "grc":
        expected = 201 if action == "create" else 200
    elif name == "auditor" and action in ("list", "retrieve", "attestations"):
        expected = 200
    else:
        expected = 403
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json().keys() == {"detail"}
    assert Campaign.objects.count() - before == (1 if expected == 201 else 0)
    draft.refresh_from_db()
    launched.refresh_from_db()
    assert (draft.status == CampaignStatus.LAUNCHED) == (action == "launch" and expected == 200)
    assert (launched.status == CampaignStatus.CLOSED) == (action == "close" and expected == 200)


ATTESTATION_ACTIONS = ["list", "retrieve_mine", "inbox", "confirm", "discrepancy", "reassign"]


def attestation_expected(role: str, action: str) -> int:
    if role in ("anonymous", "expired_auditor"):
        return 401
    if role == "outsider":
        return 403
    if action in ("list", "inbox"):
        return 200
    if action == "retrieve_mine":  # bob's attestation
        return 404 if role == "other_owner" else 200
    if action == "reassign":
        return 200 if role == "grc" else 403  # refused before the attestation is looked up
    # Answering bob's attestation: only bob (GRC and auditors answer only what is addressed to them); carol cannot
    # see it (404) except through the list-level confirm, which refuses it (403).
    if role == "other_owner" and action == "discrepancy":
        return 404
    return 200 if role == "owner" else 403


@pytest.mark.parametrize("action", ATTESTATION_ACTIONS)
def test_the_attestations_api_answers_each_role_as_specified(role, action, world, auditor):
    name, _user, client = role
    bob = world["mine"][0]
    calls = {
        "list": lambda: client.get(ATTESTATIONS),
        "retrieve_mine": lambda: client.get(f"{ATTESTATIONS}{bob.pk}/"),
        "inbox": lambda: client.get(f"{ATTESTATIONS}inbox/"),
        "confirm": lambda: post(client, f"{ATTESTATIONS}confirm/", {"reviewed": True, "attestations": [bob.pk]}),
        "discrepancy": lambda: post(client, f"{ATTESTATIONS}{bob.pk}/discrepancy/", {"comment": "Wrong purpose."}),
        "reassign": lambda: post(client, f"{ATTESTATIONS}{bob.pk}/reassign/", {"to": auditor.username}),
    }
    response = calls[action]()
    expected = attestation_expected(name, action)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json().keys() == {"detail"}
    bob.refresh_from_db()
    answered = bob.status != AttestationStatus.PENDING
    assert answered == (action in ("confirm", "discrepancy") and expected == 200)
    assert (bob.addressed_to == auditor) == (action == "reassign" and expected == 200)
    if action in ("list", "inbox") and expected == 200:
        ids = {row["id"] for row in response.json()["results"]}
        everyone = {a.pk for a in [*world["mine"], world["theirs"]]}
        visible = {
            "owner": {a.pk for a in world["mine"]},
            "other_owner": {world["theirs"].pk},
        }.get(name, everyone if action == "list" else set())
        assert ids == visible


# --- Campaigns ------------------------------------------------------------------------------------------------


def test_grc_drafts_launches_and_closes_with_progress(grc_client, world):
    store = world["mine"][0].key.store
    response = post(grc_client, CAMPAIGNS, {"name": "Q3 review", "due_on": due(), "store": store.pk})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "draft" and created["statements"] and created["scope"].startswith("All active keys of")
    assert response["Location"] == f"{CAMPAIGNS}{created['id']}/"

    launched = post(grc_client, f"{CAMPAIGNS}{created['id']}/launch/").json()
    assert launched["status"] == "launched" and launched["progress"]["total"] == 1
    again = post(grc_client, f"{CAMPAIGNS}{created['id']}/launch/")
    assert again.status_code == 409 and "only a draft can be launched" in again.json()["detail"]

    services.attestation_confirm(attestations=[world["mine"][0].pk], actor=world["mine"][0].key.owner)
    detail = grc_client.get(f"{CAMPAIGNS}{world['campaign'].pk}/").json()
    assert detail["progress"] == {
        "total": 4,
        "confirmed": 1,
        "discrepancies": 0,
        "pending": 3,
        "answered": 1,
        "percent": 25,
    }
    assert {row["addressed_to"]: row["pending"] for row in detail["owners"]} == {"bob": 2, "carol": 1}

    closed = post(grc_client, f"{CAMPAIGNS}{world['campaign'].pk}/close/").json()
    assert closed["status"] == "closed" and len(closed["results_sha256"]) == 64 and closed["results_rows"] == 4


def test_a_large_scope_launches_on_a_worker_202(
    grc_client, world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 1
    sent = []
    monkeypatch.setattr(
        "cek.jobs.queue.send", lambda name, args: sent.append(args[0]) or types.SimpleNamespace(id="task-1")
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post(grc_client, f"{CAMPAIGNS}{world['draft'].pk}/launch/")
    assert response.status_code == 202 and response.json()["status"] == "launching"
    assert response["Location"] == response.json()["status_url"] and sent == [world["draft"].pk]
    assert grc_client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_on": due()}, "name"),
        ({"name": "Late", "due_on": "2000-01-01"}, "due_on"),
        ({"name": "Q", "due_on": due(), "reminder_days": 0}, "reminder_days"),
        ({"name": "Q", "due_on": due(), "statement_version": "v0"}, "statement_version"),
        ({"name": "Q", "due_on": due(), "purpose": "no-such-purpose"}, "purpose"),
        ({"name": "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "due_on": due()}, "name"),
    ],
)
def test_a_bad_campaign_is_a_400(body, field, grc_client, world):
    response = post(grc_client, CAMPAIGNS, body)
    assert response.status_code == 400 and field in response.json()["errors"]
    assert "4eC39HqLyjWDarjtT1zdp7dc" not in response.content.decode()


def test_an_empty_scope_is_a_409_to_launch(grc_client, grc_user, world):
    from tests.factories import KeyStoreFactory

    empty = services.campaign_create(actor=grc_user, name="Empty", due_on=timezone.localdate(), store=KeyStoreFactory())
    response = post(grc_client, f"{CAMPAIGNS}{empty.pk}/launch/")
    assert response.status_code == 409 and "No active key" in response.json()["detail"]


def test_a_campaigns_attestations_filter(auditor_client, world):
    url = f"{CAMPAIGNS}{world['campaign'].pk}/attestations/"
    assert auditor_client.get(url).json()["count"] == 4
    assert auditor_client.get(url, {"addressed_to": "carol"}).json()["count"] == 1
    assert auditor_client.get(url, {"key_name": "bob-key"}).json()["count"] == 3
    assert auditor_client.get(url, {"status": "bogus"}).status_code == 400


def test_the_lists_run_a_constant_number_of_queries(
    grc_client, grc_user, owner, owner_client, world, django_assert_max_num_queries
):
    def counts():
        sizes = []
        for client, url in [
            (grc_client, CAMPAIGNS),
            (grc_client, ATTESTATIONS),
            (owner_client, f"{ATTESTATIONS}inbox/"),
            (grc_client, f"{CAMPAIGNS}{world['campaign'].pk}/attestations/"),
        ]:
            with django_assert_max_num_queries(10) as captured:
                assert client.get(url, {"page_size": 100}).status_code == 200
            sizes.append(len(captured.captured_queries))
        return sizes

    small = counts()
    for n in range(15):
        KeyFactory(owner=owner if n % 2 else UserFactory(roles=["key-owners"]), name=f"more-{n}")
        services.campaign_create(actor=grc_user, name=f"C{n}", due_on=timezone.localdate())
    bigger = services.campaign_create(actor=grc_user, name="Bigger", due_on=timezone.localdate())
    services.campaign_launch(campaign=bigger, actor=grc_user)
    assert counts() == small


# --- Attestations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reviewed", [None, False, "no"])
def test_confirming_needs_the_reviewed_statement(reviewed, owner_client, world):
    body = {"attestations": [world["mine"][0].pk]}
    if reviewed is not None:
        body["reviewed"] = reviewed
    response = post(owner_client, f"{ATTESTATIONS}confirm/", body)
    assert response.status_code == 400 and "reviewed" in response.json()["errors"]
    assert Attestation.objects.filter(status=AttestationStatus.CONFIRMED).count() == 0


def test_a_key_owner_confirms_all_theirs_and_not_someone_elses(owner_client, world):
    theirs = post(owner_client, f"{ATTESTATIONS}confirm/", {"reviewed": True, "attestations": [world["theirs"].pk]})
    assert theirs.status_code == 403 and "only answer attestations addressed to you" in theirs.json()["detail"]
    response = post(owner_client, f"{ATTESTATIONS}confirm/", {"reviewed": True, "all": True})
    assert response.json() == {"confirmed": 3}
    assert owner_client.get(f"{ATTESTATIONS}inbox/").json()["count"] == 0
    row = owner_client.get(f"{ATTESTATIONS}{world['mine'][0].pk}/").json()
    assert row["status"] == "confirmed" and row["responded_by"] == "bob" and len(row["statements_sha256"]) == 64
    again = post(owner_client, f"{ATTESTATIONS}confirm/", {"reviewed": True, "attestations": [world["mine"][0].pk]})
    assert again.status_code == 400 and "already answered" in json.dumps(again.json())
    neither = post(owner_client, f"{ATTESTATIONS}confirm/", {"reviewed": True})
    assert neither.status_code == 400


def test_a_discrepancy_opens_the_keys_finding(owner_client, world):
    attestation = world["mine"][1]
    empty = post(owner_client, f"{ATTESTATIONS}{attestation.pk}/discrepancy/", {"comment": "  "})
    assert empty.status_code == 400
    response = post(owner_client, f"{ATTESTATIONS}{attestation.pk}/discrepancy/", {"comment": "Also signs."})
    assert response.status_code == 200
    body = response.json()
    assert body["attestation"]["status"] == "discrepancy" and body["attestation"]["comment"] == "Also signs."
    finding = Finding.objects.get(pk=body["finding"])
    assert finding.subject_id == attestation.key_id and finding.details["comment"] == "Also signs."


def test_grc_reassigns_a_pending_attestation_to_an_active_user(grc_client, world, other_owner):
    bob = world["mine"][2]
    gone = UserFactory(username="gone", is_active=False)
    assert post(grc_client, f"{ATTESTATIONS}{bob.pk}/reassign/", {"to": gone.username}).status_code == 400
    response = post(grc_client, f"{ATTESTATIONS}{bob.pk}/reassign/", {"to": "carol"})
    assert response.status_code == 200 and response.json()["addressed_to"] == "carol"
    assert world["theirs"].pk != bob.pk and bob.pk in {
        row["id"] for row in login(other_owner).get(f"{ATTESTATIONS}inbox/").json()["results"]
    }
    services.campaign_close(campaign=world["campaign"], actor=world["campaign"].created_by)
    closed = post(grc_client, f"{ATTESTATIONS}{bob.pk}/reassign/", {"to": "bob"})
    assert closed.status_code == 400 and "Only a pending attestation" in json.dumps(closed.json())
