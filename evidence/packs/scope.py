"""What a pack covers: the keys of its scope (all, or only some key stores / tenants) and its window."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from evidence.models import EvidencePack
from inventory.models import Key, Party


def scoped_keys(pack: EvidencePack) -> QuerySet[Key]:
    """Every key of the pack's scope, whatever its state (destroyed keys are part of the population)."""
    keys = Key.objects.all()
    store_ids = [store.pk for store in pack.stores.all()]
    tenant_ids = [tenant.pk for tenant in pack.tenants.all()]
    if store_ids:
        keys = keys.filter(store_id__in=store_ids)
    if tenant_ids:
        keys = keys.filter(tenant_id__in=tenant_ids)
    return keys


def window_bounds(pack: EvidencePack) -> tuple[dt.datetime, dt.datetime]:
    """The window as aware datetimes: from the start of its first day to the end of its last (exclusive)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(pack.window_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(pack.window_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def scope_label(pack: EvidencePack) -> str:
    stores = ", ".join(store.name for store in pack.stores.all())
    tenants = ", ".join(tenant.name for tenant in pack.tenants.all())
    parts = [f"key stores {stores}" if stores else "", f"tenants {tenants}" if tenants else ""]
    return "; ".join(p for p in parts if p) or "all keys"


def organisation_name(pack: EvidencePack) -> str:
    """Whose evidence this is: the "us" party, else the party whose perspective the pack takes (the cover and
    ``pack.json`` say the same)."""
    us = Party.objects.filter(is_us=True).only("name").first()
    return us.name if us else pack.party.name
