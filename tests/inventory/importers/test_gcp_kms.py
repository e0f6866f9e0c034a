"""Google Cloud KMS import (gcp-kms): `gcloud kms keys list --format=json` read field by field, and every message."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from inventory.importers import get_importer
from inventory.importers.base import ImportFileError, KeyRow, ParseResult, StoreScope
from inventory.importers.gcp_kms import ALGORITHMS, PURPOSES, STATES, GcpKmsImporter
from inventory.models import KeyKind, KeyState
from inventory.usage import USAGE_FUNCTIONS
from tests.inventory.importers.support import FIXTURES, Parser, by_name, errors_of, provided

GCP = FIXTURES / "gcp-kms"
OTHER_FORMATS = ("aws-kms", "azure-kv", "vault-transit", "vault-kv", "cbom")
PROJECT, LOCATION = "acme-ml-prod", "europe-west4"
NAME = f"projects/{PROJECT}/locations/{LOCATION}/keyRings/{{ring}}/cryptoKeys/{{key}}"


_PARSER = Parser(GcpKmsImporter())
parse, parse_items, refused = _PARSER.parse, _PARSER.parse_items, _PARSER.refused


def crypto_key(key: str = "k1", **members: Any) -> dict[str, Any]:
    """A minimal ENCRYPT_DECRYPT key as gcloud prints it, with ``members`` replacing or adding members."""
    name = NAME.format(ring="ring", key=key)
    item = {
        "createTime": "2025-01-01T00:00:00.123456789Z",
        "name": name,
        "primary": {
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
            "createTime": "2025-01-01T00:00:00.223456789Z",
            "name": f"{name}/cryptoKeyVersions/1",
            "protectionLevel": "SOFTWARE",
            "state": "ENABLED",
        },
        "purpose": "ENCRYPT_DECRYPT",
        "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"},
    }
    item.update(members)
    return item


@pytest.fixture(scope="module")
def export() -> ParseResult:
    return parse(GCP / "keys.json")


@pytest.fixture(scope="module")
def keys(export: ParseResult) -> dict[str, KeyRow]:
    return by_name(export)


# --- The export, field by field ---------------------------------------------------------------------------


def test_it_reads_every_key_of_both_key_rings_without_errors_and_places_them_in_one_project_and_location(export):
    assert export.errors == []
    assert [row.row for row in export.rows] == list(range(1, 22))
    assert export.scope == StoreScope(kind="gcp-kms", account=PROJECT, region=LOCATION)
    assert {row.store for row in export.rows} == {""}  # the store is the one chosen, or the scope's
    assert {row.platform_details["keyRing"] for row in export.rows} == {"inference", "payments"}


def test_a_rotated_hsm_encryption_key_is_read_field_by_field(keys):
    assert provided(keys["prompt-logs"]) == {
        "algorithm": "AES-256-GCM",
        "created_on": dt.date(2024, 3, 4),
        "external_id": NAME.format(ring="inference", key="prompt-logs"),
        "kind": "symmetric-key",
        "labels": {
            "env": "prod",
            "owner": "bob",
            "purpose": "inference-log-encryption",
            "service": "inference-gateway",
            "tenant": "acme",
        },
        "last_rotated_on": dt.date(2026, 3, 1),
        "name": "prompt-logs",
        "platform_details": {
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
            "destroyScheduledDuration": "30 days",
            "keyRing": "inference",
            "nextRotationTime": "2026-05-30",
            "primary.state": "ENABLED",
            "primaryVersion": "4",
            "protectionLevel": "HSM",
        },
        "platform_managed": False,
        "platform_usage": "ENCRYPT_DECRYPT",
        "rotation_period_days": 90,
        "size_bits": 256,
        "state": "active",
    }


def test_a_key_never_rotated_clears_the_rotation_date_the_period_and_the_labels(keys):
    row = keys["training-data"]
    assert provided(row) | {"platform_details": None} == {
        "algorithm": "AES-256-GCM",
        "created_on": dt.date(2025, 11, 20),  # "2025-11-20T08:00:01.5Z": one fraction digit
        "external_id": NAME.format(ring="inference", key="training-data"),
        "kind": "symmetric-key",
        "labels": {},  # no labels member: the key has none, and a re-import clears removed ones
        "last_rotated_on": None,  # primary is version 1
        "name": "training-data",
        "platform_details": None,
        "platform_managed": False,
        "platform_usage": "ENCRYPT_DECRYPT",
        "rotation_period_days": None,  # no rotation schedule
        "size_bits": 256,
        "state": "active",
    }
    assert "nextRotationTime" not in row.platform_details
    assert "destroyScheduledDuration" not in row.platform_details


@pytest.mark.parametrize(
    ("key", "usage", "kind", "algorithm", "size", "vendor_algorithm"),
    [
        ("prompt-logs", "ENCRYPT_DECRYPT", KeyKind.SYMMETRIC_KEY, "AES-256-GCM", 256, "GOOGLE_SYMMETRIC_ENCRYPTION"),
        ("card-token-aes", "RAW_ENCRYPT_DECRYPT", KeyKind.SYMMETRIC_KEY, "AES-256-GCM", 256, "AES_256_GCM"),
        ("webhook-mac", "MAC", KeyKind.SYMMETRIC_KEY, "HMAC-SHA256", 256, "HMAC_SHA256"),
        ("model-signing", "ASYMMETRIC_SIGN", KeyKind.PRIVATE_KEY, "ECDSA P-384", 384, "EC_SIGN_P384_SHA384"),
        ("release-signing", "ASYMMETRIC_SIGN", KeyKind.PRIVATE_KEY, "RSA-3072", 3072, "RSA_SIGN_PSS_3072_SHA256"),
        ("agent-attestation", "ASYMMETRIC_SIGN", KeyKind.PRIVATE_KEY, "Ed25519", 256, "EC_SIGN_ED25519"),
        ("firmware-signing-pq", "ASYMMETRIC_SIGN", KeyKind.PRIVATE_KEY, "ML-DSA-65", None, "PQ_SIGN_ML_DSA_65"),
        (
            "tenant-key-unwrap",
            "ASYMMETRIC_DECRYPT",
            KeyKind.PRIVATE_KEY,
            "RSA-4096",
            4096,
            "RSA_DECRYPT_OAEP_4096_SHA256",
        ),
        ("session-kem", "KEY_ENCAPSULATION", KeyKind.PRIVATE_KEY, "ML-KEM-768", None, "ML_KEM_768"),
        (
            "ekm-archive",
            "ENCRYPT_DECRYPT",
            KeyKind.SYMMETRIC_KEY,
            "External symmetric key (Cloud EKM)",
            None,
            "EXTERNAL_SYMMETRIC_ENCRYPTION",
        ),
    ],
)
def test_each_purpose_and_key_family_maps_to_usage_kind_algorithm_and_size(
    keys, key, usage, kind, algorithm, size, vendor_algorithm
):
    row = keys[key]
    assert (row.platform_usage, row.kind, row.algorithm, row.size_bits) == (usage, kind, algorithm, size)
    assert {"platform_usage", "kind", "algorithm", "size_bits"} <= row.fields
    assert row.platform_details["algorithm"] == vendor_algorithm


@pytest.mark.parametrize(
    ("key", "vendor_state", "state"),
    [
        ("prompt-logs", "ENABLED", KeyState.ACTIVE),
        ("legacy-batch", "DISABLED", KeyState.SUSPENDED),
        ("retired-2023", "DESTROY_SCHEDULED", KeyState.DEACTIVATED),
        ("old-logs-2022", "DESTROYED", KeyState.DESTROYED),
        ("fresh-hsm", "PENDING_GENERATION", KeyState.PRE_ACTIVATION),
        ("byok-import", "PENDING_IMPORT", KeyState.PRE_ACTIVATION),
        ("byok-failed", "IMPORT_FAILED", KeyState.PRE_ACTIVATION),
        ("hsm-gen-failed", "GENERATION_FAILED", KeyState.PRE_ACTIVATION),
        ("ekm-decommissioned", "PENDING_EXTERNAL_DESTRUCTION", KeyState.DESTROYED),
        ("ekm-destroy-failed", "EXTERNAL_DESTRUCTION_FAILED", KeyState.DESTROYED),
    ],
)
def test_each_primary_version_state_maps_to_a_key_state_and_stays_visible(keys, key, vendor_state, state):
    row = keys[key]
    assert row.state == state and "state" in row.fields
    assert row.platform_details["primary.state"] == vendor_state


def test_the_state_table_covers_every_version_state_and_only_key_states():
    assert set(STATES.values()) <= set(KeyState.values)
    assert len(STATES) == 10


@pytest.mark.parametrize(
    "key", ["model-signing", "release-signing", "tenant-key-unwrap", "webhook-mac", "card-token-aes", "session-kem"]
)
def test_keys_without_a_primary_leave_state_last_rotation_and_rotation_period_as_they_are(keys, key):
    row = keys[key]
    assert not {"state", "last_rotated_on", "rotation_period_days"} & row.fields
    assert not {"primary.state", "primaryVersion"} & row.platform_details.keys()
    # The algorithm and protection level come from the version template instead.
    assert {"algorithm", "size_bits", "kind", "platform_usage", "created_on", "labels"} <= row.fields
    assert row.platform_details["protectionLevel"] in {"SOFTWARE", "HSM"}


def test_every_purpose_is_a_platform_usage_word_the_usage_table_knows():
    assert all(purpose.lower() in USAGE_FUNCTIONS for purpose in PURPOSES)
    assert set(PURPOSES.values()) <= set(KeyKind.values)


def test_a_legacy_key_without_a_version_template_takes_the_algorithm_from_its_primary(keys):
    row = keys["legacy-batch"]
    assert (row.algorithm, row.size_bits, row.last_rotated_on) == ("AES-256-GCM", 256, dt.date(2022, 4, 1))
    assert row.platform_details["protectionLevel"] == "SOFTWARE"


def test_an_encryption_key_without_any_algorithm_is_google_symmetric_encryption_as_cloud_kms_implies():
    item = crypto_key()
    del item["versionTemplate"], item["primary"]["algorithm"]
    row = parse_items([item]).rows[0]
    assert (row.algorithm, row.size_bits) == ("AES-256-GCM", 256)
    assert row.platform_details["algorithm"] == "GOOGLE_SYMMETRIC_ENCRYPTION"


def test_an_asymmetric_key_without_a_template_has_no_algorithm():
    row = parse_items([crypto_key(purpose="ASYMMETRIC_SIGN", primary=None, versionTemplate=None)]).rows[0]
    assert not {"algorithm", "size_bits", "state"} & row.fields
    assert row.kind == "private-key"


def test_the_facts_of_an_external_key_manager_key_go_to_platform_details(keys):
    assert keys["ekm-archive"].platform_details == {
        "algorithm": "EXTERNAL_SYMMETRIC_ENCRYPTION",
        "cryptoKeyBackend": f"projects/{PROJECT}/locations/{LOCATION}/ekmConnections/ciphertrust-weu",
        "destroyScheduledDuration": "30 days",
        "ekmConnectionKeyPath": "v0/keys/acme-archive-kek",
        "keyAccessJustificationsPolicy": "CUSTOMER_INITIATED_ACCESS,GOOGLE_INITIATED_SYSTEM_OPERATION",
        "keyRing": "payments",
        "primary.state": "ENABLED",
        "primaryVersion": "1",
        "protectionLevel": "EXTERNAL_VPC",
    }
    assert keys["ekm-decommissioned"].platform_details["externalKeyUri"] == (
        "https://ekm.example.com/v0/keys/decommissioned-kek"
    )


def test_destruction_dates_import_only_and_a_one_day_destroy_delay_go_to_platform_details(keys):
    assert keys["retired-2023"].platform_details["primary.destroyTime"] == "2026-04-30"
    assert keys["old-logs-2022"].platform_details["primary.destroyEventTime"] == "2025-03-15"
    assert keys["byok-import"].platform_details["importOnly"] is True
    assert keys["byok-import"].platform_details["destroyScheduledDuration"] == "1 day"


def test_a_key_access_justifications_policy_that_allows_nothing_says_so():
    row = parse_items([crypto_key(keyAccessJustificationsPolicy={"allowedAccessReasons": []})]).rows[0]
    assert row.platform_details["keyAccessJustificationsPolicy"] == "none allowed"


def test_a_rotation_period_of_no_whole_number_of_days_is_rounded_and_kept_exactly_in_platform_details(keys):
    row = keys["backup-dek"]
    assert row.rotation_period_days == 45  # 3888000.250s
    assert row.platform_details["rotationPeriod"] == "3888000.250s"
    assert row.platform_details["destroyScheduledDuration"] == "129600s"  # 1.5 days: kept as the file spells it
    assert row.platform_details["nextRotationTime"] == "2026-04-30"
    assert "rotationPeriod" not in keys["prompt-logs"].platform_details  # 90 whole days need no note


@pytest.mark.parametrize(
    ("period", "days"),
    [("86400s", 1), ("7776000s", 90), ("31536000s", 365), ("129600s", 2), ("129599.999s", 1), ("86400.5s", 1)],
)
def test_rotation_periods_in_seconds_become_whole_days(period, days):
    row = parse_items([crypto_key(rotationPeriod=period)]).rows[0]
    assert row.rotation_period_days == days


def test_the_rotation_date_is_the_primary_versions_when_the_file_gives_no_version_number():
    later = crypto_key(primary={"createTime": "2025-06-01T00:00:00Z", "state": "ENABLED"})
    same_day = crypto_key("k2", primary={"createTime": "2025-01-01T00:00:01Z", "state": "ENABLED"})
    rows = parse_items([later, same_day]).rows
    assert [row.last_rotated_on for row in rows] == [dt.date(2025, 6, 1), None]
    assert all("last_rotated_on" in row.fields for row in rows)


def test_labels_are_always_provided_and_odd_values_are_kept_as_text(keys):
    assert keys["backup-dek"].labels == {"cost-centre": "", "owner": "bob", "purpose": "data-encryption"}
    assert keys["agent-attestation"].labels == {} and "labels" in keys["agent-attestation"].fields
    row = parse_items([crypto_key(labels={"replicas": 3})]).rows[0]
    assert row.labels == {"replicas": "3"}


def test_long_platform_facts_are_cut_to_what_platform_details_hold():
    backend = f"projects/{PROJECT}/locations/{LOCATION}/ekmConnections/" + "c" * 300
    details = parse_items([crypto_key(cryptoKeyBackend=backend)]).rows[0].platform_details
    assert len(details["cryptoKeyBackend"]) == 256 and details["cryptoKeyBackend"].endswith("…")


def test_every_algorithm_has_a_readable_name_and_a_plausible_size():
    for vendor, (readable, size) in ALGORITHMS.items():
        assert readable and "_" not in readable, vendor
        assert size is None or 128 <= size <= 4096, vendor


# --- Problems in rows -------------------------------------------------------------------------------------


def test_each_unreadable_member_is_an_error_in_its_row_and_the_row_keeps_the_rest():
    result = parse(GCP / "bad-values.json")
    assert [(row, column) for row, column, _ in errors_of(result)] == [
        (1, "external_id"),
        (2, "platform_usage"),
        (3, "created_on"),
        (3, "last_rotated_on"),
        (3, "rotation_period_days"),
        (4, "platform_usage"),
        (4, "algorithm"),
        (4, "labels"),
        (5, "state"),
        (6, "external_id"),
        (7, "external_id"),
    ]
    messages = [message for _, _, message in errors_of(result)]
    assert messages[0] == (
        "Row 1: name is missing; every key that gcloud kms keys list prints has its resource name "
        "(projects/PROJECT/locations/LOCATION/keyRings/KEY_RING/cryptoKeys/KEY)."
    )
    assert messages[1] == (
        "Row 2: purpose is missing; every key has one (ENCRYPT_DECRYPT, RAW_ENCRYPT_DECRYPT, MAC, ASYMMETRIC_SIGN, "
        "ASYMMETRIC_DECRYPT, KEY_ENCAPSULATION). Upload the output of gcloud kms keys list unchanged."
    )
    assert messages[2] == (
        "Row 3: column 'createTime' is 'yesterday'; expected an ISO 8601 date and time such as 2025-01-31T10:00:00Z."
    )
    assert messages[3].startswith("Row 3: column 'primary.createTime' is '2025-13-01T00:00:00Z'; expected an ISO")
    assert messages[4] == (
        "Row 3: column 'rotationPeriod' is '90d'; expected a duration in seconds such as 7776000s (90 days)."
    )
    assert messages[5] == (
        "Row 4: column 'purpose' is 'SIGN_VERIFY'; expected one of: ENCRYPT_DECRYPT, RAW_ENCRYPT_DECRYPT, MAC, "
        "ASYMMETRIC_SIGN, ASYMMETRIC_DECRYPT, KEY_ENCAPSULATION."
    )
    assert messages[6].startswith(
        "Row 4: column 'versionTemplate.algorithm' is 'RSA_SIGN_PSS_8192_SHA256', an algorithm this app does not "
        "know; expected a Cloud KMS algorithm (GOOGLE_SYMMETRIC_ENCRYPTION, "
    )
    assert messages[6].endswith(
        "Check the export, or leave this key out of the file until the app knows the algorithm."
    )
    assert messages[7] == "Row 4: labels is not an object of label names to text values; upload the export unchanged."
    assert messages[8].startswith("Row 5: column 'primary.state' is 'SUSPENDED'; expected one of: PENDING_GENERATION,")
    assert messages[9].endswith(
        ", the name of a key version, not of a key; export the keys themselves with gcloud kms keys list --format=json."
    )
    assert messages[10] == (
        "Row 7: column 'name' is '42'; expected a key resource name "
        "projects/PROJECT/locations/LOCATION/keyRings/KEY_RING/cryptoKeys/KEY."
    )

    rows = {row.row: row for row in result.rows}
    assert len(rows) == 7  # rows with problems are still planned, so the preview shows all their problems
    assert not {"external_id", "name"} & rows[1].fields and {"state", "algorithm", "created_on"} <= rows[1].fields
    assert not {"platform_usage", "kind"} & rows[2].fields and rows[2].algorithm == "ECDSA P-256"
    assert not {"created_on", "last_rotated_on", "rotation_period_days"} & rows[3].fields
    assert rows[3].platform_details["nextRotationTime"] == "soon"  # a platform fact is copied, never an error
    assert not {"platform_usage", "kind", "algorithm", "size_bits", "labels"} & rows[4].fields
    assert rows[4].platform_details["protectionLevel"] == "QUANTUM_VAULT"
    assert "state" not in rows[5].fields and rows[5].last_rotated_on is None


def test_a_list_of_key_rings_says_each_row_is_a_key_ring_and_nothing_else():
    result = parse(GCP / "key-rings.json")
    assert errors_of(result) == [
        (
            number,
            "external_id",
            f"Row {number}: column 'name' is 'projects/acme-ml-prod/locations/europe-west4/keyRings/{ring}...', "
            "the name of a key ring, not of a key; export the keys of each key ring with "
            "gcloud kms keys list --keyring KEY_RING --format=json.",
        )
        for number, ring in ((1, "inf"), (2, "pay"))
    ]
    assert result.scope is None
    assert [row.fields for row in result.rows] == [frozenset({"platform_details"})] * 2


# --- Problems with the whole file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        (
            "single-key.json",
            "The file holds one key object, not an array of keys (gcloud kms keys describe prints one key). Export "
            "with gcloud kms keys list --format=json, or wrap the object in [ ], and upload again.",
        ),
        (
            "empty.json",
            "The file lists no keys (an empty JSON array). Check the --location and --keyring of the gcloud kms keys "
            "list command and export again.",
        ),
        (
            "item-not-object.json",
            "Item 2 of the array is a string, not a key object. Every item must be one key as gcloud kms keys list "
            "--format=json prints it; upload the command's output unchanged.",
        ),
        ("not-json.json", "The file is not valid JSON: expecting ',' delimiter at line 21, column 1."),
        (
            "key-material.json",
            "The file holds what looks like a 256-bit hexadecimal string (the length of a key or secret) at "
            "row 2, labels.wrapped-dek. Key material is never stored here, so the whole file was rejected and not "
            "kept. Export metadata only and upload again.",
        ),
        (
            "mixed-projects.json",
            "Row 3 is a key of project 'acme-ml-staging' in location 'europe-west4', but row 1 is in project "
            "'acme-ml-prod', location 'europe-west4'. A file holds the keys of one key store (one project and "
            "location): export each project and location to its own file and import each into its store.",
        ),
        (
            "mixed-locations.json",
            "Row 2 is a key of project 'acme-ml-prod' in location 'us-central1', but row 1 is in project "
            "'acme-ml-prod', location 'europe-west4'. A file holds the keys of one key store (one project and "
            "location): export each project and location to its own file and import each into its store.",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_as_a_whole_says_why(fixture, message):
    with pytest.raises(ImportFileError) as caught:
        parse(GCP / fixture)
    assert str(caught.value) == message


@pytest.mark.parametrize("data", [b"[]", b"  [ ]\n", b"\xef\xbb\xbf[\n]"])
def test_an_empty_export_says_it_lists_no_keys_however_it_is_spaced(data):
    with pytest.raises(ImportFileError, match="The file lists no keys"):
        GcpKmsImporter().parse(data, file_name="keys.json")


def test_an_item_that_is_not_an_object_is_named_by_its_json_type():
    assert refused([crypto_key(), [1]]).startswith("Item 2 of the array is an array, not a key object.")
    assert refused([crypto_key(), None]).startswith("Item 2 of the array is null, not a key object.")
    assert refused([crypto_key(), 7]).startswith("Item 2 of the array is a number, not a key object.")


def test_keys_of_several_key_rings_of_one_location_are_one_store():
    other = crypto_key(name=NAME.format(ring="other-ring", key="k2"))
    result = parse_items([crypto_key(), other])
    assert result.errors == [] and result.scope == StoreScope(kind="gcp-kms", account=PROJECT, region=LOCATION)


# --- Telling formats apart --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture", ["keys.json", "single-key.json", "bad-values.json", "key-rings.json", "mixed-projects.json"]
)
def test_it_recognises_its_own_files(fixture):
    data = (GCP / fixture).read_bytes()
    assert GcpKmsImporter().sniff(data, json.loads(data))


def test_it_recognises_no_other_formats_file_nor_non_json():
    others = [path for path in FIXTURES.glob("*/*.json") if path.parent.name != "gcp-kms"]
    assert others, "the other formats' fixtures are missing"
    importer = GcpKmsImporter()
    for path in others:
        try:
            document = json.loads(path.read_bytes())
        except ValueError:
            document = None
        assert not importer.sniff(path.read_bytes(), document), path
    for document in (None, "projects/p", 3, [], [1, 2], [{"KeyMetadata": {}}], {"data": {"keys": {}}}):
        assert not importer.sniff(b"", document)


@pytest.mark.parametrize("format", OTHER_FORMATS)
def test_choosing_another_format_for_a_gcp_export_names_google_cloud_kms(format):
    with pytest.raises(ImportFileError) as caught:
        get_importer(format).parse((GCP / "keys.json").read_bytes(), file_name="keys.json")
    assert "it looks like Google Cloud KMS (gcp-kms). Choose that format and upload again." in str(caught.value)


def test_choosing_gcp_kms_for_another_export_names_the_format_it_looks_like():
    azure = FIXTURES / "azure-kv" / "keys.json"
    with pytest.raises(ImportFileError) as caught:
        get_importer("gcp-kms").parse(azure.read_bytes(), file_name=azure.name)
    assert str(caught.value) == (
        "This file does not look like a Google Cloud KMS export (gcloud kms keys list --location L --keyring R "
        "--format=json); it looks like Azure Key Vault (azure-kv). Choose that "
        "format and upload again."
    )
