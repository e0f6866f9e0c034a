"""Applying a large import writes in bulk: a bounded number of queries for thousands of rows, with the same
history (actor, reason, exposures) as keys saved one at a time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from inventory import importing
from inventory.models import Binding, Key
from tests.inventory.fixtures import csv_text, make_references

ROWS = 2000
ARN = "arn:aws:kms:eu-west-1:111122223333:key/"
COLUMNS = [
    "store",
    "external_id",
    "name",
    "purpose",
    "owner",
    "tenant",
    "activated_on",
    "labels",
    "exposed_to",
    "services",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _max_queries() -> int:
    """Measured for 2,000 rows: about 35 queries on PostgreSQL (two batches of 1,000); about 220 on SQLite, where
    Django splits each INSERT to fit 999 parameters (a key has 30 columns: 33 keys an INSERT)."""
    return 60 if connection.features.max_query_params is None else 250


def _file(version: int) -> bytes:
    """ROWS keys; version 2 renames each key, changes its owner and labels, ends its exposure to Partner Labs and
    moves its binding from inference-gateway@acme to training-pipeline."""
    return csv_text(
        COLUMNS,
        [
            [
                "prod-kms-eu",
                f"{ARN}{n:06d}",
                f"Key {n} v{version}",
                "data-encryption",
                "bob" if version == 1 else "carol",
                "acme",
                "2025-06-01",
                f"env=prod;version={version}",
                "Partner Labs" if version == 1 else "",
                "inference-gateway@acme" if version == 1 else "training-pipeline",
            ]
            for n in range(ROWS)
        ],
    )


def _preview(data: bytes, name: str, actor):
    record, plan = importing.key_import_preview(data=data, file_name=name, format="csv", actor=actor)
    assert not plan.has_errors
    return record


def test_importing_then_changing_thousands_of_keys_runs_a_bounded_number_of_queries_and_keeps_history(
    db, django_assert_max_num_queries
):
    refs = make_references()
    alice = refs["users"]["alice"]
    exposure_history = Key.history.model.exposed_to.model.objects

    record = _preview(_file(1), "v1.csv", alice)
    with django_assert_max_num_queries(_max_queries()):
        record = importing.key_import_apply(key_import=record, actor=alice)

    assert record.counts["new"] == ROWS and Key.objects.count() == ROWS
    created = Key.history.filter(history_type="+", history_user=alice, history_change_reason="CSV import v1.csv")
    assert created.values("id").distinct().count() == ROWS and Key.history.count() == ROWS
    assert exposure_history.filter(history__in=created, party__name="Partner Labs").count() == ROWS
    assert Binding.history.filter(history_type="+", history_user=alice, history_change_reason="CSV import v1.csv")
    assert Binding.objects.filter(service__slug="inference-gateway", tenant__slug="acme").count() == ROWS
    assert Binding.history.count() == ROWS
    key = Key.objects.get(external_id=f"{ARN}001999")
    assert key.cryptoperiod_ends_on == dt.date(2025, 6, 1) + dt.timedelta(days=key.purpose.max_cryptoperiod_days)
    assert key.created_at and key.updated_at and key.history.get().exposed_to.count() == 1

    record = _preview(_file(2), "v2.csv", alice)
    with django_assert_max_num_queries(_max_queries()):
        record = importing.key_import_apply(key_import=record, actor=alice)

    assert record.counts["changed"] == ROWS
    changed = Key.history.filter(history_type="~", history_user=alice, history_change_reason="CSV import v2.csv")
    assert changed.values("id").distinct().count() == ROWS and Key.history.count() == 2 * ROWS
    assert not exposure_history.filter(history__in=changed).exists() and not Key.exposed_to.through.objects.exists()
    v2 = {"history_user": alice, "history_change_reason": "CSV import v2.csv"}
    assert Binding.history.filter(history_type="-", service__slug="inference-gateway", **v2).count() == ROWS
    assert Binding.history.filter(history_type="+", service__slug="training-pipeline", **v2).count() == ROWS
    assert Binding.objects.filter(service__slug="training-pipeline", tenant=None).count() == Binding.objects.count()
    assert Binding.objects.count() == ROWS
    key.refresh_from_db()
    assert (key.name, key.owner.username, key.labels) == ("Key 1999 v2", "carol", {"env": "prod", "version": "2"})
    assert key.updated_at > key.created_at
    assert key.history.first().name == "Key 1999 v2" and key.history.last().name == "Key 1999 v1"


def test_new_keys_of_a_platform_export_get_one_history_entry_each_equal_to_the_key(db):
    """New keys without exposures are written by COPY on PostgreSQL, their "+" entries copied inside the database
    from the rows just written: each entry is the key as written, attributed to the actor with the reason."""
    from tests.factories import KeyStoreFactory, UserFactory
    from tests.inventory.test_platform_import import ACCOUNT, REGION, aws_key, dump

    grc = UserFactory(username="grace", roles=["grc"])
    UserFactory(username="olga")
    KeyStoreFactory(name="aws-prod-eu", kind="aws-kms", account=ACCOUNT, region=REGION)
    items = [aws_key(n, tags={"purpose": "data-encryption", "owner": "olga", "env": f"e{n}"}) for n in range(1, 31)]
    record = _preview_aws(dump(items), grc)
    importing.key_import_apply(key_import=record, actor=grc)

    tracked = [field.attname for field in Key.history.model.tracked_fields]
    entries = Key.history.filter(history_type="+", history_user=grc, history_change_reason="AWS KMS import kms.json")
    assert entries.count() == Key.objects.count() == 30 == Key.history.count()
    for key in Key.objects.all():
        entry = entries.get(id=key.pk)
        assert {name: getattr(entry, name) for name in tracked} == {name: getattr(key, name) for name in tracked}
    assert list(entries.order_by("history_id").values_list("id", flat=True)) == sorted(
        Key.objects.values_list("pk", flat=True)
    )


def _preview_aws(data: bytes, actor):
    record, plan = importing.key_import_preview(data=data, file_name="kms.json", format="aws-kms", actor=actor)
    assert not plan.has_errors
    return record
