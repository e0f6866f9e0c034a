"""What a CycloneDX 1.7 CBOM says that the 1.6 one cannot, for the components of :mod:`inventory.exporters.cbom`.

cyclonedx-python-lib 11.12 writes the 1.7 frame and the fields 1.6 and 1.7 share, but not the crypto fields 1.7
added, so the export rewrites each component's JSON (a dict) here:

- a key names its algorithm as a related cryptographic asset (``relatedCryptographicAssets``) instead of the
  ``algorithmRef`` that 1.7 deprecates;
- an algorithm states its ``algorithmFamily`` and ``ellipticCurve`` (both from the 1.7 schema's registry,
  ``cryptography-defs.schema.json``: a value outside it would make the document invalid, so only strings that
  clearly name one are mapped, and anything else is left out rather than guessed) and the primitive ``key-wrap``,
  new in 1.7 (1.6 has no such value, so the 1.6 export keeps calling those algorithms block ciphers).

The CBOM importer reads both shapes (``relatedCryptographicAssets`` of type algorithm, or ``algorithmRef``).
"""

from __future__ import annotations

import re
from typing import Any

# Algorithm string (upper case) -> family of the 1.7 registry; first match wins, so the more specific come first.
FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), family)
    for pattern, family in (
        (r"^(3DES|TDEA|DESEDE|TRIPLE[-_ ]?DES)", "3DES"),
        (r"^DES\b", "DES"),
        (r"^AES", "AES"),
        (r"^ARIA", "ARIA"),
        (r"^CAMELLIA", "CAMELLIA"),
        (r"^CHACHA20", "ChaCha20"),
        (r"^HMAC", "HMAC"),
        (r"^CMAC", "CMAC"),
        (r"^HKDF", "HKDF"),
        (r"^PBKDF2", "PBKDF2"),
        (r"^SCRYPT", "scrypt"),
        (r"^ARGON2", "Argon2"),
        (r"^BCRYPT", "bcrypt"),
        (r"^ECDSA", "ECDSA"),
        (r"^ECDH", "ECDH"),
        (r"^(ED25519|ED448|EDDSA)", "EdDSA"),
        (r"^ML[-_]?DSA", "ML-DSA"),
        (r"^ML[-_]?KEM", "ML-KEM"),
        (r"^SLH[-_]?DSA", "SLH-DSA"),
        (r"^RSA(ES)?[-_]OAEP", "RSAES-OAEP"),
        (r"^RSA(SSA)?[-_]PSS", "RSASSA-PSS"),
        (r"^SM2", "SM2"),
        (r"^SM4", "SM4"),
        (r"^SHA3", "SHA-3"),
        (r"^SHA[-_]?(224|256|384|512)", "SHA-2"),
        (r"^SHA[-_]?1\b", "SHA-1"),
    )
)
# Curves, looked for only in strings of elliptic-curve algorithms (see _CURVE_ALGORITHM).
_CURVE_ALGORITHM = re.compile(r"EC|ED25519|ED448|X25519|X448|SECP|BRAINPOOL|SM2")
CURVES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), curve)
    for pattern, curve in (
        (r"SECP256K1|SECG[-_]?P256K1", "secg/secp256k1"),
        (r"BRAINPOOL[-_ ]?P(160|192|224|256|320|384|512)R1", r"brainpool/brainpoolP\1r1"),
        (r"PRIME256V1", "x962/prime256v1"),
        (r"SECP(224|256|384|521)R1", r"secg/secp\1r1"),
        (r"(?<![A-Z0-9])P[-_]?(192|224|256|384|521)(?![0-9])", r"nist/P-\1"),
        (r"ED25519", "other/Ed25519"),
        (r"ED448", "other/Ed448"),
        (r"X25519", "other/Curve25519"),
        (r"X448", "other/Curve448"),
        (r"^SM2", "oscaa/SM2"),
    )
)
_KEY_WRAP = re.compile(r"(?<![A-Z0-9])KWP?(?![A-Z0-9])|WRAP")


def algorithm_family(algorithm: str) -> str | None:
    text = algorithm.strip().upper()
    return next((family for pattern, family in FAMILIES if pattern.search(text)), None)


def elliptic_curve(algorithm: str) -> str | None:
    text = algorithm.strip().upper().replace("NIST", " ")
    if not _CURVE_ALGORITHM.search(text):
        return None
    for pattern, curve in CURVES:
        match = pattern.search(text)
        if match:
            return match.expand(curve)
    return None


def is_key_wrap(algorithm: str) -> bool:
    return bool(_KEY_WRAP.search(algorithm.upper()))


def as_1_7(component: dict[str, Any]) -> dict[str, Any]:
    """The component (as the library wrote it for 1.7) with the 1.7 crypto fields; changed in place."""
    crypto = component.get("cryptoProperties") or {}
    material = crypto.get("relatedCryptoMaterialProperties")
    if material is not None:
        ref = material.pop("algorithmRef", None)
        if ref is not None:
            material["relatedCryptographicAssets"] = [{"type": "algorithm", "ref": ref}]
    algorithm = crypto.get("algorithmProperties")
    if algorithm is not None:
        name = component["name"]
        if is_key_wrap(name):
            algorithm["primitive"] = "key-wrap"
        if family := algorithm_family(name):
            algorithm["algorithmFamily"] = family
        if curve := elliptic_curve(name):
            algorithm["ellipticCurve"] = curve
    return component
