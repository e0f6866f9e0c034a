"""Inventory services and model facts against the real database."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory import services
from inventory.models import Key, KeyState, Party
from tests.factories import KeyFactory, KeyStoreFactory, PartyFactory, purpose

pytestmark = pytest.mark.django_db


def test_a_key_cannot_exist_without_a_purpose_in_the_database():
    key = KeyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Key.objects.filter(pk=key.pk).update(purpose=None)


def test_external_ids_are_unique_per_store_but_not_across_stores():
    key = KeyFactory()
    KeyFactory(external_id=key.external_id)  # another store: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        Key.objects.create(name="dup", store=key.store, external_id=key.external_id, purpose=key.purpose)


def test_key_create_derives_the_cryptoperiod_end_from_the_purpose(grc_user):
    key = services.key_create(
        actor=grc_user,
        name="logs",
        store=KeyStoreFactory(),
        external_id="k1",
        purpose=purpose("inference-log-encryption"),
        activated_on=dt.date(2026, 1, 1),
    )
    assert key.cryptoperiod_ends_on == dt.date(2028, 1, 1)
    assert key.history.first().history_user == grc_user


def test_a_per_key_cryptoperiod_overrides_the_purpose_default(grc_user):
    key = services.key_create(
        actor=grc_user,
        name="logs",
        store=KeyStoreFactory(),
        external_id="k1",
        cryptoperiod_days=90,
        purpose=purpose("data-encryption"),
        activated_on=dt.date(2026, 1, 1),
        last_rotated_on=dt.date(2026, 6, 1),
    )
    assert key.cryptoperiod_ends_on == dt.date(2026, 8, 30)


def test_periods_past_the_end_of_the_calendar_never_end_instead_of_raising(grc_user):
    key = services.key_create(
        actor=grc_user,
        name="forever",
        store=KeyStoreFactory(),
        external_id="k-forever",
        cryptoperiod_days=2_000_000_000,
        rotation_period_days=2_000_000_000,
        purpose=purpose("data-encryption"),
        activated_on=dt.date(2026, 1, 1),
    )
    assert key.cryptoperiod_ends_on is None
    assert not key.is_cryptoperiod_overdue and not key.is_overdue_for_rotation


def test_changing_a_purposes_cryptoperiod_updates_its_keys(grc_user):
    key = KeyFactory(activated_on=dt.date(2026, 1, 1))
    services.key_save(key=key, actor=grc_user)
    data_encryption = purpose("data-encryption")
    data_encryption.max_cryptoperiod_days = 365
    services.purpose_save(purpose=data_encryption, actor=grc_user)
    key.refresh_from_db()
    assert key.cryptoperiod_ends_on == dt.date(2027, 1, 1)


def test_a_retired_purpose_cannot_be_given_to_a_new_key(grc_user):
    retired = purpose("data-encryption")
    retired.is_active = False
    retired.save()
    with pytest.raises(ValidationError) as exc:
        services.key_create(actor=grc_user, name="k", store=KeyStoreFactory(), external_id="x", purpose=retired)
    assert "retired" in str(exc.value)


def test_a_key_whose_purpose_was_retired_can_still_be_edited(grc_user):
    key = KeyFactory()
    key.purpose.is_active = False
    key.purpose.save()
    key.description = "Still in use until migration."
    services.key_save(key=key, actor=grc_user)
    key.refresh_from_db()
    assert key.description == "Still in use until migration."
    assert key.history.first().description == "Still in use until migration."


def test_key_material_in_any_text_field_is_refused(grc_user):
    with pytest.raises(ValidationError) as exc:
        services.key_create(
            actor=grc_user,
            name="k",
            store=KeyStoreFactory(),
            external_id="x",
            purpose=purpose(),
            labels={
                "purpose": "data-encryption",
                "note": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
            },
        )
    assert "labels" in exc.value.message_dict
    assert "JSON Web Token" in str(exc.value)


def test_exactly_one_party_is_us(grc_user):
    first = services.party_save(party=Party(name="A", roles=["AP"], is_us=True), actor=grc_user)
    services.party_save(party=Party(name="B", roles=["CSP"], is_us=True), actor=grc_user)
    first.refresh_from_db()
    assert not first.is_us
    assert Party.objects.filter(is_us=True).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Party.objects.filter(pk=first.pk).update(is_us=True)


def test_party_roles_must_come_from_the_ssrm_vocabulary():
    with pytest.raises(ValidationError) as exc:
        PartyFactory.build(name="X", roles=["CSP", "VENDOR"]).full_clean()
    assert "VENDOR" in str(exc.value)


def test_only_pre_activation_keys_can_be_deleted(grc_user):
    key = KeyFactory(state=KeyState.DESTROYED)
    with pytest.raises(ValidationError):
        services.key_delete(key=key, actor=grc_user)
    draft = KeyFactory(state=KeyState.PRE_ACTIVATION)
    draft_pk = draft.pk
    services.key_delete(key=draft, actor=grc_user)
    assert not Key.objects.filter(pk=draft_pk).exists()
    assert Key.history.filter(id=draft_pk, history_type="-", history_user=grc_user).exists()


@time_machine.travel(dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
def test_overdue_facts():
    key = KeyFactory(activated_on=dt.date(2024, 1, 1), rotation_period_days=365)
    key.cryptoperiod_ends_on = key.compute_cryptoperiod_end()
    assert key.cryptoperiod_ends_on == dt.date(2025, 12, 31)
    assert key.is_cryptoperiod_overdue and key.is_overdue_for_rotation
    key.state = KeyState.DEACTIVATED
    assert not key.is_cryptoperiod_overdue and not key.is_overdue_for_rotation


def test_the_default_purpose_catalog_covers_sp_800_57_and_ai_purposes():
    from inventory.models import Purpose, Sp80057KeyType

    types = set(Purpose.objects.values_list("key_type", flat=True))
    assert set(Sp80057KeyType.values) <= types
    ai = set(Purpose.objects.filter(is_ai_specific=True).values_list("slug", flat=True))
    assert {
        "model-artifact-signing",
        "inference-log-encryption",
        "training-data-encryption",
        "model-registry-authentication",
        "output-signing",
        "evaluation-data-encryption",
    } <= ai
    assert not Purpose.objects.filter(allowed_operations=[]).exists()
    assert Purpose.objects.get(slug="key-derivation").max_cryptoperiod_days == 365
