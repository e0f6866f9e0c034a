"""Uploads that must be refused and never kept: key material (issue 11: 33 of 46 stored files had been refused
for it and were kept anyway) and hostile text (lone surrogates, NUL and other control characters, bidi
overrides, deep nesting), through every importer and every path (web preview, web apply, API, command)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory import importing
from inventory.models import Key, KeyImport
from tests.factories import KeyStoreFactory
from tests.inventory.fixtures import FIXTURES, GOOD_CSV, csv_text

HEADER = GOOD_CSV.read_text().splitlines()[0].split(",")
SECRET = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
AWS_SECRET_TEXT = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # the AWS documentation's example secret key

JSON_FIXTURES = {
    "aws-kms": "aws-kms/keys.json",
    "gcp-kms": "gcp-kms/keys.json",
    "azure-kv": "azure-kv/keys.json",
    "vault-transit": "vault-transit/keys.json",
    "vault-kv": "vault-kv/secrets.json",
    "cbom": "cbom/scanner-1.6.cdx.json",
}
FORMATS = ["csv", *JSON_FIXTURES]
DEEP = "[" * 5000 + "]" * 5000  # valid JSON, past Python's recursion limit
NESTED = "[" * 100 + "]" * 100  # valid JSON within the recursion limit, past the app's depth limit
# shape -> the text put into a field (for the two nesting shapes: JSON put in place of a value)
SHAPES = {
    "lone-surrogate": "name\ud800",
    "nul": "name\x00tail",
    "control": "name\x07bell",
    "escape": "name\x1b[31mred",
    "bidi-override": "name\u202egnp.exe",
    "bidi-isolate": "name\u2066x\u2069",
    "deep-nesting": DEEP,
    "nesting-past-limit": NESTED,
}
NESTING = {"deep-nesting", "nesting-past-limit"}


@pytest.fixture(autouse=True)
def _media(tmp_media):
    """Every test of this module uploads into its own folder."""


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _first_text_member(item: dict) -> tuple[dict, str]:
    """The object and member name of the first string value of ``item`` (depth first)."""
    for name, value in item.items():
        if isinstance(value, str):
            return item, name
    for value in item.values():
        if isinstance(value, dict):
            found = _first_text_member(value)
            if found:
                return found
    raise AssertionError("no string member")


def hostile_file(format: str, shape: str) -> bytes:
    """A real export of ``format`` with the hostile ``shape`` in the first key: in a field (JSON formats), or
    in the ``name`` cell and, for nesting, in the ``labels`` cell as JSON (CSV)."""
    text = SHAPES[shape]
    if format == "csv":
        cells = GOOD_CSV.read_text().splitlines()[1]
        rows = list(__import__("csv").reader([cells]))
        row = dict(zip(HEADER, rows[0], strict=True))
        if shape in NESTING:
            row["labels"] = '{"env": ' + text + "}"
        elif shape == "lone-surrogate":  # UTF-8 text cannot hold one; the JSON of a labels cell can
            row["labels"] = '{"env": "name\\ud800"}'
        else:
            row["name"] = text
        return csv_text(HEADER, [[row[column] for column in HEADER]])
    document = json.loads((FIXTURES / JSON_FIXTURES[format]).read_text())
    item = document["components"][0] if isinstance(document, dict) else document[0]
    holder, name = _first_text_member(item)
    if shape in NESTING:
        holder[name] = "@@NESTED@@"
        return json.dumps(document).replace('"@@NESTED@@"', text).encode()
    holder[name] = holder[name] + text
    return json.dumps(document).encode()  # ensure_ascii: the surrogate and NUL travel as \ud800, \u0000


def assert_refused_and_nothing_kept(settings, *, expect_record: bool = True) -> KeyImport | None:
    assert Key.objects.count() == 0
    # No orphan: no previewed, applying or applied import, and no file anywhere under MEDIA_ROOT.
    assert not KeyImport.objects.exclude(status=KeyImport.Status.REFUSED).exists()
    assert media_files(settings) == []
    if not expect_record:
        assert not KeyImport.objects.exists()
        return None
    record = KeyImport.objects.get()
    assert not record.file and record.refusal
    assert {item["kind"] for item in record.refusal} == {"unsafe_text"}
    for item in record.refusal:
        assert set(item) == {"row", "field", "kind", "reason"} and item["reason"]
    return record


def _web_upload(client, format: str, data: bytes):
    name = "keys.csv" if format == "csv" else "keys.json"
    return client.post(reverse("inventory:import"), {"format": format, "file": SimpleUploadedFile(name, data)})


def _api_upload(client, format: str, data: bytes):
    name = "keys.csv" if format == "csv" else "keys.json"
    return client.post(reverse("api-import-list"), {"format": format, "file": SimpleUploadedFile(name, data)})


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("path", ["web-preview", "web-apply", "api", "command-dry-run", "command"])
def test_hostile_text_is_refused_with_row_and_field_and_leaves_nothing_behind(
    alice_client, refs, settings, tmp_path, format, shape, path
):
    data = hostile_file(format, shape)
    if path in ("web-preview", "web-apply"):
        response = _web_upload(alice_client, format, data)
        assert response.status_code in (200, 302)
        page = alice_client.get(response["Location"]) if response.status_code == 302 else response
        assert page.status_code == 200
        record = assert_refused_and_nothing_kept(settings)
        assert record.last_error.encode("utf-8")  # storable, showable text
        if path == "web-apply":
            applied = alice_client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True)
            assert applied.status_code == 200
            assert "only a previewed import can be applied" in " ".join(str(m) for m in applied.context["messages"])
            assert_refused_and_nothing_kept(settings)
        listing = alice_client.get(reverse("inventory:import-list"))
        assert listing.status_code == 200 and b"Unsafe text" in listing.content and b"Not kept" in listing.content
    elif path == "api":
        response = _api_upload(alice_client, format, data)
        assert response.status_code == 400, response.content[:300]
        body = response.json()
        assert body["import"]["status"] == "refused" and body["import"]["refusal"]
        record = assert_refused_and_nothing_kept(settings)
        applied = alice_client.post(reverse("api-import-apply", args=[record.pk]))
        assert applied.status_code == 409 and "refused" in applied.json()["detail"]
        assert_refused_and_nothing_kept(settings)
    else:
        file = tmp_path / ("keys.csv" if format == "csv" else "keys.json")
        file.write_bytes(data)
        options = {"dry_run": True} if path == "command-dry-run" else {"user": "alice"}
        with pytest.raises(CommandError):
            call_command("import_keys", str(file), format=format, **options)
        record = assert_refused_and_nothing_kept(settings, expect_record=path == "command")
    if record is not None:
        where = record.refusal[0]
        if format == "csv":
            in_labels = shape in NESTING or shape == "lone-surrogate"
            assert where["row"] == 2 and where["field"] == ("labels" if in_labels else "name")
        elif shape != "deep-nesting" and format != "cbom":
            # A top-level array: the row (1-based) and the vendor field path.
            assert where["row"] == 1 and where["field"]
        if shape != "deep-nesting":
            code_point = {"lone-surrogate": "U+D800", "nul": "U+0000", "control": "U+0007", "escape": "U+001B"}
            assert code_point.get(shape, "") in where["reason"]


@pytest.mark.parametrize("column", ["name", "description", "labels", "purpose_justification"])
def test_a_secret_in_a_csv_cell_refuses_the_upload_and_keeps_none_of_its_bytes(alice_client, refs, settings, column):
    row = dict(zip(HEADER, next(__import__("csv").reader([GOOD_CSV.read_text().splitlines()[1]])), strict=True))
    row[column] = f"aws_secret_access_key={AWS_SECRET_TEXT}" if column == "labels" else f"key {AWS_SECRET_TEXT}"
    data = csv_text(HEADER, [[row[c] for c in HEADER]])

    response = _web_upload(alice_client, "csv", data)
    record = KeyImport.objects.get()
    assert response.status_code == 302 and record.status == KeyImport.Status.REFUSED
    assert media_files(settings) == [] and not record.file
    assert (record.file_name, record.size, record.sha256) == ("keys.csv", len(data), hashlib.sha256(data).hexdigest())
    assert [(item["row"], item["field"], item["kind"]) for item in record.refusal] == [(2, column, "key_material")]
    assert record.refusal[0]["reason"] and record.warnings == [] and record.unknowns == {}
    stored = json.dumps([record.refusal, record.errors, record.warnings, record.counts, record.last_error])
    assert AWS_SECRET_TEXT not in stored and "Inference logs EU" not in stored  # not even the other cells

    page = alice_client.get(response["Location"])
    assert page.status_code == 200 and b"Refused" in page.content and AWS_SECRET_TEXT.encode() not in page.content
    listing = alice_client.get(reverse("inventory:import-list"))
    assert b"Key material: row 2 (" + column.encode() + b")" in listing.content and b"Not kept" in listing.content


def test_a_refused_api_upload_answers_400_with_the_refusal_and_keeps_no_file(alice_client, refs, settings):
    document = json.loads((FIXTURES / "aws-kms/keys.json").read_text())
    document[1]["KeyMetadata"]["Description"] = SECRET
    data = json.dumps(document).encode()
    response = _api_upload(alice_client, "aws-kms", data)
    assert response.status_code == 400
    body = response.json()
    assert body["import"]["status"] == "refused" and body["import"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["import"]["refusal"] == [
        {"row": 2, "field": "KeyMetadata.Description", "kind": "key_material", "reason": "a PEM private key block"}
    ]
    assert "MIIEvQ" not in response.content.decode() and media_files(settings) == []


def test_an_accepted_file_is_still_kept_for_apply(alice_client, refs, settings):
    data = GOOD_CSV.read_bytes()
    response = _web_upload(alice_client, "csv", data)
    record = KeyImport.objects.get()
    assert response.status_code == 302 and record.status == KeyImport.Status.PREVIEWED and record.refusal == []
    files = media_files(settings)
    assert len(files) == 1 and files[0].read_bytes() == data and record.file
    alice_client.post(reverse("inventory:import-apply", args=[record.pk]))
    assert Key.objects.count() == 3


def test_a_kept_file_the_scan_now_refuses_is_deleted_when_applied(alice_client, refs, settings):
    """A file kept at preview that the (improved) scan refuses at apply: refused then, and its bytes go."""
    response = _web_upload(alice_client, "csv", GOOD_CSV.read_bytes())
    record = KeyImport.objects.get()
    text = GOOD_CSV.read_text().replace("Inference log bucket, EU region.", f"key {AWS_SECRET_TEXT}")
    with record.file.open("wb") as handle:  # stands for the validator learning a new shape
        handle.write(text.encode())
    KeyImport.objects.filter(pk=record.pk).update(sha256=hashlib.sha256(text.encode()).hexdigest())
    assert response.status_code == 302
    applied = alice_client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True)
    assert applied.status_code == 200
    record.refresh_from_db()
    assert record.status == KeyImport.Status.REFUSED and not record.file and media_files(settings) == []
    assert Key.objects.count() == 0


def test_an_unsafe_file_name_is_cleaned_and_a_secret_one_withheld(refs):
    # Browsers' multipart names are cleaned by Django already; a command line or script passes any name.
    names = (("keys\u202e\x00.csv", "keys\ufffd\ufffd.csv"), ("ghp_" + "a1B2c3D4e5" * 4 + ".csv", "(name withheld"))
    for name, expected in names:
        record, _ = importing.key_import_preview(
            data=GOOD_CSV.read_bytes(), file_name=name, format="csv", actor=refs["users"]["alice"]
        )
        record.refresh_from_db()
        assert record.file_name.startswith(expected)


@pytest.mark.parametrize(("cell", "kind"), [(AWS_SECRET_TEXT, "key_material"), ("store\x00", "unsafe_text")])
def test_a_header_cell_with_a_secret_or_unsafe_text_refuses_the_file_without_quoting_it(
    alice_client, refs, settings, cell, kind
):
    data = csv_text([*HEADER, cell], [])
    response = _web_upload(alice_client, "csv", data + b"prod-kms-eu,x\n")
    assert response.status_code == 200 and "rejected and not kept" in " ".join(response.context["form"].errors["file"])
    record = KeyImport.objects.get()
    assert record.status == KeyImport.Status.REFUSED and not record.file and media_files(settings) == []
    assert record.refusal[0]["kind"] == kind and record.refusal[0]["field"] == f"header cell {len(HEADER) + 1}"
    assert (
        cell[:10] not in json.dumps([record.errors, record.last_error]) and cell[:10].encode() not in response.content
    )


def test_line_breaks_pass_in_multi_line_fields_and_platform_text_but_not_in_names(refs):
    from tests.inventory.test_platform_import import aws_key

    store = KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")
    alice = refs["users"]["alice"]
    item = aws_key(1, tags={"note": "first line\nsecond line"}, Description="Encrypts logs.\n\tReviewed yearly.")
    record, plan = importing.key_import_preview(data=json.dumps([item]).encode(), file_name="k.json", format="aws-kms",
                                                actor=alice, store=store)  # fmt: skip
    assert not plan.has_errors and record.status == KeyImport.Status.PREVIEWED
    row = dict(zip(HEADER, next(__import__("csv").reader([GOOD_CSV.read_text().splitlines()[1]])), strict=True))
    row["name"] = "two\nlines"
    data = csv_text(HEADER, [[row[c] for c in HEADER]])
    record, plan = importing.key_import_preview(data=data, file_name="k.csv", format="csv", actor=alice)
    assert record.status == KeyImport.Status.REFUSED and "line break (U+000A)" in record.refusal[0]["reason"]
