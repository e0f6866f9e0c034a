"""Inputs built to make a pattern matcher backtrack: each repeats a fragment that opens a match the matcher must
then abandon (a PEM header without its end, an assignment without a value, base64 without a boundary ...).

Each builder takes a size in bytes and returns text of about that size, so the same input can be checked at two
sizes: ``tests/cek/test_keymaterial.py`` asserts that the work grows linearly with the size (a backtracking
pattern grows with its square), ``benchmarks/keymaterial_speed.py`` times a megabyte against a target.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable


def _repeat(fragment: str) -> Callable[[int], str]:
    return lambda size: fragment * max(1, size // len(fragment))


def _random_base64(size: int) -> str:
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()


def _wrapped(text: str, width: int = 64) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "a-1MB": _repeat("a"),
    "random-base64-1MB": _random_base64,
    "wrapped-base64-1MB": lambda size: _wrapped(_random_base64(size)),
    "hex-1MB": _repeat("0123456789abcdef"),
    "jwt-prefixes": _repeat("eyJ-"),
    "alternating-classes": _repeat("aA1-"),
    "assignments": _repeat("password=x "),
    "pem-headers": _repeat("-----BEGIN "),
    "colons": _repeat("a:"),
    "url-prefixes": _repeat("://a:"),
    "padding": _repeat("="),
    "digest-prefixes": _repeat("sha256:"),
    "random-alnum-1MB": lambda size: _random_base64(size).replace("+", "x").replace("/", "Y"),
}

# Field values as imports and forms see them (names, resource ids, descriptions): the common case's cost.
TYPICAL_FIELDS = [
    "arn:aws:kms:eu-west-1:111122223333:key/k-000123",
    "Encrypts inference logs for EU tenants.",
    "inference-log-encryption-key-prod-2024",
    "projects/p/locations/global/keyRings/r/cryptoKeys/k",
    "Customer-managed key for the feature store",
    "team-ml-platform-eu-west-1-inference-key",
    "AES-256-GCM for the model artifact bucket",
    "ml-platform@example.com, escalation #sec",
    "1234abcd-12ab-34cd-56ef-1234567890ab key",
    "Rotated yearly; reviewed by GRC on 2025-01",
]
