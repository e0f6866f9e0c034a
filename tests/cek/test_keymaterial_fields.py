"""Model-level proof: every free-text and label field of the inventory refuses key material on full_clean().

The error lands on the offending field, says why, and never repeats the value.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from inventory import models as m
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    PurposeFactory,
    ServiceFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db


def pem_private_key() -> str:
    body = base64.b64encode(os.urandom(1218)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN PRIVATE KEY-----\n{lines}\n-----END PRIVATE KEY-----\n"


def short_secret() -> str:
    """A 256-bit key as base64url: fits every CharField, even algorithm (max 60)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def unsaved_key() -> m.Key:
    return KeyFactory.build(store=KeyStoreFactory())


def unsaved_binding() -> m.Binding:
    key = KeyFactory()
    return BindingFactory.build(key=key, service=ServiceFactory(), purpose=key.purpose)


def unsaved_assignment() -> m.SsrmAssignment:
    return m.SsrmAssignment(layer=m.SsrmLayer.MODEL, party=PartyFactory(), role=m.SsrmRole.MP)


BUILDERS: dict[str, Callable[[], models.Model]] = {
    "Key": unsaved_key,
    "Party": PartyFactory.build,
    "Tenant": TenantFactory.build,
    "Service": ServiceFactory.build,
    "KeyStore": KeyStoreFactory.build,
    "Purpose": PurposeFactory.build,
    "SsrmAssignment": unsaved_assignment,
    "Binding": unsaved_binding,
    "AccessGrant": lambda: AccessGrantFactory.build(key=KeyFactory()),
}

# Every field that carries KeyMaterialValidator in inventory/models/.
FREE_TEXT_FIELDS = [
    ("Key", "name"),
    ("Key", "algorithm"),
    ("Key", "external_id"),
    ("Key", "description"),
    ("Key", "exposure_scope"),
    ("Key", "exposure_contract"),
    ("Key", "purpose_justification"),
    ("Party", "name"),
    ("Party", "description"),
    ("Party", "contact"),
    ("Tenant", "name"),
    ("Tenant", "description"),
    ("Service", "name"),
    ("Service", "description"),
    ("KeyStore", "name"),
    ("KeyStore", "account"),
    ("KeyStore", "region"),
    ("KeyStore", "description"),
    ("Purpose", "name"),
    ("Purpose", "description"),
    ("SsrmAssignment", "responsibility"),
    ("Binding", "principal"),
    ("Binding", "notes"),
    ("AccessGrant", "principal"),
    ("AccessGrant", "justification"),
]


def errors_of(instance: models.Model) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        instance.full_clean()
    return excinfo.value.message_dict


def assert_refused_without_echo(errors: dict[str, list[str]], field: str, secret: str, reason: str) -> None:
    assert set(errors) == {field}, errors
    message = " ".join(errors[field])
    assert f"looks like it contains {reason}" in message
    windows = {secret[i : i + 12] for i in range(len(secret) - 11)}
    assert not [window for window in windows if window in message]


@pytest.mark.parametrize("model_name", sorted(BUILDERS))
def test_the_factories_build_instances_that_pass_full_clean(model_name):
    BUILDERS[model_name]().full_clean()


@pytest.mark.parametrize(("model_name", "field"), FREE_TEXT_FIELDS, ids=[f"{a}.{b}" for a, b in FREE_TEXT_FIELDS])
def test_every_free_text_field_refuses_a_key_and_says_so_on_that_field(model_name, field):
    instance = BUILDERS[model_name]()
    secret = short_secret()
    setattr(instance, field, secret)

    errors = errors_of(instance)

    assert_refused_without_echo(errors, field, secret, "a base64-encoded 256-bit secret")
    assert errors[field][0].startswith("This value looks like it contains")


@pytest.mark.parametrize(
    ("model_name", "field"),
    [
        ("Key", "description"),
        ("Key", "purpose_justification"),
        ("Key", "exposure_scope"),
        ("Party", "description"),
        ("Service", "description"),
        ("Binding", "notes"),
    ],
)
def test_a_pem_private_key_in_a_text_field_is_refused_on_that_field(model_name, field):
    instance = BUILDERS[model_name]()
    secret = pem_private_key()
    setattr(instance, field, f"Key for the batch jobs, pasted by mistake:\n{secret}")

    assert_refused_without_echo(errors_of(instance), field, secret, "a PEM private key block")


def test_a_key_with_a_pem_in_its_description_is_refused_on_description():
    key = KeyFactory.build(store=KeyStoreFactory(), description=pem_private_key())
    errors = errors_of(key)
    assert list(errors) == ["description"]
    assert "PEM private key block" in errors["description"][0]


def test_a_secret_label_value_is_refused_on_labels_and_names_the_label():
    secret = short_secret()
    key = KeyFactory.build(store=KeyStoreFactory(), labels={"team": "team-ml-platform", "backup": secret})

    errors = errors_of(key)

    assert_refused_without_echo(errors, "labels", secret, "a base64-encoded 256-bit secret")
    assert "Label 'backup'" in errors["labels"][0]


def test_a_secret_label_name_is_refused_on_labels_without_echoing_it():
    secret = os.urandom(32).hex()
    key = KeyFactory.build(store=KeyStoreFactory(), labels={secret: "x"})

    errors = errors_of(key)

    assert_refused_without_echo(errors, "labels", secret, "a 256-bit hexadecimal string")
    assert errors["labels"][0].startswith("A label name")


def test_a_label_named_like_a_password_is_refused_when_it_carries_one():
    key = KeyFactory.build(store=KeyStoreFactory(), labels={"db_password": "Tr0ub4dor&3x"})
    assert_refused_without_echo(errors_of(key), "labels", "Tr0ub4dor&3x", "a credential")


@pytest.mark.parametrize(
    "external_id",
    [
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "projects/ml-prod/locations/europe-west4/keyRings/training/cryptoKeys/dataset-cmek",
        "https://ml-prod-kv.vault.azure.net/keys/inference-signing/78deebed173b48e48f55abf87ed4cf71",
        "transit/keys/inference-log-2024",
    ],
    ids=["aws-arn", "aws-multi-region", "gcp-resource", "azure-kid", "vault-transit"],
)
def test_real_key_identifiers_are_accepted_as_external_ids(external_id):
    key = KeyFactory.build(
        store=KeyStoreFactory(),
        external_id=external_id,
        name="InferenceLogEncryptionKey2024Prod",
        description="Encrypts inference logs for the EU tenants since 2024-03-01; rotated every 365 days.",
        labels={"team": "team-ml-platform", "purpose": "data-encryption", "secret-name": "prod/db-password"},
    )
    key.full_clean()
