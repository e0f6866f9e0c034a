"""The change history names what a change pointed to even once it is deleted: its last known name from its own
history table, else a sentence ("a deleted owner"), never an id; in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cek.history import history_entries, save_attributed
from tests.factories import KeyFactory, KeyStoreFactory, PurposeFactory, TenantFactory, UserFactory


def _change(key, field: str):
    return next(c for c in history_entries(key)[0].changes if c.field == field)


def _moved_off(key, field: str, old, new, *, rename: str = ""):
    """Point ``key``'s ``field`` from ``old`` to ``new``, optionally rename ``old`` (its history keeps the newest
    name), then delete ``old``."""
    setattr(key, field, new)
    save_attributed(key, actor=None, reason="Moved")
    if rename:
        old.name = rename
        old.save()
    old.delete()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "make", "rename", "expected"),
    [
        ("store", KeyStoreFactory, "", "old one (deleted)"),
        ("store", KeyStoreFactory, "renamed before deletion", "renamed before deletion (deleted)"),
        ("tenant", TenantFactory, "", "old one (deleted)"),
        ("purpose", PurposeFactory, "", "old one (deleted)"),
    ],
)
def test_a_deleted_record_is_named_by_its_last_known_name(field, make, rename, expected):
    old, new = make(name="old one"), make(name="new one")
    key = KeyFactory(**{field: old})
    _moved_off(key, field, old, new, rename=rename)
    change = _change(key, key._meta.get_field(field).verbose_name)
    assert (change.old, change.new) == (expected, "new one")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "sentence"), [("owner", "a deleted owner"), ("backup_owner", "a deleted backup owner")]
)
def test_a_deleted_person_is_a_sentence_not_an_id(field, sentence):
    gone, kept = UserFactory(first_name="Gone", last_name="Person"), UserFactory(first_name="Kept", last_name="Person")
    key = KeyFactory(**{field: gone})
    gone_pk = gone.pk
    _moved_off(key, field, gone, kept)
    change = _change(key, key._meta.get_field(field).verbose_name)
    assert (change.old, change.new) == (sentence, "Kept Person")
    assert str(gone_pk) not in change.old


@pytest.mark.django_db
def test_naming_deleted_records_takes_the_same_queries_for_one_or_many():
    def deleted_stores(count: int) -> int:
        key = KeyFactory()
        for n in range(count):
            old, new = key.store, KeyStoreFactory(name=f"s{count}-{n}")
            _moved_off(key, "store", old, new)
        with CaptureQueriesContext(connection) as queries:
            entries = history_entries(key)
        assert sum("(deleted)" in c.old for e in entries for c in e.changes) == count
        return len(queries)

    assert deleted_stores(1) == deleted_stores(6)
