"""The key list page and API list as built for a large inventory (issue 17): the same rows, JSON and drop-downs
as before, read with fewer and cheaper queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.filters import KeyFilter
from inventory.models import Key, KeyState
from tests.conftest import login
from tests.factories import KeyFactory, KeyStoreFactory, PartyFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _details(client, rows: list[dict]) -> list[dict]:
    """What ``KeySerializer`` gives each row's key (the API's detail is built by the list's row builder too, so it
    is no independent witness)."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.test import RequestFactory
    from rest_framework.request import Request

    from inventory.serializers import KeySerializer

    request = Request(RequestFactory().get("/api/v1/keys/"))
    keys = Key.objects.in_bulk([row["id"] for row in rows])
    return [
        json.loads(json.dumps(KeySerializer(keys[row["id"]], context={"request": request}).data, cls=DjangoJSONEncoder))
        for row in rows
    ]


@pytest.mark.parametrize(
    "query",
    ["", "?ordering=-owner", "?state=active&page_size=3&page=2", "?unassigned=true", "?q=signing", "?page_size=500"],
)
def test_each_api_list_row_is_the_keys_own_representation(grc_user, varied_inventory, query):
    """The list's rows are built without a serializer per row: each must equal what KeySerializer gives the key's
    detail (field order included), whatever the filter, ordering and page."""
    client = login(grc_user)
    response = client.get(f"/api/v1/keys/{query}")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows, "the filter should match keys"
    for row, detail in zip(rows, _details(client, rows), strict=True):
        assert list(row) == list(detail)
        assert row == detail


def test_the_api_list_row_carries_every_kind_of_value(grc_user, varied_inventory):
    full = next(key for key in varied_inventory if key.exposed_to.count() == 2)
    row = next(r for r in login(grc_user).get("/api/v1/keys/?page_size=500").json()["results"] if r["id"] == full.pk)
    assert row["owner"] == full.owner.username and row["backup_owner"] == full.backup_owner.username
    assert row["purpose_approver"] == full.purpose_approver.username and row["tenant"] == full.tenant.slug
    assert row["purpose"] == full.purpose.slug and row["store_name"] == full.store.name
    assert row["exposed_to"] == [party.pk for party in full.exposed_to.order_by("-is_us", "name")]
    assert row["labels"]["ratio"] == 1.5 and row["platform_details"]["MultiRegion"] is True
    assert row["url"].endswith(f"/api/v1/keys/{full.pk}/") and row["last_rotated_on"] == "2025-06-30"


def test_the_api_list_with_a_format_suffix_links_rows_with_it(grc_user, varied_inventory):
    client = login(grc_user)
    response = client.get("/api/v1/keys.json")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert all(row["url"].endswith(f"/api/v1/keys/{row['id']}.json") for row in rows)


def test_the_api_list_reads_users_without_joining_them_and_counts_without_joins(grc_user, varied_inventory):
    client = login(grc_user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/keys/").status_code == 200
    key_queries = [q["sql"] for q in queries.captured_queries if 'FROM "inventory_key"' in q["sql"]]
    count, rows = key_queries
    assert "COUNT(" in count and "JOIN" not in count
    assert 'JOIN "auth_user"' not in rows  # three joins of the user table cost the planner 20-35 ms at 100k keys


def test_an_owner_sees_only_their_keys_in_the_api_list(owner, varied_inventory):
    rows = login(owner).get("/api/v1/keys/").json()["results"]
    expected = Key.objects.filter(owner=owner) | Key.objects.filter(backup_owner=owner)
    assert sorted(row["id"] for row in rows) == sorted(expected.values_list("pk", flat=True))


def test_an_invalid_api_filter_or_page_is_still_refused(grc_user, varied_inventory):
    client = login(grc_user)
    assert client.get("/api/v1/keys/?state=bogus").status_code == 400
    assert client.get("/api/v1/keys/?page=99").status_code == 404


# --- The page ----------------------------------------------------------------------------------------------


def test_the_key_list_rows_show_what_the_template_showed(grc_client, owner):
    today = dt.date.today()
    owner.first_name, owner.last_name = "Olga", "Owner"
    owner.save()
    tenant = TenantFactory(name="Acme <EU>")
    overdue = KeyFactory(
        name="a-overdue <b>",
        owner=owner,
        tenant=tenant,
        external_id="x" * 80,
        state=KeyState.ACTIVE,
        last_rotated_on=today - dt.timedelta(days=800),
    )
    Key.objects.filter(pk=overdue.pk).update(cryptoperiod_ends_on=today - dt.timedelta(days=1))
    KeyFactory(name="b-unassigned", purpose=None, purpose_justification="", purpose_reviewed_on=None)
    gone = KeyFactory(name="c-gone")
    Key.objects.filter(pk=gone.pk).update(not_seen_since=dt.date(2026, 1, 2))

    html = grc_client.get(reverse("inventory:key-list")).content.decode()

    detail = reverse("inventory:key-detail", args=[overdue.pk])
    assert f'<a href="{detail}">a-overdue &lt;b&gt;</a>' in html
    assert f'<div class="small muted mono">{"x" * 59}…</div>' in html  # as truncatechars:60
    assert "<td>Olga Owner</td>" in html and "<td>Acme &lt;EU&gt;</td>" in html
    assert '<span class="overdue">' in html and '<span class="badge badge-bad">overdue</span>' in html
    rotated = today - dt.timedelta(days=800)
    assert f'<td><time datetime="{rotated.isoformat()}">{rotated:%-d %b %Y}</time></td>' in html  # in words
    assert '<span class="badge badge-bad">Purpose unassigned</span>' in html
    assert '<span class="badge badge-bad">no owner</span>' in html
    assert 'not seen since <time datetime="2026-01-02">2 Jan 2026</time>' in html
    assert '<span class="badge state-active">Active</span>' in html
    assert "<td>—</td>" in html  # no tenant, never rotated


@pytest.mark.parametrize("store_name", ["Store <&\"'>", "plain-store"])
def test_a_label_repeated_on_every_row_is_escaped_on_every_row(grc_client, store_name):
    store = KeyStoreFactory(name=store_name)
    tenant = TenantFactory(name=f"{store_name} tenant")
    KeyFactory.create_batch(3, store=store, tenant=tenant)
    for _ in range(2):  # the second page from the labels escaped before
        html = grc_client.get(reverse("inventory:key-list")).content.decode()
        escaped = store_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        escaped = escaped.replace('"', "&quot;").replace("'", "&#x27;")
        assert html.count(f"<td>{escaped}</td>") == 3
        assert html.count(f"<td>{escaped} tenant</td>") == 3
        assert html.count("<tr>\n  <td><a href=") == 3  # the rows, joined in order, once each


def test_my_keys_lists_the_keys_the_user_owns_or_backs_up(owner, other_owner):
    KeyFactory(name="mine", owner=owner)
    KeyFactory(name="backed-up", backup_owner=owner, owner=other_owner)
    KeyFactory(name="not-mine", owner=other_owner)
    html = login(owner).get(reverse("inventory:my-keys")).content.decode()
    assert ">mine</a>" in html and ">backed-up</a>" in html and "not-mine" not in html
    assert "<strong>2</strong> keys" in html


def test_the_page_counts_without_joins_and_reads_its_rows_in_one_query(grc_client, owner):
    KeyFactory.create_batch(3, owner=owner)
    url = reverse("inventory:key-list")
    KeyStoreFactory(name="Any store")  # a write: the first request below computes its stored figures
    with CaptureQueriesContext(connection) as first:
        assert grc_client.get(url).status_code == 200
    on_keys = [q["sql"] for q in first.captured_queries if 'FROM "inventory_key"' in q["sql"]]
    (count,) = [q for q in on_keys if "COUNT(" in q]
    (states,) = [q for q in on_keys if "EXISTS" in q]  # the state filter offers the states keys are in
    assert "COUNT(" not in states and "DISTINCT" not in states
    assert "JOIN" not in count

    with CaptureQueriesContext(connection) as queries:
        response = grc_client.get(url)
    assert "<strong>3</strong> keys" in response.content.decode()
    sql = [q["sql"] for q in queries.captured_queries]
    on_keys = [q for q in sql if 'FROM "inventory_key"' in q]
    (rows,) = on_keys  # the count and the states are stored figures (cek/snapshot.py) until the next write
    assert 'JOIN "auth_user"' in rows and "backup_owner" not in rows.split(" FROM ")[0]
    # With the lists cached, none of the drop-downs' five queries runs.
    for table in ("inventory_keystore", "inventory_purpose", "inventory_tenant", "inventory_service"):
        assert not [q for q in sql if q.startswith("SELECT") and f'FROM "{table}"' in q], table
    assert len(sql) <= 3  # user, roles, rows (the session comes from the cache)


def test_the_stored_count_and_states_follow_every_write(grc_client, owner):
    url = reverse("inventory:key-list")
    KeyFactory.create_batch(2, owner=owner)
    html = grc_client.get(url).content.decode()
    assert "<strong>2</strong> keys" in html and '<option value="destroyed"' not in html
    KeyFactory(owner=owner, state="destroyed")
    html = grc_client.get(url).content.decode()
    assert "<strong>3</strong> keys" in html and '<option value="destroyed"' in html
    Key.objects.filter(state="destroyed").delete()
    html = grc_client.get(url).content.decode()
    assert "<strong>2</strong> keys" in html and '<option value="destroyed"' not in html
    # Each user's own count: a key owner counts only their keys from the same stored figures.
    assert "<strong>2</strong> keys" in login(owner).get(url).content.decode()
    KeyFactory()  # someone else's
    assert "<strong>2</strong> keys" in login(owner).get(url).content.decode()
    assert "<strong>3</strong> keys" in grc_client.get(url).content.decode()


def test_a_later_page_reads_its_rows_by_id_in_the_orderings_index(grc_client, monkeypatch):
    from inventory.views.keys import KeyListView

    monkeypatch.setattr(KeyListView, "paginate_by", 5)
    KeyFactory.create_batch(12)
    keys = list(Key.objects.order_by("-updated_at", "id").values_list("name", flat=True))
    url = reverse("inventory:key-list")
    with CaptureQueriesContext(connection) as queries:
        html = grc_client.get(url, {"ordering": "-updated_at", "page": 2}).content.decode()
    (rows,) = [q["sql"] for q in queries.captured_queries if 'JOIN "auth_user"' in q["sql"]]
    assert '"inventory_key"."id" IN (SELECT' in rows and "OFFSET 5" in rows  # the deferred join
    shown = [name for name in keys if f">{name}</a>" in html]
    assert shown == keys[5:10]
    assert [html.index(f">{name}</a>") for name in shown] == sorted(html.index(f">{name}</a>") for name in shown)
    api = grc_client.get("/api/v1/keys/", {"ordering": "-updated_at", "page": 3, "page_size": 5}).json()
    assert [row["name"] for row in api["results"]] == keys[10:]


def test_the_drop_downs_follow_changes_to_stores_tenants_and_users(grc_client):
    url = reverse("inventory:key-list")
    assert "Ledger store" not in grc_client.get(url).content.decode()
    store = KeyStoreFactory(name="Ledger store")
    TenantFactory(name="Tenant Zeta", slug="zeta")
    UserFactory(username="zoe", first_name="Zoë", last_name="Zimmer")
    html = grc_client.get(url).content.decode()
    assert f'<option value="{store.pk}">Ledger store</option>' in html
    assert '<option value="zeta">Tenant Zeta</option>' in html and '<option value="zoe">Zoë Zimmer</option>' in html
    store.name = "Ledger store (renamed)"
    store.save()
    assert "Ledger store (renamed)" in grc_client.get(url).content.decode()
    store.delete()
    assert "Ledger store" not in grc_client.get(url).content.decode()


def test_the_page_works_on_the_database_alone_when_the_cache_fails(grc_client, monkeypatch):
    """The drop-downs' lists, the session (cek.sessions), the count and the state choices (cek.snapshot) are read
    from the database while the cache is down."""
    from inventory import filter_choices

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    for method in ("get", "get_many", "set", "add", "delete", "has_key"):
        monkeypatch.setattr(filter_choices.cache, method, broken)
    KeyStoreFactory(name="Still listed")  # its signal cannot drop the cached lists either
    KeyFactory(name="Still counted", state="destroyed")
    response = grc_client.get(reverse("inventory:key-list"))
    html = response.content.decode()
    assert response.status_code == 200 and "Still listed" in html
    assert "<strong>1</strong> key" in html and '<option value="destroyed"' in html
    assert grc_client.post(reverse("logout")).status_code == 302


# --- The filter set -----------------------------------------------------------------------------------------


def test_filter_sets_share_no_state_between_requests(owner, other_owner):
    KeyFactory(name="alpha", owner=owner)
    KeyFactory(name="beta", owner=other_owner, description="alpha mentioned")
    first = KeyFilter(QueryDict("q=alpha"), queryset=Key.objects.all())
    second = KeyFilter(QueryDict(f"owner={other_owner.username}"), queryset=Key.objects.all())
    assert sorted(first.qs.values_list("name", flat=True)) == ["alpha", "beta"]
    assert list(second.qs.values_list("name", flat=True)) == ["beta"]
    assert first.filters["q"] is not second.filters["q"]
    assert first.filters["q"].parent is first and second.filters["q"].parent is second
    assert KeyFilter.base_filters["q"].filter is not first.filters["q"].filter
    assert not KeyFilter(QueryDict("state=bogus"), queryset=Key.objects.all()).is_valid()
    assert KeyFilter(QueryDict("state=active&state=suspended"), queryset=Key.objects.all()).is_valid()


def test_exposed_parties_keep_the_party_order(grc_user):
    key = KeyFactory()
    key.exposed_to.set([PartyFactory(name="Zulu"), PartyFactory(name="Alpha"), PartyFactory(name="Us", is_us=True)])
    row = login(grc_user).get("/api/v1/keys/").json()["results"][0]
    assert row == login(grc_user).get(f"/api/v1/keys/{key.pk}/").json()


def test_the_drop_downs_mark_what_the_query_chose_each_time(grc_client):
    """The option lists are written once per list of choices (listing._options_html); each request marks its own
    choices, escaped as the options are, and "Any" when it chose none."""
    store = KeyStoreFactory(name="Store <one>")
    other = KeyStoreFactory(name="Store two")
    url = reverse("inventory:key-list")
    html = grc_client.get(url, {"store": store.pk}).content.decode()
    assert f'<option value="{store.pk}" selected>Store &lt;one&gt;</option>' in html
    assert f'<option value="{other.pk}">Store two</option>' in html
    assert '<select name="store"><option value="">Any</option>' in html
    html = grc_client.get(url).content.decode()
    assert f'<option value="{store.pk}">Store &lt;one&gt;</option>' in html and " selected>Store" not in html
    assert '<select name="store"><option value="" selected>Any</option>' in html
    html = grc_client.get(url, {"store": other.pk}).content.decode()
    assert f'<option value="{other.pk}" selected>Store two</option>' in html
    assert f'<option value="{store.pk}">Store &lt;one&gt;</option>' in html
