"""Every list page says which filter value of its URL it refused (an unknown state or store, a non-boolean), by
the filter's label and the value given (escaped, never a value that looks like key material), and whether the
list then shows what the other filters select or everything. The API answers 400 for the same values. The
filter drop-downs offer only values that filter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns.services import campaign_create
from inventory.models import KeyState
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db

SECRET = "ghp_" + "Zq7Rk2Lm9Xw4Tb8Nc3Vf6Hd1Jp5Sy0Ga" + "Qe4U"  # shaped like a GitHub token

# (URL name, parameter, the filter's label on the page)
REFUSING = [
    ("inventory:key-list", "state", "State"),
    ("inventory:key-list", "store", "Store"),
    ("inventory:key-list", "overdue", "Cryptoperiod overdue"),
    ("inventory:my-keys", "purpose", "Purpose"),
    ("evidence:finding-list", "severity", "Severity"),
    ("evidence:finding-list", "status", "Status"),
    ("evidence:finding-list", "key", "Key"),
    ("evidence:alert-list", "status", "Status"),
    ("evidence:alert-list", "channel", "Channel"),
    ("evidence:policy-list", "status", "Status"),
    ("evidence:policy-list", "kind", "Kind"),
    ("evidence:policy-list", "area", "Area"),
    ("evidence:changeevent-list", "kind", "Kind"),
    ("evidence:evaluation-list", "kind", "Kind"),
    ("evidence:evaluation-list", "result", "Result"),
    ("evidence:iacscan-list", "verdict", "Last verdict"),
    ("evidence:answer-list", "party", "Party"),
]


def _notice(html: str) -> str:
    start = html.find('class="form-errors refused-filters"')
    return html[start : html.find("</div>", start)] if start >= 0 else ""


@pytest.mark.parametrize(("name", "param", "label"), REFUSING)
def test_an_invalid_filter_value_is_said_by_label_and_value(grc_client, name, param, label):
    response = grc_client.get(reverse(name), {param: "melted<b>"})

    assert response.status_code == 200
    notice = _notice(response.content.decode())
    assert f"The filter “{label}” was not applied: “melted&lt;b&gt;” is not one of its values." in notice
    assert "The list shows everything, unfiltered." in notice
    assert "<b>" not in response.content.decode()


@pytest.mark.parametrize("name", sorted({name for name, _, _ in REFUSING}))
def test_valid_or_no_filters_say_nothing(grc_client, name):
    assert _notice(grc_client.get(reverse(name)).content.decode()) == ""


def test_a_value_that_looks_like_key_material_is_never_quoted(grc_client):
    response = grc_client.get(reverse("inventory:key-list"), {"state": SECRET})

    html = response.content.decode()
    assert "The filter “State” was not applied: the value given is not one of its values." in _notice(html)
    assert SECRET not in html and SECRET[:12] not in html


def test_exports_and_the_api_refuse_such_a_value_without_repeating_it(grc_client):
    export = grc_client.get(reverse("inventory:export-keys"), {"state": SECRET})
    api = grc_client.get("/api/v1/keys/", {"state": SECRET})

    assert export.status_code == 400 and "“State” does not accept the value given" in export.content.decode()
    assert api.status_code == 400 and api.json()["errors"]["state"] and SECRET not in api.content.decode()
    assert SECRET not in export.content.decode()


def test_the_valid_filters_still_apply_and_the_notice_says_so(grc_client):
    KeyFactory(name="billing-db", state=KeyState.ACTIVE)
    KeyFactory(name="search-index", state=KeyState.ACTIVE)

    response = grc_client.get(reverse("inventory:key-list"), {"q": "billing", "state": "melted", "overdue": "maybe"})

    notice = _notice(response.content.decode())
    assert "“State”" in notice and "“Cryptoperiod overdue”" in notice and "“maybe”" in notice
    assert "The list shows what the other filters select." in notice
    assert [key["name"] for key in response.context["object_list"]] == ["billing-db"]


def test_the_attestation_list_refuses_one_filter_and_keeps_the_others(grc_client, grc_user):
    campaign = campaign_create(actor=grc_user, name="Q4 attestation", due_on=dt.date(2030, 1, 31))
    url = reverse("evidence:campaign-attestations", args=[campaign.pk])

    response = grc_client.get(url, {"status": "melted", "q": "billing"})

    assert response.status_code == 200
    notice = _notice(response.content.decode())
    assert "The filter “Status” was not applied: “melted”" in notice
    assert "The list shows what the other filters select." in notice
    assert response.context["filters"].cleaned_data["q"] == "billing"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/keys/?state=melted",
        "/api/v1/keys/?overdue=maybe",
        "/api/v1/grants/?expired=maybe",
        "/api/v1/campaigns/?status=melted",
        "/api/v1/findings/?severity=melted",
    ],
)
def test_the_api_answers_400_for_the_same_values(grc_client, url):
    response = grc_client.get(url)

    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("value", "expected"), [("true", ["late"]), ("1", ["late"]), ("false", ["on-time"]), ("", None)]
)
def test_yes_no_filters_read_yes_and_no(grc_client, value, expected):
    today = timezone.localdate()
    KeyFactory(name="late", cryptoperiod_ends_on=today - dt.timedelta(days=1))
    KeyFactory(name="on-time", cryptoperiod_ends_on=today + dt.timedelta(days=100))

    response = grc_client.get("/api/v1/keys/", {"overdue": value, "ordering": "name"})

    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == (expected or ["late", "on-time"])


def test_the_state_filter_offers_only_states_some_key_is_in_and_each_selects_keys(grc_client):
    KeyFactory(state=KeyState.ACTIVE)
    KeyFactory(state=KeyState.DESTROYED)
    url = reverse("inventory:key-list")

    offered = [value for value, _label in grc_client.get(url).context["choices"]["state"]]

    assert offered == [KeyState.ACTIVE, KeyState.DESTROYED]
    for value in offered:
        filtered = grc_client.get(url, {"state": value})
        assert not filtered.context["refused_filters"], value
        assert filtered.context["paginator"].count == 1, value
    # A bookmarked state that no key is in any more stays selectable (and selected).
    html = grc_client.get(url, {"state": KeyState.SUSPENDED}).content.decode()
    assert '<option value="suspended" selected>Suspended</option>' in html


def test_an_owner_is_offered_the_states_of_their_own_keys(owner_client, owner):
    KeyFactory(owner=owner, state=KeyState.PRE_ACTIVATION)
    KeyFactory(state=KeyState.COMPROMISED)  # someone else's

    response = owner_client.get(reverse("inventory:key-list"))

    assert [value for value, _ in response.context["choices"]["state"]] == [KeyState.PRE_ACTIVATION]


def test_a_refused_filter_alone_leaves_the_key_list_unfiltered(grc_client):
    KeyFactory.create_batch(2)

    html = grc_client.get(reverse("inventory:key-list"), {"state": "melted"}).content.decode()

    assert "<strong>2</strong> keys</span>" in html and "match the filters" not in html
    assert "The list shows everything, unfiltered." in html
