"""Generated platform exports and CBOMs of any size, written a key at a time: Google Cloud KMS, Azure Key Vault,
Vault transit, Vault KV and CycloneDX CBOM, each in the shape its command prints (the fixtures under
``tests/inventory/fixtures`` are the real samples). Used by the streaming tests and ``benchmarks/import_formats.py``.

Every key is valid and names a purpose and an owner from the demo catalog, so an import has no row errors; key
``material_at`` (0-based), when given, carries a PEM private key in a free-text member, so the file is refused."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from typing import IO, Any

FORMATS = ("gcp-kms", "azure-kv", "vault-transit", "vault-kv", "cbom")
PROJECT, LOCATION = "bench-project", "europe-west4"
VAULT_NAME = "bench-vault"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
PURPOSES = ["data-encryption", "inference-log-encryption", "training-data-encryption", "key-wrapping"]
# The store each format's keys go to, as (name, kind, account, region): what an import of the file matches.
STORES = {
    "gcp-kms": ("bench-gcp", "gcp-kms", PROJECT, LOCATION),
    "azure-kv": ("bench-azure", "azure-kv", VAULT_NAME, ""),
    "vault-transit": ("bench-transit", "vault-transit", "", ""),
    "vault-kv": ("bench-kv", "vault-kv", "", ""),
    "cbom": ("bench-cbom", "aws-kms", "111122223333", "eu-west-1"),
}


def _stamp(rng: random.Random) -> str:
    return f"20{rng.randint(21, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:{rng.randint(0, 59):02d}:00Z"


def _gcp(n: int, rng: random.Random, owner: str, purpose: str, note: str | None, store: str) -> dict[str, Any]:
    name = f"projects/{PROJECT}/locations/{LOCATION}/keyRings/ring-{n % 5}/cryptoKeys/key-{n}"
    created = _stamp(rng)
    labels = {"purpose": purpose, "owner": owner, "env": rng.choice(["prod", "staging"])}
    if note is not None:
        labels["note"] = note
    return {
        "createTime": created,
        "labels": labels,
        "name": name,
        "nextRotationTime": "2026-12-31T00:00:00Z",
        "primary": {
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
            "createTime": created,
            "generateTime": created,
            "name": f"{name}/cryptoKeyVersions/{1 + n % 3}",
            "protectionLevel": rng.choice(["SOFTWARE", "HSM"]),
            "state": "ENABLED",
        },
        "purpose": "ENCRYPT_DECRYPT",
        "rotationPeriod": "7776000s",
        "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"},
    }


def _azure(n: int, rng: random.Random, owner: str, purpose: str, note: str | None, store: str) -> dict[str, Any]:
    tags = {"purpose": purpose, "owner": owner}
    if note is not None:
        tags["note"] = note
    return {
        "attributes": {
            "created": _stamp(rng),
            "enabled": rng.random() < 0.95,
            "expires": None,
            "exportable": False,
            "notBefore": None,
            "recoverableDays": 90,
            "recoveryLevel": "Recoverable",
            "updated": _stamp(rng),
        },
        "key": {
            "crv": None,
            "d": None,
            "k": None,
            "keyOps": ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
            "kid": f"https://{VAULT_NAME}.vault.azure.net/keys/key-{n}/{rng.getrandbits(128):032x}",
            "kty": "oct-HSM",
        },
        "managed": None,
        "releasePolicy": None,
        "tags": tags,
    }


def _envelope(rng: random.Random, data: dict[str, Any], path: str) -> dict[str, Any]:
    return {
        "request_id": f"5f0c3a1e-6b2d-4c8e-9a7f-{rng.getrandbits(48):012x}",
        "lease_id": "",
        "lease_duration": 0,
        "renewable": False,
        "data": data,
        "warnings": None,
        "path": path,
    }


def _transit(n: int, rng: random.Random, owner: str, purpose: str, note: str | None, store: str) -> dict[str, Any]:
    created = 1_700_000_000 + rng.randint(0, 50_000_000)
    data = {
        "allow_plaintext_backup": False,
        "auto_rotate_period": 2_592_000,
        "deletion_allowed": False,
        "derived": False,
        "exportable": False,
        "imported_key": False,
        "keys": {"1": created, "2": created + 2_592_000},
        "latest_version": 2,
        "min_available_version": 0,
        "min_decryption_version": 1,
        "min_encryption_version": 0,
        "name": f"key-{n}",
        "supports_decryption": True,
        "supports_derivation": True,
        "supports_encryption": True,
        "supports_signing": False,
        "type": "aes256-gcm96",
    }
    if note is not None:
        data["comment"] = note
    return _envelope(rng, data, f"transit/keys/key-{n}")


def _kv(n: int, rng: random.Random, owner: str, purpose: str, note: str | None, store: str) -> dict[str, Any]:
    created = _stamp(rng)
    custom = {"purpose": "service-credential", "owner": owner}
    if note is not None:
        custom["note"] = note
    return _envelope(
        rng,
        {
            "cas_required": False,
            "created_time": created,
            "current_version": 1,
            "custom_metadata": custom,
            "delete_version_after": "0s",
            "max_versions": 0,
            "oldest_version": 0,
            "updated_time": created,
            "versions": {"1": {"created_time": created, "deletion_time": "", "destroyed": False}},
        },
        f"secret/metadata/app/key-{n}",
    )


_CBOM_ALGORITHMS = {"AES-256-GCM": ("ae", 256), "HMAC-SHA256": ("mac", 256)}


def _cbom_key(n: int, rng: random.Random, owner: str, purpose: str, note: str | None, store: str) -> dict[str, Any]:
    algorithm = "AES-256-GCM" if rng.random() < 0.8 else "HMAC-SHA256"
    component = {
        "type": "cryptographic-asset",
        "name": f"key-{n}",
        "bom-ref": f"key:{n}",
        "description": note if note is not None else f"Generated key {n}",
        "cryptoProperties": {
            "assetType": "related-crypto-material",
            "relatedCryptoMaterialProperties": {
                "type": "secret-key",
                "id": f"arn:aws:kms:eu-west-1:111122223333:key/{n:08d}-0000-4000-8000-{rng.getrandbits(48):012x}",
                "state": "active",
                "algorithmRef": f"algorithm:{algorithm}",
                "creationDate": _stamp(rng),
                "size": 256,
            },
        },
        "properties": [
            {"name": "cek:owner", "value": owner},
            {"name": "cek:purpose", "value": purpose},
            {"name": "cek:store", "value": store},
        ],
    }
    return component


_ITEMS = {"gcp-kms": _gcp, "azure-kv": _azure, "vault-transit": _transit, "vault-kv": _kv, "cbom": _cbom_key}


def export_items(
    format: str, count: int, *, seed: int = 2026, material_at: int | None = None, store: str = ""
) -> Iterator[dict]:
    """The ``count`` keys of an export of ``format``, one item (a CBOM: one key component) at a time. A CBOM's
    keys name ``store`` (default: the format's in :data:`STORES`)."""
    store = store or STORES[format][0]
    rng = random.Random(seed)
    owners = [f"owner{n:02d}" for n in range(20)]
    make = _ITEMS[format]
    for n in range(count):
        yield make(n, rng, rng.choice(owners), rng.choice(PURPOSES), PEM if n == material_at else None, store)


def write_export(out: IO[str], format: str, count: int, **options: Any) -> None:
    """The export as its command writes it: a JSON array, or a CycloneDX 1.6 document (its algorithm components
    first, the keys, and the dependencies of this app's own export: the inventory depends on every key)."""
    items = export_items(format, count, **options)
    if format != "cbom":
        out.write("[")
        for index, item in enumerate(items):
            out.write(("," if index else "") + json.dumps(item))
        out.write("]")
        return
    out.write('{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, ')
    out.write('"metadata": {"component": {"type": "application", "name": "bench", "bom-ref": "inventory"}}, ')
    out.write('"components": [')
    for name, (primitive, bits) in _CBOM_ALGORITHMS.items():
        algorithm = {
            "type": "cryptographic-asset",
            "name": name,
            "bom-ref": f"algorithm:{name}",
            "cryptoProperties": {
                "assetType": "algorithm",
                "algorithmProperties": {"primitive": primitive, "parameterSetIdentifier": str(bits)},
            },
        }
        out.write(json.dumps(algorithm) + ",")
    refs = []
    for index, item in enumerate(items):
        refs.append(item["bom-ref"])
        out.write(("," if index else "") + json.dumps(item))
    out.write('], "dependencies": [' + json.dumps({"ref": "inventory", "dependsOn": refs}) + "]}")


def export_bytes(format: str, count: int, **options: Any) -> bytes:
    out = io.StringIO()
    write_export(out, format, count, **options)
    return out.getvalue().encode()
