"""A re-import finds the rows equal to their stored keys unchanged in one comparison (``RowDiffer.same``), with
the tag readings and purpose checks worked out once per import. Its plan must be the one the field-by-field path
gives, also after changes made outside imports: an owner's account removed, a user created that a tag names, a
key edited on its page."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from inventory import importing, services
from inventory.importing import planner
from inventory.models import Key, KeyImport
from tests.factories import KeyStoreFactory, ServiceFactory, UserFactory
from tests.inventory.test_platform_import import ACCOUNT, REGION, aws_key, dump, imported, key

CSV_COLUMNS = "store,external_id,name,purpose,owner,description\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def grc(db):
    return UserFactory(username="grace", roles=["grc"])


@pytest.fixture
def store(db):
    return KeyStoreFactory(name="aws-prod-eu", kind="aws-kms", account=ACCOUNT, region=REGION)


def snapshot(plan: importing.ImportPlan) -> dict[str, Any]:
    """Everything a preview, the API and the record show of a plan."""
    return {
        "counts": plan.counts,
        "unknowns": plan.unknowns,
        "warnings": [warning.as_dict() for warning in plan.warnings],
        "errors": [error.as_dict() for error in plan.errors],
        "file_error": plan.file_error,
        "refusal": plan.refusal,
        "rows": [
            (
                row.row,
                row.external_id,
                str(row.action),
                [(change.column, change.old, change.new) for change in row.changes],
                {name: getattr(value, "pk", value) for name, value in row.values.items()},
                row.key.pk if row.key is not None else None,
                [(s.slug, p.slug) for s, _, p, _, _ in row.added_bindings],
            )
            for row in plan.rows
        ],
    }


def both_plans(data: bytes, format: str, monkeypatch) -> tuple[dict, dict]:
    """The plan of ``data`` by the fast path, and by the field-by-field path."""
    fast = importing.key_import_plan(data=data, file_name="again", format=format, full=False)
    with monkeypatch.context() as patch:
        patch.setattr(planner, "FAST_UNCHANGED", False)
        slow = importing.key_import_plan(data=data, file_name="again", format=format, full=False)
    return snapshot(fast), snapshot(slow)


def test_a_re_import_after_changes_made_outside_imports_plans_as_the_field_by_field_path(grc, store, monkeypatch):
    olga = UserFactory(username="olga")
    ServiceFactory(slug="inference-gateway")
    items = [
        aws_key(1, tags={"purpose": "data-encryption", "owner": "olga", "service": "inference-gateway"}),
        aws_key(2, tags={"purpose": "data-encryption", "owner": "olga"}),
        aws_key(3, tags={"purpose": "data-encryption", "owner": "newbie"}),  # not a user yet
        aws_key(4, tags={"purpose": "data-encryption", "owner": "newbie", "service": "inference-gateway"}),
        aws_key(5, tags={"owner": "olga"}),  # no purpose tag: unassigned
        aws_key(6, tags={"purpose": "model-artifact-signing"}),  # contradicts its usage: a conflict
        aws_key(7, tags={"purpose": "data-encryption"}),
    ]
    data = dump(items)
    imported(data, grc)
    assert snapshot(importing.key_import_plan(data=data, file_name="again", format="aws-kms"))["counts"][
        "unchanged"
    ] == len(items)

    olga.delete()  # the owner leaves: her keys have no owner now
    UserFactory(username="newbie")  # the user a tag named arrives
    edited = key(7)
    edited.description = "Edited on the key page"
    services.key_save(key=edited, actor=grc)

    fast, slow = both_plans(data, "aws-kms", monkeypatch)
    assert fast == slow
    assert fast["counts"] == {
        "rows": 7,
        "new": 0,
        "changed": 3,  # 3 and 4: newbie is a user now; 7: edited on its page
        "unchanged": 4,  # 1, 2, 5: olga is gone, the tag names nobody and the owner is left alone
        "errors": 0,
        "error_messages": 0,
        "conflicts": 1,
        "unassigned": 1,
        "unknown": 1,
        "not_seen": 0,
    }
    by_row = {row[0]: row for row in fast["rows"]}
    assert by_row[3][2] == by_row[4][2] == "changed"  # newbie is a user now: the tag sets the owner
    assert ("owner", "", "newbie") in by_row[3][3]
    assert by_row[7][2] == "changed" and by_row[7][3] == [("description", "Edited on the key page", "Key 7")]
    assert by_row[1][2] == by_row[2][2] == "unchanged"  # olga's tag names nobody now: the owner is left alone
    assert by_row[6][2] == "unchanged"
    assert fast["unknowns"] == {"owner": ["olga"]}
    warned = {(warning["row"], warning["kind"]) for warning in fast["warnings"]}
    assert {(1, "unknown"), (2, "unknown"), (5, "unknown"), (6, "conflict")} <= warned
    assert fast["counts"]["conflicts"] == 1 and fast["counts"]["unassigned"] == 1

    record = imported(data, grc)
    assert record.status == KeyImport.Status.APPLIED
    assert record.counts["changed"] == 3 and record.counts["unchanged"] == 4
    assert Key.objects.get(pk=key(3).pk).owner.username == "newbie"
    assert key(7).description == "Key 7"


def test_a_csv_re_import_after_a_key_was_edited_plans_as_the_field_by_field_path(grc, store, monkeypatch):
    UserFactory(username="olga")
    rows = "".join(f"aws-prod-eu,ext-{n},Key {n},data-encryption,olga,Key number {n}\n" for n in range(1, 5))
    data = (CSV_COLUMNS + rows).encode()
    imported(data, grc, format="csv", name="keys.csv")
    edited = Key.objects.get(external_id="ext-2")
    edited.name = "Renamed on the key page"
    services.key_save(key=edited, actor=grc)

    fast, slow = both_plans(data, "csv", monkeypatch)
    assert fast == slow
    assert [row[2] for row in fast["rows"]] == ["unchanged", "changed", "unchanged", "unchanged"]
    assert fast["rows"][1][3] == [("name", "Renamed on the key page", "Key 2")]


def test_a_key_deleted_while_the_import_is_written_fails_the_write_instead_of_being_skipped(grc, store):
    from inventory.importing.apply import _RowWriteError, _write_batch

    UserFactory(username="olga")
    data = (CSV_COLUMNS + "aws-prod-eu,ext-1,Key 1,data-encryption,olga,First\n").encode()
    imported(data, grc, format="csv", name="keys.csv")
    changed = (CSV_COLUMNS + "aws-prod-eu,ext-1,Key 1,data-encryption,olga,Second\n").encode()
    plan = importing.key_import_plan(data=changed, file_name="keys.csv", format="csv")
    assert [row.action for row in plan.rows] == [importing.Action.CHANGED]
    Key.objects.filter(external_id="ext-1").delete()  # deleted meanwhile, by someone else

    with pytest.raises(_RowWriteError, match="Row 2: the key was deleted while the import was written"):
        _write_batch(plan.rows, actor=grc, reason="CSV import keys.csv", now=timezone.now())
    assert not Key.history.filter(history_type="~").exists()
