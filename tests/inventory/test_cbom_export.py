"""CycloneDX 1.6 CBOM export of the keys: schema-valid, every mapping (the cek: properties of every field CycloneDX
lacks, keys without a purpose), no key material, deduplicated algorithm components, stable bom-refs; the CLI; the
download view (filters, visibility, query count). That an export imports back unchanged is tested with the importer
(tests/inventory/importers/test_cbom_import.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory.exporters import MEDIA_TYPES, get_exporter
from inventory.models import Key, KeyState, StoreKind
from tests.conftest import login
from tests.factories import (
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    ServiceFactory,
    TenantFactory,
    UserFactory,
    purpose,
)

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


def cbom_text(queryset=None) -> str:
    return "".join(get_exporter("cbom", "keys")(Key.objects.all() if queryset is None else queryset))


def body(response) -> str:
    """The downloaded text of a (streamed) response."""
    return b"".join(response.streaming_content).decode("utf-8")


def assert_valid(text: str) -> dict:
    errors = VALIDATOR.validate_str(text, all_errors=True)
    assert errors is None, [str(error) for error in errors]
    return json.loads(text)


def components(document: dict, asset_type: str) -> list[dict]:
    return [c for c in document.get("components", []) if c["cryptoProperties"]["assetType"] == asset_type]


def key_components(document: dict) -> dict[str, dict]:
    """Key components by their material id (the key's external id)."""
    return {
        c["cryptoProperties"]["relatedCryptoMaterialProperties"]["id"]: c
        for c in components(document, "related-crypto-material")
    }


def properties(component: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def property_list(component: dict) -> list[tuple[str, str]]:
    """All properties, repeated names included (parties, bindings), in document order."""
    return [(p["name"], p.get("value", "")) for p in component.get("properties", [])]


def material(component: dict) -> dict:
    return component["cryptoProperties"]["relatedCryptoMaterialProperties"]


def keys_named(name: str, value=None):
    """Every object under ``value`` that has a key called ``name`` (a walk of the whole JSON document)."""
    if isinstance(value, dict):
        if name in value:
            yield value
        for item in value.values():
            yield from keys_named(name, item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_named(name, item)


@pytest.fixture
def inventory(db, owner):
    """A small inventory with one key of each interesting shape."""
    kms = KeyStoreFactory(name="prod-eu", kind=StoreKind.AWS_KMS)
    vault = KeyStoreFactory(name="Vault KV (apps)", kind=StoreKind.VAULT_KV)
    other = KeyStoreFactory(name="Partner escrow", kind=StoreKind.OTHER)
    return {
        "symmetric": KeyFactory(
            name="Inference logs",
            store=kms,
            external_id="arn:aws:kms:eu-west-1:111122223333:key/0a1b",
            algorithm="AES-256-GCM",
            size_bits=256,
            owner=owner,
            tenant=TenantFactory(slug="acme"),
            labels={"env": "prod", "cost-centre": 42},
            created_on=dt.date(2024, 1, 15),
            activated_on=dt.date(2024, 2, 1),
            last_rotated_on=dt.date(2025, 2, 1),
            expires_on=dt.date(2027, 2, 1),
            ssrm_layer="orchestrated",
        ),
        "second_aes": KeyFactory(name="Training data", store=kms, algorithm="AES-256-GCM", size_bits=256),
        "private": KeyFactory(
            name="Release signing",
            store=other,
            kind="certificate-private-key",
            algorithm="ECDSA P-256",
            size_bits=256,
            purpose=purpose("digital-signature"),
        ),
        "token": KeyFactory(
            name="LLM provider token",
            store=vault,
            kind="api-token",
            external_id="secret/data/llm/openai token",
            algorithm="",
            size_bits=None,
            purpose=purpose("llm-api-authentication"),
            activated_on=None,
        ),
        "password": KeyFactory(
            name="Service DB password",
            store=vault,
            kind="password",
            algorithm="",
            purpose=purpose("service-credential"),
        ),
        "destroyed": KeyFactory(
            name="Old data key", store=kms, state=KeyState.DESTROYED, algorithm="AES-128-CBC", size_bits=128
        ),
    }


def test_the_cbom_of_a_small_inventory_validates_against_the_cyclonedx_1_6_schema(inventory):
    document = assert_valid(cbom_text())
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    assert len(key_components(document)) == len(inventory)
    assert all(c["type"] == "cryptographic-asset" for c in document["components"])


def test_the_metadata_names_the_tool_the_time_and_the_organisation(inventory, settings):
    settings.CEK_ORGANISATION = "Acme AI GmbH"
    metadata = assert_valid(cbom_text())["metadata"]
    assert dt.datetime.fromisoformat(metadata["timestamp"]).date() == dt.datetime.now(dt.UTC).date()
    (tool,) = metadata["tools"]["components"]
    assert tool["name"] == "cek-inventory" and tool["version"] == __import__("cek").__version__
    assert metadata["component"]["name"] == "Acme AI GmbH key inventory"
    assert metadata["component"]["supplier"]["name"] == "Acme AI GmbH"


def test_a_key_maps_its_type_id_state_dates_size_and_protection(inventory):
    symmetric = key_components(assert_valid(cbom_text()))[inventory["symmetric"].external_id]
    assert symmetric["name"] == "Inference logs"
    assert material(symmetric) == {
        "type": "secret-key",
        "id": "arn:aws:kms:eu-west-1:111122223333:key/0a1b",
        "state": "active",
        "algorithmRef": "algorithm:AES-256-GCM",
        "creationDate": "2024-01-15T00:00:00+00:00",
        "activationDate": "2024-02-01T00:00:00+00:00",
        "updateDate": "2025-02-01T00:00:00+00:00",
        "expirationDate": "2027-02-01T00:00:00+00:00",
        "size": 256,
        "securedBy": {"mechanism": "AWS KMS"},
    }


@pytest.mark.parametrize(
    ("key", "cbom_type", "mechanism"),
    [
        ("symmetric", "secret-key", "AWS KMS"),
        ("private", "private-key", "Partner escrow"),  # an "other" store: its name says more than "Other"
        ("token", "token", "HashiCorp Vault KV"),
        ("password", "password", "HashiCorp Vault KV"),
    ],
)
def test_each_kind_maps_to_a_cyclonedx_material_type(inventory, key, cbom_type, mechanism):
    component = key_components(assert_valid(cbom_text()))[inventory[key].external_id]
    assert material(component)["type"] == cbom_type
    assert material(component)["securedBy"] == {"mechanism": mechanism}
    assert properties(component)["cek:kind"] == inventory[key].kind


@pytest.mark.parametrize(
    ("kind", "cbom_type"),
    [("symmetric-key", "secret-key"), ("public-key", "public-key"), ("shared-secret", "shared-secret")],
)
def test_other_kinds_map_too(db, kind, cbom_type):
    KeyFactory(kind=kind)
    (component,) = key_components(assert_valid(cbom_text())).values()
    assert material(component)["type"] == cbom_type


@pytest.mark.parametrize("state", KeyState.values)
def test_the_six_sp_800_57_states_map_one_to_one(db, state):
    KeyFactory(state=state)
    (component,) = key_components(assert_valid(cbom_text())).values()
    assert material(component)["state"] == state


def test_purpose_owner_store_tenant_layer_and_labels_are_namespaced_properties(inventory, owner):
    keys = key_components(assert_valid(cbom_text()))
    assert properties(keys[inventory["symmetric"].external_id]) == {
        "cek:kind": "symmetric-key",
        "cek:purpose": "data-encryption",
        "cek:function": "encryption",
        "cek:purpose-justification": "Encrypts the service's data at rest.",
        "cek:purpose-reviewed-on": dt.date.today().isoformat(),
        "cek:owner": owner.username,
        "cek:store": "prod-eu",
        "cek:tenant": "acme",
        "cek:ssrm-layer": "orchestrated",
        "cek:labels:env": "prod",
        # Not text: written as JSON under its own prefix, so it reads back as the number 42, not "42".
        "cek:labels-json:cost-centre": "42",
    }
    token = properties(keys[inventory["token"].external_id])
    assert token["cek:purpose"] == "llm-api-authentication" and token["cek:function"] == "authentication"
    # No owner, no tenant, no labels: absent, not empty strings.
    assert not {"cek:owner", "cek:tenant"} & set(token) and not any(name.startswith("cek:labels:") for name in token)


def test_every_field_cyclonedx_lacks_is_a_cek_property(db, owner, other_owner, grc_user):
    store = KeyStoreFactory(name="prod-kms-eu")
    partner, cloud = PartyFactory(name="Partner Labs; EU"), PartyFactory(name="Example Cloud")
    key = KeyFactory(
        store=store,
        kind="certificate-private-key",
        algorithm="ECDSA P-256",
        purpose=purpose("digital-signature"),
        purpose_justification="Signs release artefacts.",
        purpose_approver=grc_user,
        purpose_reviewed_on=dt.date(2026, 1, 15),
        owner=owner,
        backup_owner=other_owner,
        custodian=cloud,
        platform_usage="SIGN_VERIFY",
        rotation_period_days=365,
        cryptoperiod_days=1095,
        exposure_scope="Partner Labs verifies signatures.",
        exposure_contract="MSA-2025-014",
        description="Release signing key",
        platform_managed=True,
        platform_details={"Origin": "AWS_KMS", "MultiRegion": True},
        labels={"aws:cloudformation:stack-name": "release", "empty": ""},
    )
    key.exposed_to.set([partner, cloud])
    tenant = TenantFactory(slug="acme")
    BindingFactory(key=key, service=ServiceFactory(slug="release-pipeline"), operations=["verify", "sign"])
    BindingFactory(
        key=key,
        service=ServiceFactory(slug="inference-gateway"),
        tenant=tenant,
        purpose=purpose("model-artifact-signing"),
        principal="",
        operations=[],
    )
    component = key_components(assert_valid(cbom_text()))[key.external_id]
    assert component["description"] == "Release signing key"
    assert sorted(property_list(component)) == [
        ("cek:backup-owner", other_owner.username),
        (
            "cek:binding",
            '{"operations": ["sign", "verify"], "principal": "arn:aws:iam::111122223333:role/app", '
            '"service": "release-pipeline"}',
        ),
        ("cek:binding", '{"purpose": "model-artifact-signing", "service": "inference-gateway", "tenant": "acme"}'),
        ("cek:cryptoperiod-days", "1095"),
        ("cek:custodian", "Example Cloud"),
        ("cek:exposed-to", "Example Cloud"),
        ("cek:exposed-to", "Partner Labs; EU"),
        ("cek:exposure-contract", "MSA-2025-014"),
        ("cek:exposure-scope", "Partner Labs verifies signatures."),
        ("cek:function", "signing"),
        ("cek:kind", "certificate-private-key"),
        ("cek:labels:aws:cloudformation:stack-name", "release"),
        ("cek:labels:empty", ""),
        ("cek:owner", owner.username),
        ("cek:platform-details-json:MultiRegion", "true"),
        ("cek:platform-details:Origin", "AWS_KMS"),
        ("cek:platform-managed", "true"),
        ("cek:platform-usage", "SIGN_VERIFY"),
        ("cek:purpose", "digital-signature"),
        ("cek:purpose-approver", grc_user.username),
        ("cek:purpose-justification", "Signs release artefacts."),
        ("cek:purpose-reviewed-on", "2026-01-15"),
        ("cek:rotation-period-days", "365"),
        ("cek:ssrm-layer", "application"),
        ("cek:store", "prod-kms-eu"),
    ]


def test_a_key_whose_purpose_is_unassigned_has_no_purpose_properties(db):
    key = KeyFactory(purpose=None, purpose_justification="", purpose_reviewed_on=None)
    names = set(properties(key_components(assert_valid(cbom_text()))[key.external_id]))
    assert not names & {"cek:purpose", "cek:function", "cek:purpose-justification", "cek:purpose-reviewed-on"}
    assert {"cek:kind", "cek:store", "cek:ssrm-layer"} <= names


def test_the_metadata_lists_the_fields_each_key_states_in_full(inventory):
    metadata = assert_valid(cbom_text())["metadata"]
    (stated,) = [p["value"] for p in metadata["properties"] if p["name"] == "cek:fields"]
    assert "owner" in stated.split(",") and "labels" in stated.split(",")
    assert "purpose" not in stated.split(",")  # an import never clears a purpose


def test_missing_dates_size_and_algorithm_are_left_out(inventory):
    token = material(key_components(assert_valid(cbom_text()))[inventory["token"].external_id])
    assert set(token) == {"type", "id", "state", "securedBy"}


def test_the_cbom_never_carries_a_value_anywhere(inventory):
    document = assert_valid(cbom_text())
    holders = list(keys_named("value", document))
    # Component properties are name/value pairs: the only "value"s in the document, and all of them ours.
    assert holders and all(set(obj) == {"name", "value"} and obj["name"].startswith("cek:") for obj in holders)
    assert all("value" not in material(c) for c in key_components(document).values())


def test_algorithm_components_are_deduplicated_and_referenced_by_the_keys(inventory):
    document = assert_valid(cbom_text())
    algorithms = {c["bom-ref"]: c for c in components(document, "algorithm")}
    assert {c["name"] for c in algorithms.values()} == {"AES-256-GCM", "ECDSA P-256", "AES-128-CBC"}
    assert algorithms["algorithm:AES-256-GCM"]["cryptoProperties"]["algorithmProperties"] == {"primitive": "ae"}
    assert algorithms["algorithm:ECDSA%20P-256"]["cryptoProperties"]["algorithmProperties"] == {
        "primitive": "signature"
    }
    assert algorithms["algorithm:AES-128-CBC"]["cryptoProperties"]["algorithmProperties"] == {
        "primitive": "block-cipher"
    }
    keys = key_components(document)
    for name in ("symmetric", "second_aes"):
        assert material(keys[inventory[name].external_id])["algorithmRef"] == "algorithm:AES-256-GCM"
    references = {material(c).get("algorithmRef") for c in keys.values()} - {None}
    assert references == set(algorithms)


def test_bom_refs_are_stable_across_exports_and_unique(inventory):
    first, second = assert_valid(cbom_text()), assert_valid(cbom_text())
    refs = [c["bom-ref"] for c in first["components"]]
    assert refs == [c["bom-ref"] for c in second["components"]] and len(refs) == len(set(refs))
    token = inventory["token"]
    assert key_components(first)[token.external_id]["bom-ref"] == f"key:{token.store_id}:secret/data/llm/openai%20token"
    assert first["serialNumber"] != second["serialNumber"]  # each export is a new document


def test_the_inventory_component_depends_on_every_asset(inventory):
    document = assert_valid(cbom_text())
    (root,) = [d for d in document["dependencies"] if d["ref"] == document["metadata"]["component"]["bom-ref"]]
    assert set(root["dependsOn"]) == {c["bom-ref"] for c in document["components"]}


def test_an_empty_inventory_is_a_valid_cbom(db):
    assert assert_valid(cbom_text()).get("components", []) == []


# --- CLI ----------------------------------------------------------------------------------------------------------


def test_the_command_writes_a_valid_cbom_file(inventory, tmp_path):
    output = tmp_path / "inventory.cdx.json"
    call_command("export_keys", "--format", "cbom", "--output", str(output))
    assert len(key_components(assert_valid(output.read_text(encoding="utf-8")))) == len(inventory)


def test_the_command_refuses_a_cbom_of_services(db):
    with pytest.raises(CommandError, match="No 'cbom' export of services"):
        call_command("export_keys", "--format", "cbom", "--table", "services")


# --- View ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def url():
    return reverse("inventory:export-keys-cbom")


def test_the_view_downloads_a_valid_cbom_with_the_list_filters(grc_client, inventory, url):
    response = grc_client.get(url, {"state": "destroyed"})
    assert response.status_code == 200
    assert response["Content-Type"] == MEDIA_TYPES["cbom"] == "application/vnd.cyclonedx+json"
    assert response["Content-Disposition"] == 'attachment; filename="cek-inventory.cdx.json"'
    assert response["Cache-Control"] == "no-store"
    document = assert_valid(body(response))
    assert list(key_components(document)) == [inventory["destroyed"].external_id]
    assert [c["name"] for c in components(document, "algorithm")] == ["AES-128-CBC"]


def test_an_invalid_filter_is_refused_rather_than_exporting_everything(grc_client, inventory, url):
    response = grc_client.get(url, {"purpose": "no-such-purpose"})
    assert response.status_code == 400 and b"purpose" in response.content


def test_a_key_owner_gets_only_the_keys_they_own_or_back_up(owner, other_owner, url):
    mine, backed_up = KeyFactory(owner=owner), KeyFactory(owner=other_owner, backup_owner=owner)
    KeyFactory(owner=other_owner)
    document = assert_valid(body(login(owner).get(url)))
    assert sorted(key_components(document)) == sorted([mine.external_id, backed_up.external_id])
    assert properties(key_components(document)[backed_up.external_id])["cek:backup-owner"] == owner.username


@pytest.mark.parametrize(("name", "status"), [("auditor", 200), ("outsider", 403), ("expired_auditor", 302)])
def test_who_may_download_the_cbom(request, db, url, name, status):
    KeyFactory()
    response = login(request.getfixturevalue(name)).get(url)
    assert response.status_code == status


def test_anonymous_users_are_sent_to_the_login_page(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("count", [1, 50])
def test_the_export_runs_a_fixed_number_of_queries(grc_client, django_assert_max_num_queries, url, count):
    store, tenant, owner = KeyStoreFactory(), TenantFactory(), UserFactory(roles=["key-owners"])
    party, service = PartyFactory(), ServiceFactory()
    for index in range(count):
        key = KeyFactory(store=store, tenant=tenant, owner=owner, algorithm=f"AES-{index % 3}", labels={"n": index})
        key.exposed_to.add(party)
        BindingFactory(key=key, service=service)
    # Session, user and role checks, then the keys (with their store, purpose, people, tenant, custodian), their
    # parties and their bindings (with service, tenant and purpose): three queries per chunk of keys.
    with django_assert_max_num_queries(6):
        text = body(grc_client.get(url))  # streamed: the key query runs while the body is read
    assert len(key_components(assert_valid(text))) == count
