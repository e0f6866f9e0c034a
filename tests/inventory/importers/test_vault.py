"""HashiCorp Vault importers: transit keys (vault-transit) and KV v2 secret metadata (vault-kv)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine

from inventory.importers import REGISTRY, get_importer, guess_formats
from inventory.importers.base import ImportFileError, ParseResult, StoreScope
from inventory.importers.commands import EXPORT_COMMANDS
from inventory.importers.vault import VaultKvImporter, VaultTransitImporter

FIXTURES = Path(__file__).parents[1] / "fixtures"
TRANSIT, KV = FIXTURES / "vault-transit", FIXTURES / "vault-kv"
OTHER_FORMATS = ("aws-kms", "gcp-kms", "azure-kv", "cbom")
TODAY = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
# Built in two halves so no scanner of this repository mistakes the test for a leaked key.
PRIVATE_PEM = (
    "-----BEGIN "
    + "EC PRIVATE KEY-----\nMHcCAQEEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END EC PRIVATE KEY-----\n"
)


def parse(format: str, path: Path) -> ParseResult:
    return get_importer(format).parse(path.read_bytes(), file_name=path.name)


def parse_items(format: str, items: Any) -> ParseResult:
    return get_importer(format).parse(json.dumps(items).encode(), file_name="inline.json")


def fields_of(result: ParseResult) -> dict[str, dict[str, Any]]:
    """Each row as {field: value} for exactly the fields it provides, by external_id (or row number)."""
    return {
        row.external_id or str(row.row): {name: getattr(row, name) for name in sorted(row.fields)}
        for row in result.rows
    }


def errors_of(result: ParseResult) -> list[tuple[int | None, str, str]]:
    return [(error.row, error.column, str(error)) for error in result.errors]


def transit_items() -> list[dict[str, Any]]:
    return json.loads((TRANSIT / "keys.json").read_text())


def kv_items() -> list[dict[str, Any]]:
    return json.loads((KV / "secrets.json").read_text())


def refused(format: str, items: Any) -> str:
    with pytest.raises(ImportFileError) as caught:
        parse_items(format, items)
    return str(caught.value)


# --- Registry -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "cls", "store_kind"),
    [("vault-transit", VaultTransitImporter, "vault-transit"), ("vault-kv", VaultKvImporter, "vault-kv")],
)
def test_both_formats_are_registered_as_tag_reading_platform_exports(format, cls, store_kind):
    importer = REGISTRY[format]
    assert isinstance(importer, cls)
    assert importer.store_kind == store_kind
    assert importer.reads_tags is True
    assert "README" not in importer.help and importer.format in EXPORT_COMMANDS
    assert importer.extensions == (".json",)


# --- Transit: a good file -------------------------------------------------------------------------------

DETAILS = {
    "exportable": False,
    "allow_plaintext_backup": False,
    "deletion_allowed": False,
    "derived": False,
    "min_decryption_version": 1,
    "min_encryption_version": 0,
    "min_available_version": 0,
    "imported_key": False,
}
TRANSIT_ROWS: dict[str, dict[str, Any]] = {
    "transit/keys/inference-logs": {
        "name": "inference-logs",
        "kind": "symmetric-key",
        "algorithm": "AES-256-GCM",
        "size_bits": 256,
        "state": "active",
        "platform_usage": "encrypt,decrypt",  # supports_derivation, but not created derived
        "created_on": dt.date(2024, 6, 1),
        "last_rotated_on": dt.date(2024, 7, 31),
        "rotation_period_days": 30,
        "labels": {},
        "platform_details": {**DETAILS, "type": "aes256-gcm96", "latest_version": 3},
    },
    # Another mount, from the path member; versions 1 and 2 are archived (min_decryption_version 3), so the
    # file does not say when the key was created; auto_rotate_period 0 is no automatic rotation.
    "transit-eu/keys/prompt-cache": {
        "name": "prompt-cache",
        "kind": "symmetric-key",
        "algorithm": "AES-128-GCM",
        "size_bits": 128,
        "state": "active",
        "platform_usage": "encrypt,decrypt",
        "last_rotated_on": dt.date(2025, 4, 10),
        "rotation_period_days": None,
        "labels": {},
        "platform_details": {**DETAILS, "type": "aes128-gcm96", "latest_version": 4, "min_decryption_version": 3},
    },
    # No path member: the default mount.
    "transit/keys/tenant-records": {
        "name": "tenant-records",
        "kind": "symmetric-key",
        "algorithm": "ChaCha20-Poly1305",
        "size_bits": 256,
        "state": "active",
        "platform_usage": "encrypt,decrypt,derive",
        "created_on": dt.date(2025, 2, 14),
        "last_rotated_on": None,
        "rotation_period_days": None,
        "labels": {},
        "platform_details": {
            **DETAILS,
            "type": "chacha20-poly1305",
            "derived": True,
            "convergent_encryption": True,
            "kdf": "hkdf_sha256",
            "latest_version": 1,
        },
    },
    # HMAC keys have no data.keys (so no dates) and report no supports_* capability.
    "transit/keys/webhook-mac": {
        "name": "webhook-mac",
        "kind": "symmetric-key",
        "algorithm": "HMAC",
        "size_bits": 256,
        "state": "active",
        "platform_usage": "hmac",
        "rotation_period_days": 90,
        "labels": {},
        "platform_details": {**DETAILS, "type": "hmac", "latest_version": 2},
    },
    "transit/keys/session-token-signing": {
        "name": "session-token-signing",
        "kind": "private-key",
        "algorithm": "Ed25519",
        "size_bits": 256,
        "state": "active",
        "platform_usage": "sign,verify",
        "created_on": dt.date(2025, 3, 3),
        "last_rotated_on": None,
        "rotation_period_days": None,
        "labels": {},
        "platform_details": {**DETAILS, "type": "ed25519", "latest_version": 1},
    },
    "transit/keys/model-artifact-signing": {
        "name": "model-artifact-signing",
        "kind": "private-key",
        "algorithm": "ECDSA P-256",
        "size_bits": 256,
        "state": "active",
        "platform_usage": "sign,verify",
        "created_on": dt.date(2025, 5, 20),
        "last_rotated_on": None,
        "rotation_period_days": None,
        "labels": {},
        "platform_details": {
            **DETAILS,
            "type": "ecdsa-p256",
            "latest_version": 1,
            "imported_key": True,
            "imported_key_allow_rotation": False,
        },
    },
    # Version 2's creation time has an offset: 09:00+01:00 is still 2 November in UTC.
    "transit/keys/partner-key-transport": {
        "name": "partner-key-transport",
        "kind": "private-key",
        "algorithm": "RSA-4096",
        "size_bits": 4096,
        "state": "active",
        "platform_usage": "encrypt,decrypt,sign,verify",
        "created_on": dt.date(2024, 11, 2),
        "last_rotated_on": dt.date(2025, 11, 2),
        "rotation_period_days": None,
        "labels": {},
        "platform_details": {
            **DETAILS,
            "type": "rsa-4096",
            "latest_version": 2,
            "exportable": True,
            "allow_plaintext_backup": True,
            "deletion_allowed": True,
            "backup_info.time": "2025-11-03T18:20:00.000000001Z",
        },
    },
    # auto_rotate_period of an hour (Vault's minimum) rounds up to a day.
    "transit/keys/request-cmac": {
        "name": "request-cmac",
        "kind": "symmetric-key",
        "algorithm": "AES-256-CMAC",
        "size_bits": 256,
        "state": "active",
        "platform_usage": "cmac",
        "last_rotated_on": None,
        "rotation_period_days": 1,
        "labels": {},
        "platform_details": {**DETAILS, "type": "aes256-cmac", "latest_version": 1},
    },
    # A managed key lives in an HSM or cloud KMS the response does not describe: no kind, algorithm or size.
    "transit/keys/hsm-root-wrap": {
        "name": "hsm-root-wrap",
        "state": "active",
        "platform_usage": "encrypt,decrypt,sign,verify",
        "last_rotated_on": None,
        "rotation_period_days": None,
        "labels": {},
        "platform_details": {**DETAILS, "type": "managed_key", "latest_version": 1},
    },
}


def test_a_transit_file_gives_one_row_per_key_with_every_field_it_carries():
    result = parse("vault-transit", TRANSIT / "keys.json")

    assert result.errors == []
    assert [row.row for row in result.rows] == list(range(1, 10))
    assert {row.store for row in result.rows} == {""}
    rows = fields_of(result)
    assert list(rows) == list(TRANSIT_ROWS)
    for external_id, expected in TRANSIT_ROWS.items():
        assert rows[external_id] == {"external_id": external_id, **expected}, external_id


def test_a_transit_file_names_only_the_store_kind_as_its_scope():
    assert parse("vault-transit", TRANSIT / "keys.json").scope == StoreScope(kind="vault-transit")


def test_it_never_keeps_public_keys_or_certificates_from_the_key_versions():
    result = parse("vault-transit", TRANSIT / "keys.json")

    text = repr([(row.platform_details, row.labels, row.description) for row in result.rows])
    assert "PUBLIC KEY" not in text
    assert "public_key" not in text


@pytest.mark.parametrize(
    ("key_type", "extra", "algorithm", "size_bits"),
    [
        ("ecdsa-p384", {}, "ECDSA P-384", 384),
        ("ecdsa-p521", {}, "ECDSA P-521", 521),
        ("rsa-2048", {}, "RSA-2048", 2048),
        ("rsa-3072", {}, "RSA-3072", 3072),
        ("aes128-cmac", {}, "AES-128-CMAC", 128),
        ("aes192-cmac", {}, "AES-192-CMAC", 192),
        ("hmac", {"key_size": 64}, "HMAC", 512),
        ("ml-dsa", {"parameter_set": "65"}, "ML-DSA-65", None),
        ("hybrid", {"parameter_set": "87", "hybrid_key_type_ec": "ecdsa-p384"}, "ML-DSA-87 + ECDSA P-384", None),
    ],
)
def test_each_transit_key_type_maps_to_an_algorithm_and_size(key_type, extra, algorithm, size_bits):
    item = transit_items()[0]
    item["data"].update(type=key_type, **extra)

    (row,) = parse_items("vault-transit", [item]).rows

    assert row.algorithm == algorithm
    assert row.size_bits == size_bits
    assert ("size_bits" in row.fields) is (size_bits is not None)


def test_an_hmac_key_without_key_size_leaves_the_size_out():
    item = transit_items()[3]
    del item["data"]["key_size"]

    (row,) = parse_items("vault-transit", [item]).rows

    assert "size_bits" not in row.fields
    assert row.algorithm == "HMAC"


def test_a_key_read_before_auto_rotation_existed_leaves_the_rotation_period_alone():
    item = transit_items()[0]
    del item["data"]["auto_rotate_period"]

    (row,) = parse_items("vault-transit", [item]).rows

    assert "rotation_period_days" not in row.fields


def test_a_key_whose_latest_version_is_not_listed_leaves_last_rotated_on_alone():
    item = transit_items()[0]
    del item["data"]["keys"]["3"]

    (row,) = parse_items("vault-transit", [item]).rows

    assert "last_rotated_on" not in row.fields
    assert row.created_on == dt.date(2024, 6, 1)


# --- Transit: problems in rows --------------------------------------------------------------------------


def test_it_reports_each_unreadable_transit_field_and_keeps_the_rest_of_the_row():
    result = parse("vault-transit", TRANSIT / "missing-fields.json")

    assert errors_of(result) == [
        (
            1,
            "data.name",
            "Row 1: data.name is missing; every `vault read -format=json transit/keys/NAME` result has the key's name.",
        ),
        (
            2,
            "data.type",
            "Row 2: column 'data.type' is 'aes512-gcm'; expected one of: aes128-gcm96, aes256-gcm96, "
            "chacha20-poly1305, aes128-cmac, aes192-cmac, aes256-cmac, hmac, ed25519, ecdsa-p256, ecdsa-p384, "
            "ecdsa-p521, rsa-2048, rsa-3072, rsa-4096, ml-dsa, hybrid, managed_key.",
        ),
        (
            3,
            "data.keys.1.creation_time",
            "Row 3: column 'data.keys.1.creation_time' is 'last tuesday'; expected an ISO 8601 date and time such "
            "as 2025-01-31T10:00:00Z.",
        ),
        (
            3,
            "data.keys.2.creation_time",
            "Row 3: column 'data.keys.2.creation_time' is '2025-13-40T00:00:00Z'; expected an ISO 8601 date and "
            "time such as 2025-01-31T10:00:00Z.",
        ),
        (
            3,
            "data.auto_rotate_period",
            "Row 3: column 'data.auto_rotate_period' is '30d'; expected a whole number of 0 or more.",
        ),
        (
            4,
            "path",
            "Row 4: column 'path' is 'transit/keys/other-name'; expected the key's path, <mount>/keys/<name>, "
            "ending with the key's name (for example transit/keys/bad-flags).",
        ),
        (
            4,
            "data.supports_encryption",
            "Row 4: column 'data.supports_encryption' is 'yes'; expected true or false.",
        ),
    ]
    rows = {row.row: row for row in result.rows}
    assert len(rows) == 4  # every row is still planned, so the preview shows all of its problems
    assert {"name", "external_id"}.isdisjoint(rows[1].fields)
    assert rows[1].created_on == dt.date(2025, 1, 1)
    assert {"kind", "algorithm", "size_bits"}.isdisjoint(rows[2].fields)
    assert rows[2].platform_usage == "encrypt,decrypt"
    assert {"created_on", "last_rotated_on", "rotation_period_days"}.isdisjoint(rows[3].fields)
    assert rows[3].algorithm == "ECDSA P-384"
    assert {"external_id", "platform_usage"}.isdisjoint(rows[4].fields)
    assert rows[4].name == "bad-flags"


def test_the_path_names_the_key_when_data_name_is_missing():
    item = transit_items()[0]
    del item["data"]["name"]

    result = parse_items("vault-transit", [item])

    assert result.errors == []
    assert (result.rows[0].name, result.rows[0].external_id) == ("inference-logs", "transit/keys/inference-logs")


@pytest.mark.parametrize("path", ["transit/inference-logs", "inference-logs", "transit/keys/", 42])
def test_it_rejects_a_path_that_is_not_mount_keys_name(path):
    item = transit_items()[0]
    item["path"] = path

    result = parse_items("vault-transit", [item])

    assert [error.column for error in result.errors] == ["path"]
    assert "expected the key's path, <mount>/keys/<name>" in str(result.errors[0])
    assert "external_id" not in result.rows[0].fields


def test_it_rejects_data_keys_that_is_not_an_object_of_versions():
    item = transit_items()[0]
    item["data"]["keys"] = [1717230600]

    result = parse_items("vault-transit", [item])

    assert errors_of(result) == [
        (
            1,
            "data.keys",
            "Row 1: data.keys is an array; expected an object of key versions and their creation time.",
        )
    ]
    assert {"created_on", "last_rotated_on"}.isdisjoint(result.rows[0].fields)


# --- Transit: key material ------------------------------------------------------------------------------


def test_it_refuses_a_transit_export_naming_the_row_and_the_command_to_run_instead():
    with pytest.raises(ImportFileError) as caught:
        parse("vault-transit", TRANSIT / "export.json")

    assert str(caught.value) == (
        "Row 1: data.keys holds exported key versions (transit/export), not their creation times: this is a key "
        "export, not key metadata. Key material is never stored here, so the whole file was rejected and not kept. "
        "Export key metadata with `vault read -format=json transit/keys/NAME` (the import page shows the commands) and upload again."
    )


def test_it_refuses_an_export_even_where_the_generic_scan_would_see_nothing():
    # An ed25519 version whose private half is missing exports as "": nothing for the scan, still an export.
    items = transit_items()
    items[4]["data"]["keys"] = {"1": ""}

    assert refused("vault-transit", items).startswith("Row 5: data.keys holds exported key versions")


@pytest.mark.parametrize(
    ("member", "value", "what"),
    [
        ("backup", "eyJwb2xpY3kiOnsibmFtZSI6ImluZmVyZW5jZS1sb2dzIn19", "a key backup (transit/backup)"),
        ("plaintext", "c2VjcmV0IGRhdGE=", "plaintext returned by decrypt or datakey"),
        ("ciphertext", "vault:v1:abcdefghijkl", "ciphertext returned by encrypt or datakey"),
        ("key", "not shown", "an exported key"),
    ],
)
def test_it_refuses_transit_responses_that_carry_keys_plaintext_or_ciphertext(member, value, what):
    items = transit_items()
    items[1]["data"][member] = value

    message = refused("vault-transit", items)

    assert message.startswith(f"Row 2: data.{member} holds {what}")
    assert "this is a key export, not key metadata" in message
    assert value not in message


@pytest.mark.parametrize(
    ("response", "what"),
    [
        ({"backup": "eyJwb2xpY3kiOnsibmFtZSI6ImluZmVyZW5jZS1sb2dzIn19"}, "backup holds a key backup (transit/backup)"),
        ({"ciphertext": "vault:v1:abcdefghijkl", "key_version": 1}, "ciphertext holds ciphertext returned by encrypt"),
        ({"plaintext": "c2VjcmV0IGRhdGE="}, "plaintext holds plaintext returned by decrypt or datakey"),
    ],
)
def test_it_refuses_a_bare_backup_encrypt_or_decrypt_response_which_names_no_key_type(response, what):
    message = refused("vault-transit", [{"request_id": "r1", "data": response}])

    assert message.startswith(f"Row 1: data.{what}")
    assert "Export key metadata with `vault read -format=json transit/keys/NAME`" in message


def test_a_bare_transit_backup_uploaded_as_kv_points_to_transit():
    message = refused("vault-kv", [{"data": {"backup": "eyJwb2xpY3kiOnsibmFtZSI6ImluZmVyZW5jZS1sb2dzIn19"}}])

    assert "it looks like HashiCorp Vault transit (vault-transit). Choose that format" in message
    assert "eyJw" not in message


def test_it_refuses_a_private_key_in_a_member_the_scan_skips_as_public():
    items = transit_items()
    items[5]["data"]["keys"]["1"]["public_key"] = PRIVATE_PEM

    message = refused("vault-transit", items)

    assert message.startswith("Row 6: data.keys.1.public_key holds a private key, not a public key.")
    assert "MHcC" not in message


def test_the_generic_scan_still_covers_the_rest_of_a_transit_file():
    items = transit_items()
    items[0]["data"]["kdf"] = PRIVATE_PEM

    message = refused("vault-transit", items)

    assert message.startswith("The file holds what looks like a PEM private key block at ")
    assert "data.kdf" in message


def test_a_transit_backup_of_the_key_is_not_mistaken_for_backup_info():
    result = parse("vault-transit", TRANSIT / "keys.json")

    assert result.rows[6].platform_details["backup_info.time"] == "2025-11-03T18:20:00.000000001Z"


# --- KV: a good file ------------------------------------------------------------------------------------

KV_DETAILS = {"oldest_version": 0, "max_versions": 0, "cas_required": False, "delete_version_after": "0s"}
KV_ROWS: dict[str, dict[str, Any]] = {
    # Version 1 destroyed and version 2 deleted do not matter: the current version 3 is live.
    "secret/data/billing/db-password": {
        "name": "db-password",
        "kind": "password",
        "state": "active",
        "created_on": dt.date(2024, 9, 1),
        "last_rotated_on": dt.date(2025, 12, 1),
        "expires_on": None,
        "labels": {"purpose": "service-credential", "owner": "omar", "service": "billing", "tenant": "acme-health"},
        "platform_details": {**KV_DETAILS, "current_version": 3},
    },
    "secret/data/llm/provider-token": {
        "name": "provider-token",
        "kind": "password",
        "state": "active",
        "created_on": dt.date(2025, 6, 15),
        "last_rotated_on": None,
        "expires_on": None,
        "labels": {"purpose": "llm-api-authentication", "owner": "carol", "service": "inference-gateway"},
        "platform_details": {**KV_DETAILS, "current_version": 1},
    },
    # The current version was deleted (soft delete, recoverable with vault kv undelete); custom_metadata null.
    "secret/data/webhooks/payments": {
        "name": "payments",
        "kind": "password",
        "state": "deactivated",
        "created_on": dt.date(2024, 1, 10),
        "last_rotated_on": dt.date(2024, 7, 10),
        "expires_on": dt.date(2025, 8, 20),
        "labels": {},
        "platform_details": {**KV_DETAILS, "current_version": 2},
    },
    # Another mount, a nested path, trimmed history (oldest_version 3) and the current version destroyed.
    "kv-prod/data/partners/globex/api-key": {
        "name": "api-key",
        "kind": "password",
        "state": "destroyed",
        "created_on": dt.date(2023, 5, 5),
        "last_rotated_on": dt.date(2025, 10, 10),
        "expires_on": None,
        "labels": {"owner": "olivia", "tenant": "globex-retail"},
        "platform_details": {**KV_DETAILS, "current_version": 5, "oldest_version": 3, "max_versions": 3}
        | {"cas_required": True},
    },
    # Created with vault kv metadata put: no value written yet.
    "secret/data/pending/new-service": {
        "name": "new-service",
        "kind": "password",
        "state": "pre-activation",
        "created_on": dt.date(2026, 1, 20),
        "last_rotated_on": None,
        "expires_on": None,
        "labels": {"purpose": "service-credential", "owner": "omar"},
        "platform_details": {**KV_DETAILS, "current_version": 0},
    },
    # delete_version_after set: Vault wrote a deletion_time in the future, a scheduled deletion.
    "secret/data/ci/short-lived-token": {
        "name": "short-lived-token",
        "kind": "password",
        "state": "active",
        "created_on": dt.date(2025, 11, 1),
        "last_rotated_on": None,
        "expires_on": dt.date(2099, 1, 30),
        "labels": {"service": "ci-signing"},
        "platform_details": {**KV_DETAILS, "current_version": 1, "delete_version_after": "2160h0m0s"},
    },
}


@time_machine.travel(TODAY, tick=False)
def test_a_kv_file_gives_one_row_per_secret_with_every_field_it_carries():
    result = parse("vault-kv", KV / "secrets.json")

    assert result.errors == []
    assert result.scope == StoreScope(kind="vault-kv")
    assert [row.row for row in result.rows] == list(range(1, 7))
    rows = fields_of(result)
    assert list(rows) == list(KV_ROWS)
    for external_id, expected in KV_ROWS.items():
        assert rows[external_id] == {"external_id": external_id, **expected}, external_id


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (dt.datetime(2099, 1, 29, 23, 0, tzinfo=dt.UTC), "active"),
        (dt.datetime(2099, 1, 30, 0, 0, tzinfo=dt.UTC), "deactivated"),
    ],
)
def test_a_scheduled_deletion_deactivates_the_secret_from_its_date_on(today, state):
    with time_machine.travel(today, tick=False):
        row = parse("vault-kv", KV / "secrets.json").rows[5]

    assert row.state == state
    assert row.expires_on == dt.date(2099, 1, 30)


def test_kv_paths_may_carry_surrounding_slashes_and_spaces():
    items = kv_items()[:1]
    items[0]["path"] = " /secret/metadata/billing/db-password/ "

    (row,) = parse_items("vault-kv", items).rows

    assert (row.external_id, row.name) == ("secret/data/billing/db-password", "db-password")


# --- KV: problems in rows -------------------------------------------------------------------------------


def test_it_reports_each_unreadable_kv_field_and_keeps_the_rest_of_the_row():
    result = parse("vault-kv", KV / "missing-fields.json")

    assert errors_of(result) == [
        (
            1,
            "path",
            "Row 1: path is missing; `vault kv metadata get -format=json` does not say which secret it describes, "
            "so add the secret's path to each item, as the import page's loop does with jq "
            '(. + {path: "secret/metadata/app/db"}).',
        ),
        (
            2,
            "path",
            "Row 2: column 'path' is 'secret/app/db'; expected the secret's metadata path, "
            "<mount>/metadata/<path>, as the import page's loop adds it (for example secret/metadata/app/db).",
        ),
        (
            3,
            "data.created_time",
            "Row 3: column 'data.created_time' is 'the day before'; expected an ISO 8601 date and time such as "
            "2025-01-31T10:00:00Z.",
        ),
        (
            3,
            "data.custom_metadata",
            "Row 3: data.custom_metadata is not a JSON object of names to text values, as vault kv metadata put "
            "-custom-metadata sets them.",
        ),
        (
            3,
            "data.versions",
            "Row 3: data.versions has no entry for version 4 (data.current_version); export the metadata again "
            "and upload the whole array again.",
        ),
        (
            4,
            "data.current_version",
            "Row 4: data.current_version is missing; every `vault kv metadata get -format=json` result has it.",
        ),
    ]
    rows = {row.row: row for row in result.rows}
    assert len(rows) == 4
    assert {"external_id", "name"}.isdisjoint(rows[1].fields | rows[2].fields)
    assert rows[1].state == rows[2].state == "active"
    assert {"created_on", "labels", "state", "last_rotated_on", "expires_on"}.isdisjoint(rows[3].fields)
    assert rows[3].external_id == "secret/data/app/broken"
    assert {"state", "last_rotated_on", "expires_on"}.isdisjoint(rows[4].fields)
    assert rows[4].created_on == dt.date(2025, 6, 15)


def test_it_reports_unreadable_values_of_the_current_version():
    items = kv_items()[:1]
    items[0]["data"]["versions"]["3"].update(destroyed="no", deletion_time="soon", created_time=1700000000.5)

    result = parse_items("vault-kv", items)

    assert [error.column for error in result.errors] == [
        "data.versions.3.destroyed",
        "data.versions.3.deletion_time",
    ]
    assert str(result.errors[0]) == "Row 1: column 'data.versions.3.destroyed' is 'no'; expected true or false."
    assert {"state", "expires_on"}.isdisjoint(result.rows[0].fields)
    assert result.rows[0].last_rotated_on == dt.date(2023, 11, 14)  # a Unix time is a time too


# --- KV: secret values ----------------------------------------------------------------------------------


def test_it_refuses_a_secret_read_because_it_holds_the_secret_values():
    with pytest.raises(ImportFileError) as caught:
        parse("vault-kv", KV / "secret-read.json")

    assert str(caught.value) == (
        "Row 1 is a secret read (vault kv get), which contains the secret values in data.data. Secrets are never "
        "stored here, so the whole file was rejected and not kept. Export metadata with "
        "`vault kv metadata get -format=json` (the import page shows the commands) and upload again."
    )


def test_one_secret_read_among_metadata_rejects_the_whole_file():
    items = kv_items()
    items.insert(2, json.loads((KV / "secret-read.json").read_text())[0])

    assert refused("vault-kv", items).startswith("Row 3 is a secret read (vault kv get)")


def test_the_generic_scan_still_covers_custom_metadata():
    items = kv_items()
    items[1]["data"]["custom_metadata"]["note"] = PRIVATE_PEM

    message = refused("vault-kv", items)

    assert message.startswith("The file holds what looks like a PEM private key block at ")
    assert "data.custom_metadata.note" in message


def test_kv_files_skip_no_member_in_the_scan():
    items = kv_items()
    items[0]["data"]["custom_metadata"]["public_key"] = PRIVATE_PEM

    assert "data.custom_metadata.public_key" in refused("vault-kv", items)


# --- The shape of the file (both formats) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "folder", "command"),
    [
        ("vault-transit", TRANSIT, "vault read -format=json transit/keys/NAME"),
        ("vault-kv", KV, "vault kv metadata get -format=json"),
    ],
)
def test_a_single_response_must_be_wrapped_in_an_array(format, folder, command):
    with pytest.raises(ImportFileError) as caught:
        parse(format, folder / "single-object.json")

    assert str(caught.value) == (
        f"The file holds one `{command}` result, not an array of them. Wrap it in [ ] (the import page's loop writes "
        "the array for all of them) and upload again."
    )


@pytest.mark.parametrize(
    ("format", "folder", "where"),
    [("vault-transit", TRANSIT, "line 66, column 1"), ("vault-kv", KV, "line 61, column 5")],
)
def test_invalid_json_is_reported_with_its_line(format, folder, where):
    with pytest.raises(ImportFileError) as caught:
        parse(format, folder / "invalid.json")

    assert str(caught.value) == f"The file is not valid JSON: expecting ',' delimiter at {where}."


@pytest.mark.parametrize(("format", "noun"), [("vault-transit", "keys"), ("vault-kv", "secrets")])
def test_an_empty_array_says_there_is_nothing_to_import(format, noun):
    assert refused(format, []) == f"The file is an empty array: it lists no {noun}, so there is nothing to import."


@pytest.mark.parametrize(("format", "items"), [("vault-transit", transit_items), ("vault-kv", kv_items)])
def test_every_item_must_be_a_vault_response(format, items):
    good = items()[0]

    assert refused(format, [good, 42]) == (
        f"Row 2 is a number; each item of the array must be one `{get_importer(format).command}` result (an object)."
    )
    assert refused(format, [good, {"name": "x"}]).startswith("Row 2 has no 'data' object, so it is not one `")


@pytest.mark.parametrize(("format", "item"), [("vault-transit", "key"), ("vault-kv", "secret")])
def test_read_refuses_a_document_that_is_not_an_array(format, item):
    importer = get_importer(format)

    with pytest.raises(ImportFileError) as caught:
        importer.read("transit/keys/x")

    assert str(caught.value) == (
        f"The file is a string; expected a JSON array with one `{importer.command}` result per {item}."
    )


def test_vault_files_never_mix_stores_so_several_mounts_are_fine():
    result = parse("vault-transit", TRANSIT / "keys.json")

    assert {row.external_id.split("/keys/")[0] for row in result.rows} == {"transit", "transit-eu"}
    assert result.errors == []


# --- Sniffing and the wrong-format message --------------------------------------------------------------

AWS = [{"KeyMetadata": {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "KeyState": "Enabled"}}]
GCP = [{"name": "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k", "purpose": "ENCRYPT_DECRYPT"}]
AZURE = [{"key": {"kid": "https://v.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef", "kty": "RSA"}}]
CBOM = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}


def sniff(format: str, document: Any) -> bool:
    return get_importer(format).sniff(json.dumps(document).encode(), document)


@pytest.mark.parametrize(
    ("document", "transit", "kv"),
    [
        (transit_items(), True, False),
        (transit_items()[0], True, False),  # read() then asks to wrap it in [ ]
        (json.loads((TRANSIT / "export.json").read_text()), True, False),  # refused by the transit importer
        (kv_items(), False, True),
        (kv_items()[0], False, True),
        (json.loads((KV / "secret-read.json").read_text()), False, True),  # refused by the KV importer
        ([], False, False),
        ([42], False, False),
        ([{"data": "x"}], False, False),
        ([{"data": {"name": "x"}}], False, False),
        (AWS, False, False),
        (GCP, False, False),
        (AZURE, False, False),
        (CBOM, False, False),
        (None, False, False),
    ],
)
def test_sniffing_tells_transit_from_kv_and_from_the_other_formats(document, transit, kv):
    assert sniff("vault-transit", document) is transit
    assert sniff("vault-kv", document) is kv


def other_format_fixtures() -> list[Path]:
    return sorted(path for name in OTHER_FORMATS for path in (FIXTURES / name).glob("*.json"))


@pytest.mark.parametrize("path", other_format_fixtures(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_neither_vault_format_claims_another_formats_fixture(path):
    try:
        document = json.loads(path.read_bytes())
    except ValueError:
        document = None

    assert not sniff("vault-transit", document)
    assert not sniff("vault-kv", document)


@pytest.mark.parametrize(
    ("path", "format"),
    [(path, path.parent.name) for path in sorted([*TRANSIT.glob("*.json"), *KV.glob("*.json")])],
    ids=lambda value: getattr(value, "name", value),
)
def test_no_other_registered_format_claims_a_vault_file(path, format):
    data = path.read_bytes()
    try:
        document = json.loads(data)
    except ValueError:
        document = None

    assert [importer.format for importer in guess_formats(data, document)] == ([format] if document else [])


def test_uploading_transit_keys_as_kv_names_the_right_format():
    with pytest.raises(ImportFileError) as caught:
        parse("vault-kv", TRANSIT / "keys.json")

    message = str(caught.value)
    assert message.startswith("This file does not look like a HashiCorp Vault KV export (vault kv metadata get")
    assert "it looks like HashiCorp Vault transit (vault-transit). Choose that format and upload again." in message


def test_uploading_kv_metadata_as_transit_names_the_right_format():
    with pytest.raises(ImportFileError) as caught:
        parse("vault-transit", KV / "secrets.json")

    assert "it looks like HashiCorp Vault KV (vault-kv). Choose that format and upload again." in str(caught.value)


def test_a_secret_read_uploaded_as_transit_points_to_kv_without_reading_the_values():
    with pytest.raises(ImportFileError) as caught:
        parse("vault-transit", KV / "secret-read.json")

    message = str(caught.value)
    assert "it looks like HashiCorp Vault KV (vault-kv)" in message
    assert "correct-horse" not in message


def test_the_importers_do_not_change_the_document_they_read():
    items = transit_items()
    before = copy.deepcopy(items)

    get_importer("vault-transit").read(items)

    assert items == before
