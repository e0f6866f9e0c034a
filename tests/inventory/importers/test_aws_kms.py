"""AWS KMS export: an array of describe-key results (with tags, aliases and rotation status) read into key rows."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from inventory.importers import REGISTRY, get_importer
from inventory.importers.aws_kms import KEY_SPECS, KEY_STATES, KEY_USAGES, AwsKmsImporter
from inventory.importers.base import ImportFileError, KeyRow, ParseResult, StoreScope
from inventory.importers.commands import EXPORT_COMMANDS
from inventory.models import KeyKind, KeyState
from inventory.usage import USAGE_FUNCTIONS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AWS = FIXTURES / "aws-kms"
ACCOUNT, REGION = "111122223333", "eu-west-1"
KEY_ID = "0b7fd7b1-8d3c-4f0e-9a57-2c61e3d4a9f1"
ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
OTHER_FORMATS = ("gcp-kms", "azure-kv", "vault-transit", "vault-kv", "cbom")
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"

importer = get_importer("aws-kms")


def parse_file(name: str) -> ParseResult:
    return importer.parse((AWS / name).read_bytes(), file_name=name)


def parse_items(items: Any) -> ParseResult:
    return importer.parse(json.dumps(items).encode(), file_name="keys.json")


def item(key_id: str = KEY_ID, **entry: Any) -> dict[str, Any]:
    """A describe-key result for a customer-managed symmetric key; ``metadata`` overrides KeyMetadata members
    (None removes one), the other keyword arguments are set beside KeyMetadata."""
    metadata = {
        "AWSAccountId": ACCOUNT,
        "KeyId": key_id,
        "Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
        "CreationDate": "2025-01-31T10:00:00+00:00",
        "Enabled": True,
        "Description": "",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
    }
    for name, value in entry.pop("metadata", {}).items():
        if value is None:
            metadata.pop(name, None)
        else:
            metadata[name] = value
    return {"KeyMetadata": metadata, **entry}


def only_row(result: ParseResult) -> KeyRow:
    assert len(result.rows) == 1
    return result.rows[0]


def messages(result: ParseResult) -> list[tuple[int | None, str, str]]:
    return [(error.row, error.column, error.message) for error in result.errors]


@pytest.fixture(scope="module")
def sample() -> dict[str, KeyRow]:
    result = parse_file("keys.json")
    assert result.errors == []
    return {row.name: row for row in result.rows}


# --- The sample export, key by key --------------------------------------------------------------------------


def test_it_reads_every_key_of_the_sample_export_in_order_with_its_store_scope():
    result = parse_file("keys.json")
    assert [row.row for row in result.rows] == list(range(1, 15))
    assert result.scope == StoreScope(kind="aws-kms", account=ACCOUNT, region=REGION)
    assert {row.store for row in result.rows} == {""}
    assert all(row.bindings is None and row.purpose == "" and row.owner == "" for row in result.rows)


def test_it_reads_a_customer_managed_symmetric_key_field_by_field(sample):
    row = sample["inference-logs-eu"]
    assert row.external_id == ARN
    assert (row.kind, row.algorithm, row.size_bits) == ("symmetric-key", "AES-256-GCM", 256)
    assert row.state == "active"
    assert row.platform_usage == "ENCRYPT_DECRYPT"
    assert row.created_on == dt.date(2024, 3, 12)  # 09:41 +01:00 is 08:41 UTC, the same day
    assert row.expires_on is None
    assert row.rotation_period_days == 180
    assert row.description == "Encrypts prompts, completions and inference logs of the EU gateway"
    assert row.labels == {
        "purpose": "inference-log-encryption",
        "owner": "bob",
        "service": "inference-gateway",
        "tenant": "acme",
        "CostCenter": "",
    }
    assert row.platform_managed is False
    assert row.platform_details == {
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyRotationEnabled": True,
        "NextRotationDate": "2026-03-09",
        "KeyManager": "CUSTOMER",
        "Origin": "AWS_KMS",
        "MultiRegion": False,
        "EncryptionAlgorithms": "SYMMETRIC_DEFAULT",
        "Aliases": "alias/inference-logs-eu,alias/gateway-logs",
    }
    assert row.fields == {
        "external_id",
        "name",
        "kind",
        "algorithm",
        "size_bits",
        "state",
        "platform_usage",
        "created_on",
        "rotation_period_days",
        "labels",
        "description",
        "platform_managed",
        "platform_details",
    }


def test_it_never_sets_what_the_planner_derives_from_tags(sample):
    for row in sample.values():
        assert not {"purpose", "owner", "backup_owner", "tenant", "custodian", "services"} & row.fields


def test_it_keeps_neither_the_key_material_id_nor_anything_else_that_is_not_a_fact_for_the_auditor(sample):
    text = repr(sample["inference-logs-eu"])
    assert "CurrentKeyMaterialId" not in text and "9f2c4e6a" not in text


def test_it_marks_an_aws_managed_key_as_platform_managed_and_names_it_after_its_alias(sample):
    row = sample["aws/s3"]
    assert row.platform_managed is True
    assert row.platform_details["KeyManager"] == "AWS"
    assert row.created_on == dt.date(2020, 5, 19)  # CreationDate as a Unix time with a fraction
    assert row.labels == {} and "labels" in row.fields  # no Tags member: the key has no tags
    assert row.rotation_period_days == 365  # rotation on, no period exported: the KMS default


def test_it_reads_a_disabled_rsa_signing_key_without_a_rotation_status(sample):
    row = sample["model-artifact-signing"]
    assert (row.kind, row.algorithm, row.size_bits) == ("private-key", "RSA-3072", 3072)
    assert row.state == "suspended"
    assert row.platform_usage == "SIGN_VERIFY"
    assert row.created_on == dt.date(2019, 10, 22)
    assert "rotation_period_days" not in row.fields  # null in the export: left as it is on the key
    assert "KeyRotationEnabled" not in row.platform_details
    assert row.platform_details["SigningAlgorithms"] == (
        "RSASSA_PKCS1_V1_5_SHA_256,RSASSA_PKCS1_V1_5_SHA_384,RSASSA_PKCS1_V1_5_SHA_512,"
        "RSASSA_PSS_SHA_256,RSASSA_PSS_SHA_384,RSASSA_PSS_SHA_512"
    )


def test_it_names_a_key_without_aliases_after_its_key_id_and_calls_an_agreement_curve_ecdh(sample):
    row = sample["c8e21f57-90ab-4cde-8f01-23456789abcd"]
    assert (row.kind, row.algorithm, row.size_bits) == ("private-key", "ECDH P-256", 256)
    assert row.platform_usage == "KEY_AGREEMENT"
    assert row.platform_details["KeyAgreementAlgorithms"] == "ECDH"
    assert "Aliases" not in row.platform_details
    assert row.labels == {} and row.description == "" and {"labels", "description"} <= row.fields


def test_it_reads_an_hmac_key_pending_deletion(sample):
    row = sample["acme-webhooks"]
    assert (row.kind, row.algorithm, row.size_bits) == ("symmetric-key", "HMAC-SHA384", 384)
    assert row.state == "deactivated"
    assert row.platform_usage == "GENERATE_VERIFY_MAC"
    assert row.labels == {"purpose": "webhook-signing", "tenant": "acme", "service": "webhooks"}
    details = row.platform_details
    assert (details["DeletionDate"], details["PendingDeletionWindowInDays"]) == ("2026-02-14", 30)
    assert details["MacAlgorithms"] == "HMAC_SHA_384"


def test_it_reads_a_multi_region_primary_key_being_updated(sample):
    row = sample["training-data"]
    assert row.external_id == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/mrk-4c1a9e7b2d5f48a6b3c0e9d8f7a6b5c4"
    assert row.state == "active"  # Updating: still usable while the primary Region changes
    assert row.platform_details["MultiRegion"] is True
    assert row.platform_details["MultiRegionKeyType"] == "PRIMARY"
    assert "PrimaryKeyArn" not in row.platform_details
    assert row.rotation_period_days is None and "rotation_period_days" in row.fields  # rotation off: cleared
    assert row.platform_details["KeyRotationEnabled"] is False


def test_it_reads_a_replica_in_this_region_of_a_key_whose_primary_is_elsewhere(sample):
    row = sample["mrk-7e0d3b9a1c2f4e5d8a6b7c9e0f1d2a3b"]
    assert row.state == "pre-activation"  # Creating
    assert row.platform_details["MultiRegionKeyType"] == "REPLICA"
    assert row.platform_details["PrimaryKeyArn"] == (
        f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-7e0d3b9a1c2f4e5d8a6b7c9e0f1d2a3b"
    )


def test_it_reads_the_expiry_of_imported_key_material(sample):
    row = sample["payments-byok"]
    assert row.expires_on == dt.date(2026, 7, 1)
    assert row.platform_details["Origin"] == "EXTERNAL"
    assert row.platform_details["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"


def test_it_reads_an_imported_key_waiting_for_its_material(sample):
    row = sample["f6b9d2e5-8a1c-4f3b-b7e0-2d5a8c1f4b96"]
    assert row.state == "pre-activation"
    assert row.expires_on is None and "expires_on" not in row.fields
    assert row.labels == {} and "labels" in row.fields


def test_it_reads_the_custom_key_store_of_cloudhsm_and_external_key_store_keys(sample):
    cloudhsm = sample["card-vault"]
    assert cloudhsm.state == "suspended"  # Unavailable: the key store is disconnected
    assert cloudhsm.platform_details["Origin"] == "AWS_CLOUDHSM"
    assert cloudhsm.platform_details["CustomKeyStoreId"] == "cks-1234567890abcdef0"
    assert cloudhsm.platform_details["CloudHsmClusterId"] == "cluster-234abcdefABC"
    xks = sample["9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"]
    assert xks.state == "deactivated"  # PendingReplicaDeletion
    assert xks.platform_details["Origin"] == "EXTERNAL_KEY_STORE"
    assert xks.platform_details["XksKeyId"] == "regulated-kek-01"
    assert xks.platform_details["DeletionDate"] == "2026-03-01"  # a Unix time in whole seconds


def test_it_reads_post_quantum_keys_without_a_key_size(sample):
    signing = sample["output-signing-pq"]
    assert (signing.kind, signing.algorithm, signing.size_bits) == ("private-key", "ML-DSA-65", None)
    assert "size_bits" in signing.fields  # cleared: the parameter set has no single key size
    assert signing.platform_details["SigningAlgorithms"] == "ML_DSA_SHAKE_256"
    kem = sample["enclave-kem"]
    assert (kem.kind, kem.algorithm, kem.platform_usage) == ("private-key", "ML-KEM-768", "ENCAPSULATE_DECAPSULATE")


def test_it_falls_back_to_the_deprecated_customer_master_key_spec_of_older_exports(sample):
    row = sample["72c5e8a1-3f6b-4d90-8e2a-5b7c9d1e3f40"]
    assert (row.kind, row.algorithm, row.size_bits) == ("symmetric-key", "AES-256-GCM", 256)
    assert row.platform_details["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert row.created_on == dt.date(2016, 9, 27)  # a Unix time as a whole number
    assert row.labels == {"Name": "legacy-ebs"}
    assert "MultiRegion" not in row.platform_details


def test_it_reads_symmetric_keys_in_the_china_regions_as_sm4():
    result = parse_file("china.json")
    assert result.errors == []
    assert result.scope == StoreScope(kind="aws-kms", account="444455556666", region="cn-north-1")
    sm4, sm2 = result.rows
    assert (sm4.name, sm4.algorithm, sm4.size_bits) == ("orders-cn", "SM4-128", 128)
    assert sm4.external_id.startswith("arn:aws-cn:kms:cn-north-1:444455556666:key/")
    assert sm4.rotation_period_days == 730
    assert (sm2.kind, sm2.algorithm, sm2.size_bits, sm2.platform_usage) == ("private-key", "SM2", 256, "SIGN_VERIFY")


# --- Mapping tables -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("aws_state", "expected"), list(KEY_STATES.items()))
def test_it_maps_each_key_state(aws_state, expected):
    row = only_row(parse_items([item(metadata={"KeyState": aws_state})]))
    assert row.state == expected


def test_it_maps_key_states_to_our_states_and_key_specs_to_our_kinds():
    assert set(KEY_STATES.values()) <= set(KeyState.values)
    assert {spec.kind for spec in KEY_SPECS.values()} <= set(KeyKind.values)


@pytest.mark.parametrize(
    ("spec", "usage", "kind", "algorithm", "size"),
    [
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "symmetric-key", "AES-256-GCM", 256),
        ("HMAC_224", "GENERATE_VERIFY_MAC", "symmetric-key", "HMAC-SHA224", 224),
        ("HMAC_256", "GENERATE_VERIFY_MAC", "symmetric-key", "HMAC-SHA256", 256),
        ("HMAC_384", "GENERATE_VERIFY_MAC", "symmetric-key", "HMAC-SHA384", 384),
        ("HMAC_512", "GENERATE_VERIFY_MAC", "symmetric-key", "HMAC-SHA512", 512),
        ("RSA_2048", "ENCRYPT_DECRYPT", "private-key", "RSA-2048", 2048),
        ("RSA_3072", "SIGN_VERIFY", "private-key", "RSA-3072", 3072),
        ("RSA_4096", "SIGN_VERIFY", "private-key", "RSA-4096", 4096),
        ("ECC_NIST_P256", "SIGN_VERIFY", "private-key", "ECDSA P-256", 256),
        ("ECC_NIST_P384", "SIGN_VERIFY", "private-key", "ECDSA P-384", 384),
        ("ECC_NIST_P384", "KEY_AGREEMENT", "private-key", "ECDH P-384", 384),
        ("ECC_NIST_P521", "SIGN_VERIFY", "private-key", "ECDSA P-521", 521),
        ("ECC_NIST_P521", "KEY_AGREEMENT", "private-key", "ECDH P-521", 521),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", "private-key", "ECDSA secp256k1", 256),
        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "private-key", "Ed25519", 256),
        ("SM2", "KEY_AGREEMENT", "private-key", "SM2", 256),
        ("ML_DSA_44", "SIGN_VERIFY", "private-key", "ML-DSA-44", None),
        ("ML_DSA_87", "SIGN_VERIFY", "private-key", "ML-DSA-87", None),
        ("ML_KEM_512", "ENCAPSULATE_DECAPSULATE", "private-key", "ML-KEM-512", None),
        ("ML_KEM_1024", "ENCAPSULATE_DECAPSULATE", "private-key", "ML-KEM-1024", None),
    ],
)
def test_it_maps_each_key_spec_to_a_kind_algorithm_and_size(spec, usage, kind, algorithm, size):
    row = only_row(parse_items([item(metadata={"KeySpec": spec, "KeyUsage": usage})]))
    assert (row.kind, row.algorithm, row.size_bits, row.platform_usage) == (kind, algorithm, size, usage)
    assert row.platform_details["KeySpec"] == spec


def test_every_key_spec_and_usage_is_covered():
    assert len(KEY_SPECS) == 20
    assert KEY_USAGES == (
        "ENCRYPT_DECRYPT",
        "SIGN_VERIFY",
        "GENERATE_VERIFY_MAC",
        "KEY_AGREEMENT",
        "ENCAPSULATE_DECAPSULATE",
    )


@pytest.mark.parametrize("usage", ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"])
def test_the_usage_table_knows_the_key_usages_it_can_check(usage):
    assert usage.lower() in USAGE_FUNCTIONS


def test_it_takes_the_state_from_enabled_when_the_key_state_is_missing():
    disabled = item(metadata={"KeyState": None, "Enabled": False})
    enabled = item("5e3f2a90-1c47-4b8e-b3d2-7a6f9c0e8d14", metadata={"KeyState": None})
    assert [row.state for row in parse_items([disabled, enabled]).rows] == ["suspended", "active"]
    row = only_row(parse_items([item(metadata={"KeyState": None, "Enabled": None})]))
    assert "state" not in row.fields


def test_it_leaves_out_what_the_export_does_not_say():
    bare = {"KeyMetadata": {"KeyId": KEY_ID, "Arn": ARN}}
    row = only_row(parse_items([bare]))
    assert row.fields == {"external_id", "name", "labels", "platform_details"}
    assert row.platform_details == {}


# --- Rotation, tags and aliases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rotation", "period", "details"),
    [
        ({"KeyRotationEnabled": True, "RotationPeriodInDays": 90}, 90, {"KeyRotationEnabled": True}),
        ({"KeyRotationEnabled": True}, 365, {"KeyRotationEnabled": True}),
        ({"KeyRotationEnabled": True, "RotationPeriodInDays": None}, 365, {"KeyRotationEnabled": True}),
        ({"RotationPeriodInDays": 730}, 730, {"KeyRotationEnabled": True}),
        ({"KeyRotationEnabled": False}, None, {"KeyRotationEnabled": False}),
        ({"KeyRotationEnabled": False, "RotationPeriodInDays": 365}, None, {"KeyRotationEnabled": False}),
    ],
)
def test_it_reads_the_rotation_period_when_rotation_is_on(rotation, period, details):
    row = only_row(parse_items([item(**rotation)]))
    assert row.rotation_period_days == period and "rotation_period_days" in row.fields
    assert row.platform_details["KeyRotationEnabled"] == details["KeyRotationEnabled"]


@pytest.mark.parametrize(
    ("rotation", "column", "message"),
    [
        (
            {"KeyRotationEnabled": "yes"},
            "KeyRotationEnabled",
            "column 'KeyRotationEnabled' is 'yes'; expected true or false.",
        ),
        (
            {"KeyRotationEnabled": True, "RotationPeriodInDays": "365"},
            "RotationPeriodInDays",
            "column 'RotationPeriodInDays' is '365'; expected a whole number of days, such as 365.",
        ),
        (
            {"KeyRotationEnabled": True, "RotationPeriodInDays": 0},
            "RotationPeriodInDays",
            "column 'RotationPeriodInDays' is '0'; expected a whole number of days, such as 365.",
        ),
        (
            {"KeyRotationEnabled": True, "NextRotationDate": "next spring"},
            "NextRotationDate",
            "column 'NextRotationDate' is 'next spring'; expected an ISO 8601 date and time such as "
            "2025-01-31T10:00:00Z.",
        ),
    ],
)
def test_it_reports_an_unreadable_rotation_status(rotation, column, message):
    result = parse_items([item(**rotation)])
    assert messages(result) == [(1, column, message)]


def test_it_reports_an_unreadable_rotation_status_and_leaves_the_period_out():
    row = only_row(parse_items([item(KeyRotationEnabled=1)]))
    assert "rotation_period_days" not in row.fields


@pytest.mark.parametrize(
    ("tags", "column", "message"),
    [
        (
            {"env": "prod"},
            "Tags",
            'Tags is not a list of {"TagKey": ..., "TagValue": ...} objects, as aws kms list-resource-tags prints '
            "them.",
        ),
        (
            [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "owner"}],
            "Tags[1]",
            'Tags[1] is not a tag; Tags must be a list of {"TagKey": ..., "TagValue": ...} objects, as aws kms '
            "list-resource-tags prints them.",
        ),
        (
            [{"TagKey": "", "TagValue": "x"}],
            "Tags[0]",
            'Tags[0] is not a tag; Tags must be a list of {"TagKey": ..., "TagValue": ...} objects, as aws kms '
            "list-resource-tags prints them.",
        ),
        (
            [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "env", "TagValue": "dev"}],
            "Tags[1]",
            "Tags names the tag 'env' twice; a KMS key has each tag once.",
        ),
    ],
)
def test_it_reports_tags_it_cannot_read_and_leaves_the_labels_out(tags, column, message):
    result = parse_items([item(Tags=tags)])
    assert messages(result) == [(1, column, message)]
    assert "labels" not in only_row(result).fields


def test_it_accepts_the_whole_list_resource_tags_output_only_as_a_list():
    result = parse_items([item(Tags={"Tags": [{"TagKey": "env", "TagValue": "prod"}], "Truncated": False})])
    assert [error.column for error in result.errors] == ["Tags"]


def test_it_ignores_aliases_of_other_keys_pasted_from_a_whole_list_aliases_output():
    aliases = [
        {"AliasName": "alias/aws/ebs", "TargetKeyId": "25a217e7-7170-4b8c-8bf6-045ea5f70e5b"},
        {"AliasName": "alias/mine", "TargetKeyId": KEY_ID},
        {"AliasName": "alias/also-mine"},
    ]
    row = only_row(parse_items([item(Aliases=aliases)]))
    assert row.name == "mine"
    assert row.platform_details["Aliases"] == "alias/mine,alias/also-mine"


def test_it_names_a_key_after_its_key_id_when_every_alias_is_for_another_key():
    row = only_row(parse_items([item(Aliases=[{"AliasName": "alias/other", "TargetKeyId": "another"}])]))
    assert row.name == KEY_ID


@pytest.mark.parametrize("aliases", [{"AliasName": "alias/x"}, [{"AliasArn": "arn:aws:kms:..."}], ["alias/x"]])
def test_it_reports_aliases_it_cannot_read_and_names_the_key_after_its_id(aliases):
    result = parse_items([item(Aliases=aliases)])
    assert messages(result) == [
        (
            1,
            "Aliases",
            'Aliases is not a list of {"AliasName": "alias/...", ...} objects, as aws kms list-aliases prints them.',
        )
    ]
    assert only_row(result).name == KEY_ID


def test_it_shortens_a_long_list_of_aliases_in_the_details():
    aliases = [{"AliasName": f"alias/{'x' * 40}-{n}", "TargetKeyId": KEY_ID} for n in range(10)]
    details = only_row(parse_items([item(Aliases=aliases)])).platform_details
    assert len(details["Aliases"]) == 256 and details["Aliases"].endswith("...")


# --- Identity: ARN, key id, account ------------------------------------------------------------------------------


def test_it_builds_the_arn_of_a_key_exported_without_one_from_its_account_and_alias_region():
    entry = item(
        metadata={"Arn": None},
        Aliases=[{"AliasName": "alias/logs", "AliasArn": f"arn:aws:kms:eu-north-1:{ACCOUNT}:alias/logs"}],
    )
    result = parse_items([entry])
    assert only_row(result).external_id == f"arn:aws:kms:eu-north-1:{ACCOUNT}:key/{KEY_ID}"
    assert result.scope == StoreScope(kind="aws-kms", account=ACCOUNT, region="eu-north-1")


def test_it_builds_the_arn_of_a_key_exported_without_one_from_the_other_keys_of_the_file():
    other = "5e3f2a90-1c47-4b8e-b3d2-7a6f9c0e8d14"
    result = parse_items([item(metadata={"Arn": None, "AWSAccountId": None}), item(other)])
    assert result.errors == []
    assert result.rows[0].external_id == ARN
    assert "external_id" in result.rows[0].fields


def test_it_reads_a_key_id_given_as_the_key_arn():
    row = only_row(parse_items([item(metadata={"Arn": None, "KeyId": ARN})]))
    assert (row.external_id, row.name) == (ARN, KEY_ID)


def test_it_cannot_build_the_arn_without_the_region():
    result = parse_items([item(metadata={"Arn": None})])
    assert messages(result) == [
        (
            1,
            "KeyMetadata.Arn",
            "KeyMetadata.Arn is missing and the key ARN cannot be built without the key's Region (no key or alias "
            "ARN in the file says it). Export the key again with aws kms describe-key, which prints the Arn.",
        )
    ]
    row = only_row(result)
    assert "external_id" not in row.fields and row.name == KEY_ID
    assert result.scope == StoreScope(kind="aws-kms", account=ACCOUNT)


def test_it_cannot_build_the_arn_without_the_account():
    entry = item(
        metadata={"Arn": None, "AWSAccountId": None},
        Aliases=[{"AliasName": "alias/logs", "AliasArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/logs"}],
    )
    result = parse_items([entry])
    assert [error.message for error in result.errors] == [
        "KeyMetadata.Arn is missing and the key ARN cannot be built without the key's account "
        "(KeyMetadata.AWSAccountId). Export the key again with aws kms describe-key, which prints the Arn."
    ]


def test_it_reports_a_key_without_arn_and_key_id_and_still_previews_the_rest():
    result = parse_file("bad-missing-arn-and-keyid.json")
    assert messages(result) == [
        (
            2,
            "KeyMetadata.Arn",
            "KeyMetadata has neither Arn nor KeyId, so the key cannot be identified. Export the key again with "
            "aws kms describe-key.",
        )
    ]
    first, second = result.rows
    assert first.external_id == ARN
    assert not {"external_id", "name"} & second.fields
    assert (second.algorithm, second.labels) == ("ECDSA P-384", {"purpose": "token-signing"})


@pytest.mark.parametrize(
    ("metadata", "column", "message"),
    [
        (
            {"Arn": "arn:aws:kms:eu-west-1:111122223333:alias/logs"},
            "KeyMetadata.Arn",
            "column 'KeyMetadata.Arn' is 'arn:aws:kms:eu-west-1:111122223333:alias/logs'; expected a KMS key ARN "
            "such as arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab.",
        ),
        (
            {"Arn": "arn:aws:s3:::bucket"},
            "KeyMetadata.Arn",
            "column 'KeyMetadata.Arn' is 'arn:aws:s3:::bucket'; expected a KMS key ARN such as "
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab.",
        ),
        (
            {"Arn": "arn:aws:kms:eu-west-1:1111:key/abc"},
            "KeyMetadata.Arn",
            "column 'KeyMetadata.Arn' is 'arn:aws:kms:eu-west-1:1111:key/abc'; expected a KMS key ARN such as "
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab.",
        ),
    ],
)
def test_it_reports_an_arn_that_is_not_a_kms_key_arn(metadata, column, message):
    result = parse_items([item(metadata=metadata)])
    assert messages(result) == [(1, column, message)]
    row = only_row(result)
    assert "external_id" not in row.fields and row.name == KEY_ID
    assert result.scope is None


def test_it_reports_a_key_id_or_account_that_contradicts_the_arn():
    entry = item(metadata={"KeyId": "5e3f2a90-1c47-4b8e-b3d2-7a6f9c0e8d14", "AWSAccountId": "444455556666"})
    entry["KeyMetadata"]["Arn"] = ARN
    assert messages(parse_items([entry])) == [
        (
            1,
            "KeyMetadata.KeyId",
            "column 'KeyMetadata.KeyId' is '5e3f2a90-1c47-4b8e-b3d2-7a6f9c0e8d14'; it is not the key id in "
            "KeyMetadata.Arn.",
        ),
        (
            1,
            "KeyMetadata.AWSAccountId",
            "column 'KeyMetadata.AWSAccountId' is '444455556666'; it is not the account in KeyMetadata.Arn.",
        ),
    ]


def test_it_reports_a_key_id_or_account_that_is_not_text():
    result = parse_items([item(metadata={"Arn": None, "KeyId": 42})])
    assert messages(result) == [
        (
            1,
            "KeyMetadata.KeyId",
            "column 'KeyMetadata.KeyId' is '42'; expected the key id, such as 1234abcd-12ab-34cd-56ef-1234567890ab.",
        )
    ]
    result = parse_items([item(metadata={"Arn": None, "AWSAccountId": "acme"})])
    assert messages(result) == [
        (
            1,
            "KeyMetadata.AWSAccountId",
            "column 'KeyMetadata.AWSAccountId' is 'acme'; expected the twelve-digit account id.",
        ),
        (
            1,
            "KeyMetadata.Arn",
            "KeyMetadata.Arn is missing and the key ARN cannot be built without the key's account "
            "(KeyMetadata.AWSAccountId). Export the key again with aws kms describe-key, which prints the Arn.",
        ),
    ]


# --- Other per-row problems ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "column", "message", "missing"),
    [
        (
            {"KeyState": "Deleted"},
            "KeyMetadata.KeyState",
            "column 'KeyMetadata.KeyState' is 'Deleted'; expected one of: Creating, Enabled, Disabled, "
            "PendingDeletion, PendingImport, PendingReplicaDeletion, Unavailable, Updating.",
            {"state"},
        ),
        (
            {"KeyUsage": "WRAP_UNWRAP"},
            "KeyMetadata.KeyUsage",
            "column 'KeyMetadata.KeyUsage' is 'WRAP_UNWRAP'; expected one of: ENCRYPT_DECRYPT, SIGN_VERIFY, "
            "GENERATE_VERIFY_MAC, KEY_AGREEMENT, ENCAPSULATE_DECAPSULATE.",
            {"platform_usage"},
        ),
        (
            {"KeySpec": "AES_128"},
            "KeyMetadata.KeySpec",
            "column 'KeyMetadata.KeySpec' is 'AES_128'; expected one of: SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, "
            "HMAC_384, HMAC_512, RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, "
            "ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, ML_KEM_512, ML_KEM_768, "
            "ML_KEM_1024.",
            {"kind", "algorithm", "size_bits"},
        ),
        (
            {"KeySpec": None, "CustomerMasterKeySpec": "RSA_1024"},
            "KeyMetadata.CustomerMasterKeySpec",
            "column 'KeyMetadata.CustomerMasterKeySpec' is 'RSA_1024'; expected one of: SYMMETRIC_DEFAULT, "
            "HMAC_224, HMAC_256, HMAC_384, HMAC_512, RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, "
            "ECC_NIST_P521, ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, "
            "ML_KEM_512, ML_KEM_768, ML_KEM_1024.",
            {"kind", "algorithm", "size_bits"},
        ),
        (
            {"KeyManager": "PARTNER"},
            "KeyMetadata.KeyManager",
            "column 'KeyMetadata.KeyManager' is 'PARTNER'; expected one of: AWS, CUSTOMER.",
            {"platform_managed"},
        ),
        (
            {"CreationDate": "last Tuesday"},
            "KeyMetadata.CreationDate",
            "column 'KeyMetadata.CreationDate' is 'last Tuesday'; expected an ISO 8601 date and time such as "
            "2025-01-31T10:00:00Z.",
            {"created_on"},
        ),
        (
            {"ValidTo": True},
            "KeyMetadata.ValidTo",
            "column 'KeyMetadata.ValidTo' is 'True'; expected a date and time.",
            {"expires_on"},
        ),
        (
            {"DeletionDate": "soon"},
            "KeyMetadata.DeletionDate",
            "column 'KeyMetadata.DeletionDate' is 'soon'; expected an ISO 8601 date and time such as "
            "2025-01-31T10:00:00Z.",
            set(),
        ),
        (
            {"Description": ["not", "text"]},
            "KeyMetadata.Description",
            "column 'KeyMetadata.Description' is '['not', 'text']'; expected text.",
            {"description"},
        ),
        (
            {"Enabled": "true", "KeyState": None},
            "KeyMetadata.Enabled",
            "column 'KeyMetadata.Enabled' is 'true'; expected true or false.",
            {"state"},
        ),
        (
            {"KeyState": ["Enabled"]},
            "KeyMetadata.KeyState",
            "column 'KeyMetadata.KeyState' is '['Enabled']'; expected one of: Creating, Enabled, Disabled, "
            "PendingDeletion, PendingImport, PendingReplicaDeletion, Unavailable, Updating.",
            {"state"},
        ),
    ],
)
def test_it_reports_a_value_it_cannot_read_and_previews_the_row_without_it(metadata, column, message, missing):
    result = parse_items([item(metadata=metadata)])
    assert messages(result) == [(1, column, message)]
    row = only_row(result)
    assert not missing & row.fields
    assert {"external_id", "name", "labels", "platform_details"} <= row.fields


def test_it_reports_an_unknown_key_state_naming_the_allowed_values():
    result = parse_file("bad-unknown-state.json")
    assert [(error.row, error.column) for error in result.errors] == [(2, "KeyMetadata.KeyState")]
    assert "expected one of: Creating, Enabled, Disabled, PendingDeletion" in result.errors[0].message
    assert str(result.errors[0]).startswith("Row 2: column 'KeyMetadata.KeyState' is 'Deleted'")
    assert [("state" in row.fields) for row in result.rows] == [True, False]


def test_it_reports_an_item_without_key_metadata():
    result = parse_file("bad-missing-keymetadata.json")
    assert messages(result) == [
        (
            2,
            "KeyMetadata",
            'the item has no KeyMetadata object; each item must be the output of aws kms describe-key ({"KeyMetadata": '
            "{...}}), optionally with Tags, Aliases and KeyRotationEnabled beside KeyMetadata.",
        )
    ]
    assert [row.row for row in result.rows] == [1, 2]
    assert result.rows[1].fields == frozenset()


def test_it_reports_key_metadata_that_is_not_an_object():
    result = parse_items([item(), {"KeyMetadata": "1234abcd"}])
    assert messages(result) == [
        (
            2,
            "KeyMetadata",
            "column 'KeyMetadata' is '1234abcd'; expected an object; each item must be the output of aws kms "
            'describe-key ({"KeyMetadata": {...}}), optionally with Tags, Aliases and KeyRotationEnabled beside '
            "KeyMetadata.",
        )
    ]


def test_a_message_never_quotes_key_material():
    # read() directly: parse() rejects such a file as a whole before reading it.
    document = [item(metadata={"KeyState": PEM})]
    result = importer.read(document)
    assert "BEGIN" not in repr(result.errors)
    assert result.errors[0].message.startswith(
        "column 'KeyMetadata.KeyState' holds what looks like a PEM private key block (not shown)"
    )


# --- Whole-file problems ---------------------------------------------------------------------------------------------


def test_it_rejects_a_file_that_is_not_json():
    with pytest.raises(ImportFileError) as exc:
        parse_file("bad-invalid-json.json")
    assert str(exc.value) == "The file is not valid JSON: expecting ',' delimiter at line 11, column 7."


def test_it_asks_to_wrap_a_single_describe_key_result_in_an_array():
    with pytest.raises(ImportFileError) as exc:
        parse_file("bad-single-object.json")
    assert str(exc.value) == (
        "The file holds a single describe-key result, but an AWS KMS export is a JSON array of them. Wrap the "
        "object in [ ] (or export every key with the import page's script) and upload again."
    )


def test_it_rejects_a_list_keys_output_as_another_format():
    with pytest.raises(ImportFileError) as exc:
        parse_file("bad-list-keys.json")
    assert str(exc.value).startswith(
        "This file does not look like an AWS KMS export (one JSON array of aws kms describe-key results, each with "
        "the key's Tags, Aliases and rotation status)"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            [],
            "The file is an empty JSON array: it lists no keys. Export them and upload again.",
        ),
        (
            {"Keys": []},
            'The file must be a JSON array in which each item is the output of aws kms describe-key ({"KeyMetadata": '
            "{...}}), optionally with Tags, Aliases and KeyRotationEnabled beside KeyMetadata.",
        ),
        (
            [item(), "arn:aws:kms:eu-west-1:111122223333:key/5e3f2a90-1c47-4b8e-b3d2-7a6f9c0e8d14"],
            'Row 2 is not a JSON object; each item must be the output of aws kms describe-key ({"KeyMetadata": '
            "{...}}), optionally with Tags, Aliases and KeyRotationEnabled beside KeyMetadata.",
        ),
    ],
)
def test_it_rejects_a_document_of_the_wrong_shape(document, message):
    with pytest.raises(ImportFileError) as exc:
        importer.read(document)
    assert str(exc.value) == message


def test_it_rejects_an_item_that_is_not_an_object_through_parse_too():
    with pytest.raises(ImportFileError, match="Row 2 is not a JSON object"):
        parse_items([item(), ["not", "an", "object"]])


def test_it_rejects_a_file_that_mixes_accounts():
    with pytest.raises(ImportFileError) as exc:
        parse_file("bad-mixed-accounts.json")
    assert str(exc.value) == (
        "The file mixes key stores: row 1 is a key of aws-kms account '111122223333' region 'eu-west-1', but row 3 "
        "is a key of aws-kms account '777788889999' region 'eu-west-1'. A file holds the keys of one account and "
        "Region (each replica of a multi-Region key is a key of its own Region): export each account and Region to "
        "its own file and import them one at a time."
    )


def test_it_rejects_the_replicas_of_a_multi_region_key_in_one_file():
    with pytest.raises(ImportFileError) as exc:
        parse_file("bad-mixed-regions.json")
    assert "row 1 is a key of aws-kms account '111122223333' region 'eu-west-1', but row 2 is a key of aws-kms " in str(
        exc.value
    )
    assert "region 'eu-central-1'" in str(exc.value)


def test_it_rejects_mixed_regions_told_only_by_an_alias_arn():
    other = "5e3f2a90-1c47-4b8e-b3d2-7a6f9c0e8d14"
    entry = item(
        other,
        metadata={"Arn": None},
        Aliases=[{"AliasName": "alias/x", "AliasArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/x"}],
    )
    with pytest.raises(
        ImportFileError, match="but row 2 is a key of aws-kms account '111122223333' region 'us-east-1'"
    ):
        parse_items([item(), entry])


def test_it_rejects_a_whole_file_with_a_pem_block_in_a_description():
    with pytest.raises(ImportFileError) as exc:
        parse_file("bad-pem-description.json")
    message = str(exc.value)
    assert message.startswith(
        "The file holds what looks like a PEM private key block at row 2, KeyMetadata.Description."
    )
    assert "the whole file was rejected and not kept" in message
    assert "not-a-real-key" not in message


def test_it_rejects_a_hex_key_anywhere_but_in_the_key_material_id():
    hex_key = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f"
    assert parse_items([item(metadata={"CurrentKeyMaterialId": hex_key})]).errors == []
    with pytest.raises(ImportFileError, match=r"a 256-bit hexadecimal string .* at row 1, KeyMetadata\.Description"):
        parse_items([item(metadata={"Description": hex_key})])


# --- Telling the format apart ----------------------------------------------------------------------------------------


def test_it_recognises_its_own_files_and_a_single_describe_key_result():
    for name in ("keys.json", "china.json", "bad-single-object.json", "bad-missing-keymetadata.json"):
        data = (AWS / name).read_bytes()
        assert importer.sniff(data, json.loads(data)), name


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {},
        {"Keys": [{"KeyId": KEY_ID, "KeyArn": ARN}], "Truncated": False},
        [{"KeyId": KEY_ID, "Arn": ARN}],
        [{"name": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k", "purpose": "ENCRYPT_DECRYPT"}],
        [{"key": {"kid": "https://v.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef", "kty": "RSA"}}],
        {"data": {"type": "aes256-gcm96", "keys": {"1": 1700000000}, "name": "orders"}},
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []},
        [1, 2, 3],
        "KeyMetadata",
    ],
)
def test_it_does_not_recognise_other_shapes(document):
    assert not importer.sniff(b"", document)


def _other_format_files() -> list[Path]:
    return sorted(path for fmt in OTHER_FORMATS for path in (FIXTURES / fmt).glob("*.json"))


@pytest.mark.parametrize("path", _other_format_files(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_it_does_not_recognise_the_other_formats_sample_files(path):
    data = path.read_bytes()
    try:
        document = json.loads(data)
    except ValueError:
        document = None
    assert not importer.sniff(data, document)


def test_it_is_recognised_only_by_itself():
    data = (AWS / "keys.json").read_bytes()
    document = json.loads(data)
    assert [fmt for fmt, other in REGISTRY.items() if other.sniff(data, document)] == ["aws-kms"]


@pytest.mark.parametrize("fmt", OTHER_FORMATS)
def test_choosing_another_format_for_an_aws_export_names_aws_kms(fmt):
    with pytest.raises(ImportFileError) as exc:
        get_importer(fmt).parse((AWS / "keys.json").read_bytes(), file_name="keys.json")
    assert "it looks like AWS KMS (aws-kms). Choose that format and upload again." in str(exc.value)


def test_the_importer_describes_itself():
    assert isinstance(importer, AwsKmsImporter)
    assert (importer.format, importer.label, importer.store_kind, importer.reads_tags) == (
        "aws-kms",
        "AWS KMS",
        "aws-kms",
        True,
    )
    assert "README" not in importer.help and importer.format in EXPORT_COMMANDS


def test_reading_does_not_change_the_document():
    document = json.loads((AWS / "keys.json").read_bytes())
    before = copy.deepcopy(document)
    importer.read(document)
    assert document == before


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYq"[:40]


@pytest.mark.parametrize(
    ("where", "entry"),
    [
        ("KeyMetadata.CurrentKeyMaterialId", {"KeyMetadata": {"CurrentKeyMaterialId": AWS_SECRET}}),
        ("Tags[0].CurrentKeyMaterialId", {"Tags": [{"TagKey": "note", "CurrentKeyMaterialId": AWS_SECRET}]}),
    ],
)
def test_a_secret_under_the_key_material_id_name_refuses_the_file(where, entry):
    # Issue 11: the scan skipped every member named CurrentKeyMaterialId, so any value under that name passed.
    document = item()
    for name, value in entry.items():
        document[name] = {**document.get(name, {}), **value} if isinstance(value, dict) else value
    with pytest.raises(ImportFileError) as caught:
        parse_items([document])
    assert f"an AWS secret access key at row 1, {where}." in str(caught.value)
    assert AWS_SECRET not in str(caught.value)


def test_the_64_hex_key_material_id_kms_writes_is_still_accepted():
    document = item()
    document["KeyMetadata"]["CurrentKeyMaterialId"] = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f"
    assert parse_items([document]).errors == []
