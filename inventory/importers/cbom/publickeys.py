"""Public key values in a CBOM: a public key is no secret, so a component may carry it. The import keeps its
SHA-256 fingerprint, type and size, never the value.

Scanners write the value in several encodings: PEM (``-----BEGIN PUBLIC KEY-----``, ``RSA PUBLIC KEY``), the
base64 of the DER SubjectPublicKeyInfo without the PEM armour (cbomkit-theia, with ``format`` "PEM"), an
OpenSSH public key line, or a whole certificate. Anything that reads as a private key is refused by the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_PRIVATE_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")
MAX_VALUE = 64 * 1024  # a public key or certificate is a few KB; anything longer is not read


@dataclass(frozen=True, slots=True)
class PublicKey:
    """What the import keeps of a public key value: ``sha256`` is "sha256:" and the hex SHA-256 of the DER
    SubjectPublicKeyInfo (the prefix tells it from a 256-bit secret); ``type`` such as "RSA-2048", "EC P-256"."""

    sha256: str
    type: str
    size: int | None


@dataclass(frozen=True, slots=True)
class UnreadableValue:
    """A public-key component's value that is no readable public key and does not look like key material
    either (a placeholder, a truncated PEM): nothing of it is kept, and the row says so."""


class PrivateValue(ValueError):
    """The value reads as a private key."""


def _describe(key: Any) -> tuple[str, int | None]:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return f"EC {names.get(key.curve.name, key.curve.name)}", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA-{key.key_size}", key.key_size
    for kind, name in (
        (ed25519.Ed25519PublicKey, "Ed25519"),
        (ed448.Ed448PublicKey, "Ed448"),
        (x25519.X25519PublicKey, "X25519"),
        (x448.X448PublicKey, "X448"),
    ):
        if isinstance(key, kind):
            return name, None
    return type(key).__name__.removeprefix("_").removesuffix("PublicKey") or "public key", None


def _facts(key: Any) -> PublicKey:
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    kind, size = _describe(key)
    return PublicKey(sha256=f"sha256:{hashlib.sha256(spki).hexdigest()}", type=kind, size=size)


def _from_der(der: bytes) -> Any:
    try:
        return serialization.load_der_public_key(der)
    except (ValueError, TypeError, NotImplementedError):
        pass
    try:
        return x509.load_der_x509_certificate(der).public_key()
    except (ValueError, TypeError, NotImplementedError):
        pass
    try:
        serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, NotImplementedError):
        return None
    raise PrivateValue("a DER private key")


_PUBLIC_ARMOUR = re.compile(r"-----(?:BEGIN|END) (?:RSA )?(?:PUBLIC KEY|CERTIFICATE)-----")


def is_public_placeholder(value: str) -> bool:
    """Whether an unreadable value is a public key cut short, as examples write it: PEM armour saying PUBLIC
    KEY around nothing, or around the start of a SubjectPublicKeyInfo ("MIIBIjANBgkqh...")."""
    if not _PUBLIC_ARMOUR.search(value):
        return False
    body = "".join(_PUBLIC_ARMOUR.sub(" ", value).replace("...", " ").replace("…", " ").split())
    if not body:
        return True
    if not _BASE64.fullmatch(body):
        return False
    try:
        der = base64.b64decode(body[: len(body) // 4 * 4])
    except (binascii.Error, ValueError):
        return False
    # SEQUENCE { SEQUENCE { OID ... } ...}: a private key (PKCS#8, PKCS#1) starts with its version INTEGER instead.
    if len(der) < 4 or der[0] != 0x30:
        return False
    start = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    return der[start : start + 1] == b"\x30" and der[start + 2 : start + 3] == b"\x06"


def read_public_key(value: str) -> PublicKey | None:
    """The fingerprint, type and size of a public key ``value``; None when it is no readable public key.
    Raises :class:`PrivateValue` when it is a private key (PEM, or base64 DER)."""
    text = value.strip()
    if not text or len(text) > MAX_VALUE or not text.isascii():
        return None  # every encoding of a public key is ASCII (and a lone surrogate could not be encoded)
    if _PRIVATE_PEM.search(text):
        raise PrivateValue("a PEM private key")
    if text.startswith("-----BEGIN"):
        data = text.encode()
        try:
            return _facts(serialization.load_pem_public_key(data))
        except (ValueError, TypeError, NotImplementedError):
            pass
        try:
            return _facts(x509.load_pem_x509_certificate(data).public_key())
        except (ValueError, TypeError, NotImplementedError):
            return None
    if text.startswith(("ssh-", "ecdsa-sha2-")):
        try:
            return _facts(serialization.load_ssh_public_key(text.encode()))
        except (ValueError, TypeError, NotImplementedError):
            return None
    if not _BASE64.fullmatch(text):
        return None
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    key = _from_der(der)
    return _facts(key) if key is not None else None
