"""CycloneDX 1.7 CBOM export beside 1.6: valid against the official 1.7 schema (cyclonedx-python-lib ships it as
bom-1.7.SNAPSHOT.schema.json; compared when this was written with CycloneDX/specification's schema/bom-1.7.schema.json
at tag 1.7.1 (b29bae660048) and main (e02a34ae42a4): identical apart from the file names of its $refs), the 1.7 crypto fields (relatedCryptographicAssets instead of the deprecated
algorithmRef, algorithmFamily, ellipticCurve, key-wrap), 1.6 still the default everywhere; the command and the
download choose the version; and the round trip: a 1.7 export imports back with nothing to change."""

from __future__ import annotations

import json
from pathlib import Path

import cyclonedx
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory import importing
from inventory.exporters import get_exporter
from inventory.exporters.cyclonedx17 import CURVES, FAMILIES, algorithm_family, elliptic_curve, is_key_wrap
from inventory.importers import get_importer
from inventory.importing import Action
from inventory.models import Key
from tests.factories import KeyFactory, KeyStoreFactory, purpose
from tests.inventory.importers.test_cbom_import import row_values
from tests.inventory.test_cbom_export import body, components, key_components, material

VALIDATORS = {"1.6": JsonStrictValidator(SchemaVersion.V1_6), "1.7": JsonStrictValidator(SchemaVersion.V1_7)}
REGISTRY = Path(cyclonedx.__file__).parent / "schema" / "_res" / "cryptography-defs.SNAPSHOT.schema.json"


def export(spec: str | None = "1.7", queryset=None) -> str:
    return "".join(get_exporter("cbom", "keys", spec=spec)(Key.objects.all() if queryset is None else queryset))


def assert_valid(text: str, spec: str = "1.7") -> dict:
    errors = VALIDATORS[spec].validate_str(text, all_errors=True)
    assert errors is None, [str(error) for error in errors]
    return json.loads(text)


def algorithms(document: dict) -> dict[str, dict]:
    return {c["name"]: c["cryptoProperties"]["algorithmProperties"] for c in components(document, "algorithm")}


@pytest.fixture
def keys(db):
    store, signing = KeyStoreFactory(name="prod-eu"), purpose("digital-signature")
    return [
        KeyFactory(store=store, name="Data", algorithm="AES-256-GCM", size_bits=256),
        KeyFactory(store=store, name="Wrap", algorithm="AES-256-KW", size_bits=256, purpose=purpose("key-wrapping")),
        KeyFactory(
            store=store,
            name="Sign",
            kind="private-key",
            algorithm="ECDSA P-256",
            size_bits=256,
            purpose=signing,
        ),
        KeyFactory(store=store, name="AWS sign", kind="private-key", algorithm="ECC_NIST_P384", purpose=signing),
        KeyFactory(store=store, name="Ed", kind="private-key", algorithm="ED25519", purpose=signing),
        KeyFactory(store=store, name="RSA", kind="private-key", algorithm="RSA-3072", size_bits=3072, purpose=signing),
        KeyFactory(
            store=store,
            name="Token",
            kind="api-token",
            algorithm="",
            size_bits=None,
            purpose=purpose("llm-api-authentication"),
        ),
    ]


def test_a_1_7_export_validates_against_the_official_1_7_schema(keys):
    document = assert_valid(export())
    assert document["specVersion"] == "1.7" and document["$schema"].endswith("bom-1.7.schema.json")
    assert len(key_components(document)) == len(keys)


def test_the_default_stays_1_6_and_a_1_6_export_has_none_of_the_1_7_fields(keys):
    text = export(spec=None)
    document = assert_valid(text, "1.6")
    assert document["specVersion"] == "1.6"
    assert "relatedCryptographicAssets" not in text and "algorithmFamily" not in text and '"key-wrap"' not in text
    assert material(key_components(document)[keys[0].external_id])["algorithmRef"] == "algorithm:AES-256-GCM"


def test_a_1_7_key_names_its_algorithm_as_a_related_asset_not_the_deprecated_algorithm_ref(keys):
    document = assert_valid(export())
    data = material(key_components(document)[keys[0].external_id])
    assert "algorithmRef" not in data
    assert data["relatedCryptographicAssets"] == [{"type": "algorithm", "ref": "algorithm:AES-256-GCM"}]
    token = material(key_components(document)[keys[-1].external_id])
    assert "relatedCryptographicAssets" not in token and "algorithmRef" not in token
    refs = {c["bom-ref"] for c in components(document, "algorithm")}
    related = {
        a["ref"] for c in key_components(document).values() for a in material(c).get("relatedCryptographicAssets", [])
    }
    assert related == refs


def test_1_7_algorithms_state_their_family_curve_and_the_key_wrap_primitive(keys):
    found = algorithms(assert_valid(export()))
    assert found["AES-256-GCM"] == {"primitive": "ae", "algorithmFamily": "AES"}
    assert found["AES-256-KW"] == {"primitive": "key-wrap", "algorithmFamily": "AES"}
    assert found["ECDSA P-256"] == {"primitive": "signature", "algorithmFamily": "ECDSA", "ellipticCurve": "nist/P-256"}
    assert found["ECC_NIST_P384"] == {"primitive": "unknown", "ellipticCurve": "nist/P-384"}
    assert found["ED25519"] == {"primitive": "signature", "algorithmFamily": "EdDSA", "ellipticCurve": "other/Ed25519"}
    # RSA alone names no family of the registry (RSAES-OAEP, RSASSA-PSS...): left out rather than guessed.
    assert found["RSA-3072"] == {"primitive": "unknown"}


@pytest.mark.parametrize(
    ("algorithm", "family", "curve", "wrap"),
    [
        ("AES_WRAP", "AES", None, True),
        ("AES-128-CBC", "AES", None, False),
        ("HMAC-SHA256", "HMAC", None, False),
        ("ECC_SECG_P256K1", None, "secg/secp256k1", False),
        ("ECDH brainpoolP384r1", "ECDH", "brainpool/brainpoolP384r1", False),
        ("X25519", None, "other/Curve25519", False),
        ("RSAES_OAEP_SHA_256", "RSAES-OAEP", None, False),
        ("ML-DSA-65", "ML-DSA", None, False),
        ("SHA3-256", "SHA-3", None, False),
        ("DESede", "3DES", None, False),
        ("SYMMETRIC_DEFAULT", None, None, False),
        ("SHA256", "SHA-2", None, False),  # no EC in it: "P" digits are never read as a curve here
    ],
)
def test_the_family_curve_and_key_wrap_readings(algorithm, family, curve, wrap):
    assert (algorithm_family(algorithm), elliptic_curve(algorithm), is_key_wrap(algorithm)) == (family, curve, wrap)


def test_every_family_and_curve_written_is_in_the_1_7_registry():
    registry = json.loads(REGISTRY.read_text(encoding="utf-8"))["definitions"]
    assert {family for _, family in FAMILIES} <= set(registry["algorithmFamiliesEnum"]["enum"])
    curves = set(registry["ellipticCurvesEnum"]["enum"])
    written = {template for _, template in CURVES if "\\" not in template}
    written |= {f"nist/P-{n}" for n in (192, 224, 256, 384, 521)} | {f"secg/secp{n}r1" for n in (224, 256, 384, 521)}
    written |= {f"brainpool/brainpoolP{n}r1" for n in (160, 192, 224, 256, 320, 384, 512)}
    assert written <= curves


def test_an_unknown_spec_version_is_refused(db):
    with pytest.raises(ValueError, match=r"choose one of: 1.6, 1.7"):
        get_exporter("cbom", "keys", spec="1.5")
    with pytest.raises(ValueError, match="one version only"):
        get_exporter("csv", "keys", spec="1.7")


# --- The round trip ---------------------------------------------------------------------------------------------


def test_a_1_7_export_imports_back_with_nothing_to_change(keys, grc_user):
    data = export().encode()
    _record, plan = importing.key_import_preview(
        data=data, file_name="inventory.cdx.json", format="cbom", actor=grc_user, store=None
    )
    assert not plan.has_errors, plan.errors or plan.file_error
    assert {row.action for row in plan.rows} == {Action.UNCHANGED}
    assert len(plan.rows) == len(keys)


def test_a_1_7_export_parses_to_the_same_rows_as_the_1_6_one(keys):
    importer = get_importer("cbom")
    rows = {spec: importer.parse(export(spec).encode(), file_name="x.cdx.json").rows for spec in ("1.6", "1.7")}
    assert [row_values(row) for row in rows["1.7"]] == [row_values(row) for row in rows["1.6"]]
    assert {row.algorithm for row in rows["1.7"]} == {key.algorithm for key in keys}


# --- Command and download ---------------------------------------------------------------------------------------


def test_the_command_writes_1_7_with_spec_and_1_6_without(keys, tmp_path):
    for spec, args in (("1.7", ["--spec", "1.7"]), ("1.6", [])):
        output = tmp_path / f"{spec}.cdx.json"
        call_command("export_keys", "--format", "cbom", *args, "--output", str(output))
        assert assert_valid(output.read_text(encoding="utf-8"), spec)["specVersion"] == spec


def test_the_command_refuses_a_spec_for_csv_and_an_unknown_spec(db):
    with pytest.raises(CommandError, match="one version only"):
        call_command("export_keys", "--format", "csv", "--spec", "1.7")
    with pytest.raises(CommandError, match=r"invalid choice: '1\.5'"):
        call_command("export_keys", "--format", "cbom", "--spec", "1.5")


def test_the_download_offers_1_7_and_keeps_1_6_as_the_default(grc_client, keys):
    url = reverse("inventory:export-keys-cbom")
    assert assert_valid(body(grc_client.get(url, {"spec": "1.7"})))["specVersion"] == "1.7"
    assert assert_valid(body(grc_client.get(url)), "1.6")["specVersion"] == "1.6"
    response = grc_client.get(url, {"spec": "2.0"})
    assert response.status_code == 400 and b"choose one of: 1.6, 1.7" in response.content


def test_the_key_list_links_both_versions(grc_client, keys):
    page = grc_client.get(reverse("inventory:key-list")).content.decode()
    assert "spec=1.7" in page and "Export CBOM" in page
