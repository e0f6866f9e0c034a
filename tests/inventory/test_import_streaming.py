"""Imports stream (issue 17): a file is read item by item and planned and written a chunk of rows at a time inside
one transaction, so a large file is never held whole; the plan keeps its counts and its first rows only."""

from __future__ import annotations

import gc
import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import importing
from inventory.importers.aws_kms import AwsKmsImporter
from inventory.importers.base import ImportSource, KeyRow, NotStreamable, json_array_items
from inventory.importers.csv import CsvImporter
from inventory.importing import apply, planner
from inventory.importing import plan as plan_module
from inventory.models import Key, KeyImport
from tests.factories import KeyFactory, KeyStoreFactory, UserFactory
from tests.inventory.fixtures import csv_text, make_references
from tests.inventory.test_platform_import import ACCOUNT, REGION, aws_key, dump, preview

CHUNK = 5


@pytest.fixture(autouse=True)
def _small_chunks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CEK_IMPORT_CHUNK_ROWS = CHUNK


@pytest.fixture
def grc(db):
    return UserFactory(username="grace", roles=["grc"])


@pytest.fixture
def store(db):
    return KeyStoreFactory(name="aws-prod-eu", kind="aws-kms", account=ACCOUNT, region=REGION)


def _keyrows_alive() -> int:
    return sum(1 for thing in gc.get_objects() if type(thing) is KeyRow)  # type(): no lazy object is set up


# --- Reading a JSON array item by item ---------------------------------------------------------------------------


@pytest.mark.parametrize("read_bytes", [1, 3, 7, 64, 1 << 20])
def test_the_items_of_an_array_are_the_values_json_loads_gives_whatever_the_block_size(read_bytes):
    document = [
        {"a": "caf\u00e9 \u20ac \U0001f511", "b": [1, 2.5e10, -3, None, True, False], "c": {"d": '\\"x"'}},
        12345678901234567890,
        "\ud800 lone",  # a lone surrogate escape: kept as json.loads keeps it, for the unsafe-text scan
        [],
        {},
        -0.5,
    ]
    text = "\ufeff \n[ " + ",\n  ".join(json.dumps(item) for item in document) + " ]\n "
    items = list(json_array_items(io.BytesIO(text.encode("utf-8", "surrogatepass")), read_bytes=read_bytes))
    assert items == json.loads(text.lstrip("\ufeff"))


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"   ",
        b'{"KeyMetadata": {}}',
        b"[1, 2",
        b"[1 2]",
        b"[1,]",
        b"[1] [2]",
        b'[{"a": "\xff"}]',
        b"[{]",
    ],
)
def test_anything_but_one_whole_array_is_not_streamed(text):
    with pytest.raises(NotStreamable):
        list(json_array_items(io.BytesIO(text), read_bytes=2))


# --- Planning chunk by chunk ------------------------------------------------------------------------------------


def test_an_export_is_planned_a_chunk_at_a_time_and_never_read_whole(grc, store, monkeypatch):
    items = [aws_key(n, tags={"purpose": "data-encryption"}) for n in range(53)]
    monkeypatch.setattr(AwsKmsImporter, "parse", lambda *a, **k: pytest.fail("the export was read whole"))
    monkeypatch.setattr(plan_module, "KEPT_ROWS", 4)
    held: list[tuple[int, int]] = []
    real_plan_chunk = planner._plan_chunk

    def counting(plan, row_planner, chunk, *args, **kwargs):
        held.append((len(chunk.rows), _keyrows_alive()))
        return real_plan_chunk(plan, row_planner, chunk, *args, **kwargs)

    monkeypatch.setattr(planner, "_plan_chunk", counting)
    record, plan = preview(dump(items), grc)

    assert not plan.has_errors
    assert [rows for rows, _ in held] == [CHUNK] * 10 + [3]
    # The rows read from the file are those of the chunk being planned: at most one chunk's, never the file's.
    assert max(alive for _, alive in held) <= CHUNK
    assert plan.counts["rows"] == record.counts["rows"] == 53 and plan.counts["new"] == 53
    # The preview keeps the first rows (and as many of the first new or changed ones), not every row.
    assert [row.row for row in plan.rows] == [1, 2, 3, 4]


def test_the_preview_keeps_the_first_errors_and_counts_them_all(grc, store, monkeypatch):
    monkeypatch.setattr(plan_module, "KEPT_MESSAGES", 3)
    items = [aws_key(n, KeyState="NotAState") for n in range(12)]
    record, plan = preview(dump(items), grc)

    assert [error.row for error in plan.errors] == [1, 2, 3]
    assert plan.counts["errors"] == record.counts["errors"] == 12 and plan.counts["rows"] == 12
    assert len(record.errors) == 3 and record.status == KeyImport.Status.PREVIEWED


def test_a_key_repeated_in_a_later_chunk_is_an_error_naming_the_first_row(grc, store):
    items = [aws_key(n) for n in range(12)] + [aws_key(1)]
    _, plan = preview(dump(items), grc)

    (error,) = plan.errors
    assert error.row == 13 and "repeats row 2" in str(error)


# --- Writing chunk by chunk in one transaction -------------------------------------------------------------------


def _import(tmp_path, items, *, full: bool = False):
    path = tmp_path / "kms.json"
    path.write_bytes(dump(items))
    out, err = io.StringIO(), io.StringIO()
    args = ["import_keys", str(path), "--format", "aws-kms", "--user", "grace"] + (["--full"] if full else [])
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_error_in_a_late_chunk_writes_nothing_though_earlier_chunks_were_written(grc, store, tmp_path, monkeypatch):
    written: list[int] = []
    real_write_batch = apply._write_batch

    def recording(rows, **kwargs):
        real_write_batch(rows, **kwargs)
        written.append(Key.objects.count())

    monkeypatch.setattr(apply, "_write_batch", recording)
    items = [aws_key(n) for n in range(23)]
    items[21]["KeyMetadata"]["KeyState"] = "NotAState"  # row 22, in the fifth chunk

    with pytest.raises(CommandError, match="1 row with errors; nothing was imported"):
        _import(tmp_path, items)

    assert written == [5, 10, 15, 20]  # the first four chunks were written in the transaction...
    assert Key.objects.count() == 0 and Key.history.count() == 0  # ... and rolled back with it
    record = KeyImport.objects.get()
    assert record.status == KeyImport.Status.PREVIEWED and record.counts["errors"] == 1
    assert [error["row"] for error in record.errors] == [22]


def test_key_material_in_a_late_item_refuses_the_whole_file_and_keeps_none_of_it(grc, store):
    items = [aws_key(n) for n in range(23)]
    items[20]["KeyMetadata"]["Description"] = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    record, plan = preview(dump(items), grc)

    assert record.status == KeyImport.Status.REFUSED and not record.file
    assert "row 21" in record.last_error and "MIIE" not in json.dumps(record.errors) + record.last_error
    assert plan.counts["rows"] == 0


def test_a_late_item_of_another_region_refuses_the_file(grc, store):
    items = [aws_key(n) for n in range(23)]
    items[22] = aws_key(22, region="us-east-1")
    record, plan = preview(dump(items), grc)

    assert "mixes key stores" in plan.file_error and "row 23" in plan.file_error
    assert record.status == KeyImport.Status.FAILED and Key.objects.count() == 0


def test_a_streamed_full_import_marks_only_the_unlisted_keys_and_records_their_history(grc, store, tmp_path):
    listed = [aws_key(n) for n in range(12)]
    _import(tmp_path, listed)
    gone = KeyFactory(store=store, external_id="arn:aws:kms:eu-west-1:111122223333:key/gone", name="gone")

    out, _ = _import(tmp_path, listed, full=True)

    assert "12 unchanged" in out and "1 no longer listed" in out
    assert list(Key.objects.filter(not_seen_since__isnull=False)) == [gone]
    assert gone.history.first().history_user.username == "grace"


def test_applying_a_previewed_upload_writes_it_chunk_by_chunk_and_history_for_every_key(grc, store):
    items = [aws_key(n, tags={"purpose": "data-encryption"}) for n in range(12)]
    record, _ = preview(dump(items), grc)

    importing.key_import_apply(key_import=record, actor=grc)

    record.refresh_from_db()
    assert record.status == KeyImport.Status.APPLIED and record.counts["new"] == 12
    assert Key.objects.count() == 12 and Key.history.filter(history_type="+").count() == 12


def test_an_upload_kept_as_a_file_is_read_from_it(grc, store, tmp_path):
    path = tmp_path / "kms.json"
    path.write_bytes(dump([aws_key(n) for n in range(7)]))
    with ImportSource(path.open("rb")) as source:
        record, plan = importing.key_import_preview(
            data=source, file_name="kms.json", format="aws-kms", actor=grc, store=None
        )
    assert plan.counts["new"] == 7 and record.size == path.stat().st_size
    with record.file.open("rb") as kept:
        assert kept.read() == path.read_bytes()


# --- CSV ------------------------------------------------------------------------------------------------------------


def _csv(rows: int, *, last: str = "") -> bytes:
    lines = [
        ["prod-kms-eu", f"arn:aws:kms:eu-west-1:111122223333:key/{n:06d}", f"Key {n}", "data-encryption"]
        for n in range(rows)
    ]
    if last:
        lines[-1][2] = last
    return csv_text(["store", "external_id", "name", "purpose"], lines)


def test_a_csv_file_is_read_a_chunk_at_a_time_and_never_whole(db, monkeypatch):
    refs = make_references()
    monkeypatch.setattr(CsvImporter, "parse", lambda *a, **k: pytest.fail("the CSV was read whole"))
    held: list[int] = []
    real_plan_chunk = planner._plan_chunk

    def counting(plan, row_planner, chunk, *args, **kwargs):
        held.append(_keyrows_alive())
        return real_plan_chunk(plan, row_planner, chunk, *args, **kwargs)

    monkeypatch.setattr(planner, "_plan_chunk", counting)
    _, plan = importing.key_import_preview(
        data=_csv(23), file_name="keys.csv", format="csv", actor=refs["users"]["alice"]
    )

    assert not plan.has_errors and plan.counts["new"] == 23 and len(held) == 5
    assert max(held) <= CHUNK


def test_a_pem_block_late_in_a_csv_file_refuses_it_whole(db):
    refs = make_references()
    data = _csv(23, last="-----BEGIN RSA PRIVATE KEY-----")
    record, plan = importing.key_import_preview(
        data=data, file_name="keys.csv", format="csv", actor=refs["users"]["alice"]
    )

    assert record.status == KeyImport.Status.REFUSED and not record.file and "PEM block (line 24)" in plan.file_error


# --- One pass over an export (issue 17) ----------------------------------------------------------------------------


def _count_decodes(monkeypatch) -> list[int]:
    from inventory.importers import aws_kms

    calls: list[int] = []
    real = aws_kms.json_array_items

    def counting(handle, **kwargs):
        calls.append(1)
        return real(handle, **kwargs)

    monkeypatch.setattr(aws_kms, "json_array_items", counting)
    return calls


def test_an_export_whose_first_item_has_an_arn_is_decoded_once(grc, store, monkeypatch):
    decodes = _count_decodes(monkeypatch)
    _, plan = preview(dump([aws_key(n) for n in range(12)]), grc)

    assert not plan.has_errors and plan.counts["new"] == 12 and plan.store == store
    assert len(decodes) == 1


def test_an_export_of_keys_without_arns_is_checked_whole_before_its_rows_are_read(grc, store, monkeypatch):
    decodes = _count_decodes(monkeypatch)
    items = [aws_key(n) for n in range(12)]
    for item in items:
        del item["KeyMetadata"]["Arn"]  # the Region may come from any item: it is known once all were checked
    items[9]["Aliases"] = [{"AliasName": "alias/key-9", "AliasArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/key-9"}]
    _, plan = preview(dump(items), grc)

    assert not plan.has_errors and plan.counts["new"] == 12 and len(decodes) == 2
    assert plan.rows[0].external_id == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b7fd7b1-8d3c-4f0e-9a57-000000000000"


def test_key_material_in_a_late_item_rolls_back_the_chunks_already_written(grc, store, tmp_path, monkeypatch):
    written: list[int] = []
    real_write_batch = apply._write_batch

    def recording(rows, **kwargs):
        real_write_batch(rows, **kwargs)
        written.append(Key.objects.count())

    monkeypatch.setattr(apply, "_write_batch", recording)
    items = [aws_key(n) for n in range(23)]
    items[21]["KeyMetadata"]["Description"] = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"

    with pytest.raises(CommandError):
        _import(tmp_path, items)

    assert written == [5, 10, 15, 20]  # read, planned and written before row 22 was reached...
    assert Key.objects.count() == 0 and Key.history.count() == 0  # ... and rolled back
    record = KeyImport.objects.get()
    assert record.status == KeyImport.Status.REFUSED and not record.file and "row 22" in record.last_error


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (hashlib.sha256(b"key material id").hexdigest(), False),
        ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", True),
    ],
)
def test_a_member_the_scan_skips_is_still_judged_in_a_late_item(grc, store, value, refused):
    # CurrentKeyMaterialId is skipped by the generic scan: only KMS's 64-hex id is let through under that name.
    items = [aws_key(n) for n in range(23)]
    items[20]["KeyMetadata"]["CurrentKeyMaterialId"] = value
    record, plan = preview(dump(items), grc)

    assert (record.status == KeyImport.Status.REFUSED) is refused
    assert plan.counts["rows"] == (0 if refused else 23)
    if refused:
        assert "row 21" in record.last_error and value not in record.last_error + json.dumps(record.errors)


def test_an_import_that_writes_many_new_keys_brings_the_table_statistics_up_to_date(grc, store, tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("statistics for PostgreSQL's planner")
    monkeypatch.setattr(apply, "ANALYZE_AFTER_NEW_KEYS", 5)
    with connection.cursor() as cursor:  # statistics that count fewer keys than the import writes
        cursor.execute("ANALYZE inventory_key")
    with CaptureQueriesContext(connection) as queries:
        _import(tmp_path, [aws_key(n) for n in range(12)])

    analyzed = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("ANALYZE")]
    assert analyzed[:2] == ['ANALYZE "inventory_key"', 'ANALYZE "inventory_binding"']
    with CaptureQueriesContext(connection) as queries:  # nothing new: nothing to bring up to date
        _import(tmp_path, [aws_key(n) for n in range(12)])
    assert not [query for query in queries.captured_queries if query["sql"].startswith("ANALYZE")]


# --- An unchanged re-import writes nothing; one change is found and recorded ---------------------------------------

_WRITES = ("INSERT", "UPDATE", "DELETE", "COPY")


def _key_writes(queries) -> list[str]:
    tables = ('"inventory_key"', '"inventory_historicalkey"', '"inventory_binding"', '"inventory_historicalbinding"')
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(_WRITES) and any(table in query["sql"] for table in tables)
    ]


def test_an_unchanged_reimport_writes_no_key_and_records_no_change(grc, store, tmp_path):
    items = [aws_key(n, tags={"purpose": "data-encryption", "owner": "nobody-here"}) for n in range(12)]
    _import(tmp_path, items)
    history = Key.history.count()

    with CaptureQueriesContext(connection) as queries:
        out, _ = _import(tmp_path, items)

    assert "0 new, 0 changed; 12 unchanged" in out
    assert _key_writes(queries) == [] and Key.history.count() == history
    record = KeyImport.objects.order_by("-pk").first()
    assert record.counts["unchanged"] == 12 and record.counts["changed"] == 0
    # The warnings of unchanged rows are found again (an owner tag naming nobody).
    assert record.unknowns == {"owner": ["nobody-here"]}


def test_one_changed_field_of_one_row_is_found_written_and_recorded(grc, store, tmp_path):
    items = [aws_key(n) for n in range(12)]
    _import(tmp_path, items)
    items[7]["KeyMetadata"]["KeyState"] = "Disabled"

    with CaptureQueriesContext(connection) as queries:
        out, _ = _import(tmp_path, items)

    assert "0 new, 1 changed; 11 unchanged" in out
    changed = Key.objects.get(external_id__endswith="-000000000007")
    assert changed.state == "suspended"
    assert Key.objects.exclude(pk=changed.pk).filter(state="suspended").count() == 0
    last = changed.history.first()
    assert last.history_type == "~" and last.history_user.username == "grace" and last.state == "suspended"
    assert Key.history.filter(history_type="~").count() == 1
    assert any('"inventory_key"' in sql and sql.upper().startswith("UPDATE") for sql in _key_writes(queries))


def test_the_garbage_collector_runs_less_while_a_large_file_is_planned_and_is_restored(grc, store, monkeypatch):
    monkeypatch.setattr(planner, "GC_RELAXED_BYTES", 1)  # every file is "large"
    before = gc.get_threshold()
    seen: list[tuple[tuple[int, int, int], int]] = []
    real_plan_chunk = planner._plan_chunk

    def watching(*args, **kwargs):
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return real_plan_chunk(*args, **kwargs)

    monkeypatch.setattr(planner, "_plan_chunk", watching)
    _, plan = preview(dump([aws_key(n) for n in range(7)]), grc)
    items = [aws_key(n) for n in range(7)]
    items[6]["KeyMetadata"]["Description"] = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    _, refused = preview(dump(items), grc)  # rejected part-way through: restored all the same

    assert plan.counts["new"] == 7 and refused.refused
    assert seen and all(threshold[0] == planner.GC_YOUNG_THRESHOLD and frozen > 0 for threshold, frozen in seen)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
