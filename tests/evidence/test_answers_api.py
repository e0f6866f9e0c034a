"""The read-only JSON API of CEK-11.1 answers: GRC and auditors read, nobody writes through it."""

from __future__ import annotations

import pytest

from evidence.answers import services
from tests.evidence.caiq import make_run, us
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
