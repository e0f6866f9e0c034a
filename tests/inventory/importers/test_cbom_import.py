"""CycloneDX CBOM import: files of other tools (1.6 and 1.7, nested components, odd but seen values), this app's
own export with its cek: properties, every mapping and every error; sniffing against the other formats; and the
round trip: an export of a varied inventory parses back to exactly the keys' values."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from inventory.exporters import get_exporter
from inventory.importers import get_importer, guess_formats
from inventory.importers.base import ALL_FIELDS, BindingRow, ImportFileError, KeyRow, ParseResult
from inventory.importers.cbom import algorithm_text
from inventory.importers.cbom.properties import STATED_FIELDS, property_pairs, read_properties
from inventory.importing import WarningKind, key_import_plan
from inventory.models import Key, KeyKind, KeyState, StoreKind
from tests.factories import (
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    PurposeFactory,
    ServiceFactory,
    TenantFactory,
    purpose,
)
from tests.inventory.fixtures import FIXTURES

CBOM = FIXTURES / "cbom"
SCANNER, PQC, WILD, EDITED = (
    CBOM / "scanner-1.6.cdx.json",
    CBOM / "pqc-1.7.cdx.json",
    CBOM / "wild-1.6.cdx.json",
    CBOM / "edited-export.cdx.json",
)
AES_GCM_REF = "crypto/algorithm/aes-256-gcm@2.16.840.1.101.3.4.1.46"


def parse(data: bytes | Path) -> ParseResult:
    if isinstance(data, Path):
        data = data.read_bytes()
    return get_importer("cbom").parse(data, file_name="inventory.cdx.json")


def parse_document(document: dict) -> ParseResult:
    return parse(json.dumps(document).encode())


def refusal(data: bytes | Path) -> str:
    with pytest.raises(ImportFileError) as caught:
        parse(data)
    return str(caught.value)


def rows(result: ParseResult) -> dict[int, KeyRow]:
    return {row.row: row for row in result.rows}


def errors(result: ParseResult) -> list[tuple[int | None, str, str]]:
    return [(error.row, error.column, error.message) for error in result.errors]


def key_component(name: str, material: dict, **extra) -> dict:
    return {
        "type": "cryptographic-asset",
        "name": name,
        "cryptoProperties": {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": material},
        **extra,
    }


def cbom(*components: dict, **top) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": list(components), **top}


# --- A CBOM of another tool (CycloneDX 1.6) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "version"),
    [(SCANNER, SchemaVersion.V1_6), (EDITED, SchemaVersion.V1_6), (PQC, SchemaVersion.V1_7)],
)
def test_the_realistic_fixtures_are_valid_cyclonedx(path, version):
    assert JsonStrictValidator(version).validate_str(path.read_text(encoding="utf-8")) is None


def test_keys_and_secrets_become_rows_numbered_by_their_place_in_the_file():
    result = parse(SCANNER)
    assert result.errors == [] and result.scope is None
    # Components counted depth-first: 1 application, 2 its library, 3 its algorithm, 4 its key; 5-8 algorithms,
    # 9 a certificate, 10 a protocol; 21-23 are a signature, an IV and a nonce (neither keys nor secrets).
    assert list(rows(result)) == [4, *range(11, 21)]
    assert [row.name for row in result.rows] == [
        "inference-log-dek",
        "api-tls-public",
        "release-signing",
        "llm-provider-token",
        "svc-db-password",
        "partner-sftp-credential",
        "webhook-signing-secret",
        "cache-encryption-key",
        "drbg-seed",
        "legacy-blob",
        "key@8f14e45f-ceea-467f-a0e6-0a7c3d2b9e10",
    ]


def test_a_nested_key_maps_every_cyclonedx_field():
    row = rows(parse(SCANNER))[4]
    assert row.fields == {
        "external_id",
        "name",
        "kind",
        "algorithm",
        "size_bits",
        "state",
        "created_on",
        "activated_on",
        "last_rotated_on",
        "expires_on",
        "description",
        "platform_details",
    }
    assert (row.external_id, row.name, row.kind, row.algorithm, row.size_bits, row.state) == (
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "inference-log-dek",
        "symmetric-key",
        "AES-256-GCM",
        256,
        "active",
    )
    assert (row.created_on, row.activated_on, row.last_rotated_on, row.expires_on) == (
        dt.date(2024, 1, 15),
        dt.date(2024, 1, 15),
        dt.date(2025, 1, 15),
        dt.date(2027, 1, 15),
    )
    assert row.description == "Encrypts prompts and completions at rest."
    # securedBy and format are the platform's facts; the securedBy algorithm is resolved to its name.
    assert row.platform_details == {"securedBy.mechanism": "HSM", "securedBy.algorithm": "AES-256-KW", "format": "raw"}
    # Without cek: properties the file says nothing of store, purpose, owners or labels: the planner decides.
    assert row.store == "" and row.purpose == "" and row.bindings is None


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        # No relatedCryptoMaterialProperties.id: the bom-ref identifies the key.
        (11, {"external_id": "crypto/key/api-tls-public", "kind": "public-key", "algorithm": "ECDSA secp256r1"}),
        (12, {"kind": "private-key", "algorithm": "RSA-3072", "size_bits": 3072, "state": "pre-activation"}),
        # 23:30 at UTC-5 is the next day in UTC.
        (13, {"kind": "api-token", "state": "suspended", "created_on": dt.date(2024, 3, 2), "algorithm": ""}),
        (14, {"external_id": "crypto/secret/svc-db-password", "kind": "password", "state": "deactivated"}),
        (15, {"kind": "password", "state": "compromised"}),  # a credential
        (16, {"kind": "shared-secret", "algorithm": "HMAC-SHA256", "state": "destroyed"}),
        (17, {"kind": "symmetric-key", "algorithm": "AES-256-GCM"}),  # a bare "key" of an AE algorithm
        (18, {"kind": "other"}),  # a seed
        (19, {"kind": "other"}),  # unknown
    ],
)
def test_each_material_type_and_state_maps(number, expected):
    row = rows(parse(SCANNER))[number]
    assert {field: getattr(row, field) for field in expected} == expected
    assert set(expected) - {"algorithm"} <= row.fields


def test_dates_in_other_time_zones_are_read_as_utc_days():
    row = rows(parse(SCANNER))[14]
    assert row.expires_on == dt.date(2025, 6, 30) and "created_on" not in row.fields


def test_a_component_without_a_type_leaves_the_kind_to_the_planner():
    row = rows(parse(SCANNER))[20]
    assert row.fields == {"external_id", "name"}
    assert row.external_id == "8f14e45f-ceea-467f-a0e6-0a7c3d2b9e10"


def test_algorithms_certificates_protocols_and_non_secret_material_are_not_rows():
    names = {row.name for row in parse(SCANNER).rows}
    assert not names & {"AES-256-GCM", "api.example.com", "TLSv1.3", "openssl", "release-signature", "gcm-iv"}


def test_odd_values_seen_in_the_wild_are_tolerated():
    (row,) = parse(WILD).rows
    assert row.row == 4  # three levels down
    assert row.external_id == "HAR-008-material-cbom"  # "id": null
    assert row.size_bits == 256  # "size": "256"
    assert row.platform_details == {"format": "raw"}  # "mechanism": null, "algorithmRef": null
    assert row.algorithm == "AES-256"
    assert "labels" not in row.fields  # other tools' properties are not ours


# --- CycloneDX 1.7 ----------------------------------------------------------------------------------------------


def test_a_1_7_file_resolves_related_cryptographic_assets_and_accepts_fingerprints():
    result = parse(PQC)
    assert result.errors == []
    by_name = {row.name: row for row in result.rows}
    assert {name: (row.kind, row.algorithm) for name, row in by_name.items()} == {
        "payments-dek": ("symmetric-key", "AES-256-GCM"),  # family AES, parameter set 256, mode gcm
        "api-signing": ("private-key", "ECDSA P-256"),  # the curve nist/P-256; the publicKey relation is skipped
        "api-signing-public": ("public-key", "ECDSA P-256"),
        "kek-ml-kem": ("private-key", "ML-KEM-768"),
        "backup-wrapping-key": ("symmetric-key", "AES-256-KW"),  # a bare "key" of a key-wrap algorithm
    }
    assert by_name["payments-dek"].platform_details == {
        "securedBy.mechanism": "HSM",
        "securedBy.algorithm": "AES-256-KW",
    }
    assert by_name["kek-ml-kem"].state == "pre-activation"


@pytest.mark.parametrize(
    ("name", "properties", "expected"),
    [
        ("AES-128-GCM", {"primitive": "ae", "parameterSetIdentifier": "128", "mode": "gcm"}, "AES-128-GCM"),
        ("AES", {"parameterSetIdentifier": "256", "mode": "gcm"}, "AES-256-GCM"),
        ("AES", {"parameterSetIdentifier": "128", "mode": "unknown"}, "AES-128"),
        ("RSA", {"parameterSetIdentifier": "4096"}, "RSA-4096"),
        ("ECDSA", {"ellipticCurve": "nist/P-384", "parameterSetIdentifier": "384"}, "ECDSA P-384"),
        ("ECDH", {"curve": "x25519"}, "ECDH x25519"),
        ("", {"algorithmFamily": "ChaCha20"}, "ChaCha20"),
        ("SYMMETRIC_DEFAULT", {"primitive": "ae"}, "SYMMETRIC_DEFAULT"),
        ("AES-GCM", {"mode": "gcm"}, "AES-GCM"),
    ],
)
def test_the_algorithm_text_is_the_name_completed_from_its_properties(name, properties, expected):
    component = {
        "type": "cryptographic-asset",
        "name": name,
        "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": properties},
    }
    assert algorithm_text(component) == expected


# --- This app's export: cek: properties ----------------------------------------------------------------------------


def test_every_cek_property_is_read_into_its_field():
    result = parse(EDITED)
    assert result.errors == []
    row = rows(result)[2]
    assert row.fields == set(ALL_FIELDS)
    assert row == KeyRow(
        row=2,
        fields=row.fields,
        store="prod-kms-eu",
        external_id="arn:aws:kms:eu-west-1:111122223333:key/mrk-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
        name="Model release signing",
        kind="certificate-private-key",  # the type says private-key: cek:kind is more precise, and agrees
        algorithm="ECDSA P-256",
        size_bits=256,
        purpose="model-artifact-signing",
        purpose_justification="Only signs released model weights.",
        purpose_approver="alice",
        purpose_reviewed_on=dt.date(2026, 1, 15),
        owner="bob",
        backup_owner="carol",
        tenant="acme",
        custodian="Example Cloud",
        ssrm_layer="model",
        state="active",
        platform_usage="SIGN_VERIFY",
        created_on=dt.date(2025, 3, 1),
        activated_on=dt.date(2025, 3, 2),
        last_rotated_on=dt.date(2026, 3, 2),
        expires_on=dt.date(2028, 3, 2),
        rotation_period_days=365,
        cryptoperiod_days=1095,
        labels={"cost-centre": 42, "pci": False, "env": "prod", "reviewed": "", "team": "ml-platform"},
        description="Signs model artefacts before they are published.",
        exposure_scope="Partner Labs verifies signatures; it cannot sign.",
        exposure_contract="MSA-2025-014 §7",
        exposed_to=["Example Cloud", "Partner Labs"],
        bindings=[
            BindingRow(
                "release-pipeline",
                principal="arn:aws:iam::111122223333:role/release",
                operations=["sign", "verify"],
            ),
            BindingRow("inference-gateway", tenant="acme", purpose="evidence-signing"),
        ],
        platform_managed=False,
        # The key's own facts; securedBy (derived from the store by the export) is not one of them.
        platform_details={"MultiRegion": True, "Origin": "AWS_KMS"},
    )


def test_in_an_export_what_a_key_does_not_state_is_empty_except_its_purpose():
    row = rows(parse(EDITED))[3]
    assert row.fields == set(ALL_FIELDS) - {"purpose"}  # an import never unassigns a purpose
    assert (row.owner, row.tenant, row.algorithm, row.size_bits, row.activated_on) == ("", "", "", None, None)
    assert (row.labels, row.exposed_to, row.bindings, row.platform_details) == ({}, [], [], {})
    assert row.platform_managed is True and row.ssrm_layer == "pi" and row.kind == "symmetric-key"


def test_without_the_fields_list_a_key_sets_only_the_properties_it_has():
    document = json.loads(EDITED.read_text(encoding="utf-8"))
    del document["metadata"]["properties"]
    row = rows(parse_document(document))[3]
    assert row.fields == {"external_id", "name", "kind", "state", "store", "ssrm_layer", "platform_managed"}


def test_cek_properties_can_be_added_to_another_tools_cbom():
    document = json.loads(SCANNER.read_text(encoding="utf-8"))
    key = document["components"][0]["components"][2]
    key["properties"] = [
        {"name": "cek:purpose", "value": "inference-log-encryption"},
        {"name": "cek:owner", "value": "bob"},
        {"name": "cek:store", "value": "prod-kms-eu"},
    ]
    row = rows(parse_document(document))[4]
    assert (row.purpose, row.owner, row.store) == ("inference-log-encryption", "bob", "prod-kms-eu")
    assert {"purpose", "owner", "store"} <= row.fields and not {"tenant", "labels", "backup_owner"} & row.fields


# --- The cek: property codec -------------------------------------------------------------------------------------

VALUES = {
    "store": "Vault KV (apps)",
    "kind": "api-token",
    "purpose": "llm-api-authentication",
    "purpose_justification": "Calls the LLM provider; nothing else.\nSecond line.",
    "purpose_approver": "alice",
    "purpose_reviewed_on": dt.date(2024, 2, 29),
    "owner": "bob",
    "backup_owner": "carol",
    "tenant": "acme",
    "custodian": "Example Cloud",
    "ssrm_layer": "orchestrated",
    "platform_usage": "encrypt,decrypt,wrapKey",
    "exposure_scope": "Read by the partner's gateway.",
    "exposure_contract": "DPA-7",
    "exposed_to": ["Example Cloud", "Partner Labs; EU"],
    "services": [
        BindingRow("inference-gateway", tenant="acme"),
        BindingRow("audit-log", purpose="evidence-signing", principal="sa-audit@acme.iam", operations=["sign"]),
    ],
    "rotation_period_days": 0,
    "cryptoperiod_days": 90,
    "platform_managed": True,
    "labels": {"env": "prod", "empty": "", "aws:cloudformation:stack-name": "llm", "n": 3, "ratio": 1.5, "on": True},
    "platform_details": {"Origin": "EXTERNAL", "VersionCount": 4, "Exportable": False},
}


def test_reading_the_written_properties_gives_back_the_values():
    pairs = property_pairs(VALUES)
    values, problems = read_properties([{"name": name, "value": value} for name, value in pairs])
    assert problems == [] and values == VALUES


def test_empty_values_are_not_written_but_empty_labels_are():
    empty = dict.fromkeys(VALUES, "") | {"rotation_period_days": None, "cryptoperiod_days": None}
    assert property_pairs(empty | {"purpose_reviewed_on": None, "platform_managed": False, "labels": {}}) == []
    assert property_pairs({"labels": {"reviewed": ""}}) == [("cek:labels:reviewed", "")]


def test_a_property_without_a_value_reads_as_empty():
    values, problems = read_properties([{"name": "cek:owner"}, {"name": "cek:labels:reviewed"}])
    assert problems == [] and values == {"owner": "", "labels": {"reviewed": ""}}


def test_the_purpose_function_is_written_for_readers_and_not_read():
    values, problems = read_properties([{"name": "cek:function", "value": "signing"}])
    assert (values, problems) == ({}, [])


def test_the_stated_fields_cover_every_key_field_but_the_identity_and_the_always_set_ones():
    assert set(STATED_FIELDS) == set(ALL_FIELDS) - {"store", "external_id", "name", "kind", "purpose", "state"} - {
        "ssrm_layer"
    }


# --- Refused files ---------------------------------------------------------------------------------------------


def test_a_file_that_is_not_json_is_refused_with_where_it_breaks():
    assert (
        refusal(CBOM / "bad-not-json.json")
        == "The file is not valid JSON: expecting ',' delimiter at line 6, column 1."
    )


def test_a_json_file_that_is_not_cyclonedx_is_refused_as_the_wrong_format():
    message = refusal(CBOM / "bad-spdx.json")
    assert message.startswith("This file does not look like a CycloneDX CBOM export (manage.py export_keys --format")
    assert message.endswith("nor like any other format this app reads. Check that you uploaded the right file.")


def test_an_older_cyclonedx_version_is_refused_with_the_versions_that_have_crypto_assets():
    assert refusal(CBOM / "bad-spec-1.4.cdx.json") == (
        "The file is CycloneDX 1.4, which has no cryptographic assets (cryptoProperties came with 1.6). "
        "Export the CBOM as CycloneDX 1.6 or 1.7 and upload it again."
    )


def test_ibms_pre_standard_cbom_is_refused_with_what_to_do():
    assert refusal(CBOM / "bad-ibm-cbom-1.1.json") == (
        "This is a pre-standard IBM CBOM (specVersion '1.5-cbom-1.1'). This app reads CycloneDX 1.6 and 1.7, which "
        "took the CBOM in: generate the file again with a current tool (e.g. cbomkit) and upload it."
    )


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (None, "The file has no specVersion. This app reads CycloneDX 1.6 and 1.7 CBOMs."),
        (1.6, 'specVersion must be text, such as "1.6" (in quotes). Correct it and upload again.'),
        ("2.0", "The file is CycloneDX '2.0'; this app reads CycloneDX 1.6 and 1.7."),
    ],
)
def test_a_missing_or_unknown_spec_version_is_refused(version, message):
    document = cbom(key_component("k", {"type": "secret-key"}, **{"bom-ref": "k"}))
    document["specVersion"] = version
    assert refusal(json.dumps(document).encode()) == message


def test_a_component_holding_its_key_material_refuses_the_whole_file_naming_it():
    assert refusal(CBOM / "bad-value.cdx.json") == (
        "The component 'export-wrapping-key' (bom-ref 'crypto/key/export-wrapping', at components[1].components[0]) "
        "has relatedCryptoMaterialProperties.value set: that field holds the key material itself. Key material is "
        "never stored here, so the whole file was rejected and not kept. Export the CBOM without key values "
        "(metadata only) and upload again."
    )


def test_the_value_check_comes_before_everything_else_and_never_echoes_the_value():
    material = secrets.token_hex(32)  # made up at run time: fixtures hold no key material
    document = cbom(
        key_component(secrets.token_hex(16), {"type": "secret-key", "value": material}, **{"bom-ref": "k1"}),
    )
    document["specVersion"] = "1.4"  # would be refused too, but later
    message = refusal(json.dumps(document).encode())
    assert message.startswith("The component (not shown) (bom-ref 'k1', at components[0]) has ")
    assert material not in message


def test_key_material_elsewhere_is_refused_by_the_generic_scan():
    material = secrets.token_hex(32)
    document = cbom(key_component("k", {"type": "secret-key"}, **{"bom-ref": "k1", "description": material}))
    assert refusal(json.dumps(document).encode()) == (
        "The file holds what looks like a 256-bit hexadecimal string (the length of a key or secret) at "
        "components[0].description. Key material is never stored here, so the whole file was rejected and not "
        "kept. Export metadata only and upload again."
    )


def test_a_file_without_keys_or_secrets_is_refused():
    assert refusal(CBOM / "bad-no-keys.cdx.json") == (
        "The file lists no keys or secrets: no component of type cryptographic-asset with assetType "
        "related-crypto-material and a key or secret as its type (3 other components skipped). Check that you "
        "exported the keys, not only the algorithms."
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (cbom() | {"components": {"k": 1}}, "components must be an array of components. Check that the file is a "),
        (cbom("text"), "components[0] is not an object. Each component must be a JSON object."),
        (
            cbom(
                key_component("a", {"type": "secret-key"}, **{"bom-ref": "same"}),
                {"type": "library", "name": "lib", "components": [{"type": "library", "name": "x", "bom-ref": "same"}]},
            ),
            "The bom-ref 'same' is used by components[0] and components[1].components[0]; each component needs its "
            "own. Correct the file and upload it again.",
        ),
        (
            cbom(
                key_component("a", {"type": "secret-key"}, **{"bom-ref": "a"}),
                metadata={"properties": [{"name": "cek:fields", "value": "owner,colour"}]},
            ),
            "The metadata property 'cek:fields' must list key fields separated by commas (it names 'colour'); ",
        ),
    ],
)
def test_a_malformed_document_is_refused(document, message):
    assert refusal(json.dumps(document).encode()).startswith(message)


# --- Row errors ----------------------------------------------------------------------------------------------------


def test_dangling_or_wrong_references_are_warnings_in_their_rows():
    result = parse(CBOM / "bad-dangling-ref.cdx.json")
    assert errors(result) == []
    assert [(warning.row, warning.column, warning.message) for warning in result.warnings] == [
        (
            2,
            "algorithm",
            "column 'relatedCryptoMaterialProperties.algorithmRef' is 'crypto/algorithm/aes-256-gcm'; no component "
            "of the file has that bom-ref, so the reference was ignored. Add the algorithm component or correct the "
            "reference to import it.",
        ),
        (
            3,
            "algorithm",
            "column 'relatedCryptoMaterialProperties.algorithmRef' is 'crypto/certificate/api.example.com'; that "
            "component is not an algorithm (its assetType is 'certificate'), so the reference was ignored. Point the "
            "reference at the algorithm component to import it.",
        ),
        (
            4,
            "platform_details",
            "column 'relatedCryptoMaterialProperties.securedBy.algorithmRef' is 'crypto/algorithm/aes-256-kw'; no "
            "component of the file has that bom-ref, so the reference was ignored. Add the algorithm component or "
            "correct the reference to import it.",
        ),
    ]
    # The rows import without what the references would have said: an existing key keeps its algorithm.
    by_number = rows(result)
    assert "algorithm" not in by_number[2].fields and "algorithm" not in by_number[3].fields
    assert by_number[4].platform_details == {"securedBy.mechanism": "HSM"}  # what the file does say
    assert by_number[2].size_bits == 256 and "size_bits" in by_number[2].fields


def test_a_key_without_a_name_is_an_error_in_its_row():
    result = parse(CBOM / "bad-missing-name.cdx.json")
    no_name = "the component has no name; every key needs one. Add its name and upload again."
    assert errors(result) == [
        (1, "name", no_name),
        (2, "name", no_name),
        (
            2,
            "external_id",
            "the component has neither relatedCryptoMaterialProperties.id nor a bom-ref; add the key's id in its "
            "store as relatedCryptoMaterialProperties.id.",
        ),
    ]
    assert rows(result)[1].fields == {"external_id", "kind", "state"}


BAD_ROWS = {
    (1, "state"): "column 'relatedCryptoMaterialProperties.state' is 'retired'; expected one of: pre-activation, "
    "active, suspended, deactivated, compromised, destroyed.",
    (2, "created_on"): "column 'relatedCryptoMaterialProperties.creationDate' is 'next tuesday'; expected an ISO "
    "8601 date and time such as 2025-01-31T10:00:00Z.",
    (3, "size_bits"): "column 'relatedCryptoMaterialProperties.size' is '-256'; expected the key size in bits, a "
    "whole number.",
    (4, "kind"): "column 'relatedCryptoMaterialProperties.type' is 'api-key'; expected one of: private-key, "
    "public-key, secret-key, key, shared-secret, password, credential, token, seed, other, unknown, "
    "additional-data, ciphertext, digest, initialization-vector, nonce, salt, signature, tag.",
    (5, "kind"): "property 'cek:kind' is 'symmetric-key' but relatedCryptoMaterialProperties.type is "
    "'private-key'; correct one of them so they agree.",
    (6, "rotation_period_days"): "column 'cek:rotation-period-days' is 'yearly'; expected a whole number of 0 or "
    "more (e.g. 365).",
    (6, "platform_managed"): "column 'cek:platform-managed' is 'yes'; expected true or false.",
    (6, ""): "column 'properties' is 'cek:ownr'; not a property this app reads (check the spelling). Known: "
    "cek:store, cek:kind, cek:purpose, cek:purpose-justification, cek:purpose-approver, cek:owner, "
    "cek:backup-owner, cek:tenant, cek:custodian, cek:ssrm-layer, cek:platform-usage, cek:exposure-scope, "
    "cek:exposure-contract, cek:purpose-reviewed-on, cek:rotation-period-days, cek:cryptoperiod-days, "
    "cek:platform-managed, cek:exposed-to, cek:binding, cek:labels:<name>, cek:labels-json:<name>, "
    "cek:platform-details:<name>, cek:platform-details-json:<name>.",
    (6, "owner"): "property 'cek:owner' appears more than once; give it once.",
    (6, "purpose_reviewed_on"): "column 'cek:purpose-reviewed-on' is '15/01/2026'; expected an ISO 8601 date and "
    "time such as 2025-01-31T10:00:00Z.",
    (6, "labels"): "column 'cek:labels-json:cost-centre' is '[42]'; expected the JSON of a number, true or false.",
    (6, "services"): "column 'cek:binding' is 'inference-gateway@acme'; expected a JSON object such as "
    '{"service": "inference-gateway", "tenant": "acme"}.',
    (6, "tenant"): "property 'cek:tenant' must have a text value (in quotes).",
    (8, "external_id"): "relatedCryptoMaterialProperties.id must be text (the key's id in its store).",
    (9, "external_id"): "the component has neither relatedCryptoMaterialProperties.id nor a bom-ref; add the key's "
    "id in its store as relatedCryptoMaterialProperties.id.",
}


@pytest.mark.parametrize(
    ("where", "message"), BAD_ROWS.items(), ids=[f"row{r}-{c or 'properties'}" for r, c in BAD_ROWS]
)
def test_each_unreadable_value_is_an_error_in_its_row(where, message):
    assert (*where, message) in errors(parse(CBOM / "bad-rows.cdx.json"))


def test_bad_bindings_and_labels_say_what_is_wrong():
    found = [(column, message) for row, column, message in errors(parse(CBOM / "bad-rows.cdx.json")) if row == 7]
    assert found == [
        (
            "services",
            'column \'cek:binding\' is \'{"service": "inference-gateway", "operations": ["encrypt"...\'; operations '
            "must be a list of: encrypt, decrypt, re-encrypt, generate-data-key, wrap, unwrap, sign, verify, "
            "generate-mac, verify-mac, derive, agree, authenticate, generate-random.",
        ),
        (
            "services",
            "column 'cek:binding' is '{\"tenant\": \"acme\"}'; names no service; every binding needs a service slug.",
        ),
        (
            "services",
            'column \'cek:binding\' is \'{"service": "training-pipeline", "role": "writer"}\'; has the unknown member '
            "'role'; expected service, tenant, purpose, principal, operations.",
        ),
        ("labels", "column 'cek:labels-json:env' is '1'; repeats the entry 'env' (once as text, once as JSON)."),
        ("labels", "column 'cek:labels:' is 'nameless'; has no entry name after 'cek:labels:'."),
    ]


def test_a_row_keeps_what_it_could_read_and_drops_whole_what_it_could_not():
    by_number = rows(parse(CBOM / "bad-rows.cdx.json"))
    assert by_number[2].fields == {"external_id", "name", "kind", "expires_on"}
    # Row 6: one bad label drops all labels, a repeated owner drops the owner; the rest is kept.
    assert by_number[6].fields == {"external_id", "name", "kind", "exposed_to", "purpose"}
    assert by_number[6].exposed_to == ["Partner Labs"] and by_number[6].purpose == "data-encryption"
    assert "kind" not in by_number[5].fields and by_number[10].fields == {"external_id", "name", "kind", "state"}


# --- Real scanners' shapes: public key values, dependencies, digests and paths -------------------------------------


def _public_key_encodings(key) -> dict[str, str]:
    public = key.public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return {
        "pem": pem,
        "base64 der (cbomkit-theia)": base64.b64encode(der).decode(),
        "openssh": public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode(),
    }


def _spki_sha256(key) -> str:
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize(
    ("make", "kind", "size"),
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA-2048", 2048),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "EC P-384", 384),
        (ed25519.Ed25519PrivateKey.generate, "Ed25519", None),
    ],
    ids=["rsa", "ec", "ed25519"],
)
def test_a_public_key_value_is_kept_as_its_fingerprint_and_type_never_as_the_value(make, kind, size):
    key = make()  # made at run time: fixtures hold no key material, and the public part is what is tested
    for encoding, value in _public_key_encodings(key).items():
        component = key_component("server-cert-key", {"type": "public-key", "value": value}, **{"bom-ref": "pk"})
        result = parse_document(cbom(component))
        assert errors(result) == [] and result.warnings == [], encoding
        (row,) = result.rows
        assert row.platform_details == {"public_key_sha256": _spki_sha256(key), "public_key_type": kind}, encoding
        assert row.algorithm == kind and row.size_bits == size and row.kind == KeyKind.PUBLIC_KEY
        kept = json.dumps({field: getattr(row, field) for field in row.fields}, default=str)
        assert "".join(value.split())[-24:] not in kept


def test_a_rsa_public_key_in_pkcs1_pem_is_read_too():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    value = key.public_key().public_bytes(Encoding.PEM, PublicFormat.PKCS1).decode()
    (row,) = parse_document(cbom(key_component("k", {"type": "public-key", "value": value}, **{"bom-ref": "k"}))).rows
    assert row.platform_details["public_key_sha256"] == _spki_sha256(key)


def _private_encodings() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return {
        "pkcs8 pem": key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
        "pkcs8 base64 der": base64.b64encode(der).decode(),
        "hex secret": secrets.token_hex(32),
    }


@pytest.mark.parametrize("material_type", ["public-key", "key", "private-key", "secret-key"])
@pytest.mark.parametrize("encoding", list(_private_encodings()))
def test_private_material_in_a_value_refuses_the_file_naming_the_component_without_echoing_it(material_type, encoding):
    value = _private_encodings()[encoding]
    document = cbom(
        key_component("rsa-signing", {"type": "secret-key"}, **{"bom-ref": "first"}),
        key_component("tls-server", {"type": material_type, "value": value}, **{"bom-ref": "crypto/key/tls"}),
    )
    message = refusal(json.dumps(document).encode())
    assert message.startswith("The component 'tls-server' (bom-ref 'crypto/key/tls', at components[1]) has ")
    assert "Key material is never stored here, so the whole file was rejected and not kept." in message
    body = "".join(value.replace("-----BEGIN PRIVATE KEY-----", "").replace("-----END PRIVATE KEY-----", "").split())
    assert body[:16] not in message and body[-16:] not in message


@pytest.mark.parametrize(
    "value",
    [
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...\n-----END PUBLIC KEY-----",
    ],
    ids=["armour only", "cut short"],
)
def test_a_public_key_value_cut_short_is_a_warning_and_the_key_imports(value):
    document = cbom(key_component("k", {"type": "public-key", "size": 2048, "value": value}, **{"bom-ref": "k"}))
    result = parse_document(document)
    (row,) = result.rows
    assert errors(result) == [] and row.size_bits == 2048 and "public_key_sha256" not in row.platform_details
    assert [(warning.row, warning.column, warning.message) for warning in result.warnings] == [
        (
            1,
            "platform_details",
            "relatedCryptoMaterialProperties.value is no readable public key (PEM, base64 DER or OpenSSH); it was "
            "not kept and no fingerprint was taken.",
        )
    ]


def algorithm(ref: str, name: str, primitive: str, parameter: str | None = None) -> dict:
    properties = {"primitive": primitive} | ({"parameterSetIdentifier": parameter} if parameter else {})
    return {
        "type": "cryptographic-asset",
        "bom-ref": ref,
        "name": name,
        "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": properties},
    }


def test_dependencies_give_keys_their_algorithm_and_a_key_length_parameter_as_size():
    document = cbom(
        algorithm("alg-aes", "AES", "block-cipher", "128"),
        algorithm("alg-hmac", "HMAC-SHA256", "mac", "256"),
        algorithm("alg-rsa", "RSA-2048", "pke", "2048"),
        key_component("key@1", {"type": "secret-key"}, **{"bom-ref": "k1"}),
        key_component("key@2", {"type": "secret-key"}, **{"bom-ref": "k2"}),
        key_component("key@3", {"type": "public-key"}, **{"bom-ref": "k3"}),
        key_component("key@4", {"type": "secret-key", "algorithmRef": "alg-hmac", "size": 512}, **{"bom-ref": "k4"}),
        key_component("key@5", {"type": "secret-key", "algorithmRef": "nowhere"}, **{"bom-ref": "k5"}),
        key_component("key@6", {"type": "secret-key"}, **{"bom-ref": "k6"}),
        dependencies=[
            {"ref": "k1", "dependsOn": ["alg-aes"]},
            {"ref": "k2", "dependsOn": ["not-in-file", "alg-hmac"]},
            {"ref": "k3", "provides": ["alg-rsa"]},
            {"ref": "k4", "dependsOn": ["alg-aes"]},  # the key's own algorithmRef wins
            {"ref": "k5", "dependsOn": ["alg-aes"]},
        ],
    )
    result = parse_document(document)
    assert errors(result) == []
    found = {row.name: (row.algorithm, row.size_bits, "algorithm" in row.fields) for row in result.rows}
    assert found == {
        "key@1": ("AES-128", 128, True),
        "key@2": ("HMAC-SHA256", None, True),  # 256 is the digest length of HMAC-SHA256, not its key's size
        "key@3": ("RSA-2048", 2048, True),
        "key@4": ("HMAC-SHA256", 512, True),
        "key@5": ("AES-128", 128, True),  # the dangling reference is a warning; the dependency still says it
        "key@6": ("", None, False),
    }
    assert [(warning.row, warning.column) for warning in result.warnings] == [(8, "algorithm")]


def test_an_unresolved_reference_is_a_warning_shown_in_the_preview_and_the_row_applies(db):
    store = KeyStoreFactory()
    data = (CBOM / "bad-dangling-ref.cdx.json").read_bytes()
    plan = key_import_plan(data=data, file_name="dangling.cdx.json", format="cbom", store=store)
    assert plan.file_error == "" and plan.errors == []
    assert plan.counts["new"] == 3
    unknown = [(warning.row, warning.column) for warning in plan.warnings if warning.kind == WarningKind.UNKNOWN]
    assert unknown == [(2, "algorithm"), (3, "algorithm"), (4, "platform_details")]


DIGEST = hashlib.sha256(b"line 42: Cipher.getInstance").hexdigest()


@pytest.mark.parametrize(
    ("where", "change"),
    [
        (
            "a property named like a hash",
            lambda doc: doc["components"][1].update(properties=[{"name": "lineHash", "value": DIGEST}]),
        ),
        (
            "a member named like a hash",
            lambda doc: doc["components"][1]["evidence"]["occurrences"][0].update(lineHash=DIGEST),
        ),
        (
            "cbomkit's commit metadata",
            lambda doc: doc.update(metadata={"properties": [{"name": "commit", "value": DIGEST[:40]}]}),
        ),
        ("a digest bom-ref and its references", lambda doc: _rename_ref(doc, DIGEST)),
        (
            "a CA file path",
            lambda doc: doc["components"][1]["evidence"]["occurrences"].append(
                {"location": "/usr/share/ca-certificates/mozilla/GDCA_TrustAUTH_R5_ROOT.crt"}
            ),
        ),
    ],
)
def test_digests_identifiers_and_paths_are_judged_by_their_cyclonedx_meaning(where, change):
    document = _scanned_cbom()
    change(document)
    (row,) = parse_document(document).rows
    assert row.name == "key@1", where


def _scanned_cbom() -> dict:
    key = key_component(
        "key@1",
        {"type": "secret-key"},
        **{"bom-ref": "k1", "evidence": {"occurrences": [{"location": "src/Crypto.java", "line": 42}]}},
    )
    return cbom(
        algorithm("alg-aes", "AES", "block-cipher", "128"), key, dependencies=[{"ref": "k1", "dependsOn": ["alg-aes"]}]
    )


def _rename_ref(document: dict, ref: str) -> None:
    document["components"][1]["bom-ref"] = ref
    document["dependencies"][0]["ref"] = ref


@pytest.mark.parametrize(
    ("where", "change", "path"),
    [
        (
            "the digest as a description",
            lambda doc, secret: doc["components"][1].update(description=secret),
            "components[1].description",
        ),
        (
            "a file named after the secret",
            lambda doc, secret: doc["components"][1]["evidence"]["occurrences"][0].update(
                location=f"conf/{secret}.key"
            ),
            "components[1].evidence.occurrences[0].location",
        ),
        (
            "a code snippet holding it",
            lambda doc, secret: doc["components"][1]["evidence"]["occurrences"][0].update(
                additionalContext=f'byte[] k = hex("{secret}");'
            ),
            "components[1].evidence.occurrences[0].additionalContext",
        ),
        (
            "a hash property holding a PEM key",
            lambda doc, secret: doc["components"][1].update(
                properties=[{"name": "lineHash", "value": f"-----BEGIN PRIVATE KEY-----{secret}"}]
            ),
            "components[1].properties[0].value",
        ),
        (
            "a reference to nothing",
            lambda doc, secret: doc["dependencies"][0].update(dependsOn=[secret]),
            "dependencies[0].dependsOn[0]",
        ),
    ],
)
def test_the_same_shapes_elsewhere_are_still_refused(where, change, path):
    secret = secrets.token_hex(32)
    document = _scanned_cbom()
    change(document, secret)
    message = refusal(json.dumps(document).encode())
    assert f" at {path}. Key material is never stored here" in message, where
    assert secret not in message


def test_a_cyclonedx_1_5_file_imports_the_crypto_assets_a_tool_wrote_into_it():
    document = _scanned_cbom() | {"specVersion": "1.5"}
    (row,) = parse_document(document).rows
    assert (row.name, row.algorithm, row.size_bits) == ("key@1", "AES-128", 128)


def test_a_cyclonedx_1_5_file_without_crypto_assets_says_1_5_has_none():
    document = cbom({"type": "library", "name": "openssl", "bom-ref": "lib"}) | {"specVersion": "1.5"}
    assert refusal(json.dumps(document).encode()) == (
        "The file is CycloneDX 1.5 and lists no keys or secrets (1 components skipped): 1.5 has no cryptographic "
        "assets (cryptoProperties came with 1.6). Export the CBOM as CycloneDX 1.6 or 1.7 and upload it again."
    )


def test_hostile_values_and_dependencies_give_clear_answers_not_crashes():
    document = cbom(
        key_component("k", {"type": "public-key", "value": "see the key store"}, **{"bom-ref": "k"}),
        dependencies=[{"ref": "k", "dependsOn": [1, None, {"x": 1}], "provides": "alg"}, {"ref": 7}, "text"],
    )
    result = parse_document(document)
    (row,) = result.rows
    assert errors(result) == [] and row.algorithm == "" and [w.column for w in result.warnings] == ["platform_details"]
    document["components"][0]["cryptoProperties"]["relatedCryptoMaterialProperties"]["value"] += (
        "-----BEGIN PUBLIC KEY-----"
    )
    assert refusal(json.dumps(document).encode()).startswith("The component 'k' (bom-ref 'k', at components[0]) has ")
    document["components"][0]["cryptoProperties"]["relatedCryptoMaterialProperties"]["value"] = "key store \ud800"
    assert "an unpaired surrogate (U+D800)" in refusal(json.dumps(document).encode())


def test_a_nameless_public_key_is_named_after_its_type_and_fingerprint():
    key = ec.generate_private_key(ec.SECP256R1())
    value = _public_key_encodings(key)["base64 der (cbomkit-theia)"]
    result = parse_document(cbom(key_component("", {"type": "public-key", "value": value}, **{"bom-ref": "pk"})))
    (row,) = result.rows
    assert errors(result) == []
    assert row.name == f"EC P-256 public key {_spki_sha256(key).removeprefix('sha256:')[:16]}"
    assert [warning.column for warning in result.warnings] == ["name"]


# --- Sniffing ----------------------------------------------------------------------------------------------------

OTHER_FORMATS = sorted(path for path in FIXTURES.glob("*/*.json") if path.parent.name not in ("cbom", "cbom-real"))
CBOM_FILES = sorted(path for path in CBOM.glob("*.json") if path.name not in ("bad-not-json.json", "bad-spdx.json"))


@pytest.mark.parametrize("path", CBOM_FILES, ids=lambda path: path.name)
def test_every_cyclonedx_file_is_recognised_as_a_cbom_and_as_nothing_else(path):
    data = path.read_bytes()
    assert [importer.format for importer in guess_formats(data, json.loads(data))] == ["cbom"]


@pytest.mark.parametrize("path", OTHER_FORMATS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_the_other_formats_files_are_not_taken_for_a_cbom(path):
    data = path.read_bytes()
    try:
        document = json.loads(data)
    except ValueError:
        document = None
    assert not get_importer("cbom").sniff(data, document)


def test_a_cbom_uploaded_as_another_format_is_named_as_a_cbom():
    with pytest.raises(ImportFileError, match=r"it looks like CycloneDX CBOM \(cbom\)\. Choose that format"):
        get_importer("aws-kms").parse(SCANNER.read_bytes(), file_name="scan.cdx.json")


def test_another_format_uploaded_as_a_cbom_is_named():
    message = refusal(FIXTURES / "aws-kms" / "keys.json")
    assert "; it looks like AWS KMS (aws-kms). Choose that format and upload again." in message


# --- The round trip: export, then import --------------------------------------------------------------------------


def _bindings(key: Key) -> list[tuple]:
    return sorted(
        (
            b.service.slug,
            b.tenant.slug if b.tenant_id else "",
            b.purpose.slug if b.purpose_id != key.purpose_id else "",
            b.principal or None,
            sorted(b.operations) or None,
        )
        for b in key.bindings.all()
    )


def expected_values(key: Key) -> dict:
    """Every KeyRow field as the key holds it (references by their natural keys)."""

    def natural(obj, attribute: str) -> str:
        return getattr(obj, attribute) if obj is not None else ""

    return {
        "store": key.store.name,
        "external_id": key.external_id,
        "name": key.name,
        "kind": key.kind,
        "algorithm": key.algorithm,
        "size_bits": key.size_bits,
        "purpose": natural(key.purpose, "slug"),
        "purpose_justification": key.purpose_justification,
        "purpose_approver": natural(key.purpose_approver, "username"),
        "purpose_reviewed_on": key.purpose_reviewed_on,
        "owner": natural(key.owner, "username"),
        "backup_owner": natural(key.backup_owner, "username"),
        "tenant": natural(key.tenant, "slug"),
        "custodian": natural(key.custodian, "name"),
        "ssrm_layer": key.ssrm_layer,
        "state": key.state,
        "platform_usage": key.platform_usage,
        "created_on": key.created_on,
        "activated_on": key.activated_on,
        "last_rotated_on": key.last_rotated_on,
        "expires_on": key.expires_on,
        "rotation_period_days": key.rotation_period_days,
        "cryptoperiod_days": key.cryptoperiod_days,
        "labels": key.labels,
        "description": key.description,
        "exposure_scope": key.exposure_scope,
        "exposure_contract": key.exposure_contract,
        "exposed_to": sorted(party.name for party in key.exposed_to.all()),
        "services": _bindings(key),
        "platform_managed": key.platform_managed,
        "platform_details": key.platform_details,
    }


def row_values(row: KeyRow) -> dict:
    values = {field: getattr(row, field) for field in ALL_FIELDS if field != "services"}
    values["services"] = sorted(
        (b.service, b.tenant, b.purpose, b.principal, sorted(b.operations) if b.operations else None)
        for b in row.bindings or ()
    )
    return values


@pytest.fixture
def varied_inventory(db, owner, other_owner, grc_user) -> list[Key]:
    kms = KeyStoreFactory(name="prod-kms-eu", kind=StoreKind.AWS_KMS)
    vault = KeyStoreFactory(name="Vault KV (apps)", kind=StoreKind.VAULT_KV)
    gcp = KeyStoreFactory(name="gcp-prod", kind=StoreKind.GCP_KMS)
    escrow = KeyStoreFactory(name="Partner escrow", kind=StoreKind.OTHER)
    cloud, partner = PartyFactory(name="Example Cloud"), PartyFactory(name="Partner Labs; EU")
    acme, globex = TenantFactory(slug="acme"), TenantFactory(slug="globex")
    gateway, pipeline = ServiceFactory(slug="inference-gateway"), ServiceFactory(slug="training-pipeline")

    full = KeyFactory(
        store=kms,
        name="Release signing (Schlüssel)",
        kind=KeyKind.CERTIFICATE_PRIVATE_KEY,
        algorithm="ECDSA P-256",
        size_bits=256,
        purpose=purpose("digital-signature"),
        purpose_justification="Signs release artefacts.\nNothing else.",
        purpose_approver=grc_user,
        purpose_reviewed_on=dt.date(2024, 2, 29),
        owner=owner,
        backup_owner=other_owner,
        tenant=acme,
        custodian=cloud,
        ssrm_layer="model",
        state=KeyState.ACTIVE,
        platform_usage="SIGN_VERIFY",
        created_on=dt.date(2023, 12, 31),
        activated_on=dt.date(2024, 1, 1),
        last_rotated_on=dt.date(2025, 6, 30),
        expires_on=dt.date(2030, 1, 1),
        rotation_period_days=0,
        cryptoperiod_days=1095,
        labels={"aws:cloudformation:stack-name": "release", "empty": "", "n": 3, "ratio": 1.5, "pci": False},
        description="Signs model artefacts.\nSecond line: ü, ß.",
        exposure_scope="Partner Labs verifies signatures.",
        exposure_contract="MSA-2025-014 §7",
        platform_managed=True,
        platform_details={"Origin": "AWS_KMS", "MultiRegion": True, "VersionCount": 4},
    )
    full.exposed_to.set([cloud, partner])
    BindingFactory(key=full, service=gateway, tenant=globex, purpose=purpose("model-artifact-signing"))
    BindingFactory(key=full, service=pipeline, principal="", operations=["verify", "sign"])

    bare = KeyFactory(
        store=vault,
        name="LLM provider token",
        kind=KeyKind.API_TOKEN,
        external_id="secret/data/llm/openai token",
        algorithm="",
        size_bits=None,
        purpose=purpose("llm-api-authentication"),
        purpose_justification="",
        purpose_reviewed_on=None,
        activated_on=None,
        labels={},
    )
    BindingFactory(key=bare, service=gateway, tenant=acme, principal="", operations=[])
    unassigned = KeyFactory(
        store=gcp,
        name="Found on the platform",
        external_id="projects/acme-prod/locations/europe-west1/keyRings/ml/cryptoKeys/weights%20v2",
        purpose=None,
        purpose_justification="",
        purpose_reviewed_on=None,
        labels={"team": "ml"},
        platform_details={"protectionLevel": "HSM"},
    )
    # One key of each kind (with a purpose that fits it), through every state.
    fitting = {
        KeyKind.SYMMETRIC_KEY: purpose("data-encryption"),
        KeyKind.PRIVATE_KEY: purpose("digital-signature"),
        KeyKind.CERTIFICATE_PRIVATE_KEY: purpose("tls-server"),
        KeyKind.API_TOKEN: purpose("api-authentication"),
        KeyKind.PASSWORD: purpose("service-credential"),
        KeyKind.SHARED_SECRET: purpose("webhook-signing"),
        KeyKind.PUBLIC_KEY: purpose("signature-verification"),
        KeyKind.OTHER: PurposeFactory(slug="escrow-other", allowed_kinds=[]),
    }
    states = [
        KeyFactory(
            store=escrow,
            kind=kind,
            state=state,
            algorithm=("AES-256-GCM", "RSA-3072", "HMAC-SHA256")[index % 3],
            purpose=fitting[kind],
            expires_on=dt.date(2026, 12, 31) if index % 2 else None,
        )
        for index, (kind, state) in enumerate(zip(KeyKind.values, [*KeyState.values, *KeyState.values], strict=False))
    ]
    return [full, bare, unassigned, *states]


def test_an_export_parses_back_to_every_value_of_every_key(varied_inventory):
    text = "".join(get_exporter("cbom", "keys")(Key.objects.all()))
    result = parse(text.encode())
    assert result.errors == []
    keys = {(key.store.name, key.external_id): key for key in varied_inventory}
    assert len(result.rows) == len(keys)
    for row in result.rows:
        key = keys[(row.store, row.external_id)]
        expected_fields = set(ALL_FIELDS) - ({"purpose"} if key.purpose_id is None else set())
        assert row.fields == expected_fields, key.name
        assert row_values(row) == expected_values(key), key.name


def test_an_export_of_keys_that_state_nothing_parses_back_to_empty_fields(db):
    key = KeyFactory(
        algorithm="",
        size_bits=None,
        purpose_justification="",
        purpose_reviewed_on=None,
        activated_on=None,
        labels={},
    )
    (row,) = parse("".join(get_exporter("cbom", "keys")(Key.objects.all())).encode()).rows
    assert row_values(row) == expected_values(key)
    assert (row.labels, row.exposed_to, row.bindings, row.platform_details) == ({}, [], [], {})


# --- Fields judged by their meaning, never skipped by their name ---------------------------------------------------

TOKEN = "ghp_" + "Z8kQ2mW9xR4tY7uV1bN3cL6pJ0hG5fD2sA8e"
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _with(component_extra: dict, **top) -> dict:
    return cbom(key_component("k", {"type": "secret-key"}, **{"bom-ref": "k", **component_extra}), **top)


@pytest.mark.parametrize(
    ("where", "document"),
    [
        ("a bom-ref", _with({"bom-ref": TOKEN})),
        ("a hash's content", _with({"hashes": [{"alg": "SHA-256", "content": TOKEN}]})),
        ("a hash's algorithm", _with({"hashes": [{"alg": TOKEN, "content": DIGEST}]})),
        ("a serial number", _with({"serialNumber": TOKEN})),
        ("a signature given as text", _with({"signature": TOKEN})),
        ("a nested fingerprint object", _with({"fingerprint": {"alg": "SHA-256", "content": TOKEN}})),
    ],
)
def test_a_secret_under_a_digest_or_identifier_name_still_refuses_the_file(where, document):
    message = refusal(json.dumps(document).encode())
    assert "GitHub token" in message and TOKEN not in message, where


def test_digests_bom_refs_and_signatures_in_their_own_shapes_import():
    signature = {"algorithm": "RS256", "value": "q" * 20 + "Zx9_Ab3-" * 40}
    document = _with(
        {"hashes": [{"alg": "SHA-256", "content": DIGEST}], "serialNumber": "04:f3:9a:1c", "bom-ref": DIGEST},
        signature=signature,
    )
    result = parse_document(document)
    assert len(result.rows) == 1 and errors(result) == []
