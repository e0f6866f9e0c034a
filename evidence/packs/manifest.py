"""The manifest of an evidence pack and its digests.

``manifest.json`` lists every file of the pack (the PDF and the data files) with its SHA-256 and size, the
pack's metadata, the software version and the signing public key. ``manifest.sig`` holds the Ed25519 signature
of the exact bytes of ``manifest.json``, base64-encoded (one line, ASCII).

The PDF cannot show the final manifest's digest (the manifest includes the PDF's digest), so it shows the
*data manifest digest*: the SHA-256 of the canonical JSON of the data files' entries, which the manifest also
records (``data_digest``) and which anyone can recompute from the manifest's ``files``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FORMAT = "cek-evidence-pack/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
PDF_NAME = "evidence-pack.pdf"
CONTROL_FILES = (MANIFEST_NAME, SIGNATURE_NAME)
DATA_DIGEST_METHOD = (
    "SHA-256 of the canonical JSON (UTF-8, keys sorted, no whitespace) of the list of {name, sha256, size} of "
    "every file except evidence-pack.pdf, manifest.json and manifest.sig, sorted by name"
)
SIGNATURE_METHOD = "Ed25519 signature of the exact bytes of manifest.json, base64-encoded in manifest.sig"


@dataclass(frozen=True)
class FileEntry:
    name: str
    sha256: str
    size: int

    def as_dict(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def file_entry(path: Path, *, name: str | None = None) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(name=name or path.name, sha256=digest.hexdigest(), size=size)


def bytes_entry(name: str, data: bytes) -> FileEntry:
    return FileEntry(name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def is_data_file(name: str) -> bool:
    return name != PDF_NAME and name not in CONTROL_FILES


def data_manifest_bytes(entries: Iterable[FileEntry | dict]) -> bytes:
    """The data manifest: the data files among ``entries`` (name, SHA-256, size), sorted by name, as canonical JSON.
    The PDF carries it as its associated file ``data-files.json``; its SHA-256 is the data digest."""
    rows = []
    for entry in entries:
        row = entry.as_dict() if isinstance(entry, FileEntry) else entry
        if is_data_file(row["name"]):
            rows.append({"name": row["name"], "sha256": row["sha256"], "size": row["size"]})
    rows.sort(key=lambda row: row["name"])
    return canonical_json(rows)


def data_digest(entries: Iterable[FileEntry | dict]) -> str:
    """The data manifest digest (see the module docstring) over the data files among ``entries``."""
    return hashlib.sha256(data_manifest_bytes(entries)).hexdigest()


def build_manifest(
    *, files: list[FileEntry], pack: dict, software: dict, signing: dict, data_digest_value: str
) -> bytes:
    """The bytes of ``manifest.json`` (indented for people, keys sorted so it is stable)."""
    document = {
        "format": FORMAT,
        "pack": pack,
        "software": software,
        "signing": {**signing, "signature_file": SIGNATURE_NAME, "method": SIGNATURE_METHOD},
        "data_digest": data_digest_value,
        "data_digest_method": DATA_DIGEST_METHOD,
        "files": [entry.as_dict() for entry in sorted(files, key=lambda e: e.name)],
    }
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
