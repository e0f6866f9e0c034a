"""The JSON API of CEK-11.1 answers: GRC and auditors read; GRC generates and publishes (fill rules enforced);
nothing else writes through it."""

from __future__ import annotations

import pytest

from evidence.answers import services
from evidence.models import AnswerStatus, CaiqAnswer, RunStatus
from tests.evidence.caiq import key_policy, make_run, us
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/caiq-answers/"


@pytest.fixture
def answers(grc_user):
    make_run()
    party = us()
    draft = services.answer_generate(party=party, actor=grc_user)
    other = services.answer_generate(party=PartyFactory(name="Customer Co", roles=["AIC"]), actor=grc_user)
    return party, draft, other


def test_the_api_reads_are_for_grc_and_auditors(role, answers):
    name, _user, client = role
    response = client.get(URL)
    expected = {"grc": 200, "auditor": 200}.get(name, 403)
    if name in ("anonymous", "expired_auditor"):  # no valid session: not authenticated
        expected = 401
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["count"] == 2


def test_the_api_filters_by_party_and_shows_the_facts_on_detail(grc_client, answers):
    party, draft, other = answers
    listing = grc_client.get(URL, {"party": party.pk}).json()
    assert [row["id"] for row in listing["results"]] == [draft.pk]
    row = listing["results"][0]
    assert row["ssrm_control_ownership"] == "Shared OSP-AP" and row["status"] == "draft"
    assert "facts" not in row
    detail = grc_client.get(f"{URL}{other.pk}/").json()
    assert detail["answer"] == "NA" and detail["facts"]["ownership"]["value"] == "ND"
    assert grc_client.get(URL, {"status": "bogus"}).status_code == 400


def test_the_api_does_not_write(grc_client, answers):
    _party, draft, _other = answers
    assert grc_client.post(URL, {}, content_type="application/json").status_code == 405
    assert grc_client.patch(f"{URL}{draft.pk}/", {"answer": "NO"}, content_type="application/json").status_code == 405


# --- Generate and publish (GRC) -----------------------------------------------------------------------------


@pytest.fixture
def publishable(grc_user):
    key_policy(grc_user)
    make_run()
    return us()


@pytest.mark.parametrize("action", ["generate", "publish"])
def test_only_grc_generates_and_publishes(role, action, publishable, grc_user):
    name, _user, client = role
    draft = services.answer_generate(party=publishable, actor=grc_user)
    before = CaiqAnswer.objects.count()
    if action == "generate":
        response = client.post(f"{URL}generate/", {"party": publishable.pk}, content_type="application/json")
    else:
        response = client.post(f"{URL}{draft.pk}/publish/", content_type="application/json")
    expected = {"grc": 201 if action == "generate" else 200}.get(name, 403)
    if name in ("anonymous", "expired_auditor"):
        expected = 401
    assert response.status_code == expected, response.content
    assert CaiqAnswer.objects.count() - before == (1 if expected == 201 else 0)
    published = CaiqAnswer.objects.get(pk=draft.pk).status == AnswerStatus.PUBLISHED
    assert published == (action == "publish" and expected == 200)


def test_grc_generates_then_publishes_a_draft(grc_client, publishable):
    response = grc_client.post(f"{URL}generate/", {"party": publishable.pk}, content_type="application/json")
    assert response.status_code == 201, response.content
    draft = response.json()
    assert draft["status"] == "draft" and draft["facts"] and response["Location"] == f"{URL}{draft['id']}/"
    published = grc_client.post(f"{URL}{draft['id']}/publish/", content_type="application/json").json()
    assert published["status"] == "published" and len(published["sha256"]) == 64
    again = grc_client.post(f"{URL}{draft['id']}/publish/", content_type="application/json")
    assert again.status_code == 400 and "already published" in str(again.json()["errors"])


def test_publishing_lists_every_broken_fill_rule_as_a_400(grc_client, grc_user, publishable):
    draft = services.answer_generate(party=publishable, actor=grc_user)
    services.answer_update(draft, actor=grc_user, answer="NA", override_reason="Testing.", na_justification="")
    response = grc_client.post(f"{URL}{draft.pk}/publish/", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == [
        "NA is answered with ownership ND, not “Shared OSP-AP”.",
        "NA needs a justification of why CEK-11 does not apply.",
    ]
    assert CaiqAnswer.objects.get(pk=draft.pk).status == AnswerStatus.DRAFT


def test_generating_from_a_run_that_did_not_succeed_is_a_400(grc_client, publishable):
    failed = make_run(status=RunStatus.FAILED)
    response = grc_client.post(
        f"{URL}generate/", {"party": publishable.pk, "run": failed.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and "succeeded run" in str(response.json()["errors"])
    assert grc_client.post(f"{URL}generate/", {"party": 999999}, content_type="application/json").status_code == 400
