"""The key-material scan of a CBOM, judging the fields whose CycloneDX meaning is known by that meaning.

Every string is scanned, as for any JSON file, except:

- identifiers: a ``bom-ref``, and a reference (``ref``, ``dependsOn``, ``provides``, ``...Ref``, ``cryptoRefArray``,
  cipher suite ``algorithms``) naming a bom-ref of the file. Scanners derive bom-refs from digests (cbomkit-theia
  writes 64 hex digits), which look like 256-bit keys;
- a file path (an evidence occurrence's ``location``) is scanned one word at a time (names split at ``_ - .``):
  a CA file such as ``/usr/lib/ssl/certs/GTS_Root_R4.pem`` reads as base64 of 128 bits when taken whole. A hex
  or base64 secret used as a file name is still found, unless it holds one of those separators;
- a digest: a ``hashes`` entry (as every member in :attr:`CbomImporter.public_members`), and a member or a
  property whose name says it holds a hash, digest, fingerprint or commit (``lineHash``, cbomkit's ``commit``
  metadata property) when its value is hexadecimal of a digest's length (optionally after ``sha256:``);
- the public key values, which were replaced by their fingerprints before the scan (see :mod:`.publickeys`).

A code snippet (``additionalContext``) is scanned like any text: a hard-coded key is exactly what it may hold.
"""

from __future__ import annotations

import re
from typing import Any

from cek.keymaterial import find_key_material
from inventory.importers.base import _path_text

_REFERENCE_MEMBERS = frozenset({"bom-ref", "ref", "dependsOn", "provides", "cryptoRefArray", "algorithms"})
_DIGEST_NAME = re.compile(r"(?i)(hash|digest|fingerprint|checksum|commit|revision|sha-?\d)")
# A git commit (abbreviated from 7 digits), MD5, SHA-1, SHA-2 and SHA-3 digests, optionally named.
_DIGEST_VALUE = re.compile(
    r"(?i)(?:(?:sha-?\d{1,3}|sha3-\d{3}|md5|blake2[bs]?)[:=])?(?:[0-9a-f]{7,40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})"
)
# A path is read as the words of its names: "/usr/share/ca-certificates/mozilla/GDCA_TrustAUTH_R5_ROOT.crt" is
# no base64 secret, though its last 40 characters are base64 characters.
_PATH_WORDS = re.compile(r"[/\\_.\- ]+")


def _is_reference(name: str) -> bool:
    return name in _REFERENCE_MEMBERS or name.endswith(("Ref", "Refs"))


def _is_digest(name: Any, value: Any) -> bool:
    return (
        isinstance(name, str)
        and isinstance(value, str)
        and bool(_DIGEST_NAME.search(name))
        and bool(_DIGEST_VALUE.fullmatch(value))
    )


class _Scanner:
    def __init__(self, skip: frozenset[str], refs: frozenset[str]) -> None:
        self.skip, self.refs = skip, refs
        self.judged: dict[str, str | None] = {}

    def judge(self, text: str) -> str | None:
        reason = self.judged.get(text, "")
        if reason == "":
            reason = self.judged[text] = find_key_material(text)
        return reason

    def path_reason(self, text: str) -> str | None:
        for word in _PATH_WORDS.split(text):
            reason = self.judge(word)
            if reason:
                return reason
        return None

    def walk(self, value: Any, path: tuple[Any, ...], member: str = "") -> tuple[str, str] | None:
        if isinstance(value, str):
            if _is_reference(member) and value in self.refs:
                return None
            reason = self.path_reason(value) if member == "location" else self.judge(value)
            return (_path_text(path), reason) if reason else None
        if isinstance(value, dict):
            if set(value) <= {"name", "value"} and _is_digest(value.get("name"), value.get("value")):
                return None  # a property holding a digest: {"name": "lineHash", "value": "<64 hex>"}
            for name, item in value.items():
                reason = self.judge(name)
                if reason:
                    return f"{_path_text(path)} (a member name)", reason
                if name in self.skip or _is_digest(name, item):
                    continue
                found = self.walk(item, (*path, name), name)
                if found:
                    return found
        elif isinstance(value, list):
            for index, item in enumerate(value):
                found = self.walk(item, (*path, index), member)
                if found:
                    return found
        return None


def find_cbom_material(document: Any, *, skip: frozenset[str], refs: frozenset[str]) -> tuple[str, str] | None:
    """The first string of a CBOM that looks like key material, as ``(path, reason)``; None when there is none.
    ``refs`` are the bom-refs the file defines."""
    return _Scanner(skip, refs).walk(document, ())
