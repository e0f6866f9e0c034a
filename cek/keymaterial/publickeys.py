"""Telling public keys (which may be recorded) from private ones (which may not).

A public key, a certificate or a certificate request holds nothing secret; the inventory keeps its fingerprint
rather than its value, but text that quotes one is not refused. What is judged here:

- PEM blocks that are not labelled private: the body must parse (with ``cryptography``) as a certificate,
  certificate request, CRL or public key; a body that does not parse is refused, since a label is easy to
  change and a private key pasted under ``BEGIN CERTIFICATE`` is still a private key.
- OpenSSH public key lines (``ssh-ed25519 AAAA... comment``, certificates too): the key must parse.
- JSON Web Keys: public when none of the private members (``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``oth``,
  ``k`` of a symmetric key, ``priv``) has a value.
- DER, in base64 or hex: read by its ASN.1 structure, so a *prefix* is judged too. ``SEQUENCE { INTEGER 0,
  SEQUENCE {...} ...}`` is PKCS#8, ``{ INTEGER 1, OCTET STRING }`` SEC1, ``{ INTEGER 0, INTEGER ...}`` PKCS#1,
  ``{ SEQUENCE { OID pbes2 ...} ...}`` an encrypted PKCS#8; ``{ SEQUENCE { OID ecPublicKey|rsaEncryption|... }
  BIT STRING }`` a SubjectPublicKeyInfo. The first 100 characters of an EC PKCS#8 key hold its whole private
  scalar: they are refused by their first 10.
- SSH wire-format blobs (``AAAAC3NzaC1lZDI1NTE5...``): public when they load, private when they are an
  ``openssh-key-v1`` body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

PUBLIC = "public"  # a verdict: the blob is a public key or certificate (pass)

_PEM_HEADER = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_PEM_WINDOW = 256 * 1024  # a PEM block (a certificate chain member, a 16k-bit RSA key) is far shorter
_MAX_BLOCKS = 200
_SSH_LINE = re.compile(
    r"\b((?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com"
    r"|sk-ecdsa-sha2-nistp256@openssh\.com)(?:-cert-v01@openssh\.com)?)[ \t]+(AAAA[A-Za-z0-9+/]{8,}={0,3})"
)
_SSH_TYPES = (
    b"ssh-rsa", b"ssh-dss", b"ssh-ed25519", b"ssh-ed448", b"ecdsa-sha2-nistp256", b"ecdsa-sha2-nistp384",
    b"ecdsa-sha2-nistp521", b"sk-ssh-ed25519@openssh.com", b"sk-ecdsa-sha2-nistp256@openssh.com",
)  # fmt: skip
JWK_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv")
# Members of a public JWK whose values are public by definition (moduli, points, thumbprints, certificates).
_JWK_PUBLIC_MEMBERS = ("n", "e", "x", "y", "pub", "x5t", "x5t#S256", "x5c", "kid")
_JWK_OBJECT_STARTS = 64  # object openings tried when the text is not one JSON document

# DER object identifiers (the encoded bytes after 06 len) of public-key algorithms and of PKCS#8 encryption.
_PUBLIC_ALGORITHMS = {
    bytes.fromhex("2a864886f70d010101"),  # rsaEncryption
    bytes.fromhex("2a864886f70d01010a"),  # RSASSA-PSS
    bytes.fromhex("2a8648ce3d0201"),  # ecPublicKey
    bytes.fromhex("2a8648ce380401"),  # DSA
    bytes.fromhex("2a864886f70d010301"),  # dhKeyAgreement
    bytes.fromhex("2b656e"),  # X25519
    bytes.fromhex("2b656f"),  # X448
    bytes.fromhex("2b6570"),  # Ed25519
    bytes.fromhex("2b6571"),  # Ed448
    bytes.fromhex("2a811ccf5501822d"),  # SM2
}
_PQC_ALGORITHM_PREFIX = (
    bytes.fromhex("6086480165030403"),
    bytes.fromhex("6086480165030404"),
)  # 2.16.840.1.101.3.4.3.x ML-DSA/SLH-DSA, .4.x ML-KEM
_ENCRYPTION_PREFIXES = (
    bytes.fromhex("2a864886f70d0105"),  # PKCS#5 (PBES1, PBES2 1.2.840.113549.1.5.13)
    bytes.fromhex("2a864886f70d010c01"),  # PKCS#12 PBE
)


def _der_length(raw: bytes, at: int) -> tuple[int, int] | None:
    """(length, offset of the content) of the TLV whose length byte is at ``at``; None when unreadable."""
    if at >= len(raw):
        return None
    first = raw[at]
    if first < 0x80:
        return first, at + 1
    count = first & 0x7F
    if count == 0 or count > 4 or at + 1 + count > len(raw):
        return None
    return int.from_bytes(raw[at + 1 : at + 1 + count], "big"), at + 1 + count


def _oid_at(raw: bytes, at: int) -> bytes | None:
    if raw[at : at + 1] != b"\x06":
        return None
    header = _der_length(raw, at + 1)
    if header is None:
        return None
    length, start = header
    return raw[start : start + length]


def _is_public_algorithm(oid: bytes | None) -> bool:
    return oid is not None and (oid in _PUBLIC_ALGORITHMS or oid.startswith(_PQC_ALGORITHM_PREFIX))


def _loads_as_public(raw: bytes) -> bool:
    loaders = (
        serialization.load_der_public_key,
        x509.load_der_x509_certificate,
        x509.load_der_x509_csr,
        x509.load_der_x509_crl,
    )
    for load in loaders:
        try:
            load(raw)
            return True
        except Exception:  # noqa: S110 - any parse failure (ValueError, UnsupportedAlgorithm, ...) is "not this"
            pass
    return False


def classify_der(raw: bytes) -> str | None:
    """:data:`PUBLIC`, the reason a DER structure (whole or a prefix) is a private key, or None when it is not
    recognisably either."""
    if len(raw) < 8 or raw[0] != 0x30:
        return None
    outer = _der_length(raw, 1)
    if outer is None:
        return None
    at = outer[1]
    head = raw[at : at + 4]
    if head[:4] == b"\x02\x01\x00\x30" or head[:4] == b"\x02\x01\x01\x30":
        return "a PKCS#8 private key (DER)"
    if head[:4] == b"\x02\x01\x01\x04":
        return "a SEC1 EC private key (DER)"
    if head[:4] == b"\x02\x01\x00\x02":
        return "a PKCS#1 RSA (or DSA) private key (DER)"
    if head[:4] == b"\x02\x01\x03\x30":
        return "a PKCS#12 key store"
    if _loads_as_public(raw):
        return PUBLIC
    if head[:1] == b"\x30":
        inner = _der_length(raw, at + 1)
        if inner is None:
            return None
        inner_start = inner[1]
        oid = _oid_at(raw, inner_start)
        if oid is not None and oid.startswith(_ENCRYPTION_PREFIXES):
            return "an encrypted PKCS#8 private key (DER)"
        if _is_public_algorithm(oid):
            return PUBLIC  # a SubjectPublicKeyInfo, or the start of one
        if raw[inner_start : inner_start + 4] == b"\xa0\x03\x02\x01":
            return PUBLIC  # the start of a certificate: tbsCertificate opens with its version
    if head[:1] == b"\x02" and head[1:2] in (b"\x81", b"\x82"):
        return PUBLIC  # PKCS#1 RSAPublicKey: the modulus first, no version
    return None


def classify_ssh_blob(raw: bytes) -> str | None:
    """:data:`PUBLIC` for an SSH public key in wire format that loads, the reason for an OpenSSH private key
    body, None for anything else."""
    if raw.startswith(b"openssh-key-v1\x00"):
        return "an OpenSSH private key"
    if len(raw) < 8 or raw[:3] != b"\x00\x00\x00":
        return None
    name = raw[4 : 4 + raw[3]]
    if name not in _SSH_TYPES and not name.endswith(b"-cert-v01@openssh.com"):
        return None
    return PUBLIC if ssh_key_loads(name.decode(), raw) else None


def ssh_key_loads(key_type: str, raw: bytes) -> bool:
    line = key_type.encode() + b" " + base64.b64encode(raw)
    try:
        serialization.load_ssh_public_identity(line)
    except Exception:  # malformed or unsupported: not a loadable public key
        return _sk_key_shape(key_type, raw)
    return True


def _sk_key_shape(key_type: str, raw: bytes) -> bool:
    """Security-key (FIDO) SSH keys, which ``cryptography`` does not load: the wire name matches the line's
    type and the blob ends with the application string (``ssh:`` by default)."""
    return key_type.startswith("sk-") and raw[4 : 4 + raw[3]] == key_type.encode() and b"ssh:" in raw[-64:]


def _decode_pem_body(body: str) -> bytes | None:
    lines = [line.strip() for line in body.strip().splitlines()]
    lines = [line for line in lines if line and ":" not in line]  # RFC 1421 headers (Proc-Type: ...)
    if lines and lines[-1].startswith("=") and len(lines[-1]) == 5:
        lines.pop()  # the OpenPGP armour checksum
    try:
        return base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError):
        return None


def _pem_block_is_public(label: str, raw: bytes) -> bool:
    if label == "PGP PUBLIC KEY BLOCK":
        # The first packet of a transferable public key is a Public-Key packet (tag 6), old or new format.
        return bool(raw) and (raw[0] in (0x98, 0x99, 0x9A, 0xC6))
    if label.endswith("PARAMETERS"):
        return len(raw) < 1200 and raw[:1] in (b"\x30", b"\x06")  # EC/DH/DSA domain parameters are public
    return classify_der(raw) == PUBLIC or (label == "OPENSSH PUBLIC KEY" and classify_ssh_blob(raw) == PUBLIC)


def mask_public(text: str) -> tuple[str, str | None]:
    """``text`` with its public keys, certificates and public JWK values blanked out, and the reason when a
    block that claims to be public is not (or a JWK holds private members). Cheap when none is present."""
    reason = None
    if "-----BEGIN " in text:
        text, reason = _mask_pem(text)
    if reason is None and ("AAAA" in text):
        text, reason = _mask_ssh_lines(text)
    if reason is None and '"kty"' in text:
        text, reason = _mask_jwks(text)
    return text, reason


def _mask_pem(text: str) -> tuple[str, str | None]:
    pieces: list[str] = []
    position = 0
    for count, match in enumerate(_PEM_HEADER.finditer(text)):
        label = match.group(1)
        if match.start() < position:
            continue
        if "PRIVATE" in label:
            return text, "a PEM private key block"
        if count >= _MAX_BLOCKS:
            return text, "a PEM block"  # hundreds of blocks in one field: not worth telling apart
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, match.end(), match.end() + _PEM_WINDOW)
        if end == -1:
            return text, "a PEM block that is not a complete certificate or public key"
        raw = _decode_pem_body(text[match.end() : end])
        if raw is None or not _pem_block_is_public(label, raw):
            return text, f"a PEM block labelled {label.lower()} whose body is not one"
        pieces.append(text[position : match.start()])
        pieces.append(" ")
        position = end + len(end_marker)
    pieces.append(text[position:])
    return "".join(pieces), None


def _mask_ssh_lines(text: str) -> tuple[str, str | None]:
    if not _SSH_LINE.search(text):
        return text, None
    for match in _SSH_LINE.finditer(text):
        try:
            raw = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not raw or not ssh_key_loads(match.group(1), raw):
            return text, "an SSH key line whose key does not parse (record its fingerprint instead)"
    return _SSH_LINE.sub(" ", text), None


def _jwk_objects(text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except (ValueError, RecursionError):
        pass
    decoder = json.JSONDecoder()
    found: list[Any] = []
    start = text.find("{")
    tries = 0
    while start != -1 and tries < _JWK_OBJECT_STARTS:
        tries += 1
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            start = text.find("{", start + 1)
            continue
        found.append(value)
        start = text.find("{", end)
    return found


def _walk_jwks(value: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 20:
        return
    if isinstance(value, dict):
        if isinstance(value.get("kty"), str):
            out.append(value)
        for member in value.values():
            _walk_jwks(member, out, depth + 1)
    elif isinstance(value, list):
        for member in value:
            _walk_jwks(member, out, depth + 1)


def _mask_jwks(text: str) -> tuple[str, str | None]:
    keys: list[dict[str, Any]] = []
    for document in _jwk_objects(text):
        _walk_jwks(document, keys)
    public_values: set[str] = set()
    for key in keys:
        for member in JWK_PRIVATE_MEMBERS:
            if key.get(member) not in (None, "", [], {}):
                return text, f"a JSON Web Key with its private member '{member}'"
        for member in _JWK_PUBLIC_MEMBERS:
            value = key.get(member)
            values = value if isinstance(value, list) else [value]
            public_values.update(v for v in values if isinstance(v, str) and len(v) >= 8)
    for value in sorted(public_values, key=len, reverse=True):
        text = text.replace(value, " ")
    return text, None


def public_key_fingerprint(value: Any) -> tuple[str, str] | None:
    """``(kind, SHA-256 hex of the SubjectPublicKeyInfo)`` of a public key or certificate given as PEM, base64 or
    hex DER, an OpenSSH public key line, or a public JWK (a dict or its JSON); None when it cannot be parsed as
    one (a private key included). ``kind`` is the key type: ``rsa-2048``, ``ec-secp256r1``, ``ed25519``, ..."""
    try:
        key = _load_public_key(value)
    except Exception:  # every parse failure means "not a public key we can read"
        return None
    if key is None:
        return None
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _key_kind(key), hashlib.sha256(spki).hexdigest()


def _key_kind(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

    if isinstance(key, rsa.RSAPublicKey):
        return f"rsa-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ec-{key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"dsa-{key.key_size}"
    names = {
        ed25519.Ed25519PublicKey: "ed25519",
        ed448.Ed448PublicKey: "ed448",
        x25519.X25519PublicKey: "x25519",
        x448.X448PublicKey: "x448",
    }
    for cls, name in names.items():
        if isinstance(key, cls):
            return name
    return type(key).__name__.lower()


def _load_public_key(value: Any) -> Any:
    if isinstance(value, dict):
        return _jwk_public_key(value)
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("{"):
        return _jwk_public_key(json.loads(text))
    match = _PEM_HEADER.search(text)
    if match:
        label = match.group(1)
        if "PRIVATE" in label:
            return None
        if "CERTIFICATE" in label and "REQUEST" not in label:
            return x509.load_pem_x509_certificate(text.encode()).public_key()
        if "REQUEST" in label:
            return x509.load_pem_x509_csr(text.encode()).public_key()
        return serialization.load_pem_public_key(text.encode())
    ssh = _SSH_LINE.search(text)
    if ssh:
        return serialization.load_ssh_public_key(f"{ssh.group(1)} {ssh.group(2)}".encode())
    compact = "".join(text.split())
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", compact):
        raw = bytes.fromhex(compact)
    else:
        raw = base64.b64decode(
            compact + "=" * (-len(compact) % 4), altchars=b"-_" if "-" in compact or "_" in compact else None
        )
    if raw[:3] == b"\x00\x00\x00":
        return serialization.load_ssh_public_key(raw[4 : 4 + raw[3]] + b" " + base64.b64encode(raw))
    if classify_der(raw) != PUBLIC:
        return None
    for load in (x509.load_der_x509_certificate, x509.load_der_x509_csr):
        try:
            return load(raw).public_key()
        except ValueError:
            continue
    return serialization.load_der_public_key(raw)


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _b64url_bytes(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _jwk_public_key(jwk: Any) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

    if not isinstance(jwk, dict) or any(jwk.get(member) not in (None, "") for member in JWK_PRIVATE_MEMBERS):
        return None
    kty = jwk.get("kty")
    if kty == "RSA":
        return rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"])).public_key()
    if kty == "EC":
        curves = {
            "P-256": ec.SECP256R1(),
            "P-384": ec.SECP384R1(),
            "P-521": ec.SECP521R1(),
            "secp256k1": ec.SECP256K1(),
        }
        curve = curves[jwk["crv"]]
        return ec.EllipticCurvePublicNumbers(_b64url_int(jwk["x"]), _b64url_int(jwk["y"]), curve).public_key()
    if kty == "OKP":
        loaders = {
            "Ed25519": ed25519.Ed25519PublicKey,
            "Ed448": ed448.Ed448PublicKey,
            "X25519": x25519.X25519PublicKey,
            "X448": x448.X448PublicKey,
        }
        return loaders[jwk["crv"]].from_public_bytes(_b64url_bytes(jwk["x"]))
    return None
