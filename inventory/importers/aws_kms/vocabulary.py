"""AWS KMS's vocabulary and how it maps to ours: key states, usages, managers and key specs (the reasoning is in
the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass

STORE_KIND = "aws-kms"

# AWS KeyState -> our KeyState value (see the package docstring for the reasoning).
KEY_STATES: dict[str, str] = {  # in the order AWS documents them
    "Creating": "pre-activation",  # a multi-Region replica being created: not usable yet
    "Enabled": "active",
    "Disabled": "suspended",  # can be enabled again
    "PendingDeletion": "deactivated",  # scheduled for deletion: unusable, the deletion can still be cancelled
    "PendingImport": "pre-activation",  # no key material (never imported, or it expired or was deleted)
    "PendingReplicaDeletion": "deactivated",  # a primary key waiting for its replicas to be deleted first
    "Unavailable": "suspended",  # its custom key store is disconnected: usable again once it reconnects
    "Updating": "active",  # a multi-Region key whose primary Region is changing: still usable
}
KEY_USAGES: tuple[str, ...] = (
    "ENCRYPT_DECRYPT",
    "SIGN_VERIFY",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "ENCAPSULATE_DECAPSULATE",
)
KEY_MANAGERS: tuple[str, ...] = ("AWS", "CUSTOMER")


@dataclass(frozen=True, slots=True)
class KeySpecInfo:
    kind: str  # a KeyKind value
    algorithm: str
    size_bits: int | None  # None for the post-quantum parameter sets, which have no single key size


_SYMMETRIC, _PRIVATE = "symmetric-key", "private-key"
KEY_SPECS: dict[str, KeySpecInfo] = {
    "SYMMETRIC_DEFAULT": KeySpecInfo(_SYMMETRIC, "AES-256-GCM", 256),
    "HMAC_224": KeySpecInfo(_SYMMETRIC, "HMAC-SHA224", 224),
    "HMAC_256": KeySpecInfo(_SYMMETRIC, "HMAC-SHA256", 256),
    "HMAC_384": KeySpecInfo(_SYMMETRIC, "HMAC-SHA384", 384),
    "HMAC_512": KeySpecInfo(_SYMMETRIC, "HMAC-SHA512", 512),
    "RSA_2048": KeySpecInfo(_PRIVATE, "RSA-2048", 2048),
    "RSA_3072": KeySpecInfo(_PRIVATE, "RSA-3072", 3072),
    "RSA_4096": KeySpecInfo(_PRIVATE, "RSA-4096", 4096),
    "ECC_NIST_P256": KeySpecInfo(_PRIVATE, "ECDSA P-256", 256),
    "ECC_NIST_P384": KeySpecInfo(_PRIVATE, "ECDSA P-384", 384),
    "ECC_NIST_P521": KeySpecInfo(_PRIVATE, "ECDSA P-521", 521),
    "ECC_SECG_P256K1": KeySpecInfo(_PRIVATE, "ECDSA secp256k1", 256),
    "ECC_NIST_EDWARDS25519": KeySpecInfo(_PRIVATE, "Ed25519", 256),
    "SM2": KeySpecInfo(_PRIVATE, "SM2", 256),
    "ML_DSA_44": KeySpecInfo(_PRIVATE, "ML-DSA-44", None),
    "ML_DSA_65": KeySpecInfo(_PRIVATE, "ML-DSA-65", None),
    "ML_DSA_87": KeySpecInfo(_PRIVATE, "ML-DSA-87", None),
    "ML_KEM_512": KeySpecInfo(_PRIVATE, "ML-KEM-512", None),
    "ML_KEM_768": KeySpecInfo(_PRIVATE, "ML-KEM-768", None),
    "ML_KEM_1024": KeySpecInfo(_PRIVATE, "ML-KEM-1024", None),
}
# In the China Regions SYMMETRIC_DEFAULT is a 128-bit SM4 key, not AES-256-GCM.
CHINA_SYMMETRIC = KeySpecInfo(_SYMMETRIC, "SM4-128", 128)
DEFAULT_ROTATION_DAYS = 365  # what KMS uses when rotation is on and get-key-rotation-status shows no period
