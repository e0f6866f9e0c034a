"""Shared by the evidence-pack core tests: the signing key in a private folder, a small inventory, a pack
builder with a stand-in for the PDF side (content and rendering) when a test is about the core only, and
helpers to read and tamper with a built zip."""

from __future__ import annotations

import datetime as dt
import io
import types
import zipfile
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from evidence.models import EvidencePack, PackStatus
from evidence.packs import builder, jobs, signing
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    UserFactory,
)

__all__ = ["PartyFactory", "UserFactory", "io"]

WINDOW = {"window_from": dt.date(2026, 1, 1), "window_to": dt.date(2026, 11, 28)}


@pytest.fixture
def signing_key(settings, tmp_path):
    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "keys" / "evidence-signing-key.pem"
    signing.create_key_file()
    return signing.app_public_key()


@pytest.fixture
def us(db):
    return PartyFactory(name="Example AI Ltd", is_us=True, roles=["AP", "OSP"])


@pytest.fixture
def inventory(db, us):
    """Two stores, five keys (one destroyed), bindings and grants."""
    prod, dev = KeyStoreFactory(name="prod-kms"), KeyStoreFactory(name="dev-vault")
    keys = [KeyFactory(name=f"orders-dek-{n}", store=prod) for n in range(3)]
    keys.append(KeyFactory(name="legacy-dek", store=prod, state="destroyed"))
    keys.append(KeyFactory(name="dev-dek", store=dev))
    BindingFactory(key=keys[0])
    BindingFactory(key=keys[1])
    AccessGrantFactory(key=keys[0])
    return {"prod": prod, "dev": dev, "keys": keys}


@dataclass
class FakeContent:
    """Stands in for ``evidence.packs.content.PackContent`` in tests of the core alone."""

    title: str
    window: tuple
    generated: dt.datetime
    figures: dict = field(default_factory=dict)


@dataclass
class FakeRendered:
    data: bytes
    pages: int
    seconds: float
    html: str


def make_fakes(calls: dict):
    """(collect, render) standing in for the PDF side; they record in ``calls`` what the builder gave them."""
    calls.setdefault("collect", 0)
    calls.setdefault("digests", [])

    def collect(pack, progress):
        calls["collect"] += 1
        progress(50, "collecting")
        return FakeContent(title="CEK-11", window=(pack.window_from, pack.window_to), generated=timezone.now())

    def render(pack, content, data_digest, data_manifest, data_rows=None):
        calls["digests"].append(data_digest)
        calls["data_manifest"] = data_manifest
        calls["public_key"] = pack.signing_public_key
        body = f"%PDF-1.7\n% fake pack {pack.uid} data manifest digest {data_digest}\n%%EOF\n".encode()
        return FakeRendered(data=body, pages=3, seconds=0.01, html="<html></html>")

    return collect, render


@pytest.fixture
def queued(monkeypatch):
    """Record the builds queued instead of sending them to the broker; the list of pack ids."""
    sent: list[int] = []

    def send(name, args):
        assert name == "evidence.tasks.pack_build"
        sent.append(args[0])
        return types.SimpleNamespace(id=f"task-{len(sent)}")

    monkeypatch.setattr("cek.jobs.queue.send", send)
    return sent


@pytest.fixture
def fake_pdf(monkeypatch):
    """Replace the PDF side (collect + render) with small fakes; records what the builder passed them."""
    calls: dict = {}
    collect, render = make_fakes(calls)
    monkeypatch.setattr(builder, "_collect", collect)
    monkeypatch.setattr(builder, "_render", render)
    return calls


def request_pack(actor, **fields) -> EvidencePack:
    return jobs.pack_create(actor=actor, **{**WINDOW, **fields})


def build(actor, **fields) -> EvidencePack:
    pack = request_pack(actor, **fields)
    built = builder.build_pack(pack.pk)
    assert built.status == PackStatus.READY, built.last_error
    return built


def zip_bytes(pack: EvidencePack) -> bytes:
    with pack.file.open("rb") as handle:
        return handle.read()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> io.BytesIO:
    """A new archive holding ``files`` (how someone would alter a pack's content and re-zip it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    out.seek(0)
    return out


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]
