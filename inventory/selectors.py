"""Reads of the inventory, with their joins decided once so every page and API list runs a fixed number of
queries, and with role visibility applied in one place.

The figures of a set of keys (how many, in use, by state, purpose and function, without an owner or a purpose,
past their cryptoperiod, exposed) are defined here once, in :func:`key_breakdowns` and :func:`key_exposure`: the
dashboard, the inventory overview, the evidence pack, the CEK-11.1 answer's facts and the checks all read them from
here, so no two pages can disagree on a number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cek import snapshot
from cek.roles import can_read_all, is_key_owner
from inventory.models import IN_USE_STATES, AccessGrant, Binding, CryptoFunction, Key, KeyState, Party, Purpose

LIST_JOINS = ("store", "purpose", "owner", "backup_owner", "tenant")


def owned_by(user) -> Q:
    """Keys the user owns or backs up ("My keys")."""
    return Q(owner=user) | Q(backup_owner=user)


def key_visibility(user) -> Q:
    """GRC and auditors see every key; a key owner sees the keys they own or back up; others see none."""
    if can_read_all(user):
        return Q()
    if is_key_owner(user):
        return owned_by(user)
    return Q(pk__in=[])


def keys_for(user) -> QuerySet[Key]:
    return Key.objects.filter(key_visibility(user))


def key_list(*, user, mine_only: bool = False) -> QuerySet[Key]:
    """Keys for list pages and the API list: one query per page (plus the count). ``mine_only``: the keys the
    user owns or backs up, whatever their role."""
    keys = Key.objects.filter(owned_by(user)) if mine_only else keys_for(user)
    return keys.select_related(*LIST_JOINS)


def key_state_choices(keys: QuerySet[Key], *, selected=(), scope: str) -> list[tuple[str, str]]:
    """The states the key list's filter offers: those ``keys`` are in (one query, stored as the snapshot of
    ``scope``, which names whose keys ``keys`` are), and any ``selected`` valid state, in the order of the enum. A
    state no key is in would select nothing."""

    def states_in_use() -> frozenset[str]:
        # One row of one EXISTS per state (each an index probe on state), not a DISTINCT over every visible key.
        probe = {f"in_{value}": Exists(keys.order_by().filter(state=value)) for value in KeyState.values}
        flags = next(iter(Key.objects.annotate(**probe).values(*probe).order_by()[:1]), None)
        if flags is None:  # no key at all
            return frozenset()
        return frozenset(value for value in KeyState.values if flags[f"in_{value}"])

    present = snapshot.cached(f"key-states:{scope}", timezone.localdate(), states_in_use) | set(selected)
    return [(value, label) for value, label in KeyState.choices if value in present]


def key_list_keys(*, user, mine_only: bool = False) -> QuerySet[Key]:
    """The keys of the key list page and the API list, without joins: what their filters narrow, their pages
    count (a ``COUNT(*)`` that joins nothing the filters do not need) and :class:`PagedRows` slices."""
    return Key.objects.filter(owned_by(user)) if mine_only else keys_for(user)


# The columns the key list page shows, read with the page's one query (``values()``: no model objects, and the
# joins only these lookups need).
KEY_LIST_PAGE_COLUMNS = (
    "id", "name", "external_id", "state", "not_seen_since", "cryptoperiod_ends_on", "last_rotated_on",
    "purpose__name", "purpose__is_ai_specific", "purpose__function", "store__name",
    "owner__username", "owner__first_name", "owner__last_name", "tenant__name",
)  # fmt: skip


class PagedRows:
    """What Django's paginator pages for a list that reads its rows differently from how it counts them:
    ``count()`` counts ``keys`` (the filtered queryset, without the columns' joins), a slice reads that page of
    ``keys`` through ``rows`` (one query, e.g. ``values()`` with joins, its keys located by their ids in a subquery:
    a deferred join, below) and returns a list."""

    def __init__(self, keys: QuerySet, rows) -> None:
        self.keys, self.rows = keys, rows
        self.model = keys.model

    @property
    def ordered(self) -> bool:
        return self.keys.ordered

    def count(self) -> int:
        # The stored count is named by the SQL of the keys' ids (the same tables, joins and filters as the count):
        # compiling every column of ``Key`` only to name it cost a quarter of a millisecond a request.
        return snapshot.cached_count(self.keys.values("pk").order_by())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("PagedRows reads pages (slices) only.")
        page = self.keys[index]
        # The page's keys are found in the ordering's index alone, then only their rows are read with their joins:
        # ``WHERE id IN (SELECT id ... ORDER BY name, id LIMIT 50 OFFSET n)`` (a deferred join; migration 0011's
        # covering indexes hold what the filters test). Read directly, PostgreSQL joins and sorts every key before
        # the page's (page 1,500 of 100,000 keys: 230-460 ms, a sort spilled to disk; page 1 of the overdue filter
        # 90 ms, reading 16,700 active keys from the table); the subquery skips n index entries (13-53 ms).
        ordering = page.query.order_by or self.model._meta.ordering
        return list(self.rows(self.model._base_manager.filter(pk__in=page.values("pk")).order_by(*ordering)))


# The key page's own joins. Its three people (owner, backup owner, purpose approver) are read in one query of their
# own rather than three more joins: PostgreSQL plans a join of eight tables in about 2 ms (measured at 100,000 keys,
# warm), of five in about 0.3 ms, and the page's query is a primary-key lookup whose planning is most of its cost.
KEY_PAGE_JOINS = ("store", "purpose", "tenant", "custodian")
KEY_PAGE_PEOPLE = ("owner", "backup_owner", "purpose_approver")
PERSON_COLUMNS = ("id", "username", "first_name", "last_name")
# The columns the key page shows of its bindings and grants (a column read later would be a query per row: the
# page's query-count tests would fail).
KEY_PAGE_BINDING_COLUMNS = (
    "id", "key_id", "principal", "operations", "service__id", "service__name",
    "tenant__id", "tenant__name", "purpose__id", "purpose__name",
)  # fmt: skip
KEY_PAGE_GRANT_COLUMNS = (
    "id", "key_id", "principal", "principal_type", "operations", "justification", "expires_on",
    *(f"approver__{column}" for column in PERSON_COLUMNS),
)  # fmt: skip


@dataclass
class KeyPage:
    """What the key page shows of a key besides its own row: the parties it is exposed to, its bindings (with their
    service, tenant and purpose) and its grants (with their approver)."""

    key: Key
    exposed: list[Party]
    bindings: list[Binding]
    grants: list[AccessGrant]


def key_page(*, user, pk: int) -> KeyPage | None:
    """The key ``pk`` as its page shows it, or None when ``user`` may not see it (or it does not exist).

    At most five queries whatever the number of its bindings, grants and parties: the key with its store, purpose,
    tenant and custodian, and whether it has any exposure, binding or grant (index probes in the same query); its
    people; then only for what it has, the parties, the bindings with their service, tenant and purpose, the grants
    with their approver. The related rows read only the columns the page shows."""
    key = (
        keys_for(user)
        .filter(pk=pk)
        .select_related(*KEY_PAGE_JOINS)
        .annotate(
            has_exposure=Exists(Key.exposed_to.through.objects.filter(key_id=OuterRef("pk"))),
            has_bindings=Exists(Binding.objects.filter(key_id=OuterRef("pk"))),
            has_grants=Exists(AccessGrant.objects.filter(key_id=OuterRef("pk"))),
        )
        .order_by("pk")
        .first()
    )
    if key is None:
        return None
    wanted = {getattr(key, f"{name}_id") for name in KEY_PAGE_PEOPLE} - {None}
    if wanted:
        people = get_user_model().objects.only(*PERSON_COLUMNS).in_bulk(wanted)
        for name in KEY_PAGE_PEOPLE:
            person = people.get(getattr(key, f"{name}_id"))
            if person is not None:
                setattr(key, name, person)
    exposed = list(Party.objects.filter(exposed_keys=key).only("id", "name")) if key.has_exposure else []
    bindings = []
    if key.has_bindings:
        bindings = list(
            Binding.objects.filter(key=key)
            .select_related("service", "tenant", "purpose")
            .only(*KEY_PAGE_BINDING_COLUMNS)
            .order_by("service__name", "id")
        )
    grants = []
    if key.has_grants:
        grants = list(
            AccessGrant.objects.filter(key=key)
            .select_related("approver")
            .only(*KEY_PAGE_GRANT_COLUMNS)
            .order_by("principal", "id")
        )
    return KeyPage(key=key, exposed=exposed, bindings=bindings, grants=grants)


def bindings_for(user) -> QuerySet[Binding]:
    return (
        Binding.objects.filter(key__in=keys_for(user).values("pk")) if not can_read_all(user) else Binding.objects.all()
    )


def binding_list(*, user) -> QuerySet[Binding]:
    return bindings_for(user).select_related("key", "service", "tenant", "purpose")


def grants_for(user) -> QuerySet[AccessGrant]:
    return (
        AccessGrant.objects.filter(key__in=keys_for(user).values("pk"))
        if not can_read_all(user)
        else AccessGrant.objects.all()
    )


def grant_list(*, user) -> QuerySet[AccessGrant]:
    return grants_for(user).select_related("key", "approver")


def purpose_list(*, user) -> QuerySet[Purpose]:
    """The purpose catalog (readable by every role) with the number of keys the user may see."""
    if can_read_all(user):
        visible = Q()
    elif is_key_owner(user):
        visible = Q(keys__owner=user) | Q(keys__backup_owner=user)
    else:
        visible = Q(pk__in=[])
    return Purpose.objects.annotate(key_count=Count("keys", filter=visible, distinct=True))


# --- Figures -----------------------------------------------------------------------------------------------------

NO_PURPOSE_LABEL = "Purpose unassigned"
NO_FUNCTION_LABEL = "No purpose, so no function"


def cryptoperiod_passed(today: dt.date) -> Q:
    """Keys in state active whose cryptoperiod ended before ``today``: the key list's ``?overdue=true``, as
    ``Key.is_cryptoperiod_overdue`` (a suspended key applies no protection, so its cryptoperiod is not counted)."""
    return Q(state=KeyState.ACTIVE, cryptoperiod_ends_on__lt=today)


def cryptoperiod_ending(today: dt.date, days: int) -> Q:
    """Keys in state active whose cryptoperiod ends between ``today`` and ``days`` days later (both included)."""
    return Q(state=KeyState.ACTIVE, cryptoperiod_ends_on__range=(today, today + dt.timedelta(days=days)))


@dataclass
class Bucket:
    """A group of keys: ``value`` is what the key list filters on (a state, a purpose slug or a function; "" for
    the keys without a purpose). ``count`` counts every key of the group, ``in_use`` those in use."""

    value: str
    label: str
    count: int
    in_use: int = 0
    ai: bool = False  # a purpose that is AI-specific


@dataclass
class KeyFigures:
    """The headline figures of a set of keys. "In use" is ``inventory.models.IN_USE_STATES``."""

    total: int = 0  # every key, whatever its state
    in_use: int = 0  # active or suspended
    without_purpose: int = 0  # every key without a purpose, whatever its state (the key list's ?unassigned=true)
    in_use_without_purpose: int = 0
    unowned: int = 0  # keys in use without an owner
    ai: int = 0  # keys in use with an AI-specific purpose
    not_seen: int = 0  # keys no longer listed by their store, whatever their state (?not_seen=true)
    purposes_in_use: int = 0  # distinct purposes of the keys in use
    cryptoperiod_passed: int = 0  # keys in state active past their cryptoperiod (?overdue=true)
    expiring_30: int = 0  # keys in state active whose cryptoperiod ends within 30 days
    expiring_90: int = 0


@dataclass
class KeyBreakdown:
    figures: KeyFigures
    by_state: list[Bucket] = field(default_factory=list)  # the states that have keys, in KeyState order
    by_function: list[Bucket] = field(default_factory=list)  # most keys first
    by_purpose: list[Bucket] = field(default_factory=list)  # most keys first

    def state_count(self, state: str) -> int:
        return next((bucket.count for bucket in self.by_state if bucket.value == state), 0)


def _add(groups: dict, value: str, label: str, n: int, in_use: int, *, ai: bool = False) -> None:
    bucket = groups.setdefault(value, Bucket(value, label, 0, ai=ai))
    bucket.count += n
    bucket.in_use += in_use


def _most_first(groups: dict) -> list[Bucket]:
    return sorted(groups.values(), key=lambda b: (-b.count, b.label))


def key_breakdowns(keys: QuerySet[Key], *, today: dt.date) -> KeyBreakdown:
    """Every figure of ``keys`` and their breakdowns by state, cryptographic function and purpose, in one grouped
    query (per state and purpose, with conditional counts), however many keys there are."""
    rows = (
        keys.order_by()
        .values("state", "purpose_id", "purpose__slug", "purpose__name", "purpose__function", "purpose__is_ai_specific")
        .annotate(
            n=Count("pk"),
            unowned=Count("pk", filter=Q(owner__isnull=True)),
            not_seen=Count("pk", filter=Q(not_seen_since__isnull=False)),
            passed=Count("pk", filter=cryptoperiod_passed(today)),
            expiring_30=Count("pk", filter=cryptoperiod_ending(today, 30)),
            expiring_90=Count("pk", filter=cryptoperiod_ending(today, 90)),
        )
    )
    figures = KeyFigures()
    states: dict[str, Bucket] = {}
    functions: dict[str, Bucket] = {}
    purposes: dict[str, Bucket] = {}
    purposes_in_use: set[int] = set()
    function_labels = dict(CryptoFunction.choices)
    state_labels = dict(KeyState.choices)
    for row in rows:
        n, purpose_id = row["n"], row["purpose_id"]
        in_use = n if row["state"] in IN_USE_STATES else 0
        figures.total += n
        figures.not_seen += row["not_seen"]
        figures.cryptoperiod_passed += row["passed"]
        figures.expiring_30 += row["expiring_30"]
        figures.expiring_90 += row["expiring_90"]
        if purpose_id is None:
            figures.without_purpose += n
            figures.in_use_without_purpose += in_use
        if in_use:
            figures.in_use += in_use
            figures.unowned += row["unowned"]
            if row["purpose__is_ai_specific"]:
                figures.ai += in_use
            if purpose_id is not None:
                purposes_in_use.add(purpose_id)
        _add(states, row["state"], state_labels.get(row["state"], row["state"]), n, in_use)
        function = row["purpose__function"] or ""
        _add(functions, function, function_labels.get(function, NO_FUNCTION_LABEL), n, in_use)
        if purpose_id is None:
            _add(purposes, "", NO_PURPOSE_LABEL, n, in_use)
        else:
            _add(purposes, row["purpose__slug"], row["purpose__name"], n, in_use, ai=row["purpose__is_ai_specific"])
    figures.purposes_in_use = len(purposes_in_use)
    return KeyBreakdown(
        figures=figures,
        by_state=[states[state] for state in KeyState.values if state in states],
        by_function=_most_first(functions),
        by_purpose=_most_first(purposes),
    )


@dataclass
class KeyExposure:
    exposed: int  # keys in use exposed to another party
    without_scope: int  # of which without a written exposure scope or without a contract reference


def key_exposure(keys: QuerySet[Key]) -> KeyExposure:
    """Keys in use shared with another party, and those of them lacking a scope or a contract (AG-10's test), in
    one query."""
    exposed = Q(state__in=IN_USE_STATES, exposed_to__isnull=False)
    unscoped = Q(exposure_scope__regex=r"^\s*$") | Q(exposure_contract__regex=r"^\s*$")
    figures = keys.order_by().aggregate(
        exposed=Count("pk", filter=exposed, distinct=True),
        without_scope=Count("pk", filter=exposed & unscoped, distinct=True),
    )
    return KeyExposure(exposed=figures["exposed"], without_scope=figures["without_scope"])


@dataclass
class KeyMatches:
    """The keys references name: ``by_id`` through an identifier (external id, AWS key id, AWS alias), each
    reference with every key it names (an AWS key id or alias can name keys in several stores); ``by_name`` the
    references that are a key's name, with the keys of that name."""

    by_id: dict[str, list[Key]] = field(default_factory=dict)
    by_name: dict[str, list[Key]] = field(default_factory=dict)


def keys_by_reference(references, *, joins: tuple[str, ...] = ("store",)) -> KeyMatches:
    """Inventory keys named by references as configurations and logs write them: an external id (ARN, resource
    name, key URL, Vault path), an AWS key id (``1234abcd-...``, ``mrk-...``), an AWS alias (``alias/...``) or a
    key's name. One query. Used by the IaC gate and by usage-log ingestion, so both match keys alike."""
    references = {ref for ref in references if ref}
    matches = KeyMatches()
    if not references:
        return matches
    aliases = {ref for ref in references if ref.startswith("alias/")}
    key_ids = {ref for ref in references if "/" not in ref and ":" not in ref}
    query = Q(external_id__in=references) | Q(name__in=references)
    for key_id in key_ids:
        query |= Q(store__kind="aws-kms", external_id__endswith=f":key/{key_id}")
    for alias in aliases:
        query |= Q(store__kind="aws-kms", platform_details__Aliases__icontains=alias)
    for key in Key.objects.filter(query).select_related(*joins):
        if key.external_id in references:
            matches.by_id.setdefault(key.external_id, []).append(key)
        if key.store.kind == "aws-kms":
            key_id = key.external_id.rpartition(":key/")[2]
            if key_id in key_ids:
                matches.by_id.setdefault(key_id, []).append(key)
            for alias in str((key.platform_details or {}).get("Aliases", "")).split(","):
                if alias.strip() in aliases:
                    matches.by_id.setdefault(alias.strip(), []).append(key)
        if key.name in references:
            matches.by_name.setdefault(key.name, []).append(key)
    return matches
