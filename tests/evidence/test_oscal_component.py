"""OSCAL component definition of the SSRM responsibilities: valid against the NIST OSCAL 1.1.3 JSON schema,
byte-identical for the same data, one implemented requirement per SSRM layer with the catalog's ownership and one
responsible role per SSRM role held there (the parties assigned, or a remark that nobody is), the parties and roles
in the metadata; ``manage.py export_oscal component-definition``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from evidence.oscal.export import component_definition_file
from inventory.models import SsrmAssignment
from tests.evidence.oscal_support import schema_errors
from tests.factories import PartyFactory


def document() -> dict:
    return json.loads(component_definition_file().text)["component-definition"]


def assert_valid(found: dict) -> dict:
    errors = schema_errors("component-definition", {"component-definition": found})
    assert errors == [], errors[:10]
    return found


def prop_value(item: dict, name: str) -> str | None:
    return next((p["value"] for p in item.get("props", []) if p["name"] == name), None)


def requirements(found: dict) -> dict[str, dict]:
    (component,) = found["components"]
    (implementation,) = component["control-implementations"]
    return {prop_value(r, "ssrm-layer"): r for r in implementation["implemented-requirements"]}


@pytest.fixture
def ssrm(db):
    cloud = PartyFactory(name="Example Cloud", roles=["CSP"])
    us = PartyFactory(name="Acme AI GmbH", roles=["MP", "OSP"], is_us=True)
    app = PartyFactory(name="App Co", roles=["AP"])
    for layer, party, role, responsibility in [
        ("pi", cloud, "CSP", "Runs the HSM-backed KMS."),
        ("pi", us, "MP", ""),
        ("model", us, "MP", "Signs model artifacts with a dedicated key."),
        ("orchestrated", us, "MP", ""),
        ("application", app, "AP", "Keeps its API tokens per purpose."),
        ("application", us, "OSP", ""),
        ("application", us, "AIC", "Extra role outside the catalog's owners."),
    ]:
        SsrmAssignment.objects.create(layer=layer, party=party, role=role, responsibility=responsibility)
    return {"cloud": cloud, "us": us, "app": app}


def test_the_component_definition_validates_against_the_oscal_1_1_3_schema(ssrm):
    found = assert_valid(document())
    assert found["metadata"]["oscal-version"] == "1.1.3"


def test_an_empty_installation_gives_a_valid_document_dated_1970(db):
    found = assert_valid(document())
    assert found["metadata"]["last-modified"] == "1970-01-01T00:00:00Z"
    assert "parties" not in found["metadata"]
    owners = {r["role-id"]: r["remarks"] for r in requirements(found)["pi"]["responsible-roles"]}
    assert owners == {
        "csp": "The catalog names CSP as an owner at this layer; no party is assigned to it.",
        "mp": "The catalog names MP as an owner at this layer; no party is assigned to it.",
    }


def test_the_same_data_gives_a_byte_identical_file(ssrm):
    first = component_definition_file().text
    assert component_definition_file().text == first
    SsrmAssignment.objects.filter(layer="model").update(responsibility="Changed.")
    assert component_definition_file().text != first  # and it does follow the data


def test_one_requirement_per_layer_with_the_catalogs_ownership(ssrm):
    found = requirements(document())
    assert list(found) == ["pi", "model", "orchestrated", "application"]
    assert {layer: prop_value(r, "ssrm-control-ownership") for layer, r in found.items()} == {
        "pi": "Shared CSP-MP",
        "model": "MP-Owned",
        "orchestrated": "Shared MP-OSP",
        "application": "Shared OSP-AP",
    }
    assert {r["control-id"] for r in found.values()} == {"cek-11"}


def test_each_layer_names_which_party_holds_which_role(ssrm):
    found = document()
    parties = {p["uuid"]: p["name"] for p in found["metadata"]["parties"]}

    def holders(layer):
        return {
            r["role-id"]: (
                [parties[u] for u in r.get("party-uuids", [])],
                prop_value(r, "catalog-owner"),
                r.get("remarks"),
            )
            for r in requirements(found)[layer]["responsible-roles"]
        }

    assert holders("pi") == {
        "csp": (["Example Cloud"], "yes", "Example Cloud: Runs the HSM-backed KMS."),
        "mp": (["Acme AI GmbH"], "yes", None),
    }
    assert holders("orchestrated") == {
        "mp": (["Acme AI GmbH"], "yes", None),
        "osp": ([], "yes", "The catalog names OSP as an owner at this layer; no party is assigned to it."),
    }
    assert holders("application") == {
        "osp": (["Acme AI GmbH"], "yes", None),
        "ap": (["App Co"], "yes", "App Co: Keeps its API tokens per purpose."),
        "aic": (["Acme AI GmbH"], "no", "Acme AI GmbH: Extra role outside the catalog's owners."),
    }


def test_the_metadata_lists_the_roles_and_the_parties(ssrm):
    metadata = document()["metadata"]
    assert [r["id"] for r in metadata["roles"]] == ["csp", "mp", "osp", "ap", "aic"]
    by_name = {p["name"]: p for p in metadata["parties"]}
    assert set(by_name) == {"Example Cloud", "Acme AI GmbH", "App Co"}
    us = by_name["Acme AI GmbH"]
    assert us["type"] == "organization"
    assert [(p["name"], p["value"]) for p in us["props"]] == [
        ("ssrm-role", "MP"),
        ("ssrm-role", "OSP"),
        ("is-us", "yes"),
    ]
    newest = max(item.updated_at for item in [*SsrmAssignment.objects.all(), *ssrm.values()])
    assert metadata["last-modified"] == newest.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_control_implementation_points_to_the_catalog(ssrm):
    found = document()
    (implementation,) = found["components"][0]["control-implementations"]
    resources = {r["uuid"]: r for r in found["back-matter"]["resources"]}
    catalog = resources[implementation["source"].removeprefix("#")]
    assert prop_value(catalog, "catalog-version") == "AICM 1.1.0"


def test_the_command_writes_the_component_definition(ssrm, tmp_path):
    output = tmp_path / "component.json"
    call_command("export_oscal", "component-definition", "--output", str(output))
    assert output.read_text(encoding="utf-8") == component_definition_file().text


def test_the_command_refuses_a_run_for_a_component_definition(db):
    with pytest.raises(CommandError, match="--run applies to assessment-results only"):
        call_command("export_oscal", "component-definition", "--run", "3")


def test_the_command_refuses_an_unknown_document(db):
    with pytest.raises(CommandError, match="invalid choice: 'poam'"):
        call_command("export_oscal", "poam")


@pytest.mark.parametrize("layers", [1, 4])
def test_the_component_definition_runs_a_fixed_number_of_queries(db, django_assert_max_num_queries, layers):
    for layer in ["pi", "model", "orchestrated", "application"][:layers]:
        for role in ("CSP", "MP", "OSP"):
            SsrmAssignment.objects.create(layer=layer, party=PartyFactory(roles=[role]), role=role)
    with django_assert_max_num_queries(2):  # the parties, the assignments with their parties
        text = component_definition_file().text
    assert len(json.loads(text)["component-definition"]["metadata"]["parties"]) == 3 * layers
