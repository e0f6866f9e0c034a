"""Resolving references: every object the rows of a file refer to (stores, purposes, users, tenants, services,
parties, the existing keys and their exposures and bindings), fetched once."""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Iterable
from functools import lru_cache
from operator import itemgetter

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.text import slugify

from inventory import keyfields
from inventory.importers.base import ALL_FIELDS, KeyRow
from inventory.keyfields import Kind
from inventory.models import Binding, Key, KeyStore, Party, Purpose, Service, Tenant

_IN_CHUNK = 500  # values per IN (...) lookup: well below every backend's parameter limit

# Reference columns: column -> (natural-key attribute of the referenced object)
_FOREIGN_KEYS: dict[str, str] = {field.name: field.ref for field in keyfields.IMPORTED if field.kind is Kind.REFERENCE}
_USER_COLUMNS = tuple(name for name in _FOREIGN_KEYS if Key._meta.get_field(name).related_model is get_user_model())


# What the planner reads of an existing key: its id, every imported column and "not seen since" (not its time
# stamps or derived cryptoperiod end).
STORED_COLUMNS = (
    "id",
    *(f.attname for f in Key._meta.concrete_fields if f.name in ALL_FIELDS or f.name == "not_seen_since"),
)
_STORED_RELATIONS = tuple(f for f in Key._meta.concrete_fields if f.is_relation and f.name in ALL_FIELDS)
_StoredColumns = namedtuple("_StoredColumns", STORED_COLUMNS)


class StoredKey(_StoredColumns):
    """An existing key as the planner reads it: the values of :data:`STORED_COLUMNS` (fetched with
    ``values_list``, a tuple per key), its related objects (``key.purpose``, ``key.owner``...) from the
    import's lookups. Building a model instance per key (35 columns set through the model's descriptors and
    its related objects attached) was most of the time of the lookups of a 100,000-key re-import; the writer
    fetches the instances of the keys a row changes (:func:`key_instances`)."""

    __slots__ = ()
    pk = property(itemgetter(0))
    related: dict[type[models.Model], dict[int, models.Model]] = {}  # set on each import's subclass

    def get_absolute_url(self) -> str:
        return reverse("inventory:key-detail", args=[self.id])


def _related_property(field: models.ForeignKey) -> property:
    index, model = STORED_COLUMNS.index(field.attname), field.related_model

    def get(key: StoredKey) -> models.Model | None:
        pk = key[index]
        return key.related[model].get(pk) if pk is not None else None

    return property(get)


def _stored_key_class(related: dict[type[models.Model], dict[int, models.Model]]) -> type[StoredKey]:
    """A :class:`StoredKey` whose related objects are those of ``related`` (model -> pk -> object)."""
    attributes: dict = {"__slots__": (), "related": related}
    attributes.update({field.name: _related_property(field) for field in _STORED_RELATIONS})
    return type("StoredKey", (StoredKey,), attributes)


def key_instances(keys: Iterable[StoredKey]) -> dict[int, Key]:
    """The model instances of ``keys`` (what the writer saves and records history of), by id, their related
    objects the lookups' own (no query per key when the writer reads ``key.purpose``)."""
    keys = list(keys)
    ids = sorted(key.pk for key in keys)
    found: dict[int, Key] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        found.update(Key.objects.in_bulk(ids[start : start + _IN_CHUNK]))
    for key in keys:
        instance = found.get(key.pk)
        if instance is None:
            continue
        for field in _STORED_RELATIONS:
            if getattr(instance, field.attname) == getattr(key, field.attname):
                field.set_cached_value(instance, getattr(key, field.name))
    return found


def _fetch_in(queryset: models.QuerySet, field_name: str, values: Iterable[str]) -> list:
    wanted = sorted({value for value in values if value})
    found: list = []
    for start in range(0, len(wanted), _IN_CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": wanted[start : start + _IN_CHUNK]}))
    return found


def _fetch_in_values(queryset: models.QuerySet, field_name: str, values: list, columns: tuple[str, ...]) -> list:
    found: list = []
    for start in range(0, len(values), _IN_CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": values[start : start + _IN_CHUNK]}).values_list(*columns))
    return found


@lru_cache(maxsize=4096)
def tag_slug(value: str) -> str:
    """How a tag value names a slug: "Data_Encryption " -> "data-encryption". Cached: an export repeats a few
    hundred service and tenant names across its keys, and ``slugify`` is the dearest step of reading a tag."""
    return slugify(value.strip().replace("_", "-"))


def tag_names(value: str) -> list[str]:
    """The names in a tag value that may list several ("svc-a, svc-b" or "svc-a svc-b"), in order, once each."""
    return list(dict.fromkeys(name for name in value.replace(",", " ").replace(";", " ").split() if name))


class TagReader:
    """A key's tags read with its store's tag keys (names compared without regard to case)."""

    __slots__ = ("owner", "purpose", "services", "tenant")

    def __init__(self, labels: dict, store: KeyStore, tag_keys: tuple[str, str, str, str] | None = None) -> None:
        by_name = {str(name).strip().lower(): str(value).strip() for name, value in labels.items()}
        purpose, owner, tenant, service = tag_keys or store_tag_keys(store)
        self.purpose = by_name.get(purpose, "")
        self.owner = by_name.get(owner, "")
        self.tenant = by_name.get(tenant, "")
        self.services = tag_names(by_name.get(service, ""))


def store_tag_keys(store: KeyStore) -> tuple[str, str, str, str]:
    """The store's purpose, owner, tenant and service tag keys, as tag names are compared (stripped, lower case)."""
    return tuple(  # type: ignore[return-value]
        key.strip().lower()
        for key in (store.purpose_tag_key, store.owner_tag_key, store.tenant_tag_key, store.service_tag_key)
    )


class _Lookups:
    """Every object the rows of one chunk refer to, fetched per chunk: a fixed number of queries per chunk
    whatever its row count. The catalog (purposes) is fetched once; stores, users, tenants, services and parties
    are kept once fetched (they are few, and a name asked for once is not asked for again); the existing keys,
    their exposures and bindings, and the rows' tags are the current chunk's only, looked up by external id.

    With ``reads_tags`` (platform exports) the rows' tags are read with their store's tag keys, and the users,
    tenants and services they name are fetched too (users by username or e-mail address)."""

    def __init__(self, rows: list[KeyRow] | None = None, *, reads_tags: bool = False) -> None:
        self.reads_tags = reads_tags
        self.stores: dict[str, KeyStore] = {}
        self.purposes = {p.slug: p for p in Purpose.objects.all()}
        self.active_purposes = sorted(slug for slug, p in self.purposes.items() if p.is_active)
        self.users: dict[str, models.Model] = {}
        self.users_by_email: dict[str, models.Model] = {}
        self.tenants: dict[str, Tenant] = {}
        self.services: dict[str, Service] = {}
        self.parties: dict[str, Party] = {}
        # Names already asked for, found or not, by what they name: never asked for again.
        self._asked: dict[str, set[str]] = defaultdict(set)
        self.tags: dict[int, TagReader] = {}
        self.keys: dict[tuple[int, str], StoredKey] = {}
        # The related objects of the loaded keys, by model and id (shared by every key, kept across chunks).
        self.related: dict[type[models.Model], dict[int, models.Model]] = {
            KeyStore: {},
            Purpose: {p.pk: p for p in self.purposes.values()},
            get_user_model(): {},
            Tenant: {},
            Party: {},
        }
        self._stored_key = _stored_key_class(self.related)
        self.exposed: dict[int, dict[int, str]] = defaultdict(dict)
        self.bindings: dict[int, list[Binding]] = defaultdict(list)
        self.bound_services: dict[int, set[int]] = defaultdict(set)
        if rows is not None:
            self.load(rows)

    def _new(self, what: str, names: Iterable[str]) -> list[str]:
        asked = self._asked[what]
        wanted = {name for name in names if name} - asked
        asked |= wanted
        return sorted(wanted)

    def load(self, rows: list[KeyRow]) -> None:
        """Fetch what the rows of the next chunk refer to; forget the previous chunk's keys, bindings and tags."""
        user_model = get_user_model()
        self.stores.update(
            {s.name: s for s in _fetch_in(KeyStore.objects.all(), "name", self._new("store", (r.store for r in rows)))}
        )
        self.tags = {}
        if self.reads_tags:
            tag_keys = {name: store_tag_keys(store) for name, store in self.stores.items()}  # once per chunk
            for r in rows:
                if r.store in self.stores:
                    self.tags[r.row] = TagReader(r.labels, self.stores[r.store], tag_keys[r.store])
        tagged_owners = {t.owner for t in self.tags.values() if t.owner}
        usernames = {getattr(r, c) for r in rows for c in _USER_COLUMNS} | tagged_owners
        self.users.update(
            {u.username: u for u in _fetch_in(user_model.objects.all(), "username", self._new("user", usernames))}
        )
        emails = self._new("email", {owner.lower() for owner in tagged_owners if "@" in owner})
        self.users_by_email.update(
            {
                u.email_lower: u
                for u in _fetch_in(user_model.objects.annotate(email_lower=Lower("email")), "email_lower", emails)
                if u.is_active
            }
        )
        tenant_slugs = (
            {r.tenant for r in rows}
            | {b.tenant for r in rows for b in r.bindings or ()}
            | {tag_slug(t.tenant) for t in self.tags.values() if t.tenant}
        )
        self.tenants.update(
            {t.slug: t for t in _fetch_in(Tenant.objects.all(), "slug", self._new("tenant", tenant_slugs))}
        )
        service_slugs = {b.service for r in rows for b in r.bindings or ()} | {
            tag_slug(name) for t in self.tags.values() for name in t.services
        }
        self.services.update(
            {s.slug: s for s in _fetch_in(Service.objects.all(), "slug", self._new("service", service_slugs))}
        )
        party_names = {r.custodian for r in rows} | {name for r in rows for name in r.exposed_to}
        self.parties.update(
            {p.name: p for p in _fetch_in(Party.objects.all(), "name", self._new("party", party_names))}
        )

        # Existing keys of this chunk, keyed by (store id, external id): looked up by external id (the unique
        # (store, external_id) index), a few hundred at a time, never the whole store; as tuples (StoredKey).
        store_ids = sorted({self.stores[r.store].pk for r in rows if r.store in self.stores})
        external_ids = sorted({r.external_id for r in rows if r.external_id})
        self.keys = {}
        if store_ids and external_ids:
            keys = Key.objects.filter(store_id__in=store_ids).order_by()
            make = self._stored_key._make
            store_at, external_id_at = STORED_COLUMNS.index("store_id"), STORED_COLUMNS.index("external_id")
            for start in range(0, len(external_ids), _IN_CHUNK):
                chunk = external_ids[start : start + _IN_CHUNK]
                for values in keys.filter(external_id__in=chunk).values_list(*STORED_COLUMNS):
                    self.keys[(values[store_at], values[external_id_at])] = make(values)
        self._attach_related(list(self.keys.values()))

        key_ids = sorted(key.pk for key in self.keys.values())
        self.exposed = defaultdict(dict)
        if key_ids and any("exposed_to" in r.fields for r in rows):
            through = Key.exposed_to.through.objects.all()
            for link in _fetch_in_values(through, "key_id", key_ids, ("key_id", "party_id", "party__name")):
                key_id, party_id, party_name = link
                self.exposed[key_id][party_id] = party_name
        # Bindings: whole objects where a file lists them (CSV, CBOM: they may be replaced and are shown); only
        # which services each key is bound to where tags name services (bindings are only ever added then).
        self.bindings = defaultdict(list)
        self.bound_services = defaultdict(set)
        if key_ids and any(r.bindings is not None for r in rows):
            bindings = Binding.objects.select_related("service", "tenant", "purpose").order_by("pk")
            for binding in sorted(_fetch_in(bindings, "key_id", key_ids), key=lambda b: b.pk):
                self.bindings[binding.key_id].append(binding)
        if key_ids and any(t.services for t in self.tags.values()):
            for key_id, service_id in _fetch_in_values(
                Binding.objects.all(), "key_id", key_ids, ("key_id", "service_id")
            ):
                self.bound_services[key_id].add(service_id)

    def _attach_related(self, keys: list[StoredKey]) -> None:
        """Fetch the related objects (store, purpose, users, tenant, custodian) of the loaded keys that are not
        known yet, once by id: every key reads them from the same instances (a join per relation would build a
        copy of each object for every key)."""
        if not keys:
            return
        related = self.related
        related[KeyStore].update({s.pk: s for s in self.stores.values()})
        user_model = get_user_model()
        for model, objects in ((user_model, self.users), (Tenant, self.tenants), (Party, self.parties)):
            known = related[model]
            known.update({o.pk: o for o in objects.values()})
            if model is user_model:
                known.update({u.pk: u for u in self.users_by_email.values()})
            attnames = [STORED_COLUMNS.index(f.attname) for f in _STORED_RELATIONS if f.related_model is model]
            ids = {key[index] for key in keys for index in attnames} - {None}
            known.update({o.pk: o for o in _fetch_in(model.objects.all(), "pk", ids - set(known))})
