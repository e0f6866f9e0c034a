"""Azure Key Vault import (azure-kv): `az keyvault key show` results (and REST API responses) read field by
field, and every message."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest

from inventory.importers import get_importer
from inventory.importers.azure_kv import CURVES, KEY_OPS, KEY_TYPES, PRIVATE_MEMBERS, AzureKeyVaultImporter
from inventory.importers.base import ImportFileError, KeyRow, ParseResult, StoreScope
from inventory.models import KeyKind
from inventory.usage import USAGE_FUNCTIONS
from tests.inventory.importers.support import FIXTURES, Parser, by_name, errors_of, provided

AZURE = FIXTURES / "azure-kv"
OTHER_FORMATS = ("aws-kms", "gcp-kms", "vault-transit", "vault-kv", "cbom")
VAULT = "https://kv-ml-prod-weu.vault.azure.net"
VERSION = "0123456789abcdef0123456789abcdef"


_PARSER = Parser(AzureKeyVaultImporter())
parse, parse_items, refused = _PARSER.parse, _PARSER.parse_items, _PARSER.refused


def modulus(bits: int, *, urlsafe: bool = False, leading_zero: bool = False) -> str:
    """A stand-in for a public RSA modulus of ``bits`` bits (the top bit set; not any real key's)."""
    raw = (b"\0" if leading_zero else b"") + bytes([0x80 | (n * 37 % 128) for n in range(bits // 8)])
    return (base64.urlsafe_b64encode(raw).rstrip(b"=") if urlsafe else base64.b64encode(raw)).decode()


def bundle(name: str = "k1", *, key: dict[str, Any] | None = None, **members: Any) -> dict[str, Any]:
    """An `az keyvault key show` result of an EC P-256 signing key, with ``key`` members and top-level ``members``
    replacing or adding to the defaults."""
    item: dict[str, Any] = {
        "attributes": {
            "created": "2025-01-01T00:00:00+00:00",
            "enabled": True,
            "expires": None,
            "notBefore": None,
            "recoverableDays": 90,
            "recoveryLevel": "Recoverable",
            "updated": "2025-01-01T00:00:00+00:00",
        },
        "key": {"crv": "P-256", "d": None, "keyOps": ["sign", "verify"], "kid": f"{VAULT}/keys/{name}/{VERSION}"},
        "managed": None,
        "releasePolicy": None,
        "tags": None,
    }
    item["key"]["kty"] = "EC"
    item["key"].update(key or {})
    item.update(members)
    return item


@pytest.fixture(scope="module")
def export() -> ParseResult:
    return parse(AZURE / "keys.json")


@pytest.fixture(scope="module")
def keys(export: ParseResult) -> dict[str, KeyRow]:
    return by_name(export)


# --- The export, field by field ---------------------------------------------------------------------------


def test_it_reads_every_key_of_the_vault_without_errors(export):
    assert export.errors == []
    assert [row.row for row in export.rows] == list(range(1, 12))
    assert export.scope == StoreScope(kind="azure-kv", account="kv-ml-prod-weu")
    assert {row.store for row in export.rows} == {""}


def test_an_hsm_key_encryption_key_is_read_field_by_field(keys):
    assert provided(keys["inference-log-kek"]) == {
        "algorithm": "RSA-3072",
        "created_on": dt.date(2025, 2, 10),
        "expires_on": dt.date(2027, 2, 10),
        "external_id": f"{VAULT}/keys/inference-log-kek",  # without the version
        "kind": "private-key",
        "labels": {
            "owner": "bob",
            "purpose": "key-transport",
            "service": "inference-gateway",
            "tenant": "acme",
        },
        "name": "inference-log-kek",
        "platform_details": {
            "exportable": False,
            "hsmPlatform": "2",
            "kty": "RSA-HSM",
            "recoverableDays": 90,
            "recoveryLevel": "Recoverable",
            "updated": "2025-06-01",
            "vaultUrl": VAULT,
        },
        "platform_managed": False,
        "platform_usage": "wrapKey,unwrapKey,encrypt,decrypt",  # the file's order
        "size_bits": 3072,  # from the length of the public modulus
        "state": "active",
    }


def test_public_key_members_are_never_stored(export):
    stored = json.dumps([provided(row) for row in export.rows], default=str)
    items = json.loads((AZURE / "keys.json").read_text())
    for item in items:
        for member in ("n", "x", "y"):
            if item["key"].get(member):
                assert item["key"][member] not in stored
    assert "AQAB" not in stored


def test_what_key_show_does_not_say_is_left_as_it_is(keys):
    for row in keys.values():
        assert not {"last_rotated_on", "rotation_period_days", "description", "purpose", "owner"} & row.fields
    assert "activated_on" not in keys["inference-log-kek"].fields  # no notBefore: the activation date stays


@pytest.mark.parametrize(
    ("key", "kind", "algorithm", "size", "kty", "usage"),
    [
        ("inference-log-kek", KeyKind.PRIVATE_KEY, "RSA-3072", 3072, "RSA-HSM", "wrapKey,unwrapKey,encrypt,decrypt"),
        ("legacy-app-key", KeyKind.PRIVATE_KEY, "RSA-2048", 2048, "RSA", "decrypt,encrypt"),
        (
            "partner-exchange-2024",
            KeyKind.PRIVATE_KEY,
            "RSA-4096",
            4096,
            "RSA-HSM",
            "encrypt,decrypt,wrapKey,unwrapKey",
        ),
        ("model-signing", KeyKind.PRIVATE_KEY, "ECDSA P-256", 256, "EC", "sign,verify"),
        ("wallet-signer", KeyKind.PRIVATE_KEY, "ECDSA secp256k1", 256, "EC-HSM", "sign,verify"),
        ("audit-log-signer", KeyKind.PRIVATE_KEY, "ECDSA P-384", 384, "EC-HSM", "sign,verify"),
        ("firmware-signer", KeyKind.PRIVATE_KEY, "ECDSA P-521", 521, "EC", "verify,sign"),
        ("byok-kek", KeyKind.PRIVATE_KEY, "RSA-4096", 4096, "RSA-HSM", "import"),
        (
            "api-gateway-tls",
            KeyKind.CERTIFICATE_PRIVATE_KEY,
            "RSA-2048",
            2048,
            "RSA",
            "sign,verify,wrapKey,unwrapKey,encrypt,decrypt",
        ),
    ],
)
def test_each_key_type_and_curve_maps_to_kind_algorithm_size_and_usage(keys, key, kind, algorithm, size, kty, usage):
    row = keys[key]
    assert (row.kind, row.algorithm, row.size_bits, row.platform_usage) == (kind, algorithm, size, usage)
    assert row.platform_details["kty"] == kty


def test_ec_keys_keep_their_curve_in_platform_details(keys):
    assert keys["wallet-signer"].platform_details["crv"] == "P-256K"
    assert "crv" not in keys["inference-log-kek"].platform_details


def test_a_disabled_key_is_suspended_and_an_expired_one_keeps_its_state_and_expiry(keys):
    assert keys["legacy-app-key"].state == "suspended"
    expired = keys["partner-exchange-2024"]
    assert (expired.state, expired.expires_on) == ("active", dt.date(2024, 12, 31))


def test_not_before_is_the_activation_date_and_does_not_change_the_state(keys):
    row = keys["q3-rollout-kek"]
    assert (row.activated_on, row.state, row.expires_on) == (dt.date(2026, 7, 1), "active", dt.date(2027, 7, 1))


def test_no_expiry_is_provided_as_none_so_a_removed_expiry_is_cleared(keys):
    assert keys["model-signing"].expires_on is None and "expires_on" in keys["model-signing"].fields


def test_a_key_backing_a_certificate_is_a_platform_managed_certificate_private_key(keys):
    row = keys["api-gateway-tls"]
    assert (row.kind, row.platform_managed, row.labels) == ("certificate-private-key", True, {})
    assert {"platform_managed", "labels"} <= row.fields
    assert row.activated_on == dt.date(2025, 11, 15)


def test_a_release_policy_is_described_without_its_body(keys):
    details = keys["cvm-disk-key"].platform_details
    assert details["exportable"] is True
    assert details["releasePolicy.immutable"] is True
    assert details["releasePolicy.contentType"] == "application/json; charset=utf-8"
    assert not any("encodedPolicy" in name or "attest" in str(value) for name, value in details.items())


def test_a_managed_hsm_is_a_store_of_its_own_with_symmetric_keys():
    result = parse(AZURE / "managed-hsm.json")
    assert result.errors == []
    assert result.scope == StoreScope(kind="azure-kv", account="hsm-payments-weu")
    keys = by_name(result)
    aes = keys["pan-tokenisation"]
    assert aes.external_id == "https://hsm-payments-weu.managedhsm.azure.net/keys/pan-tokenisation"
    assert (aes.kind, aes.algorithm, aes.size_bits) == ("symmetric-key", "AES", None)  # key show gives no size
    assert aes.platform_details["vaultUrl"] == "https://hsm-payments-weu.managedhsm.azure.net"
    assert keys["skr-model-weights"].platform_usage == "wrapKey,unwrapKey,encrypt,decrypt,export"


def test_rest_api_responses_are_read_like_cli_output():
    result = parse(AZURE / "rest-api.json")
    assert result.errors == []
    assert result.scope == StoreScope(kind="azure-kv", account="kv-payments-neu")
    keys = by_name(result)
    kek = keys["settlement-kek"]
    assert provided(kek) | {"platform_details": None} == {
        "activated_on": dt.date(2024, 6, 1),  # nbf 1717236000
        "algorithm": "RSA-2048",  # from the base64url modulus
        "created_on": dt.date(2024, 6, 1),
        "expires_on": dt.date(2026, 6, 1),  # exp 1780308000
        "external_id": "https://kv-payments-neu.vault.azure.net/keys/settlement-kek",
        "kind": "private-key",
        "labels": {"owner": "dave", "purpose": "key-transport"},
        "name": "settlement-kek",
        "platform_details": None,
        "platform_managed": False,
        "platform_usage": "wrapKey,unwrapKey",  # key_ops
        "size_bits": 2048,
        "state": "active",
    }
    assert keys["receipt-signer"].created_on == dt.date(2024, 9, 1)  # 1725148800.5: fractional Unix seconds
    aes = keys["card-data-key"]
    assert (aes.kind, aes.algorithm, aes.size_bits, aes.state) == ("symmetric-key", "AES-256", 256, "suspended")
    assert (keys["old-sizeless-rsa"].algorithm, keys["old-sizeless-rsa"].size_bits) == ("RSA-2048", 2048)


@pytest.mark.parametrize(
    ("n", "bits"),
    [
        (modulus(2048), 2048),
        (modulus(3072, urlsafe=True), 3072),
        (modulus(4096, leading_zero=True), 4096),  # a sign byte in front is not part of the size
        (modulus(2048) + "\n", 2048),
    ],
)
def test_the_rsa_size_comes_from_the_length_of_the_modulus_in_either_base64_alphabet(n, bits):
    row = parse_items([bundle(key={"kty": "RSA", "crv": None, "n": n, "e": "AQAB"})]).rows[0]
    assert (row.algorithm, row.size_bits) == (f"RSA-{bits}", bits)


def test_an_rsa_key_without_modulus_or_size_has_no_size():
    row = parse_items([bundle(key={"kty": "RSA-HSM", "crv": None})]).rows[0]
    assert (row.algorithm, row.size_bits) == ("RSA", None)
    assert {"algorithm", "size_bits"} <= row.fields


def test_key_operations_keep_the_files_order_once_each_in_the_vendors_spelling():
    row = parse_items([bundle(key={"keyOps": ["Sign", "verify", "sign", "WRAPKEY"]})]).rows[0]
    assert row.platform_usage == "sign,verify,wrapKey"
    assert parse_items([bundle(key={"keyOps": []})]).rows[0].platform_usage == ""
    assert "platform_usage" not in parse_items([bundle(key={"keyOps": None})]).rows[0].fields


def test_the_vault_host_is_read_in_lower_case_and_a_kid_without_version_is_accepted():
    item = bundle(key={"kid": "https://KV-ML-Prod-WEU.vault.azure.net:443/keys/Mixed-Case-Key"})
    result = parse_items([item])
    assert result.rows[0].external_id == f"{VAULT}/keys/Mixed-Case-Key"
    assert result.scope == StoreScope(kind="azure-kv", account="kv-ml-prod-weu")


def test_sovereign_cloud_vaults_are_read():
    item = bundle(key={"kid": f"https://kv-cn.vault.azure.cn/keys/k1/{VERSION}"})
    assert parse_items([item]).rows[0].external_id == "https://kv-cn.vault.azure.cn/keys/k1"


def test_a_result_without_attributes_leaves_state_and_dates_as_they_are():
    row = parse_items([bundle(attributes=None)]).rows[0]
    assert not {"state", "created_on", "expires_on", "activated_on"} & row.fields
    assert {"external_id", "kind", "algorithm", "platform_usage", "labels"} <= row.fields


def test_tag_values_are_kept_as_text():
    row = parse_items([bundle(tags={"replicas": 3, "empty": ""})]).rows[0]
    assert row.labels == {"replicas": "3", "empty": ""}


def test_the_vendor_tables_speak_the_usage_table_and_the_models_vocabulary():
    known = set(USAGE_FUNCTIONS)
    assert {op.lower() for op in KEY_OPS} <= known
    assert set(KEY_TYPES) == {"RSA", "RSA-HSM", "EC", "EC-HSM", "oct", "oct-HSM"}
    assert set(CURVES) == {"P-256", "P-256K", "P-384", "P-521"}


# --- Problems in rows -------------------------------------------------------------------------------------


def test_each_unreadable_member_is_an_error_in_its_row_and_the_row_keeps_the_rest():
    result = parse(AZURE / "bad-values.json")
    assert errors_of(result) == [
        (
            1,
            "external_id",
            "Row 1: key.kid is missing; every key that az keyvault key show prints has its id "
            "(https://VAULT.vault.azure.net/keys/NAME/VERSION).",
        ),
        (
            2,
            "external_id",
            "Row 2: column 'key.kid' is 'https://kv-ml-prod-weu.vault.azure.net/secrets/db-passwor...'; expected a "
            "Key Vault key id https://VAULT.vault.azure.net/keys/NAME/VERSION. It is the id of one of the vault's "
            "secrets, which this import does not read.",
        ),
        (3, "algorithm", "Row 3: column 'key.crv' is 'P-224'; expected one of: P-256, P-256K, P-384, P-521."),
        (
            3,
            "platform_usage",
            "Row 3: column 'key.keyOps' is 'derive'; expected operations among: encrypt, decrypt, sign, verify, "
            "wrapKey, unwrapKey, import, export, release.",
        ),
        (3, "state", "Row 3: column 'attributes.enabled' is 'yes'; expected true or false."),
        (
            3,
            "created_on",
            "Row 3: column 'attributes.created' is 'last week'; expected an ISO 8601 date and time such as "
            "2025-01-31T10:00:00Z.",
        ),
        (
            3,
            "expires_on",
            "Row 3: column 'attributes.expires' is '2026-02-30T00:00:00+00:00'; expected an ISO 8601 date and time "
            "such as 2025-01-31T10:00:00Z.",
        ),
        (3, "labels", "Row 3: tags is not an object of tag names to text values; upload the export unchanged."),
        (4, "kind", "Row 4: column 'key.kty' is 'OKP'; expected one of: RSA, RSA-HSM, EC, EC-HSM, oct, oct-HSM."),
        (4, "platform_usage", "Row 4: key.keyOps is not a list of operation names; upload the export unchanged."),
        (
            5,
            "size_bits",
            "Row 5: key.n (the public modulus) cannot be read; expected the base64 text of the RSA modulus.",
        ),
        (6, "algorithm", "Row 6: key.crv is missing; an EC key names its curve: P-256, P-256K, P-384, P-521."),
        (
            7,
            "external_id",
            "Row 7: key is not an object; every az keyvault key show result has a key object with the key's kid, kty "
            "and keyOps. Upload the command's output unchanged.",
        ),
    ]
    rows = {row.row: row for row in result.rows}
    assert len(rows) == 7  # rows with problems are still planned, so the preview shows all their problems
    assert not {"external_id", "name"} & rows[1].fields and rows[1].platform_usage == "sign"
    assert not {"algorithm", "size_bits", "platform_usage", "state", "created_on", "expires_on", "labels"} & (
        rows[3].fields
    )
    assert rows[3].kind == "private-key" and rows[3].name == "bad-attributes"
    assert not {"kind", "algorithm", "size_bits", "platform_usage"} & rows[4].fields
    assert not {"size_bits", "algorithm"} & rows[5].fields and rows[5].kind == "private-key"
    assert rows[7].fields == frozenset()


def test_a_key_size_that_is_not_a_number_of_bits_is_an_error():
    result = parse_items([bundle(key={"kty": "oct-HSM", "crv": None, "key_size": "256"})])
    assert errors_of(result) == [
        (1, "size_bits", "Row 1: column 'key.key_size' is '256'; expected a whole number of bits.")
    ]


def test_a_missing_key_type_is_an_error():
    result = parse_items([bundle(key={"kty": None})])
    assert errors_of(result) == [
        (1, "kind", "Row 1: key.kty is missing; expected one of: RSA, RSA-HSM, EC, EC-HSM, oct, oct-HSM.")
    ]


# --- Problems with the whole file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        (
            "single-key.json",
            "The file holds one key, not an array of keys (az keyvault key show prints one key). Put the results of "
            "az keyvault key show for every key of the vault in one JSON array (the import page shows the commands), or wrap this one in "
            "[ ], and upload again.",
        ),
        (
            "empty.json",
            "The file lists no keys (an empty JSON array). Check the vault name in the export commands and export "
            "again.",
        ),
        (
            "item-not-object.json",
            "Item 2 of the array is null, not a key object. Every item must be the output of az keyvault key show for "
            "one key.",
        ),
        ("not-json.json", "The file is not valid JSON: expecting ',' delimiter at line 13, column 1."),
        (
            "key-list.json",
            "Row 1 looks like the output of az keyvault key list, which leaves out each key's type and operations. Run "
            "az keyvault key show for each key and upload the array of its results (the import page shows the commands).",
        ),
        (
            "private-member.json",
            "The file holds private key material: row 2 has a value in key.d, a private member of the JSON Web Key. "
            "Key material is never stored here, so the whole file was rejected and not kept. Export with az keyvault "
            "key show, which prints public members only, and upload again.",
        ),
        (
            "key-material.json",
            "The file holds what looks like a 256-bit hexadecimal string (the length of a key or secret) at "
            "row 1, tags.wrapped-dek. Key material is never stored here, so the whole file was rejected and not kept. "
            "Export metadata only and upload again.",
        ),
        (
            "mixed-vaults.json",
            "Row 3 is a key of 'kv-ml-dev-weu.vault.azure.net', but row 1 is a key of "
            "'kv-ml-prod-weu.vault.azure.net'. A file holds the keys of one key store (one vault or Managed HSM): "
            "export each vault to its own file and import each into its store.",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_as_a_whole_says_why(fixture, message):
    with pytest.raises(ImportFileError) as caught:
        parse(AZURE / fixture)
    assert str(caught.value) == message


@pytest.mark.parametrize("member", PRIVATE_MEMBERS)
def test_any_private_jwk_member_with_a_value_rejects_the_file_naming_row_and_member(member):
    message = refused([bundle(), bundle("k2", key={member: "c2hvcnQ"})])
    assert message.startswith(f"The file holds private key material: row 2 has a value in key.{member}, ")


def test_private_members_without_a_value_are_what_the_cli_prints_and_are_fine():
    empty = {member: None for member in PRIVATE_MEMBERS} | {"k": "", "t": None}
    assert parse_items([bundle(key=empty)]).errors == []


def test_a_single_key_with_a_private_member_is_refused_for_the_material_first():
    with pytest.raises(ImportFileError, match=r"row 1 has a value in key\.k,"):
        AzureKeyVaultImporter().parse(json.dumps(bundle(key={"k": "c2hvcnQ"})).encode(), file_name="key.json")


def test_a_vault_and_a_managed_hsm_of_the_same_name_are_different_stores():
    hsm = bundle("k2", key={"kid": f"https://kv-ml-prod-weu.managedhsm.azure.net/keys/k2/{VERSION}"})
    assert refused([bundle(), hsm]).startswith(
        "Row 2 is a key of 'kv-ml-prod-weu.managedhsm.azure.net', but row 1 is a key of "
        "'kv-ml-prod-weu.vault.azure.net'."
    )


# --- Telling formats apart --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture", ["keys.json", "managed-hsm.json", "rest-api.json", "single-key.json", "bad-values.json", "key-list.json"]
)
def test_it_recognises_its_own_files(fixture):
    data = (AZURE / fixture).read_bytes()
    assert AzureKeyVaultImporter().sniff(data, json.loads(data))


def test_it_recognises_no_other_formats_file_nor_non_json():
    others = [path for path in FIXTURES.glob("*/*.json") if path.parent.name != "azure-kv"]
    assert others, "the other formats' fixtures are missing"
    importer = AzureKeyVaultImporter()
    for path in others:
        try:
            document = json.loads(path.read_bytes())
        except ValueError:
            document = None
        assert not importer.sniff(path.read_bytes(), document), path
    for document in (None, "https://kv.vault.azure.net/keys/k", 3, [], [1, 2], [{"key": "k"}], [{"kid": "x"}]):
        assert not importer.sniff(b"", document)


@pytest.mark.parametrize("format", OTHER_FORMATS)
def test_choosing_another_format_for_an_azure_export_names_azure_key_vault(format):
    with pytest.raises(ImportFileError) as caught:
        get_importer(format).parse((AZURE / "keys.json").read_bytes(), file_name="keys.json")
    assert "it looks like Azure Key Vault (azure-kv). Choose that format and upload again." in str(caught.value)


def test_choosing_azure_kv_for_another_export_names_the_format_it_looks_like():
    gcp = FIXTURES / "gcp-kms" / "keys.json"
    with pytest.raises(ImportFileError) as caught:
        get_importer("azure-kv").parse(gcp.read_bytes(), file_name=gcp.name)
    assert str(caught.value) == (
        "This file does not look like an Azure Key Vault export (az keyvault key show --vault-name V --name K for each "
        "key, as one JSON array); it looks like Google Cloud KMS (gcp-kms). Choose that format and upload "
        "again."
    )


def _jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signature = base64.urlsafe_b64encode(bytes(range(7, 39))).rstrip(b"=").decode()
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': 'svc-inference'})}.{signature}"


@pytest.mark.parametrize("tag", ["x", "y", "n", "e"])
def test_a_token_in_a_tag_named_like_a_public_jwk_member_refuses_the_file(tag):
    # Issue 11: the scan skipped members named n, e, x and y everywhere, so a JWT in tags.x reached Key.labels.
    token = _jwt()
    message = refused([bundle(), bundle("k2", tags={"team": "ml", tag: token})])
    assert message.startswith(f"The file holds what looks like a JSON Web Token at row 2, tags.{tag}. ")
    assert token[:12] not in message


def test_a_token_nested_under_a_public_member_name_outside_the_key_refuses_the_file():
    token = _jwt()
    message = refused([bundle(releasePolicy={"data": {"x": [token]}})])
    assert "a JSON Web Token at row 1, releasePolicy.data.x[0]." in message


def test_the_public_members_of_the_key_itself_are_still_skipped_and_ordinary_tags_named_x_are_kept():
    result = parse_items(
        [bundle(key={"x": modulus(256, urlsafe=True), "y": modulus(256, urlsafe=True)}, tags={"x": "1"})]
    )
    assert result.errors == []
    assert result.rows[0].labels == {"x": "1"}
