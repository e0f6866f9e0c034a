"""CSV import: the importer, the plan (new / changed / unchanged / error per row), atomic apply, the CLI."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from inventory import importing
from inventory.importers import get_importer
from inventory.importers.base import ImportFileError
from inventory.importing import apply
from inventory.models import Binding, Key, KeyImport, Purpose
from tests.factories import BindingFactory, KeyFactory
from tests.inventory.fixtures import GOOD_CSV, csv_text

HEADER = GOOD_CSV.read_text().splitlines()[0].split(",")
ARN = "arn:aws:kms:eu-west-1:111122223333:key/"


@pytest.fixture(autouse=True)
def _media(tmp_media):
    """Every test of this module uploads into its own folder."""


@pytest.fixture
def alice(refs):
    return refs["users"]["alice"]


def preview(data: bytes, actor, name: str = "keys.csv"):
    return importing.key_import_preview(data=data, file_name=name, format="csv", actor=actor)


def row(**cells: str) -> list[str]:
    """A valid row of the full header, with ``cells`` replaced."""
    base = dict.fromkeys(HEADER, "")
    base.update(store="prod-kms-eu", external_id=f"{ARN}9999", name="Test key", purpose="data-encryption")
    base.update(cells)
    return [base[column] for column in HEADER]


def one_row(**cells: str) -> bytes:
    return csv_text(HEADER, [row(**cells)])


# --- A good file ---------------------------------------------------------------------------------------


def test_a_good_file_creates_keys_and_bindings_with_history_attributed_to_the_importer(refs, alice):
    record, plan = preview(GOOD_CSV.read_bytes(), alice, "keys_good.csv")
    assert plan.errors == [] and plan.file_error == ""
    assert plan.counts == {
        "rows": 3,
        "new": 3,
        "changed": 0,
        "unchanged": 0,
        "errors": 0,
        "error_messages": 0,
        "conflicts": 0,
        "unassigned": 0,
        "unknown": 0,
        "not_seen": 0,
    }
    assert record.status == KeyImport.Status.PREVIEWED and record.file and record.size == len(GOOD_CSV.read_bytes())
    assert Key.objects.count() == 0  # the preview writes nothing to the inventory

    record = importing.key_import_apply(key_import=record, actor=alice)

    assert record.status == KeyImport.Status.APPLIED and record.applied_at is not None
    assert record.counts["new"] == 3
    logs = Key.objects.get(external_id=f"{ARN}0001")
    assert (logs.purpose.slug, logs.owner.username, logs.backup_owner.username) == (
        "inference-log-encryption",
        "bob",
        "carol",
    )
    assert (logs.tenant.slug, logs.custodian.name, logs.purpose_approver.username) == ("acme", "Example Cloud", "alice")
    assert logs.labels == {"env": "prod", "team": "ml-platform"}
    assert logs.activated_on == dt.date(2025, 6, 1) and logs.rotation_period_days == 365
    assert logs.cryptoperiod_ends_on == dt.date(2025, 6, 1) + dt.timedelta(days=logs.purpose.max_cryptoperiod_days)
    assert [(b.service.slug, b.tenant.slug, b.purpose.slug) for b in logs.bindings.all()] == [
        ("inference-gateway", "acme", "inference-log-encryption")
    ]
    signing = Key.objects.get(external_id=f"{ARN}0002")
    assert sorted(b.service.slug for b in signing.bindings.all()) == ["inference-gateway", "training-pipeline"]
    token = Key.objects.get(store__name="vault-prod", external_id="kv/llm/provider-token")
    assert token.labels == {"env": "prod", "rotation": "manual"}
    assert [p.name for p in token.exposed_to.all()] == ["Partner Labs"]
    assert token.kind == "api-token" and token.state == "active" and token.ssrm_layer == "application"

    created = logs.history.get()
    assert created.history_user == alice and created.history_change_reason == "CSV import keys_good.csv"
    binding_history = Binding.history.filter(key_id=logs.pk).get()
    assert binding_history.history_user == alice


def test_importing_the_same_file_again_changes_nothing(refs, alice):
    record, _ = preview(GOOD_CSV.read_bytes(), alice)
    importing.key_import_apply(key_import=record, actor=alice)
    history_before = Key.history.count() + Binding.history.count()

    record, plan = preview(GOOD_CSV.read_bytes(), alice)
    assert plan.counts["unchanged"] == 3 and plan.counts["new"] == plan.counts["changed"] == 0
    assert all(r.changes == [] for r in plan.rows)
    importing.key_import_apply(key_import=record, actor=alice)
    assert Key.history.count() + Binding.history.count() == history_before


def test_a_changed_file_is_previewed_as_field_diffs_and_applied(refs, alice):
    record, _ = preview(GOOD_CSV.read_bytes(), alice)
    importing.key_import_apply(key_import=record, actor=alice)
    text = GOOD_CSV.read_text()
    text = text.replace("Inference logs EU,", "Inference logs (EU),").replace(",bob,carol,acme,", ",carol,,acme,")
    text = text.replace("env=prod;team=ml-platform", "env=prod;team=inference").replace(
        "inference-gateway@acme", "training-pipeline"
    )

    record, plan = preview(text.encode(), alice, "keys_v2.csv")

    assert plan.counts["changed"] == 1 and plan.counts["unchanged"] == 2
    (changed,) = plan.rows_with(importing.Action.CHANGED)
    diffs = {c.column: (c.old, c.new) for c in changed.changes}
    assert diffs == {
        "name": ("Inference logs EU", "Inference logs (EU)"),
        "owner": ("bob", "carol"),
        "backup_owner": ("carol", ""),
        "labels": ("env=prod;team=ml-platform", "env=prod;team=inference"),
        "services": ("inference-gateway@acme", "training-pipeline"),
    }
    importing.key_import_apply(key_import=record, actor=alice)
    key = Key.objects.get(external_id=f"{ARN}0001")
    assert (key.name, key.owner.username, key.backup_owner) == ("Inference logs (EU)", "carol", None)
    assert [(b.service.slug, b.tenant) for b in key.bindings.all()] == [("training-pipeline", None)]
    assert key.history.first().history_change_reason == "CSV import keys_v2.csv"


def test_columns_left_out_of_the_file_keep_their_values(refs, alice):
    key = KeyFactory(
        store=refs["stores"][0], external_id=f"{ARN}0001", owner=refs["users"]["bob"], description="Kept as it is."
    )
    BindingFactory(key=key, service=refs["services"][0])
    data = csv_text(
        ["store", "external_id", "name", "purpose"], [["prod-kms-eu", f"{ARN}0001", "Renamed", "data-encryption"]]
    )

    record, plan = preview(data, alice)
    assert [c.column for c in plan.rows[0].changes] == ["name"]
    importing.key_import_apply(key_import=record, actor=alice)

    key.refresh_from_db()
    assert (key.name, key.owner.username, key.description) == ("Renamed", "bob", "Kept as it is.")
    assert key.bindings.count() == 1


def test_an_empty_services_cell_removes_the_keys_bindings(refs, alice):
    key = KeyFactory(store=refs["stores"][0], external_id=f"{ARN}0001", name="Test key")
    BindingFactory(key=key, service=refs["services"][0])
    data = csv_text(
        ["store", "external_id", "name", "purpose", "services"],
        [["prod-kms-eu", f"{ARN}0001", "Test key", "data-encryption", ""]],
    )

    record, plan = preview(data, alice)
    assert [(c.column, c.new) for c in plan.rows[0].changes] == [("services", "")]
    importing.key_import_apply(key_import=record, actor=alice)
    assert not Binding.objects.filter(key=key).exists()


def test_a_utf8_bom_and_semicolon_separators_are_accepted(refs, alice):
    data = (
        '\ufeffstore;external_id;name;purpose;labels\nprod-kms-eu;k-1;Caf\u00e9 key;data-encryption;"env=prod;team=a"\n'
    )
    _, plan = preview(data.encode("utf-8"), alice)
    assert plan.errors == []
    assert plan.rows[0].values["name"] == "Caf\u00e9 key" and plan.rows[0].values["labels"] == {
        "env": "prod",
        "team": "a",
    }


# --- Bad rows --------------------------------------------------------------------------------------------

HEX_SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("cells", "column", "expected"),
    [
        ({"purpose": "sign"}, "purpose", "column 'purpose' is 'sign'; expected one of: "),
        ({"purpose": "data-encryptoin"}, "purpose", "(did you mean 'data-encryption'?)"),
        (
            {"store": "prod-kms"},
            "store",
            "column 'store' is 'prod-kms'; no key store of that name. Create it first under Key stores.",
        ),
        ({"owner": "zed"}, "owner", "column 'owner' is 'zed'; no user with that username"),
        ({"backup_owner": "zed"}, "backup_owner", "no user with that username"),
        ({"purpose_approver": "zed"}, "purpose_approver", "no user with that username"),
        ({"tenant": "globex"}, "tenant", "column 'tenant' is 'globex'; no tenant with that slug"),
        ({"custodian": "Nobody Inc"}, "custodian", "no party of that name"),
        ({"exposed_to": "Partner Labs;Nobody Inc"}, "exposed_to", "column 'exposed_to' is 'Nobody Inc'; no party"),
        ({"services": "billing"}, "services", "column 'services' is 'billing'; no service with that slug"),
        ({"services": "inference-gateway@globex"}, "services", "no tenant with that slug"),
        ({"services": "inference gateway"}, "services", "expected service-slug[@tenant-slug] entries"),
        (
            {"expires_on": "31/12/2026"},
            "expires_on",
            "column 'expires_on' is '31/12/2026'; expected a date as YYYY-MM-DD",
        ),
        ({"activated_on": "2026-02-30"}, "activated_on", "expected a date as YYYY-MM-DD"),
        ({"size_bits": "big"}, "size_bits", "column 'size_bits' is 'big'; expected a whole number"),
        ({"rotation_period_days": "-5"}, "rotation_period_days", "expected a whole number"),
        (
            {"state": "enabled"},
            "state",
            "column 'state' is 'enabled'; expected one of: pre-activation, active, suspended",
        ),
        ({"kind": "rsa"}, "kind", "column 'kind' is 'rsa'; expected one of: symmetric-key, private-key"),
        ({"ssrm_layer": "cloud"}, "ssrm_layer", "expected one of: pi, model, orchestrated, application"),
        ({"kind": "private-key"}, "kind", "the purpose 'data-encryption' is for keys of kind symmetric-key"),
        ({"name": ""}, "name", "column 'name' is empty; every key needs a name"),
        ({"name": "n" * 201}, "name", "column 'name' has 201 characters; at most 200 fit."),
        ({"labels": "env"}, "labels", "without 'name='"),
        ({"labels": "{not json"}, "labels", "is not valid JSON"),
    ],
)
def test_a_bad_row_is_an_error_naming_the_row_and_column_and_nothing_can_be_applied(
    refs, alice, cells, column, expected
):
    data = csv_text(HEADER, [row(external_id=f"{ARN}0001"), row(**cells)])

    record, plan = preview(data, alice)

    assert plan.has_errors and plan.counts["errors"] == 1
    (error,) = [e for e in plan.errors if e.column == column]
    assert error.row == 3 and str(error).startswith("Row 3: ")
    assert expected in error.message
    assert record.errors and record.errors[0]["row"] == 3
    with pytest.raises(importing.ImportApplyError, match="has errors"):
        importing.key_import_apply(key_import=record, actor=alice)
    assert Key.objects.count() == 0


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"description": f"Backup copy {HEX_SECRET}"}, "description"),
        ({"purpose_justification": "-----BEGIN"}, None),  # too short to be a PEM block: harmless
        ({"labels": "token=ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}, "labels"),
        ({"labels": f"{HEX_SECRET}=x"}, "labels"),
        ({"algorithm": "password=hunter2hunter2"}, "algorithm"),
        ({"owner": HEX_SECRET}, "owner"),
    ],
)
def test_key_material_in_a_cell_is_an_error_that_never_echoes_the_value(refs, alice, cells, column):
    _, plan = preview(one_row(**cells), alice)
    if column is None:
        assert plan.errors == []
        return
    (error,) = plan.errors
    assert error.column == column and "looks like" in error.message and "never the key" in error.message
    value = next(iter(cells.values()))
    assert (
        value not in str(error)
        and HEX_SECRET not in str(error)
        and "hunter2" not in str(error)
        and "ghp_" not in str(error)
    )


def test_a_retired_purpose_is_refused_for_a_new_key_but_kept_on_an_existing_one(refs, alice):
    Purpose.objects.filter(slug="training-data-encryption").update(is_active=False)
    KeyFactory(
        store=refs["stores"][0],
        external_id=f"{ARN}0001",
        name="Old",
        purpose=Purpose.objects.get(slug="training-data-encryption"),
    )
    data = csv_text(
        HEADER,
        [
            row(external_id=f"{ARN}0001", name="Old", purpose="training-data-encryption"),
            row(external_id=f"{ARN}0002", purpose="training-data-encryption"),
        ],
    )
    _, plan = preview(data, alice)
    assert [str(e) for e in plan.errors] == [
        "Row 3: column 'purpose' is 'training-data-encryption'; the purpose 'Training-data encryption' is retired. "
        + plan.errors[0].message.split("is retired. ")[1]
    ]
    assert (
        "Choose an active purpose: " in plan.errors[0].message
        and "training-data-encryption," not in plan.errors[0].message
    )
    assert plan.rows[0].action == importing.Action.CHANGED  # only the name; the retired purpose stays


def test_the_same_key_twice_in_a_file_is_an_error_on_the_second_row(refs, alice):
    _, plan = preview(csv_text(HEADER, [row(), row(name="Again")]), alice)
    assert [str(e) for e in plan.errors] == [
        "Row 3: column 'external_id' repeats row 2 (same store and external_id); each key may appear once in a file."
    ]


def test_rows_with_too_many_cells_are_reported(refs, alice):
    data = GOOD_CSV.read_text().splitlines()
    data[1] += ",extra"
    _, plan = preview("\n".join(data).encode(), alice)
    assert [e.row for e in plan.errors] == [2] and "quote cells that contain the delimiter" in plan.errors[0].message


# --- Whole-file errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf\n\n", "The file is empty."),
        (
            "store,external_id,name,purpose\nprod,k,Caf\u00e9,data-encryption\n".encode("latin-1"),
            "not UTF-8 text (line 2",
        ),
        (b"store,name\nprod,k\n", "Missing required columns: external_id, purpose."),
        (
            b"store,external_id,name,purpose,colour\n",
            "Unknown column: colour. Expected columns: store, external_id, name",
        ),
        (b"store,external_id,name,purpose,name\n", "Repeated column: name."),
        (b"store,external_id,name,purpose\n", "The file has a header but no rows."),
        (b'[{"store": "prod", "external_id": "k"}]', "This looks like a JSON file"),
        (b'{"KeyMetadata": {"KeyId": "k"}}', "This looks like a JSON file"),
    ],
)
def test_a_bad_file_is_rejected_as_a_whole_and_recorded_as_failed(refs, alice, data, expected):
    record, plan = preview(data, alice)
    assert expected in plan.file_error
    assert record.status == KeyImport.Status.FAILED and expected in record.last_error
    assert not record.file and record.errors == [{"row": None, "column": "", "message": plan.file_error}]


def test_a_file_with_a_pem_block_is_rejected_and_not_kept(refs, alice):
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    data = csv_text(HEADER, [row(description=pem)])
    record, plan = preview(data, alice)
    assert plan.file_error.startswith("The file contains a PEM block (line 2).")
    assert "MIIEvQ" not in plan.file_error and not record.file
    assert record.status == KeyImport.Status.REFUSED
    assert record.refusal == [{"row": None, "field": "line 2", "kind": "key_material", "reason": "a PEM block"}]


def test_an_oversized_file_is_rejected(refs, alice, settings):
    settings.CEK_IMPORT_MAX_BYTES = 1024
    record, plan = preview(csv_text(HEADER, [row(external_id=f"k-{n}") for n in range(20)]), alice)
    assert "the limit is 0.0 MB (CEK_IMPORT_MAX_BYTES)" in plan.file_error
    assert record.status == KeyImport.Status.FAILED and not record.file


def test_an_unknown_format_is_a_file_error(refs, alice):
    with pytest.raises(ImportFileError, match="expected one of: csv"):
        get_importer("xlsx")


# --- Atomic apply -------------------------------------------------------------------------------------------


def _nothing_was_written() -> bool:
    exposures = Key.exposed_to.through.objects.count() + Key.history.model.exposed_to.model.objects.count()
    history = Key.history.count() + Binding.history.count()
    return Key.objects.count() == Binding.objects.count() == exposures == history == 0


def test_a_failure_after_the_first_batch_writes_nothing(refs, alice, monkeypatch):
    record, plan = preview(GOOD_CSV.read_bytes(), alice)
    assert not plan.has_errors
    real_write, written_before = apply._BatchWriter.write, []

    def failing_write(writer):
        if written_before:
            raise IntegrityError("Simulated failure.")
        real_write(writer)
        written_before.append((Key.objects.count(), Binding.objects.count(), Key.history.count()))

    monkeypatch.setattr(apply, "BATCH_SIZE", 1)
    monkeypatch.setattr(apply._BatchWriter, "write", failing_write)
    with pytest.raises(
        importing.ImportApplyError,
        match=r"^Nothing was imported: Row 3: the database refused the change \(IntegrityError\)",
    ):
        importing.key_import_apply(key_import=record, actor=alice)

    assert written_before == [(1, 1, 1)]  # the first batch was written, then rolled back with the rest
    assert _nothing_was_written()
    record.refresh_from_db()
    assert record.status == KeyImport.Status.FAILED and record.last_error.startswith("Row 3:")


def test_a_row_the_database_refuses_writes_nothing(refs, alice, monkeypatch):
    record, plan = preview(GOOD_CSV.read_bytes(), alice)
    assert not plan.has_errors
    real_plan = apply.key_import_plan

    def plan_then_race(**kwargs):
        write = kwargs["on_chunk"]

        def race_then_write(rows):
            # Someone adds the third row's key between the planning and the writing (in this transaction, so the
            # rollback removes it too): the database's unique constraint refuses the bulk insert.
            KeyFactory(store=refs["stores"][1], external_id="kv/llm/provider-token")
            write(rows)

        return real_plan(**{**kwargs, "on_chunk": race_then_write})

    monkeypatch.setattr(apply, "key_import_plan", plan_then_race)
    with pytest.raises(importing.ImportApplyError, match=r"One of rows 2-4: the database refused the change"):
        importing.key_import_apply(key_import=record, actor=alice)

    assert _nothing_was_written()
    record.refresh_from_db()
    assert record.status == KeyImport.Status.FAILED and "IntegrityError" in record.last_error


def test_a_binding_the_model_refuses_is_reported_with_its_row_and_nothing_is_written(refs, alice, monkeypatch):
    record, _ = preview(GOOD_CSV.read_bytes(), alice)
    real_plan = apply.key_import_plan

    def plan_with_a_bad_principal(**kwargs):
        write = kwargs["on_chunk"]

        def spoil_then_write(rows):
            signing = rows[1]
            signing.bindings = [(s, t, p, "password=hunter2hunter2", ops) for s, t, p, _, ops in signing.bindings]
            write(rows)

        return real_plan(**{**kwargs, "on_chunk": spoil_then_write})

    monkeypatch.setattr(apply, "key_import_plan", plan_with_a_bad_principal)
    with pytest.raises(importing.ImportApplyError, match=r"Row 3: column 'principal': ") as exc:
        importing.key_import_apply(key_import=record, actor=alice)

    assert "hunter2" not in str(exc.value)
    assert _nothing_was_written()


def test_removed_bindings_and_exposures_are_in_the_history_attributed_to_the_importer(refs, alice):
    record, _ = preview(GOOD_CSV.read_bytes(), alice, "keys_good.csv")
    importing.key_import_apply(key_import=record, actor=alice)
    token = Key.objects.get(external_id="kv/llm/provider-token")
    (created,) = token.history.all()
    assert [link.party.name for link in created.exposed_to.all()] == ["Partner Labs"]
    text = GOOD_CSV.read_text().replace(",MSA-2025-17,Partner Labs,", ",MSA-2025-17,,")
    text = text.replace("inference-gateway@acme", "training-pipeline")

    record, plan = preview(text.encode(), alice, "keys_v2.csv")
    assert plan.counts["changed"] == 2
    importing.key_import_apply(key_import=record, actor=alice)

    assert not token.exposed_to.exists()
    latest = token.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
        "~",
        alice,
        "CSV import keys_v2.csv",
    )
    assert not latest.exposed_to.exists()
    logs = Key.objects.get(external_id=f"{ARN}0001")
    removed = Binding.history.get(key_id=logs.pk, history_type="-")
    assert (removed.service.slug, removed.history_user, removed.history_change_reason) == (
        "inference-gateway",
        alice,
        "CSV import keys_v2.csv",
    )
    assert [b.service.slug for b in logs.bindings.all()] == ["training-pipeline"]
    assert logs.history.count() == 1  # only its bindings changed: the key itself was not written


def test_rows_changing_different_columns_keep_each_others_values(refs, alice):
    first = KeyFactory(store=refs["stores"][0], external_id=f"{ARN}0001", name="First", owner=refs["users"]["bob"])
    second = KeyFactory(store=refs["stores"][0], external_id=f"{ARN}0002", name="Second", owner=refs["users"]["bob"])
    columns = ["store", "external_id", "name", "purpose", "owner"]
    purpose = first.purpose.slug
    data = csv_text(
        columns,
        [
            ["prod-kms-eu", f"{ARN}0001", "First renamed", purpose, "bob"],
            ["prod-kms-eu", f"{ARN}0002", "Second", second.purpose.slug, "carol"],
        ],
    )
    record, plan = preview(data, alice)
    assert [[c.column for c in r.changes] for r in plan.rows] == [["name"], ["owner"]]
    importing.key_import_apply(key_import=record, actor=alice)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.name, first.owner.username) == ("First renamed", "bob")
    assert (second.name, second.owner.username) == ("Second", "carol")


def test_apply_checks_the_rows_again_against_the_inventory_as_it_is_then(refs, alice):
    record, plan = preview(GOOD_CSV.read_bytes(), alice)
    assert not plan.has_errors
    refs["services"][1].delete()  # training-pipeline disappears between preview and apply

    with pytest.raises(
        importing.ImportApplyError, match="inventory changed since the preview and 1 row now has errors"
    ) as exc:
        importing.key_import_apply(key_import=record, actor=alice)

    assert [str(e) for e in exc.value.errors] == [
        "Row 3: column 'services' is 'training-pipeline'; no service with that slug. Create it first under Services."
    ]
    assert Key.objects.count() == 0
    record.refresh_from_db()
    assert record.status == KeyImport.Status.PREVIEWED and record.errors[0]["row"] == 3
    with pytest.raises(importing.ImportApplyError, match="has errors"):
        importing.key_import_apply(key_import=record, actor=alice)


def test_an_applied_or_discarded_import_cannot_be_applied_again(refs, alice):
    record, _ = preview(GOOD_CSV.read_bytes(), alice)
    importing.key_import_apply(key_import=record, actor=alice)
    with pytest.raises(importing.ImportApplyError, match="This import is applied"):
        importing.key_import_apply(key_import=record, actor=alice)

    other, _ = preview(GOOD_CSV.read_bytes(), alice)
    stored = other.file.name
    importing.key_import_discard(key_import=other, actor=alice)
    assert other.status == KeyImport.Status.DISCARDED and not other.file
    assert not other.file.storage.exists(stored)
    with pytest.raises(importing.ImportApplyError, match="This import is discarded"):
        importing.key_import_apply(key_import=other, actor=alice)


def test_a_kept_file_that_no_longer_matches_its_digest_is_not_applied(refs, alice):
    record, _ = preview(GOOD_CSV.read_bytes(), alice)
    with open(record.file.path, "ab") as handle:
        handle.write(b"prod-kms-eu,extra,Extra,data-encryption\n")
    with pytest.raises(importing.ImportApplyError, match="SHA-256 differs"):
        importing.key_import_apply(key_import=record, actor=alice)
    assert Key.objects.count() == 0


# --- Scale ------------------------------------------------------------------------------------------------------


def _queries_for_preview(actor, rows: int, *, existing: bool) -> int:
    data = csv_text(
        HEADER,
        [
            row(
                external_id=f"{ARN}{n:06d}",
                owner="bob",
                tenant="acme",
                services="inference-gateway@acme",
                exposed_to="Partner Labs",
                custodian="Example Cloud",
            )
            for n in range(rows)
        ],
    )
    if existing:
        record, _ = preview(data, actor)
        importing.key_import_apply(key_import=record, actor=actor)
    with CaptureQueriesContext(connection) as queries:
        preview(data, actor)
    return len(queries)


def test_a_preview_runs_a_fixed_number_of_queries_whatever_the_number_of_rows(refs, alice):
    small, large = _queries_for_preview(alice, 1, existing=False), _queries_for_preview(alice, 200, existing=False)
    assert small == large and large <= 15


def test_a_preview_of_known_keys_runs_a_fixed_number_of_queries(refs, alice):
    Key.objects.all().delete()
    small = _queries_for_preview(alice, 1, existing=True)
    Binding.objects.all().delete()
    Key.objects.all().delete()
    large = _queries_for_preview(alice, 200, existing=True)
    assert small == large and large <= 15


def test_a_large_file_is_planned_without_a_query_per_row(refs, alice, django_assert_max_num_queries):
    data = csv_text(HEADER, [row(external_id=f"{ARN}{n:06d}") for n in range(2000)])
    with django_assert_max_num_queries(15):
        plan = importing.key_import_plan(data=data, file_name="big.csv", format="csv")
    assert plan.counts["new"] == 2000


# --- CLI ----------------------------------------------------------------------------------------------------------


def test_cli_dry_run_prints_the_plan_and_writes_nothing(refs, alice):
    out = io.StringIO()
    call_command("import_keys", str(GOOD_CSV), "--format", "csv", "--dry-run", stdout=out)
    assert "3 rows: 3 new, 0 changed, 0 unchanged, 0 with errors; 0 with conflicts, 0 without a purpose." in (
        out.getvalue()
    )
    assert "Dry run: nothing was written." in out.getvalue()
    assert Key.objects.count() == 0 and KeyImport.objects.count() == 0


def test_cli_imports_and_attributes_the_changes_to_the_user(refs, alice):
    out = io.StringIO()
    call_command("import_keys", str(GOOD_CSV), "--user", "alice", stdout=out)
    assert "Imported 3 keys: 3 new, 0 changed." in out.getvalue()
    assert Key.objects.count() == 3
    assert Key.history.exists() and not Key.history.exclude(history_user=alice).exists()
    assert KeyImport.objects.get().status == KeyImport.Status.APPLIED


def test_cli_prints_each_error_and_exits_with_status_1(refs, alice, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_text(HEADER, [row(), row(external_id="k-2", purpose="sign")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"1 row with errors; nothing was imported\.") as exc:
        call_command("import_keys", str(path), "--user", "alice", stderr=err, stdout=io.StringIO())
    assert exc.value.returncode == 1
    assert err.getvalue().startswith("Row 3: column 'purpose' is 'sign'; expected one of: ")
    assert Key.objects.count() == 0


def test_cli_refuses_a_user_who_is_not_grc(refs):
    with pytest.raises(CommandError, match="not in the GRC group"):
        call_command("import_keys", str(GOOD_CSV), "--user", "bob")
    with pytest.raises(CommandError, match="--user USERNAME is required"):
        call_command("import_keys", str(GOOD_CSV))


def test_every_problem_of_a_row_is_listed_at_once(refs, alice):
    data = one_row(store="prod-kms", owner="zed", expires_on="31/12/2026", description="secret=abcdefghijkl")
    _, plan = preview(data, alice)
    assert [(e.row, e.column) for e in plan.errors] == [
        (2, "expires_on"),
        (2, "description"),
        (2, "store"),
        (2, "owner"),
    ]
    assert plan.counts["errors"] == 1 and plan.rows[0].action == importing.Action.ERROR
    assert "abcdefghijkl" not in " ".join(str(e) for e in plan.errors)
