"""The key-material scan of a CBOM, judging the fields whose CycloneDX meaning is known by that meaning.

Every string is scanned, as for any JSON file, except:

- identifiers: a ``bom-ref``, and a reference (``ref``, ``dependsOn``, ``provides``, ``...Ref``, ``cryptoRefArray``,
  cipher suite ``algorithms``) naming a bom-ref of the file, when it is hexadecimal of a digest's length: scanners
  derive bom-refs from digests (cbomkit-theia writes 64 hex digits), which look like 256-bit keys. Any other
  bom-ref is judged like any text: a token is no identifier because it is used as one;
- a file path (an evidence occurrence's ``location``) is scanned one word at a time (names split at ``_ - .``):
  a CA file such as ``/usr/lib/ssl/certs/GTS_Root_R4.pem`` reads as base64 of 128 bits when taken whole. A hex
  or base64 secret used as a file name is still found, unless it holds one of those separators;
- a digest: the ``content`` of a ``hashes`` entry, and a member or a property whose name says it holds a hash,
  digest, fingerprint or commit (``lineHash``, cbomkit's ``commit`` metadata property), when its value is
  hexadecimal of a digest's length (optionally after ``sha256:``); a certificate's ``serialNumber`` and
  ``signature`` when they are hexadecimal (a serial number of at most 20 bytes). Anything else under those
  names is judged like any text;
- the public key values, which were replaced by their fingerprints before the scan (see :mod:`.publickeys`).

A code snippet (``additionalContext``) is scanned like any text: a hard-coded key is exactly what it may hold.
"""

from __future__ import annotations

import re
from typing import Any

from cek.keymaterial import find_key_material
from inventory.importers.base.scanning import _path_text

_REFERENCE_MEMBERS = frozenset({"bom-ref", "ref", "dependsOn", "provides", "cryptoRefArray", "algorithms"})
_DIGEST_NAME = re.compile(r"(?i)(hash|digest|fingerprint|checksum|commit|revision|sha-?\d)")
# A git commit (abbreviated from 7 digits), MD5, SHA-1, SHA-2 and SHA-3 digests, optionally named.
_DIGEST_VALUE = re.compile(
    r"(?i)(?:(?:sha-?\d{1,3}|sha3-\d{3}|md5|blake2[bs]?)[:=])?(?:[0-9a-f]{7,40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})"
)
# A certificate serial number (RFC 5280: at most 20 bytes), plain or colon-separated hex; a signature in hex.
_SERIAL = re.compile(r"(?i)[0-9a-f]{1,40}|[0-9a-f]{2}(?::[0-9a-f]{2}){0,19}")
_HEX_BLOB = re.compile(r"(?i)(?:[0-9a-f]{2})+|[0-9a-f]{2}(?::[0-9a-f]{2})+")
# A path is read as the words of its names: "/usr/share/ca-certificates/mozilla/GDCA_TrustAUTH_R5_ROOT.crt" is
# no base64 secret, though its last 40 characters are base64 characters.
_PATH_WORDS = re.compile(r"[/\\_.\- ]+")
_UNJUDGED = object()


_B64_SIGNATURE = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")


def _signature_value(member: str, name: str, item: Any) -> bool:
    """The ``value`` of a signed BOM's JSF ``signature`` (base64url of the signature bytes): public by definition,
    and random-looking like a key. Its ``publicKey`` is a JWK, scanned as usual (a private member refuses it)."""
    return (
        member == "signature" and name == "value" and type(item) is str and _B64_SIGNATURE.fullmatch(item) is not None
    )


class _Scanner:
    """Judges each distinct string and member name once. The first walk keeps no paths (a large file has
    millions of strings); the path is worked out only for an item that holds material."""

    def __init__(self, skip: frozenset[str], refs: frozenset[str]) -> None:
        self.skip, self.refs = skip, refs
        self.judged: dict[str, str | None] = {}
        self.names: dict[str, tuple[bool, bool]] = {}  # member name -> (a reference, named like a digest)

    def judge(self, text: str) -> str | None:
        reason = self.judged.get(text, _UNJUDGED)
        if reason is _UNJUDGED:
            reason = self.judged[text] = find_key_material(text)
        return reason

    def kind(self, name: str) -> tuple[bool, bool]:
        kind = self.names.get(name)
        if kind is None:
            reference = name in _REFERENCE_MEMBERS or name.endswith(("Ref", "Refs"))
            kind = self.names[name] = (reference, bool(_DIGEST_NAME.search(name)))
        return kind

    def text_reason(self, text: str, member: str) -> str | None:
        if member and self.kind(member)[0] and text in self.refs and _DIGEST_VALUE.fullmatch(text):
            return None  # an identifier derived from a digest: a bom-ref, or a reference to one
        if member == "location":
            for word in _PATH_WORDS.split(text):
                reason = self.judge(word)
                if reason:
                    return reason
            return None
        return self.judge(text)

    def is_digest(self, name: Any, value: Any) -> bool:
        if type(name) is not str or type(value) is not str:
            return False
        if name == "serialNumber":
            return _SERIAL.fullmatch(value) is not None
        if name == "signature":
            return _HEX_BLOB.fullmatch(value) is not None
        return self.kind(name)[1] and _DIGEST_VALUE.fullmatch(value) is not None

    def is_hash_entry(self, value: dict[str, Any]) -> bool:
        """A ``hashes`` entry, ``{"alg": "SHA-256", "content": "<hex>"}``, whose algorithm name is harmless."""
        alg, content = value.get("alg"), value.get("content")
        return (
            len(value) == 2
            and type(alg) is str
            and type(content) is str
            and _DIGEST_VALUE.fullmatch(content) is not None
            and not self.judge(alg)
        )

    def members(self, value: dict[str, Any], member: str = "") -> list[tuple[str, Any]] | None:
        """The members of an object to look into; None when a member name itself looks like key material."""
        if len(value) == 2 and self.is_digest(value.get("name"), value.get("value")):
            return []  # a property holding a digest: {"name": "lineHash", "value": "<64 hex>"}
        if self.is_hash_entry(value):
            return []
        found = []
        for name, item in value.items():
            if self.judge(name):
                return None
            if name not in self.skip and not self.is_digest(name, item) and not _signature_value(member, name, item):
                found.append((name, item))
        return found

    def holds(self, document: Any) -> bool:
        # The loop of members() and text_reason() written out: it runs once per string of the file.
        judged, skip = self.judged, self.skip
        stack: list[tuple[Any, str]] = [(document, "")]
        pop, push = stack.pop, stack.append
        while stack:
            value, member = pop()
            kind = type(value)
            if kind is str:
                if member == "location" or (member and self.kind(member)[0]):
                    if self.text_reason(value, member):
                        return True
                    continue
                reason = judged.get(value, _UNJUDGED)
                if reason is _UNJUDGED:
                    reason = judged[value] = find_key_material(value)
                if reason:
                    return True
            elif kind is dict:
                if len(value) == 2 and (
                    self.is_digest(value.get("name"), value.get("value")) or self.is_hash_entry(value)
                ):
                    continue
                for name, item in value.items():
                    reason = judged.get(name, _UNJUDGED)
                    if reason is _UNJUDGED:
                        reason = judged[name] = find_key_material(name)
                    if reason:
                        return True
                    if name in skip or self.is_digest(name, item) or _signature_value(member, name, item):
                        continue
                    push((item, name))
            elif kind is list:
                stack.extend([(item, member) for item in value])
        return False

    def find(self, value: Any, path: tuple[Any, ...], member: str = "") -> tuple[str, str] | None:
        if isinstance(value, str):
            reason = self.text_reason(value, member)
            return (_path_text(path), reason) if reason else None
        if isinstance(value, dict):
            members = self.members(value, member)
            if members is None:
                name = next(name for name in value if self.judge(name))
                return f"{_path_text(path)} (a member name)", self.judge(name) or ""
            for name, item in members:
                found = self.find(item, (*path, name), name)
                if found:
                    return found
        elif isinstance(value, list):
            for index, item in enumerate(value):
                found = self.find(item, (*path, index), member)
                if found:
                    return found
        return None


def find_cbom_material(document: Any, *, skip: frozenset[str], refs: frozenset[str]) -> tuple[str, str] | None:
    """The first string of a CBOM that looks like key material, as ``(path, reason)``; None when there is none.
    ``refs`` are the bom-refs the file defines."""
    scanner = _Scanner(skip, refs)
    return scanner.find(document, ()) if scanner.holds(document) else None
