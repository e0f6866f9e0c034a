"""The dashboard's snapshot (cek/snapshot.py): a second request reads the stored figures and page
without counting again, any write to what they count (through the ORM, a queryset update, raw SQL) throws them
away, each key owner has their own, and the page says when its figures were computed."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cek import snapshot
from inventory.models import Key, KeyState
from tests.conftest import login
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db

KPI = re.compile(r'class="stat">(\d+)<span class="stat-of"> / (\d+)</span>')
# What a request costs once the snapshot is there: the session, the user and their roles.
QUERIES_WITH_SNAPSHOT = 3


def keys_kpi(client) -> tuple[int, int]:
    """(keys in use, keys) as the dashboard's key card shows them."""
    response = client.get(reverse("home"))
    assert response.status_code == 200
    match = KPI.search(response.content.decode())
    assert match, "no key figures on the dashboard"
    return int(match.group(1)), int(match.group(2))


def test_a_second_request_reads_the_snapshot(grc_user):
    KeyFactory.create_batch(3)
    client = login(grc_user)
    with CaptureQueriesContext(connection) as first:
        assert keys_kpi(client) == (3, 3)
    with CaptureQueriesContext(connection) as second:
        assert keys_kpi(client) == (3, 3)
    assert len(second) <= QUERIES_WITH_SNAPSHOT < len(first)
    assert not any("inventory_key" in q["sql"] for q in second.captured_queries)


@pytest.mark.parametrize("write", ["orm", "update", "delete", "raw"])
def test_a_write_throws_the_snapshot_away(grc_user, write):
    keys = KeyFactory.create_batch(3)
    client = login(grc_user)
    assert keys_kpi(client) == (3, 3)
    if write == "orm":
        KeyFactory()
        expected = (4, 4)
    elif write == "update":
        Key.objects.filter(pk=keys[0].pk).update(state=KeyState.DEACTIVATED)  # no signal, no history row
        expected = (2, 3)
    elif write == "delete":
        keys[0].bindings.all().delete()
        Key.objects.filter(pk=keys[0].pk).delete()
        expected = (2, 2)
    else:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE inventory_key SET state = %s WHERE id = %s", ["destroyed", keys[1].pk])
        expected = (2, 3)
    assert keys_kpi(client) == expected


def test_the_snapshot_goes_when_the_writing_transaction_commits(django_capture_on_commit_callbacks, grc_user):
    """Another process's write: nothing read in this thread since, so only the commit moves the generation."""
    before = snapshot.generation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            KeyFactory.create_batch(2)
        assert snapshot.generation() == before  # not committed yet: other processes keep the snapshot
    assert callbacks.count(snapshot.invalidate) == 1  # once per transaction, not once per statement
    callbacks[0]()
    assert snapshot.generation() != before


def test_writes_the_dashboard_does_not_count_keep_it(grc_user):
    client = login(grc_user)
    keys_kpi(client)
    before = snapshot.generation()
    grc_user.first_name = "Renamed"
    grc_user.save()  # auth tables are not counted
    assert snapshot.generation() == before
    assert not snapshot.counted_table('INSERT INTO "evidence_packdownload" ("pack_id") VALUES (1)')
    assert not snapshot.counted_table('UPDATE "inventory_historicalkey" SET "name" = 1')
    assert snapshot.counted_table('UPDATE "inventory_key" SET "state" = 1')
    assert snapshot.counted_table("delete from evidence_finding where id = 1")
    assert not snapshot.counted_table('SELECT * FROM "inventory_key"')


def test_each_owner_has_their_own_snapshot(owner, other_owner):
    KeyFactory.create_batch(2, owner=owner)
    KeyFactory(owner=other_owner)
    assert keys_kpi(login(owner)) == (2, 2)
    assert keys_kpi(login(other_owner)) == (1, 1)
    assert keys_kpi(login(owner)) == (2, 2)


def test_the_page_says_when_its_figures_were_computed(grc_user, time_machine):
    time_machine.move_to("2026-12-05 10:42:00+00:00", tick=False)
    KeyFactory()
    response = login(grc_user).get(reverse("home"))
    html = response.content.decode()
    assert 'Figures as of <time datetime="2026-12-05T10:42:00+00:00">5 Dec 2026, 10:42 UTC</time>.' in html


def test_without_snapshot_every_request_counts(grc_user, settings):
    settings.CEK_DASHBOARD_SNAPSHOT_SECONDS = 0
    KeyFactory()
    client = login(grc_user)
    keys_kpi(client)
    with CaptureQueriesContext(connection) as second:
        keys_kpi(client)
    assert any("inventory_key" in q["sql"] for q in second.captured_queries)


def test_with_the_cache_down_the_page_counts_and_a_write_still_commits(grc_user, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    KeyFactory()
    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set", down)
    assert keys_kpi(login(grc_user)) == (1, 1)
    snapshot.invalidate()  # after a commit: logged, never raised


def test_a_stored_count_is_the_count_of_its_own_statement_until_a_write(owner, other_owner):
    mine = KeyFactory.create_batch(2, owner=owner)
    KeyFactory(owner=other_owner)
    assert snapshot.cached_count(Key.objects.filter(owner=owner)) == 2
    assert snapshot.cached_count(Key.objects.filter(owner=other_owner)) == 1  # its own parameters, its own figure
    assert snapshot.cached_count(Key.objects.all()) == 3
    with CaptureQueriesContext(connection) as stored:
        assert snapshot.cached_count(Key.objects.filter(owner=owner)) == 2
    assert len(stored) == 0
    Key.objects.filter(pk=mine[0].pk).update(owner=other_owner)
    assert snapshot.cached_count(Key.objects.filter(owner=owner)) == 1
    assert snapshot.cached_count(Key.objects.filter(owner=other_owner)) == 2
    assert snapshot.cached_count(Key.objects.filter(pk__in=[])) == 0  # no statement at all


def test_a_count_is_taken_from_the_database_with_the_cache_down_or_snapshots_off(owner, monkeypatch, settings):
    from django.core.cache import cache

    KeyFactory(owner=owner)
    settings.CEK_DASHBOARD_SNAPSHOT_SECONDS = 0
    assert snapshot.cached_count(Key.objects.all()) == 1
    KeyFactory(owner=owner)
    with CaptureQueriesContext(connection) as counted:
        assert snapshot.cached_count(Key.objects.all()) == 2
    assert len(counted) == 1
    settings.CEK_DASHBOARD_SNAPSHOT_SECONDS = 300

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set", down)
    assert snapshot.cached_count(Key.objects.all()) == 2


@pytest.mark.parametrize("ordering", [("-updated_at",), ("state", "name"), ()])
def test_every_ordering_of_a_filter_shares_its_stored_count(owner, ordering):
    KeyFactory.create_batch(2, owner=owner)
    assert snapshot.cached_count(Key.objects.filter(owner=owner).order_by("name", "id")) == 2
    with CaptureQueriesContext(connection) as stored:
        assert snapshot.cached_count(Key.objects.filter(owner=owner).order_by(*ordering)) == 2
    assert len(stored) == 0
    # What changes the rows counted is another figure: a distinct, an annotation, another filter.
    assert (
        snapshot.cached_count(Key.objects.filter(owner=owner, state="active"))
        == Key.objects.filter(owner=owner, state="active").count()
    )


def test_another_installation_sharing_the_cache_neither_reads_nor_drops_these_figures(owner, monkeypatch):
    """Two installations on one Redis database (say staging and production): the same statement counts each one's
    own keys, and one's writes leave the other's figures standing."""
    KeyFactory.create_batch(2, owner=owner)
    assert snapshot.cached_count(Key.objects.all()) == 2
    monkeypatch.setitem(connection.settings_dict, "NAME", "another-installation")  # the open connection stays
    with CaptureQueriesContext(connection) as other:
        assert snapshot.cached_count(Key.objects.all()) == 2
    assert len(other) == 1, "another installation read this one's stored count"
    snapshot.invalidate()  # a write of the other installation
    monkeypatch.undo()
    with CaptureQueriesContext(connection) as ours:
        assert snapshot.cached_count(Key.objects.all()) == 2
    assert len(ours) == 0, "another installation's write dropped this one's figures"
