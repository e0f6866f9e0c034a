"""The pack commands: evidence_signing_key creates the key once (0600) and inventories it; build_pack builds
inline through the same service and writes the zip; verify_pack prints what differs and exits non-zero."""

from __future__ import annotations

import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from evidence.models import EvidencePack, PackStatus
from evidence.packs import signing
from evidence.packs.data import DATA_FILES
from inventory.models import Key
from tests.evidence import packs_support
from tests.evidence.packs_support import flip, members, rezip

pytestmark = pytest.mark.django_db

fake_pdf, inventory, us = packs_support.fake_pdf, packs_support.inventory, packs_support.us


@pytest.fixture
def key_file(settings, tmp_path):
    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "var" / "evidence-signing-key.pem"
    return settings.CEK_EVIDENCE_SIGNING_KEY


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_key_command_creates_the_key_once_and_inventories_it(key_file, us):
    first = run("evidence_signing_key", "--create-if-missing")
    assert "Created a new Ed25519 evidence-signing key" in first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    info = signing.app_public_key()
    assert info.public_key in first and f"SHA256:{info.fingerprint}" in first
    assert "PRIVATE KEY" not in first
    again = run("evidence_signing_key", "--create-if-missing")
    assert "Created" not in again and info.public_key in again  # never replaced
    key = Key.objects.get(purpose__slug="evidence-signing")
    assert key.external_id == f"SHA256:{info.fingerprint}" and key.custodian == us
    inventory_line = next(line for line in first.splitlines() if line.startswith("Inventory:"))
    assert f"“{key.name}” in “{key.store.name}”" in inventory_line and f"/inventory/keys/{key.pk}/" in inventory_line
    assert "#" not in inventory_line  # a name and the key's page, not an internal reference


def test_the_key_command_without_a_key_says_how_to_create_one(key_file):
    with pytest.raises(CommandError, match="--create-if-missing"):
        run("evidence_signing_key")


def test_build_pack_then_verify_pack(grc_user, inventory, key_file, fake_pdf, tmp_path):
    signing.create_key_file()
    output = tmp_path / "pack.zip"
    printed = run("build_pack", "--from", "2026-01-01", "--to", "2026-06-30", "--output", str(output), "--seed", "s1")
    pack = EvidencePack.objects.get()
    assert pack.status == PackStatus.READY and pack.requested_by == grc_user and pack.sample_seed == "s1"
    assert f"Zip SHA-256:      {pack.sha256}" in printed
    assert output.read_bytes() == pack.file.open("rb").read()
    verified = run("verify_pack", str(output))
    assert f"VERIFIED: {len(DATA_FILES) + 1} files match the signed manifest." in verified  # the data files, the PDF

    files = members(output.read_bytes())
    files["evidence-pack.pdf"] = flip(files["evidence-pack.pdf"], 10)
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(rezip(files).getvalue())
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_pack", str(tampered), stdout=out)
    assert exit_info.value.code == 1
    assert "FAILED   evidence-pack.pdf: SHA-256 is" in out.getvalue() and "NOT VERIFIED" in out.getvalue()


def test_build_pack_refuses_bad_arguments(grc_user, us, key_file, tmp_path):
    with pytest.raises(CommandError, match="not a date"):
        run("build_pack", "--from", "2026-13-01", "--to", "2026-06-30", "--output", str(tmp_path / "p.zip"))
    with pytest.raises(CommandError, match="No key store named nowhere"):
        run(
            "build_pack",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--output",
            str(tmp_path / "p.zip"),
            "--store",
            "nowhere",
        )
    with pytest.raises(CommandError, match="before it starts"):
        run("build_pack", "--from", "2026-06-01", "--to", "2026-01-30", "--output", str(tmp_path / "p.zip"))


def test_build_pack_reports_a_failed_build(grc_user, inventory, key_file, fake_pdf, tmp_path):
    with pytest.raises(CommandError, match="failed: The evidence-signing key file"):
        run("build_pack", "--from", "2026-01-01", "--to", "2026-06-30", "--output", str(tmp_path / "p.zip"))


def test_verify_pack_of_a_missing_file_exits_2(tmp_path):
    with pytest.raises(CommandError) as error:
        run("verify_pack", str(tmp_path / "absent.zip"))
    assert error.value.returncode == 2
