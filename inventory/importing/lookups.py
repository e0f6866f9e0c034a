"""Resolving references: every object the rows of a file refer to (stores, purposes, users, tenants, services,
parties, the existing keys and their exposures and bindings), fetched once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.functions import Lower
from django.utils.text import slugify

from inventory import keyfields
from inventory.importers.base import KeyRow
from inventory.keyfields import Kind
from inventory.models import Binding, Key, KeyStore, Party, Purpose, Service, Tenant

_IN_CHUNK = 500  # values per IN (...) lookup: well below every backend's parameter limit

# Reference columns: column -> (natural-key attribute of the referenced object)
_FOREIGN_KEYS: dict[str, str] = {field.name: field.ref for field in keyfields.IMPORTED if field.kind is Kind.REFERENCE}
_USER_COLUMNS = tuple(name for name in _FOREIGN_KEYS if Key._meta.get_field(name).related_model is get_user_model())


def _fetch_in(queryset: models.QuerySet, field_name: str, values: Iterable[str]) -> list:
    wanted = sorted({value for value in values if value})
    found: list = []
    for start in range(0, len(wanted), _IN_CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": wanted[start : start + _IN_CHUNK]}))
    return found


def tag_slug(value: str) -> str:
    """How a tag value names a slug: "Data_Encryption " -> "data-encryption"."""
    return slugify(value.strip().replace("_", "-"))


def tag_names(value: str) -> list[str]:
    """The names in a tag value that may list several ("svc-a, svc-b" or "svc-a svc-b"), in order, once each."""
    return list(dict.fromkeys(name for name in value.replace(",", " ").replace(";", " ").split() if name))


class TagReader:
    """A key's tags read with its store's tag keys (names compared without regard to case)."""

    __slots__ = ("owner", "purpose", "services", "tenant")

    def __init__(self, labels: dict, store: KeyStore) -> None:
        by_name = {str(name).strip().lower(): str(value).strip() for name, value in labels.items()}
        self.purpose = by_name.get(store.purpose_tag_key.strip().lower(), "")
        self.owner = by_name.get(store.owner_tag_key.strip().lower(), "")
        self.tenant = by_name.get(store.tenant_tag_key.strip().lower(), "")
        self.services = tag_names(by_name.get(store.service_tag_key.strip().lower(), ""))


class _Lookups:
    """Every object the rows refer to, fetched once: a fixed number of queries whatever the row count.

    With ``reads_tags`` (platform exports) the rows' tags are read with their store's tag keys, and the users,
    tenants and services they name are fetched too (users by username or e-mail address)."""

    def __init__(self, rows: list[KeyRow], *, reads_tags: bool = False) -> None:
        user_model = get_user_model()
        self.stores = {s.name: s for s in _fetch_in(KeyStore.objects.all(), "name", (r.store for r in rows))}
        self.purposes = {p.slug: p for p in Purpose.objects.all()}
        self.active_purposes = sorted(slug for slug, p in self.purposes.items() if p.is_active)
        self.purposes_by_name = {p.name.strip().lower(): p for p in self.purposes.values()}
        self.tags: dict[int, TagReader] = {}
        if reads_tags:
            for r in rows:
                if r.store in self.stores:
                    self.tags[r.row] = TagReader(r.labels, self.stores[r.store])
        tagged_owners = {t.owner for t in self.tags.values() if t.owner}
        usernames = {getattr(r, c) for r in rows for c in _USER_COLUMNS} | tagged_owners
        self.users = {u.username: u for u in _fetch_in(user_model.objects.all(), "username", usernames)}
        emails = {owner.lower() for owner in tagged_owners if "@" in owner}
        self.users_by_email = {
            u.email_lower: u
            for u in _fetch_in(user_model.objects.annotate(email_lower=Lower("email")), "email_lower", emails)
            if u.is_active
        }
        tenant_slugs = (
            {r.tenant for r in rows}
            | {b.tenant for r in rows for b in r.bindings or ()}
            | {tag_slug(t.tenant) for t in self.tags.values() if t.tenant}
        )
        self.tenants = {t.slug: t for t in _fetch_in(Tenant.objects.all(), "slug", tenant_slugs)}
        service_slugs = {b.service for r in rows for b in r.bindings or ()} | {
            tag_slug(name) for t in self.tags.values() for name in t.services
        }
        self.services = {s.slug: s for s in _fetch_in(Service.objects.all(), "slug", service_slugs)}
        party_names = {r.custodian for r in rows} | {name for r in rows for name in r.exposed_to}
        self.parties = {p.name: p for p in _fetch_in(Party.objects.all(), "name", party_names)}

        # Existing keys of the stores involved, keyed by (store id, external id). A small file only loads its
        # own keys; a large one loads the stores' keys in one query rather than thousands of small ones.
        store_ids = sorted(s.pk for s in self.stores.values())
        external_ids = {r.external_id for r in rows if r.external_id}
        keys = Key.objects.filter(store_id__in=store_ids)
        scope = models.Q(key__store_id__in=store_ids)
        self.whole_stores = len(external_ids) > _IN_CHUNK  # every key of the stores is in self.keys
        if not self.whole_stores:
            keys = keys.filter(external_id__in=external_ids)
            scope &= models.Q(key__external_id__in=external_ids)
        self.keys = {(k.store_id, k.external_id): k for k in keys} if store_ids else {}
        self._attach_related(list(self.keys.values()))

        self.exposed: dict[int, dict[int, str]] = defaultdict(dict)
        if store_ids and any("exposed_to" in r.fields for r in rows):
            through = Key.exposed_to.through.objects.filter(scope)
            for key_id, party_id, party_name in through.values_list("key_id", "party_id", "party__name"):
                self.exposed[key_id][party_id] = party_name
        # Bindings: whole objects where a file lists them (CSV, CBOM: they may be replaced and are shown); only
        # which services each key is bound to where tags name services (bindings are only ever added then).
        self.bindings: dict[int, list[Binding]] = defaultdict(list)
        self.bound_services: dict[int, set[int]] = defaultdict(set)
        if store_ids and any(r.bindings is not None for r in rows):
            for binding in Binding.objects.filter(scope).select_related("service", "tenant", "purpose").order_by("pk"):
                self.bindings[binding.key_id].append(binding)
        if store_ids and any(t.services for t in self.tags.values()):
            for key_id, service_id in Binding.objects.filter(scope).values_list("key_id", "service_id"):
                self.bound_services[key_id].add(service_id)

    def _attach_related(self, keys: list[Key]) -> None:
        """Give the loaded keys their related objects (store, purpose, users, tenant, custodian) from shared
        instances, fetched once by id: a join per relation would build a copy of each object for every key
        (seven model instances per key, most of the time of loading a large store)."""
        if not keys:
            return
        user_model = get_user_model()
        known: dict[type[models.Model], dict[int, models.Model]] = {
            KeyStore: {s.pk: s for s in self.stores.values()},
            Purpose: {p.pk: p for p in self.purposes.values()},
            user_model: {u.pk: u for u in self.users.values()},
            Tenant: {t.pk: t for t in self.tenants.values()},
            Party: {p.pk: p for p in self.parties.values()},
        }
        fields = [Key._meta.get_field(name) for name in _FOREIGN_KEYS]
        for model in (user_model, Tenant, Party):  # the keys' stores and every purpose are loaded already
            objects = known[model]
            attnames = [field.attname for field in fields if field.related_model is model]
            ids = {getattr(key, attname) for key in keys for attname in attnames} - {None}
            objects.update({o.pk: o for o in _fetch_in(model.objects.all(), "pk", ids - set(objects))})
        for field in fields:
            objects = known[field.related_model]
            for key in keys:
                pk = getattr(key, field.attname)
                field.set_cached_value(key, objects.get(pk) if pk is not None else None)
