"""The key list's text search (``?q=``) at volume (issue 17): on PostgreSQL its pages are read from its stored matches
(the first ``CEK_KEY_SEARCH_STORED_ROWS`` ids in the list's order, stored with its count), later pages by sorting
the matches (``inventory.selectors.PagedRows``). Whichever way a page is read, the page and the API list show the
same keys in the same order, and the same count, as the plain filter."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.filters import KEY_ORDERING
from inventory.models import Key, KeyState
from tests.conftest import login
from tests.factories import KeyFactory, KeyStoreFactory, UserFactory

pytestmark = pytest.mark.django_db
# The pages' results are checked on every database; how PostgreSQL reads them only there (SQLite pages a search as
# any filter: nothing stored).
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored matches are PostgreSQL's")

PAGE = 5
ROW_NAME = re.compile(r'<td><a href="/inventory/keys/\d+/">([^<]+)</a>')


@pytest.fixture
def page_size(monkeypatch):
    from inventory.views.keys import KeyListView

    monkeypatch.setattr(KeyListView, "paginate_by", PAGE)
    return PAGE


@pytest.fixture
def searched(owner, other_owner):
    """17 keys that "infer" matches (by name, external id or description: one of each at least, case mixed), in
    two runs of the name order with others between, some sharing a name; and keys it does not match."""
    store = KeyStoreFactory(name="Search store")
    states = [KeyState.ACTIVE, KeyState.SUSPENDED, KeyState.DEACTIVATED]
    for n in range(6):
        KeyFactory(name=f"app-{n}", owner=owner, store=store)
        KeyFactory(name=f"INFERENCE-{n}", owner=owner if n % 2 else other_owner, state=states[n % 3], store=store)
        KeyFactory(name=f"zeta-{n}", owner=other_owner, store=store)
    for n in range(8):
        KeyFactory(name="same", owner=owner, store=store, external_id=f"inference/model-{n}")
    KeyFactory(name="mid-described", owner=owner, description="Signs the Inference gateway's output.", store=store)
    KeyFactory(name="yak", backup_owner=owner, owner=other_owner, external_id="vault:inferred/1", store=store)
    KeyFactory(name="zulu", owner=None, description="infer", store=store)
    KeyFactory(name="never", owner=owner, store=store)


def expected(ordering: str = "", *, user_q: Q | None = None) -> list[int]:
    """The search's keys in the list's order, from the plain filter: what every way of paging must show."""
    fields = ("name", "id")
    if ordering:
        _, fields = KEY_ORDERING[ordering.lstrip("-")]
        if ordering.startswith("-"):
            fields = tuple(f"-{field}" for field in fields)
    text = Q(name__icontains="infer") | Q(external_id__icontains="infer") | Q(description__icontains="infer")
    return list(Key.objects.filter(user_q or Q(), text).order_by(*fields).values_list("pk", flat=True))


def page_ids(client, query: dict) -> tuple[list[int], int]:
    """The keys a page of the key list shows, and its count."""
    response = client.get(reverse("inventory:key-list"), query)
    assert response.status_code == 200
    html = response.content.decode()
    names = ROW_NAME.findall(html)
    ids = [int(pk) for pk in re.findall(r'<td><a href="/inventory/keys/(\d+)/">', html)]
    assert len(names) == len(ids)
    count = int(re.search(r"<strong>(\d+)</strong> keys? match", html).group(1))
    return ids, count


@pytest.mark.parametrize("stored_rows", [0, 7, 5000], ids=["sorted", "some-stored", "all-stored"])
@pytest.mark.parametrize("ordering", ["", "-name", "state", "-owner", "purpose", "-updated_at", "cryptoperiod_ends_on"])
def test_every_page_of_a_search_shows_the_filters_keys_in_order(
    grc_client, searched, page_size, settings, stored_rows, ordering
):
    settings.CEK_KEY_SEARCH_STORED_ROWS = stored_rows
    want = expected(ordering)
    assert len(want) == 17
    pages = (len(want) + PAGE - 1) // PAGE
    shown, api_shown = [], []
    for number in range(1, pages + 1):
        query = {"q": "infer", "page": number, **({"ordering": ordering} if ordering else {})}
        ids, count = page_ids(grc_client, query)
        assert count == len(want)
        shown += ids
        api = grc_client.get("/api/v1/keys/", {**query, "page_size": PAGE}).json()
        assert api["count"] == len(want)
        api_shown += [row["id"] for row in api["results"]]
    assert shown == want
    assert api_shown == want


@pytest.mark.parametrize("stored_rows", [0, 3, 5000])
def test_a_key_owners_search_shows_only_their_keys(owner, searched, page_size, settings, stored_rows):
    settings.CEK_KEY_SEARCH_STORED_ROWS = stored_rows
    want = expected(user_q=Q(owner=owner) | Q(backup_owner=owner))
    client = login(owner)
    shown = []
    for number in (1, 2, 3):
        ids, count = page_ids(client, {"q": "infer", "page": number})
        assert count == len(want) == 13
        shown += ids
    assert shown == want
    assert [row["id"] for row in client.get("/api/v1/keys/", {"q": "infer", "page_size": 50}).json()["results"]] == want


@postgresql_only
def test_a_stored_page_reads_its_keys_by_id_and_runs_no_more_queries(grc_client, searched, page_size):
    """The first request after a write counts the matches and keeps their first ids (one query, in place of the
    count); every later page among them reads its keys by id: no search, no sort, no index walk."""
    url = reverse("inventory:key-list")
    KeyStoreFactory(name="A write")  # the next request computes its stored figures
    with CaptureQueriesContext(connection) as first:
        assert grc_client.get(url, {"q": "infer"}).status_code == 200
    on_keys = [q["sql"] for q in first.captured_queries if 'FROM "inventory_key"' in q["sql"]]
    (matches,) = [q for q in on_keys if "OVER ()" in q]
    assert "COALESCE(" in matches and "LIKE" in matches  # sorted as an expression: not an index walk
    assert not [q for q in on_keys if "COUNT(*)" in q and "OVER" not in q]  # the count comes with the ids
    with CaptureQueriesContext(connection) as later:
        html = grc_client.get(url, {"q": "infer", "page": 3}).content.decode()
    sql = [q["sql"] for q in later.captured_queries]
    (rows,) = [q for q in sql if 'FROM "inventory_key"' in q]
    assert "LIKE" not in rows and "OFFSET" not in rows and "COALESCE" not in rows
    assert len(sql) <= 3  # user, roles, rows
    assert [int(pk) for pk in re.findall(r'<td><a href="/inventory/keys/(\d+)/">', html)] == expected()[10:15]


@postgresql_only
def test_a_page_past_the_stored_matches_sorts_them(grc_client, searched, page_size, settings):
    settings.CEK_KEY_SEARCH_STORED_ROWS = 5
    # The plan depends on the table's size as PostgreSQL's statistics know it, and ANALYZE writes those in place,
    # not in the test's rolled-back transaction: another test's ANALYZE of a smaller table made 17 matches look
    # like most of it (a walk). Statistics of this test's own table.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_key")
    with CaptureQueriesContext(connection) as queries:
        ids, count = page_ids(grc_client, {"q": "infer", "page": 3})
    (rows,) = [q["sql"] for q in queries.captured_queries if 'JOIN "auth_user"' in q["sql"]]
    assert "COALESCE(" in rows and "LIKE" in rows and "OFFSET 10" in rows
    assert ids == expected()[10:15] and count == 17


def test_the_stored_matches_follow_every_write(grc_client, searched, page_size):
    assert page_ids(grc_client, {"q": "infer"})[1] == 17
    new = KeyFactory(name="AAA-first", description="Inference logs.")
    ids, count = page_ids(grc_client, {"q": "infer"})
    assert count == 18 and ids[0] == new.pk
    new.description = "nothing to find"
    new.save()
    ids, count = page_ids(grc_client, {"q": "infer"})
    assert count == 17 and new.pk not in ids


def test_a_search_without_matches_or_visible_keys_is_an_empty_page(searched):
    outsider_owner = UserFactory(username="nokeys", roles=["key-owners"])
    html = login(outsider_owner).get(reverse("inventory:key-list"), {"q": "infer"}).content.decode()
    assert "No key matches these filters" in html
    client = login(UserFactory(username="grace2", roles=["grc"]))
    html = client.get(reverse("inventory:key-list"), {"q": "no-such-text"}).content.decode()
    assert "No key matches these filters" in html
    assert client.get("/api/v1/keys/", {"q": "no-such-text"}).json()["count"] == 0


@postgresql_only
@pytest.mark.parametrize("matching, walked", [(12, True), (6, False)], ids=["most-keys", "half-the-keys"])
def test_a_page_past_the_stored_matches_walks_the_index_only_when_most_keys_match(
    grc_client, page_size, settings, matching, walked
):
    """Past the stored matches, a term matching three quarters of the keys or more pages along the ordering's index
    (it passes few keys that do not match); any other sorts its matches (where they lie is unknown)."""
    settings.CEK_KEY_SEARCH_STORED_ROWS = 5
    for n in range(matching):
        KeyFactory(name=f"model-{n:02d}", description="inference")
    for n in range(12 - matching):
        KeyFactory(name=f"other-{n:02d}")
    with connection.cursor() as cursor:  # the table's size as PostgreSQL's statistics know it (reltuples)
        cursor.execute("ANALYZE inventory_key")
    with CaptureQueriesContext(connection) as queries:
        ids, count = page_ids(grc_client, {"q": "infer", "page": 2})
    (rows,) = [q["sql"] for q in queries.captured_queries if 'JOIN "auth_user"' in q["sql"]]
    assert "LIKE" in rows and "OFFSET 5" in rows
    assert ("COALESCE(" not in rows) is walked
    assert ids == expected()[5:10] and count == matching
