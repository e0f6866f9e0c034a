"""Resolving references: every object the rows of a file refer to (stores, purposes, users, tenants, services,
parties, the existing keys and their exposures and bindings), fetched once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import models

from inventory.importers.base import KeyRow
from inventory.models import Binding, Key, KeyStore, Party, Purpose, Service, Tenant

_IN_CHUNK = 500  # values per IN (...) lookup: well below every backend's parameter limit

# Reference columns: column -> (natural-key attribute of the referenced object)
_FOREIGN_KEYS: dict[str, str] = {
    "store": "name",
    "purpose": "slug",
    "purpose_approver": "username",
    "owner": "username",
    "backup_owner": "username",
    "tenant": "slug",
    "custodian": "name",
}
_USER_COLUMNS = ("owner", "backup_owner", "purpose_approver")


def _fetch_in(queryset: models.QuerySet, field_name: str, values: Iterable[str]) -> list:
    wanted = sorted({value for value in values if value})
    found: list = []
    for start in range(0, len(wanted), _IN_CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": wanted[start : start + _IN_CHUNK]}))
    return found


class _Lookups:
    """Every object the rows refer to, fetched once: a fixed number of queries whatever the row count."""

    def __init__(self, rows: list[KeyRow]) -> None:
        user_model = get_user_model()
        self.stores = {s.name: s for s in _fetch_in(KeyStore.objects.all(), "name", (r.store for r in rows))}
        self.purposes = {p.slug: p for p in Purpose.objects.all()}
        self.active_purposes = sorted(slug for slug, p in self.purposes.items() if p.is_active)
        self.users = {
            u.username: u
            for u in _fetch_in(
                user_model.objects.all(), "username", (getattr(r, c) for r in rows for c in _USER_COLUMNS)
            )
        }
        tenant_slugs = {r.tenant for r in rows} | {b.tenant for r in rows for b in r.bindings or ()}
        self.tenants = {t.slug: t for t in _fetch_in(Tenant.objects.all(), "slug", tenant_slugs)}
        self.services = {
            s.slug: s
            for s in _fetch_in(Service.objects.all(), "slug", (b.service for r in rows for b in r.bindings or ()))
        }
        party_names = {r.custodian for r in rows} | {name for r in rows for name in r.exposed_to}
        self.parties = {p.name: p for p in _fetch_in(Party.objects.all(), "name", party_names)}

        # Existing keys of the stores involved, keyed by (store id, external id). A small file only loads its
        # own keys; a large one loads the stores' keys in one query rather than thousands of small ones.
        store_ids = sorted(s.pk for s in self.stores.values())
        external_ids = {r.external_id for r in rows if r.external_id}
        keys = Key.objects.filter(store_id__in=store_ids).select_related(
            "store", "purpose", "owner", "backup_owner", "purpose_approver", "tenant", "custodian"
        )
        scope = models.Q(key__store_id__in=store_ids)
        if len(external_ids) <= _IN_CHUNK:
            keys = keys.filter(external_id__in=external_ids)
            scope &= models.Q(key__external_id__in=external_ids)
        self.keys = {(k.store_id, k.external_id): k for k in keys} if store_ids else {}

        self.exposed: dict[int, dict[int, str]] = defaultdict(dict)
        if store_ids and any("exposed_to" in r.fields for r in rows):
            through = Key.exposed_to.through.objects.filter(scope)
            for key_id, party_id, party_name in through.values_list("key_id", "party_id", "party__name"):
                self.exposed[key_id][party_id] = party_name
        self.bindings: dict[int, list[Binding]] = defaultdict(list)
        if store_ids and any(r.bindings is not None for r in rows):
            for binding in Binding.objects.filter(scope).select_related("service", "tenant", "purpose").order_by("pk"):
                self.bindings[binding.key_id].append(binding)
