"""The one validator that keeps key material out of the app.

Every input path (forms, API serializers, importers) runs it on free text and label fields. It answers
*why* a value looks like key material, never echoing the value back, so the message is safe to show,
log and store.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

ADVICE = "Record metadata about the key only (name, id, purpose), never the key, secret or token itself."

# (pattern, reason) pairs checked in order; the first match wins.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"), "a PEM private key block"),
    (re.compile(r"-----BEGIN [A-Z0-9 ]+-----"), "a PEM block (keys and certificates are not stored here)"),
    (re.compile(r"PuTTY-User-Key-File-\d"), "a PuTTY private key"),
    (re.compile(r'"private_key"\s*:|"type"\s*:\s*"service_account"'), "a Google Cloud service-account key file"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "a JSON Web Token"),
    (
        re.compile(r"(?i)aws_secret_access_key|secretaccesskey"),
        "an AWS secret access key assignment",
    ),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}"), "a GitHub token"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\bsk-(?:ant-|proj-|live_|test_)?[A-Za-z0-9_-]{20,}"), "an API secret key"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "a Google API key"),
    (re.compile(r"\b(?:hvs|hvb|hvr)\.[A-Za-z0-9_-]{20,}"), "a HashiCorp Vault token"),
    (
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)"
            r"\s*[:=]\s*[\"']?[^\s\"',;]{6,}"
        ),
        "a credential assignment (name=value)",
    ),
]

_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
# Decoded lengths of common symmetric keys and HMAC secrets: 128, 192, 256, 384, 512 bits.
_KEY_BYTES = {16, 24, 32, 48, 64}
_BLOB_BYTES = 96  # at or above this, a random-looking blob is treated as an encoded key (PKCS#8, DER)


def _class(ch: str) -> str:
    if ch.isupper():
        return "U"
    if ch.islower():
        return "l"
    if ch.isdigit():
        return "d"
    return "s"


def _looks_random(token: str) -> bool:
    """Random keys switch between upper case, lower case and digits on most characters; words and
    identifiers (``InferenceLogKey2024``, ``training-data-prod``) switch rarely."""
    if len(token) < 20:
        return False
    classes = [_class(ch) for ch in token]
    if len(set(classes) & {"U", "l", "d"}) < 3:
        return False
    switches = sum(1 for a, b in zip(classes, classes[1:]) if a != b) / (len(token) - 1)
    counts = Counter(token)
    entropy = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    return switches >= 0.35 and entropy >= 3.8


def _decoded_length(token: str) -> int | None:
    core = token.rstrip("=")
    if "-" in core or "_" in core:
        if "+" in core or "/" in core:
            return None  # mixes the two alphabets: not base64
        altchars = b"-_"
    else:
        altchars = None
    padded = core + "=" * (-len(core) % 4)
    try:
        raw = base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    return len(raw)


def find_key_material(value: Any) -> str | None:
    """Return why ``value`` looks like key material (a short phrase), or None when it looks harmless."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if len(text) < 16:
        return None
    for pattern, reason in _PATTERNS:
        if pattern.search(text):
            return reason
    for match in _HEX_RUN.finditer(text):
        return f"a {len(match.group()) * 4}-bit hexadecimal string (the length of a key or secret)"
    for match in _AWS_SECRET.finditer(text):
        if _looks_random(match.group()):
            return "an AWS secret access key"
    for match in _B64_TOKEN.finditer(text):
        token = match.group()
        if not _looks_random(token.rstrip("=")):
            continue
        length = _decoded_length(token)
        if length is None:
            continue
        if length in _KEY_BYTES:
            return f"a base64-encoded {length * 8}-bit secret"
        if length >= _BLOB_BYTES:
            return "a base64-encoded key blob (PKCS#8 / DER)"
    return None


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


def validate_labels(value: Any) -> None:
    """Labels (KMS tags) are a flat mapping of short strings; neither keys nor values may hold material."""
    if not isinstance(value, Mapping):
        raise ValidationError("Labels must be a mapping of tag names to values.", code="invalid")
    errors = []
    for name, tag_value in value.items():
        if not isinstance(name, str) or not isinstance(tag_value, (str, int, float, bool)) or tag_value is None:
            errors.append(f"Label {name!s:.60}: values must be plain text.")
            continue
        if len(name) > 128 or len(str(tag_value)) > 256:
            errors.append(f"Label {name:.60}: tag names are at most 128 characters, values at most 256.")
            continue
        reason = find_key_material(name)
        if reason:
            errors.append(message_for("A label name", reason))
            continue
        reason = find_key_material(tag_value)
        if reason:
            errors.append(message_for(f"Label '{name:.60}'", reason))
    if errors:
        raise ValidationError(errors, code="key_material")


def scan_fields(values: Mapping[str, Any], fields: Iterable[str] | None = None) -> dict[str, str]:
    """Check several fields at once (importers, serializers): ``{field: message}`` for each offender."""
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
        if reason:
            problems[field] = message_for(f"'{field}'", reason)
    return problems
