"""A key's fields are declared once (``inventory.keyfields``): every format derives its fields from the declaration,
the declaration agrees with the model, and the formats' outputs are what they were before the declaration."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import models

from cek.keymaterial import KeyMaterialValidator
from evidence.packs import data as pack_data
from inventory import keyfields
from inventory.forms import KeyForm
from inventory.importers import base
from inventory.importers import csv as csv_format
from inventory.importers.cbom import properties as cbom
from inventory.importing import lookups, planner
from inventory.keyfields import Csv, KeyField, Kind
from inventory.models import Key
from inventory.serializers import KeySerializer

# --- The outputs, as they were before the declaration: files, pages and the API must not change ---------------

CSV_HEADER = (
    "store", "external_id", "name", "kind", "algorithm", "size_bits", "purpose", "purpose_justification",
    "purpose_approver", "purpose_reviewed_on", "owner", "backup_owner", "tenant", "custodian", "ssrm_layer", "state",
    "platform_usage", "created_on", "activated_on", "last_rotated_on", "expires_on", "rotation_period_days",
    "cryptoperiod_days", "labels", "description", "exposure_scope", "exposure_contract", "exposed_to", "services",
)  # fmt: skip
PACK_HEADER = [
    "id", "name", "kind", "algorithm", "size_bits", "store", "store_kind", "external_id", "tenant", "purpose",
    "purpose_name", "purpose_function", "purpose_justification", "purpose_approver", "purpose_reviewed_on", "owner",
    "backup_owner", "custodian", "ssrm_layer", "state", "created_on", "activated_on", "last_rotated_on", "expires_on",
    "rotation_period_days", "cryptoperiod_days", "cryptoperiod_ends_on", "not_seen_since", "platform_managed",
    "platform_usage", "labels", "exposure_scope", "exposure_contract", "created_at", "updated_at", "exposed_to",
]  # fmt: skip
API_FIELDS = (
    "id", "url", "name", "kind", "algorithm", "size_bits", "purpose", "purpose_function", "store", "store_name",
    "external_id", "platform_usage", "owner", "backup_owner", "tenant", "custodian", "ssrm_layer", "state",
    "description", "labels", "created_on", "activated_on", "last_rotated_on", "expires_on", "rotation_period_days",
    "cryptoperiod_days", "cryptoperiod_ends_on", "exposed_to", "exposure_scope", "exposure_contract",
    "purpose_justification", "purpose_approver", "purpose_reviewed_on", "platform_managed", "platform_details",
    "not_seen_since", "created_at", "updated_at",
)  # fmt: skip
FORM_FIELDSETS = [
    (
        "Identity",
        ["name", "kind", "algorithm", "size_bits", "store", "external_id", "platform_usage", "description"],
    ),
    ("Purpose (exactly one)", ["purpose", "purpose_justification", "purpose_approver", "purpose_reviewed_on"]),
    ("Ownership", ["owner", "backup_owner", "custodian", "tenant", "ssrm_layer"]),
    (
        "Lifecycle",
        [
            "state",
            "created_on",
            "activated_on",
            "last_rotated_on",
            "expires_on",
            "rotation_period_days",
            "cryptoperiod_days",
        ],
    ),
    ("Labels and exposure", ["labels", "exposed_to", "exposure_scope", "exposure_contract"]),
]


def test_the_csv_columns_are_the_ones_files_have_always_had():
    assert csv_format.COLUMN_NAMES == CSV_HEADER
    assert base.KEY_FIELDS == CSV_HEADER
    assert base.ALL_FIELDS == (*CSV_HEADER, "platform_managed", "platform_details")
    assert base.REQUIRED_FIELDS == ("store", "external_id", "name", "purpose")
    assert [column.name for column in csv_format.COLUMNS if column.required] == list(base.REQUIRED_FIELDS)


def test_the_cbom_properties_are_named_and_ordered_as_before():
    values = {field: "x" for field in cbom.TEXT_PROPERTIES} | {
        "purpose_reviewed_on": base.parse_timestamp("2026-01-02")
    }
    values |= {"rotation_period_days": 1, "cryptoperiod_days": 2, "platform_managed": True, "exposed_to": ["P"]}
    values |= {"services": [base.BindingRow("svc")], "labels": {"a": "b"}, "platform_details": {"n": 1}}
    assert [name for name, _ in cbom.property_pairs(values)] == [
        "cek:store", "cek:kind", "cek:purpose", "cek:purpose-justification", "cek:purpose-approver", "cek:owner",
        "cek:backup-owner", "cek:tenant", "cek:custodian", "cek:ssrm-layer", "cek:platform-usage",
        "cek:exposure-scope", "cek:exposure-contract", "cek:purpose-reviewed-on", "cek:rotation-period-days",
        "cek:cryptoperiod-days", "cek:platform-managed", "cek:exposed-to", "cek:binding", "cek:labels:a",
        "cek:platform-details-json:n",
    ]  # fmt: skip
    assert cbom.STATED_FIELDS == (
        "algorithm", "size_bits", "purpose_justification", "purpose_approver", "purpose_reviewed_on", "owner",
        "backup_owner", "tenant", "custodian", "platform_usage", "created_on", "activated_on", "last_rotated_on",
        "expires_on", "rotation_period_days", "cryptoperiod_days", "labels", "description", "exposure_scope",
        "exposure_contract", "exposed_to", "services", "platform_managed", "platform_details",
    )  # fmt: skip


def test_the_pack_key_columns_are_the_ones_packs_have_always_had():
    assert pack_data.KEY_HEADER == PACK_HEADER
    lookups_by_header = dict(pack_data.KEY_COLUMNS)
    assert lookups_by_header["store"] == "store__name" and lookups_by_header["store_kind"] == "store__kind"
    assert lookups_by_header["purpose_approver"] == "purpose_approver__username"
    assert lookups_by_header["tenant"] == "tenant__slug" and lookups_by_header["custodian"] == "custodian__name"


def test_the_api_and_the_form_show_the_fields_in_their_former_order():
    assert KeySerializer.Meta.fields == API_FIELDS
    assert set(KeySerializer.Meta.read_only_fields) == {
        "platform_managed", "platform_details", "not_seen_since", "cryptoperiod_ends_on",
    }  # fmt: skip
    assert KeyForm.fieldsets == FORM_FIELDSETS
    assert KeyForm._meta.fields == [name for _, names in FORM_FIELDSETS for name in names]


# --- The consumers derive from the declaration ------------------------------------------------------------------


def test_each_consumer_uses_the_declaration():
    assert csv_format.COLUMN_NAMES == tuple(field.name for field in keyfields.csv_fields())
    assert [column.help for column in csv_format.COLUMNS] == [field.csv.help for field in keyfields.csv_fields()]
    assert cbom.STATED_FIELDS == keyfields.stated_fields()
    assert KeyForm._meta.fields == [field.name for field in keyfields.form_fields()]
    assert KeyForm.fieldsets == keyfields.form_fieldsets()
    assert KeySerializer.Meta.fields == ("id", "url", *keyfields.api_field_names(), "created_at", "updated_at")
    assert pack_data.KEY_COLUMNS[1:-2] == keyfields.pack_columns()
    assert lookups._USER_COLUMNS == ("purpose_approver", "owner", "backup_owner")
    assert set(planner._CHOICES) == {"kind", "state", "ssrm_layer"}
    assert planner._SCANNED == frozenset(keyfields.SCANNED)
    row_fields = [f.name for f in dataclasses.fields(base.KeyRow)]
    assert row_fields == ["row", "fields", *(base.row_attribute(name) for name in base.ALL_FIELDS), "create_only"]


THROWAWAY = KeyField(
    "security_contact",
    Kind.REFERENCE,
    keyfields.OWNERSHIP,
    ref="username",
    csv=Csv("Username of the security contact.", "carol"),
    cbom="security-contact",
)


def test_a_field_added_to_the_declaration_shows_up_in_every_format():
    fields = (*keyfields.FIELDS, THROWAWAY)
    assert [f.name for f in keyfields.csv_fields(fields)] == [*CSV_HEADER, "security_contact"]
    assert [f.name for f in keyfields.imported_fields(fields)][-3:] == [
        "platform_managed",
        "platform_details",
        "security_contact",
    ]
    assert "security_contact" in [f.name for f in keyfields.cbom_fields(Kind.REFERENCE, fields=fields)]
    assert keyfields.stated_fields(fields)[-1] == "security_contact"
    assert ("Ownership", [*FORM_FIELDSETS[2][1], "security_contact"]) in keyfields.form_fieldsets(fields)
    assert keyfields.api_field_names(fields)[-1] == "security_contact"
    assert keyfields.pack_columns(fields)[-1] == ("security_contact", "security_contact__username")


def test_every_kind_of_field_can_be_written_and_read_in_csv():
    assert set(csv_format.FORMATTERS) == set(csv_format.PARSERS) == set(Kind)
    for kind, value in [(Kind.DATE, base.parse_timestamp("2026-03-04")), (Kind.INTEGER, 7), (Kind.FLAG, True)]:
        assert csv_format.PARSERS[kind](csv_format.FORMATTERS[kind](value)) == value
    assert csv_format.PARSERS[Kind.FLAG]("") is False


def test_an_order_may_name_only_fields_its_consumer_shows():
    with pytest.raises(ValueError, match="names security_contact"):
        keyfields.arranged(keyfields.FIELDS, (*keyfields.API_ORDER, "security_contact"))


def test_a_reference_names_its_natural_key():
    with pytest.raises(ValueError, match="ref"):
        KeyField("security_contact", Kind.REFERENCE, keyfields.OWNERSHIP)


# --- The declaration agrees with the model ---------------------------------------------------------------------


def test_every_field_of_the_key_model_is_declared_or_deliberately_internal():
    model_fields = {field.name for field in Key._meta.get_fields() if field.concrete}
    declared = {field.name for field in keyfields.FIELDS if field.model}
    assert declared.isdisjoint(keyfields.INTERNAL)
    assert model_fields == declared | set(keyfields.INTERNAL)
    assert [field.name for field in keyfields.FIELDS if not field.model] == ["services"]


def _kind_of(model_field: models.Field) -> Kind:
    if model_field.many_to_many:
        return Kind.PARTIES
    if model_field.is_relation:
        return Kind.REFERENCE
    if model_field.choices:
        return Kind.CHOICE
    return {
        models.CharField: Kind.TEXT,
        models.TextField: Kind.TEXT,
        models.DateField: Kind.DATE,
        models.PositiveIntegerField: Kind.INTEGER,
        models.BooleanField: Kind.FLAG,
        models.JSONField: Kind.MAPPING,
    }[type(model_field)]


@pytest.mark.parametrize("field", [f for f in keyfields.FIELDS if f.model], ids=lambda f: f.name)
def test_each_declared_field_has_the_kind_of_its_model_field(field):
    model_field = Key._meta.get_field(field.name)
    assert field.kind is _kind_of(model_field)
    assert field.multiline == isinstance(model_field, models.TextField)
    if field.kind in (Kind.REFERENCE, Kind.PARTIES):
        assert hasattr(model_field.related_model, field.ref)
    if field.csv is not None or field.form:
        assert model_field.editable, "a field a file or the form sets is editable"


def test_free_text_the_imports_scan_is_the_free_text_the_model_validates():
    text = {f.name for f in keyfields.FIELDS if f.model and f.kind is Kind.TEXT}
    validated = {f.name for f in Key._meta.fields if any(isinstance(v, KeyMaterialValidator) for v in f.validators)}
    assert text == validated
    assert text <= set(keyfields.SCANNED)
