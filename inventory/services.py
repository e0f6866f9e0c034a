"""Writes to the inventory. Views, API, importers and commands call these; none of them save models directly.

Each service validates (``full_clean``), saves inside ``transaction.atomic`` and attributes the change to
``actor`` in the history tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from cek.history import attribute
from inventory.models import Key, KeyState, Party, Purpose


def object_save(
    *, instance: models.Model, actor, m2m: dict[str, Iterable] | None = None, reason: str = "", validated: bool = False
) -> models.Model:
    """Validate (unless the caller just did) and save any inventory object, setting many-to-many values after."""
    if not validated:
        instance.full_clean()
    attribute(instance, actor=actor, reason=reason)
    with transaction.atomic():
        instance.save()
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
    return instance


def object_delete(*, instance: models.Model, actor) -> None:
    """Delete an object, or explain in a ValidationError what still refers to it."""
    attribute(instance, actor=actor)
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        counts: dict[str, int] = {}
        for obj in exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects:
            label = obj._meta.verbose_name_plural
            counts[label] = counts.get(label, 0) + 1
        detail = ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))
        raise ValidationError(
            f"{instance} cannot be deleted: {detail} still refer to it. Reassign or remove them first."
        ) from None


# --- Parties -------------------------------------------------------------------------------------


def party_save(*, party: Party, actor) -> Party:
    """Save a party. Marking it "us" moves the mark from whichever party had it (exactly one is us)."""
    party.full_clean(validate_constraints=False)
    with transaction.atomic():
        if party.is_us:
            for previous in Party.objects.select_for_update().filter(is_us=True).exclude(pk=party.pk):
                previous.is_us = False
                attribute(previous, actor=actor, reason=f"'us' moved to {party.name}")
                previous.save(update_fields=["is_us", "updated_at"])
        attribute(party, actor=actor)
        party.save()
    return party


# --- Purposes and keys ------------------------------------------------------------------------------


def purpose_save(*, purpose: Purpose, actor) -> Purpose:
    """Save a purpose and, when its cryptoperiod changed, recompute the derived end date of its keys."""
    changed = True
    if purpose.pk:
        previous = Purpose.objects.filter(pk=purpose.pk).values_list("max_cryptoperiod_days", flat=True).first()
        changed = previous != purpose.max_cryptoperiod_days
    with transaction.atomic():
        object_save(instance=purpose, actor=actor)
        if changed:
            key_cryptoperiods_refresh(purpose=purpose)
    return purpose


def key_cryptoperiods_refresh(*, purpose: Purpose) -> int:
    """Recompute ``cryptoperiod_ends_on`` for the keys of ``purpose`` that use its default cryptoperiod.

    A derived column, so the history tables are not touched (``bulk_update`` skips them)."""
    keys = list(Key.objects.filter(purpose=purpose, cryptoperiod_days__isnull=True).select_related("purpose"))
    for key in keys:
        key.cryptoperiod_ends_on = key.compute_cryptoperiod_end()
    Key.objects.bulk_update(keys, ["cryptoperiod_ends_on"], batch_size=1000)
    return len(keys)


def key_validate_purpose(key: Key, *, previous_purpose_id: int | None = None) -> None:
    """The purpose must be in use (not retired) for a new mapping and must allow the key's kind.

    ``previous_purpose_id`` spares a query when the caller (an importer) already knows the stored purpose."""
    errors: dict[str, list[str]] = {}
    if key.purpose_id is None:
        raise ValidationError({"purpose": ["Every key needs exactly one purpose."]})
    purpose = key.purpose
    if key.pk is None:
        purpose_changed = True
    elif previous_purpose_id is not None:
        purpose_changed = previous_purpose_id != key.purpose_id
    else:
        purpose_changed = not Key.objects.filter(pk=key.pk, purpose_id=key.purpose_id).exists()
    if purpose_changed and not purpose.is_active:
        errors.setdefault("purpose", []).append(f"The purpose '{purpose.name}' is retired; choose an active purpose.")
    if purpose.allowed_kinds and key.kind not in purpose.allowed_kinds:
        allowed = ", ".join(purpose.allowed_kinds)
        errors.setdefault("kind", []).append(
            f"The purpose '{purpose.name}' is for keys of kind {allowed}; this key is '{key.kind}'. "
            "Choose a purpose that fits the key, or correct its kind."
        )
    if errors:
        raise ValidationError(errors)


def key_save(*, key: Key, actor, exposed_to: Iterable[Party] | None = None, reason: str = "") -> Key:
    """Create or update a key: validates fields and its purpose, keeps the derived cryptoperiod end."""
    key.full_clean()
    key_validate_purpose(key)
    key.cryptoperiod_ends_on = key.compute_cryptoperiod_end()
    m2m = {"exposed_to": exposed_to} if exposed_to is not None else None
    return object_save(instance=key, actor=actor, m2m=m2m, reason=reason, validated=True)


def key_create(*, actor, exposed_to: Iterable[Party] = (), **fields: Any) -> Key:
    return key_save(key=Key(**fields), actor=actor, exposed_to=exposed_to)


def key_delete(*, key: Key, actor) -> None:
    """Only keys still in pre-activation (records entered in error) can be deleted. Every other key stays
    in the inventory for the audit trail: mark it deactivated or destroyed instead."""
    if key.state != KeyState.PRE_ACTIVATION:
        raise ValidationError(
            f"'{key.name}' is {key.get_state_display().lower()}: keys that were ever in use stay in the inventory. "
            "Set its state to deactivated or destroyed instead."
        )
    object_delete(instance=key, actor=actor)


# --- Key stores ------------------------------------------------------------------------------------


def keystore_confirm_inventory(*, store, actor):
    """GRC confirms that the inventory lists every key ``store`` holds (for stores that are not imported in
    full): the confirmation counts for CEK-11 CCM-2 until it is older than ``CEK_INVENTORY_FRESH_DAYS``."""
    from django.core.exceptions import PermissionDenied
    from django.utils import timezone

    from cek.roles import is_grc

    if not is_grc(actor):
        raise PermissionDenied("Only GRC staff can confirm that a key store's inventory is complete.")
    store.inventory_confirmed_at = timezone.now()
    store.inventory_confirmed_by = actor
    return object_save(instance=store, actor=actor, reason="Inventory confirmed complete", validated=True)
