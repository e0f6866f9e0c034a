"""The key list's store, purpose, owner, tenant and service filters check their value against the cached drop-down
lists (inventory/filter_choices.py), not with a query a request: the same keys, the same refusals, one query fewer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import Key
from tests.conftest import login
from tests.factories import BindingFactory, KeyFactory, KeyStoreFactory, PurposeFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("inventory:key-list")
API = "/api/v1/keys/"
INVALID = "Select a valid choice. That choice is not one of the available choices."


@pytest.fixture
def chosen(owner, other_owner):
    """One key in each filter's chosen value and one outside it: {filter: (value, name of the key it selects)}."""
    store, tenant, purpose = KeyStoreFactory(name="Chosen store"), TenantFactory(slug="chosen"), PurposeFactory()
    KeyFactory(name="by-store", store=store, owner=other_owner)
    KeyFactory(name="by-purpose", purpose=purpose, owner=other_owner)
    KeyFactory(name="by-tenant", tenant=tenant, owner=other_owner)
    KeyFactory(name="by-owner", owner=owner)
    binding = BindingFactory(key=KeyFactory(name="by-service", owner=other_owner))
    return {
        "store": (str(store.pk), "by-store"),
        "purpose": (purpose.slug, "by-purpose"),
        "tenant": (tenant.slug, "by-tenant"),
        "owner": (owner.username, "by-owner"),
        "service": (binding.service.slug, "by-service"),
    }


def _queries(client, url: str, params: dict) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("url", [PAGE, API])
@pytest.mark.parametrize("name", ["store", "purpose", "tenant", "owner", "service"])
def test_a_filtered_list_runs_no_query_more_than_the_unfiltered_one(grc_client, chosen, url, name):
    value, selected = chosen[name]
    for params in ({}, {name: value}):  # warm-up: the drop-downs, the stored count and states of each filter
        assert grc_client.get(url, params).status_code == 200
    _, unfiltered = _queries(grc_client, url, {})
    response, filtered = _queries(grc_client, url, {name: value})
    assert response.status_code == 200
    assert len(filtered) == len(unfiltered), filtered  # before: one more, the check that the value exists
    if url == API:
        assert [row["name"] for row in response.json()["results"]] == [selected]
    else:
        assert f">{selected}</a>" in response.content.decode()
        assert "<strong>1</strong> key" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("store", "999999"),
        ("store", "abc"),
        ("purpose", "no-such-purpose"),
        ("tenant", "nobody"),
        ("owner", "nobody"),
        ("owner", "gone"),
        ("service", "no-such-service"),
    ],
)
def test_an_unknown_value_is_refused_as_before(grc_client, chosen, name, value):
    UserFactory(username="gone", is_active=False)  # inactive users were never a choice of the owner filter
    grc_client.get(PAGE)  # the lists cached
    response = grc_client.get(API, {name: value})
    assert response.status_code == 400
    assert response.json() == {"detail": "The request has invalid fields.", "errors": {name: [INVALID]}}
    html = grc_client.get(PAGE, {name: value}).content.decode()
    assert "was not applied: “" + value + "” is not one of its values." in html
    assert "The list shows everything, unfiltered." in html


@pytest.mark.parametrize("url", [PAGE, API])
def test_a_store_or_purpose_made_after_the_lists_were_cached_is_accepted_on_the_next_request(grc_client, url):
    grc_client.get(PAGE)  # the lists cached
    grc_client.get(url, {"store": "1"})
    store, purpose = KeyStoreFactory(name="New store"), PurposeFactory()
    KeyFactory(name="in-new-store", store=store)
    KeyFactory(name="new-purpose", purpose=purpose)
    for name, value, selected in (("store", store.pk, "in-new-store"), ("purpose", purpose.slug, "new-purpose")):
        response = grc_client.get(url, {name: value})
        assert response.status_code == 200
        if url == API:
            assert [row["name"] for row in response.json()["results"]] == [selected]
        else:
            assert f">{selected}</a>" in response.content.decode() and "not applied" not in response.content.decode()


def test_a_deactivated_owner_is_refused_from_the_next_request(grc_client, chosen):
    assert grc_client.get(API, {"owner": "bob"}).status_code == 200
    bob = Key.objects.get(name="by-owner").owner
    bob.is_active = False
    bob.save()
    assert grc_client.get(API, {"owner": "bob"}).status_code == 400


def test_a_key_owner_filters_their_own_keys_and_is_refused_the_same_values(owner, other_owner, chosen):
    """A key owner's list holds their own keys; the filters accept and refuse the same values as for anyone (as
    before: the drop-downs are not scoped), and filter within the owner's keys."""
    client = login(owner)
    assert [row["name"] for row in client.get(API, {"owner": "bob"}).json()["results"]] == ["by-owner"]
    assert client.get(API, {"owner": "carol"}).json()["results"] == []
    assert client.get(API, {"store": chosen["store"][0]}).json()["results"] == []
    assert client.get(API, {"owner": "nobody"}).status_code == 400


def test_a_store_id_is_read_as_the_database_reads_it(grc_client, chosen):
    value, selected = chosen["store"]
    rows = grc_client.get(API, {"store": f"0{value}"}).json()["results"]
    assert [row["name"] for row in rows] == [selected]


@pytest.mark.parametrize("name", ["store", "purpose", "owner"])
def test_the_filters_work_on_the_database_alone_when_the_cache_fails(grc_client, chosen, monkeypatch, name):
    from inventory import filter_choices

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    for method in ("get", "set", "delete"):
        monkeypatch.setattr(filter_choices.cache, method, broken)
    value, selected = chosen[name]
    assert [row["name"] for row in grc_client.get(API, {name: value}).json()["results"]] == [selected]
    assert grc_client.get(API, {name: "no-such-value"}).status_code == 400
