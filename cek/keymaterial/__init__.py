"""The one validator that keeps key material out of the app.

Every input path (forms, API serializers, importers, uploads, the pack request) runs it on free text and label
fields. It answers *why* a value looks like key material, never echoing the value back, so the message is safe
to show, log and store.

What is rejected, in the order it is checked:

1. Structures that claim to be public and are not: a PEM block labelled private, or labelled certificate /
   public key / request / parameters whose body does not parse as one (``cryptography``); an OpenSSH public
   key line whose key does not load; a JSON Web Key with a private member (``d``, ``p``, ``q``, ``dp``,
   ``dq``, ``qi``, ``oth``, ``k``, ``priv``). What parses as public is blanked out before the other checks.
2. Signatures: unarmoured ``BEGIN ... PRIVATE KEY`` headers, PuTTY keys, OpenSSH private key bodies, age
   secret keys, Google service-account key files, JWTs, vendor tokens with a known prefix (GitHub, GitLab,
   Slack, OpenAI/Anthropic, Stripe, Google, Hugging Face, Groq, Replicate, Perplexity, xAI, npm, PyPI,
   SendGrid, Vault), AWS session tokens, Entra ID client secrets (``xxx8Q~...``), bearer tokens, signed-URL
   and SAS signatures.
3. Credential assignments: ``password=...``, ``"client_secret": "..."``, ``AccountKey=...``, passwords
   embedded in URLs. Not when the value is a placeholder or a reference to where the secret lives
   (``$DB_PASSWORD``, ``<redacted>``, ``arn:...``, ``projects/...``), nor when the name is about the
   secret rather than the secret (``secret_arn``, ``token_url``, ``password_rotation_days``).
4. Long hexadecimal runs (32 digits, 128 bits, or more), unless they are hex DER of a public key.
5. Base64 / base64url, on one line or wrapped: DER is read by its ASN.1 structure, so a private key is
   refused from its first bytes (PKCS#8, SEC1 with or without its public part, PKCS#1, encrypted PKCS#8,
   PKCS#12; the first 100 characters of an EC PKCS#8 key hold its whole scalar) and a SubjectPublicKeyInfo,
   certificate or SSH public key blob passes; any other random binary of 16 bytes (128 bits) or more is
   refused, whatever its length, since a fragment that long can hold a key.
6. AWS secret access keys and other 40-character random tokens of ``[A-Za-z0-9/+]``.

Decisions, for what looks alike:

- Public keys are not secrets: PEM, JWK, OpenSSH and base64/hex DER public keys and certificates pass
  (:func:`public_key_fingerprint` gives the SHA-256 of the SubjectPublicKeyInfo to keep instead). A raw
  32-byte Ed25519 public key in base64 cannot be told from a 256-bit secret and is refused.
- Identifiers are accepted: UUIDs, AWS multi-region key ids (``mrk-`` + 32 hex), a 32- or 40-hex segment
  of a path or URL (an Azure Key Vault key version in a ``kid``, a dashless UUID, a commit id), ARNs,
  GCP resource names, Vault paths, certificate files named after a hash (``ca-<hex>.pem``, ``3513523f.0``).
  A bare 32-hex or 64-hex string is rejected: it is what an AES key looks like when printed.
- Fingerprints and digests are accepted when written as such: colon-separated hex (``AB:CD:...``) or
  labelled with their algorithm or role (``sha256:<hex>``, ``SHA256:<base64>`` as ``ssh-keygen -l`` prints
  it, ``lineHash=<hex>``, ``fingerprint: <hex>``, ``"x5t#S256": "..."``). The label is trusted: a key written
  as ``hash=<key>`` passes, a price paid so that CBOMs and certificate inventories import.
- Base64 that decodes to readable text is judged by that text: the base64 of an English sentence is
  accepted, the base64 of a PEM block, a service-account file or ``password=...`` is rejected. Like a bare
  password, a base64-wrapped password is only caught when it is labelled as one.
- Base64-alphabet words are told from random strings by how word-like they are (camel-case segments
  made of common English letter pairs), so ``InferenceLogEncryptionKey2024Prod`` is a name, not a key.

Rule sets compared (``benchmarks/secret_rules.py`` over the corpus in ``tests/corpus/``: 266 synthetic secret
shapes, 873 look-alikes). This validator refuses 266/266 secrets with 0/873 false positives; detect-secrets
1.5.0 with its default plugins and filters (entropy limits applied) refuses 245/266 with 497/873 false
positives, and refuses no secret this validator misses, so combining them only adds its false positives (266/266,
497/873). Its misses are Entra ID client secrets, short PKCS#8 prefixes, 128- and 160-bit keys in base64,
ADO/JDBC/Redis connection strings and unquoted ``password=`` assignments; its false positives are every kind
of identifier that carries hex or base64 (key versions in Azure kids, ``mrk-`` ids, ``lineHash=`` values,
digests, git commit URLs, public keys). Decision: keep the hand-written rules; detect-secrets is a test-only
dependency that the benchmark runs to keep the comparison honest. The corpus was written together with these
rules, so the validator's own figure shows the corpus is covered, not that real-world text is: detect-secrets'
figures are the independent part of the measurement.

Everything runs in linear time: every pattern that scans a run of characters starts only at the start of
such a run (a lookbehind or a literal), PEM blocks are looked for within a bounded window, and JSON is parsed
only when ``"kty"`` is present; so a megabyte of ``a`` or of random base64 is checked in a fraction of a
second. A typical 40-character field costs about 10 microseconds: most text has none of the signatures'
literal prefixes and no run of 20 base64 characters, and is let through after two searches.

Measured detection on random keys (2 x 10^4 of each): hex, padded base64 and base64url of 16 to 64 bytes,
and unpadded base64url of 24 bytes or more, are all caught; unpadded base64url of a 128-bit key is missed
about twice in 10^4 (22 characters that happen to read like words, or lack a letter case).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from cek.keymaterial.detect import _assignment_reason, _find
from cek.keymaterial.publickeys import public_key_fingerprint

__all__ = [
    "ADVICE",
    "KeyMaterialValidator",
    "check_text",
    "find_key_material",
    "message_for",
    "public_key_fingerprint",
    "scan_fields",
    "validate_labels",
]

ADVICE = "Record metadata about the key only (name, id, purpose), never the key, secret or token itself."


def find_key_material(value: Any) -> str | None:
    """Return why ``value`` looks like key material (a short phrase), or None when it looks harmless."""
    if value is None:
        return None
    return _find(value if isinstance(value, str) else str(value))


def message_for(field: str, reason: str) -> str:
    return f"{field} looks like it contains {reason}. {ADVICE}"


def check_text(value: Any, *, field: str) -> None:
    """Raise ``ValidationError`` naming ``field`` and the reason when ``value`` looks like key material."""
    reason = find_key_material(value)
    if reason:
        raise ValidationError(message_for(field, reason), code="key_material")


@deconstructible
class KeyMaterialValidator:
    """Model/form field validator. Django puts the error under the field, so the message says "This value"."""

    code = "key_material"

    def __call__(self, value: Any) -> None:
        reason = find_key_material(value)
        if reason:
            raise ValidationError(message_for("This value", reason), code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyMaterialValidator)

    def __hash__(self) -> int:
        return hash(self.code)


def _label_title(name: Any) -> str:
    """How a message refers to a label: by its name, unless the name itself may be a secret."""
    if isinstance(name, str) and len(name) <= 128 and not find_key_material(name):
        return f"Label '{name:.60}'"
    return "A label"


def validate_labels(value: Any, *, scan: bool = True) -> None:
    """Labels (KMS tags) are a flat mapping of short strings; neither keys nor values may hold material,
    and a label named like a secret (``db_password``) may not carry one.

    ``scan=False`` checks the shape only, for values whose every string was scanned already (an import
    file is scanned whole before it is read)."""
    if not isinstance(value, Mapping):
        raise ValidationError("Labels must be a mapping of tag names to values.", code="invalid")
    errors = []
    for name, tag_value in value.items():
        if not isinstance(name, str) or not isinstance(tag_value, (str, int, float, bool)):
            errors.append(f"{_label_title(name)}: values must be plain text.")
            continue
        # Key material first, whatever the length: a private key is longer than any tag, and a refusal for its
        # length alone would not say the upload holds key material.
        if scan:
            reason = find_key_material(name)
            if reason:
                errors.append(message_for("A label name", reason))
                continue
            reason = find_key_material(tag_value) or _assignment_reason(name, str(tag_value))
            if reason:
                errors.append(message_for(f"Label '{name:.60}'", reason))
                continue
        if len(name) > 128 or len(str(tag_value)) > 256:
            errors.append(f"{_label_title(name)}: tag names are at most 128 characters, values at most 256.")
    if errors:
        raise ValidationError(errors, code="key_material")


def scan_fields(values: Mapping[str, Any], fields: Iterable[str] | None = None) -> dict[str, str]:
    """Check several fields at once (importers, serializers): ``{field: message}`` for each offender.

    A field named like a secret (a ``password`` or ``client_secret`` column) is an offender whenever it
    holds a value that is not a placeholder.
    """
    problems: dict[str, str] = {}
    for field in fields if fields is not None else values.keys():
        value = values.get(field)
        if isinstance(value, Mapping):
            try:
                validate_labels(value)
            except ValidationError as exc:
                problems[field] = " ".join(exc.messages)
            continue
        reason = find_key_material(value)
        if not reason and isinstance(value, (str, int)) and not isinstance(value, bool):
            reason = _assignment_reason(str(field), str(value))
        if reason:
            problems[field] = message_for(f"'{field}'", reason)
    return problems
