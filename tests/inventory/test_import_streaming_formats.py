"""Google Cloud KMS, Azure Key Vault, Vault transit and KV exports and CycloneDX CBOMs stream (issue 17), as AWS KMS
and CSV do: read item by item (a CBOM member by member, its components one at a time), checked by a first pass,
planned a chunk at a time, never held whole, and read exactly as the whole-file ``parse`` reads them."""

from __future__ import annotations

import gc
import io
import json
from pathlib import Path

import pytest

from inventory import importing
from inventory.importers import REGISTRY
from inventory.importers.base import (
    KEY_MATERIAL,
    ImportFileError,
    ImportSource,
    KeyRow,
    NotStreamable,
    json_array_items,
)
from inventory.importers.base.streaming import json_object_members
from inventory.importing import planner
from inventory.models import Key, KeyImport
from tests.export_files import FORMATS, STORES, export_bytes
from tests.factories import KeyStoreFactory, UserFactory

CHUNK = 5
FIXTURES = Path(__file__).parent / "fixtures"
FOLDERS = {"cbom": ("cbom", "cbom-real")}


def _fixtures(format: str) -> list[Path]:
    return sorted(path for folder in FOLDERS.get(format, (format,)) for path in (FIXTURES / folder).glob("*.json"))


@pytest.fixture
def read_bytes(monkeypatch):
    """Set how many bytes the JSON readers read at a time (their default, which the importers use)."""

    def setting(size: int) -> None:
        for reader in (json_array_items, json_object_members):
            monkeypatch.setitem(reader.__kwdefaults__, "read_bytes", size)

    return setting


def _errors(errors) -> list[tuple]:
    return [(error.row, error.column, error.message, error.kind) for error in errors]


def _whole(importer, data: bytes):
    try:
        parsed = importer.parse(data, file_name="export.json")
    except ImportFileError as exc:
        return type(exc).__name__, str(exc)
    return parsed.rows, _errors(parsed.errors), _errors(parsed.warnings), parsed.scope


def _streamed(importer, data: bytes, *, chunk_rows: int):
    try:
        stream = importer.stream(ImportSource.of(data), file_name="export.json", chunk_rows=chunk_rows)
        rows, errors, warnings = [], [], []
        for chunk in stream.chunks:
            assert len(chunk.rows) <= chunk_rows and chunk.scope == stream.scope and chunk.material_checked
            rows += chunk.rows
            errors += _errors(chunk.errors)
            warnings += _errors(chunk.warnings)
    except ImportFileError as exc:
        return type(exc).__name__, str(exc)
    return rows, errors, warnings, stream.scope


# --- The members of a JSON object, one at a time -------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 5, 64, 1 << 20])
def test_the_members_of_an_object_are_the_values_json_loads_gives_its_arrays_item_by_item(size):
    document = {
        "bomFormat": "CycloneDX",
        "n": 12345678901234567890,
        "x": -0.5e-3,
        "components": [{"a": "caf\u00e9 \U0001f511", "b": [1, None, True]}, 7, "\ud800 lone", []],
        "empty": [],
        "dependencies": [],
        "metadata": {"properties": [{"name": "cek:fields", "value": "owner"}]},
        "t": '\\"}',
    }
    text = "\ufeff {\n" + ",\n".join(f" {json.dumps(k)} :\t{json.dumps(v)}" for k, v in document.items()) + "}\n"
    data = text.encode("utf-8", "surrogatepass")
    members = list(
        json_object_members(io.BytesIO(data), arrays=frozenset({"components", "dependencies"}), read_bytes=size)
    )

    expected = json.loads(text.lstrip("\ufeff"))
    assert [(name, is_item) for name, _, is_item in members] == [
        ("bomFormat", False), ("n", False), ("x", False), *[("components", True)] * 4, ("empty", False),
        ("metadata", False), ("t", False),
    ]  # fmt: skip
    assert [value for name, value, _ in members if name == "components"] == expected["components"]
    assert {name: value for name, value, is_item in members if not is_item} == {
        name: value for name, value in expected.items() if name not in ("components", "dependencies")
    }


@pytest.mark.parametrize(
    "text",
    [b"", b"[]", b'{"a": 1', b'{"a" 1}', b'{"a": 1,}', b'{"a": 1} {}', b'{"a": 1, "a": 2}', b'{1: 2}', b'{"c": [1,]}',
     b'{"c": [1 2]}', b'{"a": "\xff"}'],
)  # fmt: skip
def test_anything_but_one_whole_object_with_each_member_once_is_not_streamed(text):
    with pytest.raises(NotStreamable):
        list(json_object_members(io.BytesIO(text), arrays=frozenset({"c"}), read_bytes=2))


# --- Every real and hand-made file reads the same streamed as whole -----------------------------------------------


@pytest.mark.parametrize(
    ("format", "path"),
    [
        pytest.param(format, path, id=f"{format}:{path.parent.name}/{path.name}")
        for format in FORMATS
        for path in _fixtures(format)
    ],
)
def test_every_fixture_read_a_byte_at_a_time_gives_what_the_whole_file_parser_gives(
    format, path, read_bytes, monkeypatch
):
    importer, data = REGISTRY[format], path.read_bytes()
    whole = _whole(importer, data)
    read_whole: list[bool] = []
    real_parse = type(importer).parse

    def parse(self, *args, **kwargs):
        read_whole.append(True)
        return real_parse(self, *args, **kwargs)

    monkeypatch.setattr(type(importer), "parse", parse)
    read_bytes(1)

    assert _streamed(importer, data, chunk_rows=2) == whole
    # A file parse reads (rows, row errors, warnings) is streamed; only a file it refuses is read whole, to say why.
    assert read_whole == ([True] if isinstance(whole[0], str) else [])


@pytest.mark.parametrize("format", FORMATS)
def test_a_file_of_another_format_is_refused_with_the_whole_file_message(format):
    importer = REGISTRY[format]
    for other in FORMATS:
        if other != format:
            data = export_bytes(other, 3)
            assert _streamed(importer, data, chunk_rows=2) == _whole(importer, data)


# --- Planned a chunk at a time, refused whole -----------------------------------------------------------------------


@pytest.fixture
def grc(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CEK_IMPORT_CHUNK_ROWS = CHUNK
    for n in range(20):
        UserFactory(username=f"owner{n:02d}")
    return UserFactory(username="grace", roles=["grc"])


def _store(format: str):
    name, kind, account, region = STORES[format]
    return KeyStoreFactory(name=name, kind=kind, account=account, region=region)


def _preview(format: str, data: bytes, actor, store):
    return importing.key_import_preview(data=data, file_name="export.json", format=format, actor=actor, store=store)


def _keyrows_alive() -> int:
    return sum(1 for thing in gc.get_objects() if type(thing) is KeyRow)


@pytest.mark.parametrize("format", FORMATS)
def test_a_large_export_is_planned_a_chunk_at_a_time_and_never_read_whole(format, grc, monkeypatch):
    store = _store(format)
    monkeypatch.setattr(type(REGISTRY[format]), "parse", lambda *a, **k: pytest.fail("the file was read whole"))
    held: list[tuple[int, int]] = []
    real_plan_chunk = planner._plan_chunk

    def counting(plan, row_planner, chunk, *args, **kwargs):
        held.append((len(chunk.rows), _keyrows_alive()))
        return real_plan_chunk(plan, row_planner, chunk, *args, **kwargs)

    monkeypatch.setattr(planner, "_plan_chunk", counting)
    record, plan = _preview(format, export_bytes(format, 23), grc, store)

    assert not plan.has_errors and not plan.file_error, plan.errors or plan.file_error
    assert plan.counts["rows"] == record.counts["rows"] == 23 and plan.counts["new"] == 23
    assert [rows for rows, _ in held] == [CHUNK] * 4 + [3]
    # The rows read from the file are those of the chunk being planned: at most one chunk's, never the file's.
    assert max(alive for _, alive in held) <= CHUNK


@pytest.mark.parametrize("format", FORMATS)
def test_the_preview_is_the_same_read_a_byte_at_a_time(format, grc, read_bytes):
    store = _store(format)
    data = export_bytes(format, 12)

    def seen(plan) -> tuple:
        rows = [(row.row, row.action, row.name, [str(change) for change in row.changes]) for row in plan.rows]
        warnings = [(row.row, [warning.message for warning in row.warnings]) for row in plan.rows]
        return plan.counts, rows, warnings, _errors(plan.errors), plan.file_error, plan.store

    _, whole_blocks = _preview(format, data, grc, store)
    read_bytes(1)
    _, byte_by_byte = _preview(format, data, grc, store)

    assert seen(byte_by_byte) == seen(whole_blocks) and whole_blocks.counts["new"] == 12


@pytest.mark.parametrize("format", FORMATS)
def test_key_material_in_a_late_item_refuses_the_whole_file_and_keeps_none_of_it(format, grc):
    store = _store(format)
    record, plan = _preview(format, export_bytes(format, 23, material_at=21), grc, store)

    assert record.status == KeyImport.Status.REFUSED and not record.file
    assert plan.file_refusal and plan.file_refusal["kind"] == KEY_MATERIAL
    assert "MIIE" not in json.dumps(record.errors) + record.last_error + plan.file_error
    assert plan.counts["rows"] == 0 and Key.objects.count() == 0


@pytest.mark.parametrize("format", FORMATS)
def test_a_streamed_export_applies_and_imports_again_unchanged(format, grc):
    store = _store(format)
    data = export_bytes(format, 12)
    record, _ = _preview(format, data, grc, store)
    importing.key_import_apply(key_import=record, actor=grc)

    record.refresh_from_db()
    assert record.status == KeyImport.Status.APPLIED and record.counts["new"] == 12
    assert Key.objects.filter(store=store).count() == 12 and Key.history.filter(history_type="+").count() == 12
    _, again = _preview(format, data, grc, store)
    assert again.counts["unchanged"] == 12 and not again.has_errors


@pytest.mark.parametrize(
    ("format", "other", "message"),
    [
        ("gcp-kms", ("name", "locations/europe-west4/", "locations/us-east1/"), "Row 22 is a key of project"),
        ("azure-kv", ("key", "bench-vault.", "other-vault."), "Row 22 is a key of 'other-vault.vault.azure.net'"),
    ],
)
def test_a_late_item_of_another_store_refuses_the_file_with_the_whole_file_message(format, other, message, grc):
    store = _store(format)
    items = json.loads(export_bytes(format, 23))
    member, old, new = other
    if member == "key":
        items[21]["key"]["kid"] = items[21]["key"]["kid"].replace(old, new)
    else:
        items[21][member] = items[21][member].replace(old, new)
    record, plan = _preview(format, json.dumps(items).encode(), grc, store)

    assert message in plan.file_error and "one key store" in plan.file_error
    assert record.status == KeyImport.Status.FAILED and plan.counts["rows"] == 0 and Key.objects.count() == 0
