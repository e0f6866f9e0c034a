"""Building a pack (the core, with the PDF side stood in): data files match the database, the manifest lists
every file with its digest, the signature verifies, and every flipped byte is found by verification."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import stat

import pytest
from openpyxl import load_workbook

from evidence.models import EvidencePack, FrozenRecordError, PackStatus
from evidence.packs import builder, manifest, signing
from evidence.packs.data import DATA_FILES
from evidence.packs.sample import draw_sample
from evidence.packs.scope import organisation_name
from evidence.packs.verify import verify_pack_file
from inventory.models import Key, KeyState
from tests.evidence import packs_support
from tests.evidence.packs_support import build, flip, members, request_pack, rezip, zip_bytes
from tests.factories import FindingFactory

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
)


@pytest.fixture
def built(grc_user, inventory, signing_key, fake_pdf):
    return build(grc_user, sample_size=3, sample_seed="audit-2026")


def rows(files: dict, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))


def test_the_zip_holds_the_pdf_the_data_files_the_manifest_and_its_signature(built):
    files = members(zip_bytes(built))
    assert set(files) == {"evidence-pack.pdf", "manifest.json", "manifest.sig", *DATA_FILES}
    assert built.sha256 == hashlib.sha256(zip_bytes(built)).hexdigest()
    assert built.size == len(zip_bytes(built))
    assert built.manifest_sha256 == hashlib.sha256(files["manifest.json"]).hexdigest()
    assert built.file.name.startswith(f"packs/{built.uid}/")
    assert built.expires_at is not None and built.finished_at is not None and built.progress == 100


def test_keys_csv_is_the_full_population_of_the_database(built, inventory):
    files = members(zip_bytes(built))
    keys = rows(files, "keys.csv")
    # The signing key is inventoried by the build: it is part of the population too.
    assert len(keys) == Key.objects.count() == built.stats["keys"] == 6
    by_id = {int(row["id"]): row for row in keys}
    legacy = Key.objects.get(name="legacy-dek")
    assert by_id[legacy.pk]["state"] == "destroyed"
    assert by_id[legacy.pk]["store"] == "prod-kms"
    assert by_id[legacy.pk]["external_id"] == legacy.external_id
    assert by_id[legacy.pk]["purpose"] == "data-encryption"
    sheet = load_workbook(io.BytesIO(files["keys.xlsx"]), read_only=True)["keys"]
    xlsx_rows = list(sheet.iter_rows(values_only=True))
    assert len(xlsx_rows) == 7 and xlsx_rows[0][0] == "id"
    assert sorted(row[0] for row in xlsx_rows[1:]) == sorted(by_id)
    assert len(rows(files, "bindings.csv")) == 2 and len(rows(files, "grants.csv")) == 1


def test_keys_xlsx_stops_at_a_worksheet_s_rows_and_pack_json_names_keys_csv_as_complete(
    grc_user, inventory, signing_key, fake_pdf, monkeypatch
):
    from evidence.packs import data

    monkeypatch.setattr(data, "XLSX_MAX_KEYS", 4)  # stands in for 1,048,575 (a worksheet's rows minus the header)
    files = members(zip_bytes(build(grc_user)))
    population = rows(files, "keys.csv")
    assert len(population) == 6
    sheet = list(load_workbook(io.BytesIO(files["keys.xlsx"]), read_only=True)["keys"].iter_rows(values_only=True))
    assert [row[0] for row in sheet[1:]] == [int(row["id"]) for row in population[:4]]  # the lowest ids
    document = json.loads(files["pack.json"])
    assert document["files"]["keys.xlsx"] == {"rows": 4} and document["files"]["keys.csv"] == {"rows": 6}
    assert "keys.csv holds all 6 keys" in document["keys_xlsx_note"]


def test_the_pdf_says_keys_xlsx_holds_only_the_first_keys_when_a_worksheet_cannot_hold_them_all(
    grc_user, inventory, signing_key, monkeypatch
):
    """The real PDF (no stand-in): its inventory chapter, its bucket pointers and its annex describe keys.xlsx from
    the rows the build wrote, not as "every key"."""
    from evidence.packs import data
    from tests.evidence.test_pack_pdf import flat, pdf_text

    monkeypatch.setattr(data, "XLSX_MAX_KEYS", 4)  # stands in for 1,048,575 (a worksheet's rows minus the header)
    built = build(grc_user)
    files = members(zip_bytes(built))
    assert json.loads(files["pack.json"])["files"]["keys.xlsx"] == {"rows": 4}
    text = flat(pdf_text(files["evidence-pack.pdf"]))
    assert "Every key is in keys.csv and keys.xlsx" not in text
    assert "Every key is in keys.csv; keys.xlsx holds the first 4 of the 6 keys by id" in text
    assert "The first 4 of the 6 keys by id as a spreadsheet" in text
    assert "The same population as a spreadsheet" not in text


def test_the_pdf_says_every_key_is_in_both_key_files_when_the_worksheet_holds_them_all(
    grc_user, inventory, signing_key
):
    from tests.evidence.test_pack_pdf import flat, pdf_text

    text = flat(pdf_text(members(zip_bytes(build(grc_user)))["evidence-pack.pdf"]))
    assert "Every key is in keys.csv and keys.xlsx" in text
    assert "The same population as a spreadsheet" in text and "holds the first" not in text


def test_a_pack_within_a_worksheet_s_rows_has_no_xlsx_note(built):
    document = json.loads(members(zip_bytes(built))["pack.json"])
    assert "keys_xlsx_note" not in document and document["files"]["keys.xlsx"] == document["files"]["keys.csv"]


def test_a_scoped_pack_holds_only_the_keys_of_its_stores(grc_user, inventory, signing_key, fake_pdf):
    pack = build(grc_user, stores=[inventory["dev"]])
    keys = rows(members(zip_bytes(pack)), "keys.csv")
    assert [row["name"] for row in keys] == ["dev-dek"]


def test_pack_json_records_the_sample_which_redraws_from_the_seed(built):
    files = members(zip_bytes(built))
    document = json.loads(files["pack.json"])
    ids = [int(row["id"]) for row in rows(files, "keys.csv")]
    assert document["sample"]["seed"] == "audit-2026"
    assert document["sample"]["ids"] == draw_sample(ids, 3, "audit-2026")
    assert len(document["sample"]["ids"]) == 3
    assert document["population"] == 6
    assert document["files"]["keys.csv"]["rows"] == 6
    assert document["content"]["title"] == "CEK-11"
    assert document["pack"]["organisation"] == organisation_name(built)  # as on the PDF's cover


def test_findings_open_during_the_window_are_in_findings_csv(grc_user, inventory, signing_key, fake_pdf):
    import datetime as dt

    from django.utils import timezone

    when = timezone.make_aware(dt.datetime(2026, 6, 1))
    open_one = FindingFactory(first_seen=when, last_seen=when)
    FindingFactory(first_seen=when, last_seen=when, status="resolved", resolved_at=when.replace(year=2025))
    pack = build(grc_user)
    found = rows(members(zip_bytes(pack)), "findings.csv")
    assert [int(row["id"]) for row in found] == [open_one.pk]


def test_the_manifest_lists_every_file_with_its_digest_and_the_data_digest(built, fake_pdf):
    files = members(zip_bytes(built))
    document = json.loads(files["manifest.json"])
    listed = {entry["name"]: entry for entry in document["files"]}
    assert set(listed) == {"evidence-pack.pdf", *DATA_FILES}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert entry["size"] == len(files[name])
    assert document["data_digest"] == manifest.data_digest(document["files"]) == built.stats["data_digest"]
    # The PDF was rendered with the same data digest (it is printed on its cover).
    assert fake_pdf["digests"] == [document["data_digest"]]
    assert document["pack"]["uid"] == str(built.uid)
    assert document["software"]["version"]
    assert document["signing"]["public_key"] == built.signing_public_key


def test_the_signature_verifies_with_the_apps_public_key(built, signing_key, fake_pdf):
    files = members(zip_bytes(built))
    signature = base64.b64decode(files["manifest.sig"])
    assert built.signing_public_key == signing_key.public_key == fake_pdf["public_key"]
    assert signing.verify_signature(public_b64=signing_key.public_key, signature=signature, data=files["manifest.json"])
    report = verify_pack_file(io.BytesIO(zip_bytes(built)))
    assert report.ok, report.problems
    assert report.signature_valid_app_key and report.signature_valid_manifest_key and report.is_app_key
    assert report.files_ok == len(DATA_FILES) + 1


@pytest.mark.parametrize("name", ["keys.csv", "evidence-pack.pdf", "manifest.json", "manifest.sig"])
def test_a_flipped_byte_in_any_file_is_detected(built, name):
    files = members(zip_bytes(built))
    position = len(files[name]) // 2 if name != "manifest.sig" else 5
    files[name] = flip(files[name], position)
    report = verify_pack_file(rezip(files))
    assert not report.ok
    text = "\n".join(report.lines())
    if name in ("keys.csv", "evidence-pack.pdf"):
        assert f"{name}: SHA-256 is" in text
        assert report.signature_valid_app_key  # the manifest itself is intact
    else:
        assert report.signature_valid_app_key is not True


def test_a_flipped_byte_in_the_zip_itself_is_detected(built):
    data = bytearray(zip_bytes(built))
    data[len(data) // 3] ^= 0xFF
    report = verify_pack_file(io.BytesIO(bytes(data)))
    assert not report.ok


def test_files_added_or_removed_are_named(built):
    files = members(zip_bytes(built))
    del files["grants.csv"]
    files["extra.csv"] = b"id\n1\n"
    report = verify_pack_file(rezip(files))
    assert "grants.csv: listed in manifest.json but missing from the archive." in report.problems
    assert "extra.csv: present in the archive but not listed in manifest.json." in report.problems


def test_a_pack_signed_by_another_key_is_not_verified(built, tmp_path):
    other = signing.public_key_b64(signing.Ed25519PrivateKey.generate().public_key())
    report = verify_pack_file(io.BytesIO(zip_bytes(built)), public_key=other)
    assert not report.ok
    assert report.signature_valid_manifest_key and report.is_app_key is False
    assert "not the expected public key" in report.problems[0]


def test_the_signing_key_is_in_the_inventory_with_its_purpose(built, signing_key):
    key = Key.objects.get(external_id=f"SHA256:{signing_key.fingerprint}")
    assert key.purpose.slug == "evidence-signing"
    assert key.algorithm == "Ed25519" and key.state == KeyState.ACTIVE
    assert built.stats["signing_key_inventoried"] is True


def test_a_new_signing_key_deactivates_the_previous_one_in_the_inventory(built, settings, tmp_path, grc_user):
    first = Key.objects.get(purpose__slug="evidence-signing")
    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "rotated.pem"
    signing.create_key_file()
    signing.signing_key_inventory_ensure()
    first.refresh_from_db()
    assert first.state == KeyState.DEACTIVATED
    assert Key.objects.filter(purpose__slug="evidence-signing", state=KeyState.ACTIVE).count() == 1


def test_the_key_file_is_private_and_never_replaced(signing_key):
    path = signing.key_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    with pytest.raises(FileExistsError):
        signing.create_key_file()


def test_a_ready_pack_is_not_rebuilt(built, fake_pdf):
    again = builder.build_pack(built.pk)
    assert again.status == PackStatus.READY and again.sha256 == built.sha256
    assert fake_pdf["collect"] == 1


def test_a_ready_pack_cannot_be_changed_but_can_expire(built):
    built.sample_seed = "other"
    with pytest.raises(FrozenRecordError):
        built.save()
    pack = EvidencePack.objects.get(pk=built.pk)
    pack.status = PackStatus.FAILED
    with pytest.raises(FrozenRecordError):
        pack.save()
    pack = EvidencePack.objects.get(pk=built.pk)
    pack.status, pack.file = PackStatus.EXPIRED, ""
    pack.save()
    assert EvidencePack.objects.get(pk=built.pk).status == PackStatus.EXPIRED


def test_a_missing_signing_key_fails_the_pack_with_what_to_do(grc_user, inventory, fake_pdf, settings, tmp_path):
    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "absent.pem"
    pack = request_pack(grc_user)
    failed = builder.build_pack(pack.pk)
    assert failed.status == PackStatus.FAILED
    assert "evidence_signing_key --create-if-missing" in failed.last_error
    assert not failed.file
