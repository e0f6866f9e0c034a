"""The CycloneDX terms the CBOM importer (and the CBOM export) read and write: spec versions, material types and
the kinds they stand for, algorithm primitives, and the date fields of key material."""

from __future__ import annotations

from inventory.models import KeyKind

SPEC_VERSIONS = ("1.5", "1.6", "1.7")
MATERIAL = "relatedCryptoMaterialProperties"

# relatedCryptoMaterialProperties.type of each kind (export). Not one to one: certificate private keys are
# private keys, so the export also writes the kind itself (cek:kind).
KIND_MATERIAL_TYPES: dict[str, str] = {
    KeyKind.SYMMETRIC_KEY: "secret-key",
    KeyKind.PRIVATE_KEY: "private-key",
    KeyKind.CERTIFICATE_PRIVATE_KEY: "private-key",
    KeyKind.PUBLIC_KEY: "public-key",
    KeyKind.API_TOKEN: "token",
    KeyKind.PASSWORD: "password",
    KeyKind.SHARED_SECRET: "shared-secret",
    KeyKind.OTHER: "other",
}
# The kind of each type that is a key or secret (import). A bare "key" of a symmetric algorithm is a
# symmetric key (see ComponentReader.read).
MATERIAL_KINDS: dict[str, str] = {
    "private-key": KeyKind.PRIVATE_KEY,
    "public-key": KeyKind.PUBLIC_KEY,
    "secret-key": KeyKind.SYMMETRIC_KEY,
    "key": KeyKind.OTHER,
    "shared-secret": KeyKind.SHARED_SECRET,
    "password": KeyKind.PASSWORD,
    "credential": KeyKind.PASSWORD,
    "token": KeyKind.API_TOKEN,
    "seed": KeyKind.OTHER,
    "other": KeyKind.OTHER,
    "unknown": KeyKind.OTHER,
}
# Material that is neither a key nor a secret: not inventoried.
NOT_SECRETS = frozenset(
    {"ciphertext", "signature", "digest", "initialization-vector", "nonce", "salt", "tag", "additional-data"}
)
MATERIAL_TYPES = (*MATERIAL_KINDS, *sorted(NOT_SECRETS))
SYMMETRIC_PRIMITIVES = frozenset({"block-cipher", "stream-cipher", "ae", "mac", "key-wrap"})
# Primitives whose parameter set identifier, when a number, is the key length (AES-128, RSA-2048, DSA-2048); for
# the others it is a digest length (SHA-256, HMAC-SHA256) or a security level.
KEY_LENGTH_PRIMITIVES = frozenset({"block-cipher", "stream-cipher", "ae", "key-wrap", "pke", "signature", "kem"})
# Material types whose value may be a public key (kept as a fingerprint); any value of the others is refused.
PUBLIC_VALUE_TYPES = frozenset({"public-key", "key", "other", "unknown"})
DATES: dict[str, str] = {
    "creationDate": "created_on",
    "activationDate": "activated_on",
    "updateDate": "last_rotated_on",
    "expirationDate": "expires_on",
}
