"""What every check of an auditing guideline shares: the ``Check`` interface, the ``Outcome`` it returns and the
status rule, and the ``CheckContext`` that reads the inventory once for all checks.

Which keys are evaluated
    The *keys in use*: state ``active`` or ``suspended`` (``inventory.models.IN_USE_STATES``; a suspended key keeps
    its purpose and can be reactivated), the population the dashboard, the inventory overview, the evidence pack
    and the CEK-11.1 answer count as "in use". Pre-activation keys are not in use yet, and deactivated,
    compromised and destroyed keys can no longer protect anything: none of them is evaluated, so a destroyed key
    never fails a check. The cryptoperiod and rotation rules of CCM-3 apply to keys in state ``active`` only (as
    ``Key.is_cryptoperiod_overdue`` and the key list's ``?overdue=true`` do).

Platform-managed keys (e.g. AWS-managed KMS keys)
    They are counted like every other key and must have a purpose compatible with their platform usage, but
    the platform owns what the organisation cannot set on them: they are treated as meeting the owner
    (CCM-2), justification and review (AG-2), purpose tag (AG-7) and rotation (CCM-3) requirements.

Status rule (one rule for every check)
    - no subject to evaluate (e.g. no keys at all): **not applicable**, with the reason;
    - every subject passes: **pass**;
    - at least ``PARTIAL_PASS_SHARE`` (95 %) of the subjects pass: **partial**;
    - otherwise: **fail**.
    A check that could not verify part of its subjects (AG-7 keys in stores without a purpose tag key, CCM-3
    without a closed attestation campaign) is at best **partial**. A guideline that requires a record to exist
    counts the missing record as its one failing subject: CCM-1 without an approved key-management policy is
    0 of 1, so **fail**, never "not applicable". AG-8 is **manual** (its manual evidence carries the assessment)
    while no IaC scan is recorded (it counts repositories once one is), AG-9 while no usage log is ingested (it
    counts keys once one is). Every check computes its status with ``status_for``; none has a rule of its own.

Reads are set-based: the context reads each table it needs with one query (``values_list``, no model
instances, fetched in chunks), so a run over a million keys and two million bindings issues a fixed, small number
of queries. Memory stays bounded: the keys in use and the grants are kept once for every check, each repeated
value of a key stored once; the bindings are not kept but streamed (what the checks need of them per key is
gathered in one pass); findings are written a batch at a time (``services.findings_sync``). A run over 880,000
keys in use, two million bindings and half a million grants peaked at 863 MB (``benchmarks/checks.py --scale``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Case, CharField, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from evidence.models import FAILING_SUBJECTS_KEPT, CheckStatus, Severity
from inventory.models import (
    IN_USE_LABEL,
    IN_USE_STATES,
    AccessGrant,
    Binding,
    Key,
    KeyState,
    KeyStore,
    Purpose,
    Service,
    SsrmLayer,
)
from inventory.purposetags import PurposeTags
from inventory.selectors import key_breakdowns

PARTIAL_PASS_SHARE = 0.95
KEYS_IN_USE = "keys in use"  # the unit of a metric counting them ("412 of 415 keys in use")
STATUS_RULE = (
    "Pass when every subject passes; partial when at least 95 % pass; fail otherwise; not applicable when there "
    "is nothing to evaluate."
)


@dataclass(frozen=True, slots=True)
class Subject:
    """One failing subject: ``type`` is the model's ``app_label.model``."""

    type: str
    id: int
    label: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "label": self.label[:300], "reason": self.reason}


@dataclass
class Outcome:
    """What a check found. ``failing`` holds every failing subject (findings need them all); the stored result
    keeps the first ``FAILING_SUBJECTS_KEPT``."""

    status: str
    metric: str = ""
    numerator: int | None = None
    denominator: int | None = None
    explanation: str = ""
    failing: list[Subject] = field(default_factory=list)
    evidence: list[dict[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    manual_evidence: Any = None

    @property
    def failing_kept(self) -> list[dict[str, Any]]:
        return [subject.as_dict() for subject in self.failing[:FAILING_SUBJECTS_KEPT]]


def status_for(passing: int, total: int, *, unverified: bool = False) -> str:
    """The status rule of the module docstring."""
    if total == 0:
        return CheckStatus.NOT_APPLICABLE
    if passing >= total:
        return CheckStatus.PARTIAL if unverified else CheckStatus.PASS
    if passing / total >= PARTIAL_PASS_SHARE:
        return CheckStatus.PARTIAL
    return CheckStatus.FAIL


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def day(value: dt.date | dt.datetime) -> str:
    """A date as explanations write it (``5 Dec 2026``); a timestamp is first put in local time."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day} {value:%b %Y}"


def link(label: str, url_name: str, *args, **query) -> dict[str, str]:
    url = reverse(url_name, args=args)
    params = [(name, value) for name, value in query.items() if value not in (None, "")]
    return {"label": label, "url": f"{url}?{urlencode(params, doseq=True)}" if params else url}


def findings_link(rule: str) -> dict[str, str]:
    return link("Open findings of this rule", "evidence:finding-list", rule=rule)


_DEFINED: list[type[Check]] = []  # every Check subclass that names its guideline, in definition order


class Check:
    """One auditing guideline evaluated from the data.

    Subclasses set ``guideline_id``, ``rule`` (the findings they own; empty for checks that raise none),
    ``severity`` of those findings and ``title``, and implement ``evaluate``. A subclass that sets
    ``guideline_id`` registers itself when it is defined; ``evidence.checks.registry`` picks up those of the
    ``evidence.checks.guidelines`` package. A base without ``guideline_id`` (``ManualCheck``) is not registered.
    ``manual`` marks a guideline only people assess; ``accepts_manual_evidence`` one GRC may record manual
    evidence for (the manual ones, and AG-8 while no IaC scan is recorded)."""

    guideline_id: ClassVar[str]
    title: ClassVar[str]
    rule: ClassVar[str] = ""
    severity: ClassVar[str] = Severity.MEDIUM
    manual: ClassVar[bool] = False
    accepts_manual_evidence: ClassVar[bool] = False  # GRC may record manual evidence for it (AG-8, AG-9)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "guideline_id" in cls.__dict__:
            _DEFINED.append(cls)

    def evaluate(self, ctx: CheckContext) -> Outcome:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.guideline_id}>"

    def result(
        self,
        *,
        failing: list[Subject],
        total: int,
        unit: str,
        explanation: str,
        evidence: list[dict[str, str]],
        unverified: bool = False,
        na_reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> Outcome:
        """An outcome by the status rule, counting distinct failing subjects against ``total``."""
        failing_ids = {(subject.type, subject.id) for subject in failing}
        passing = max(total - len(failing_ids), 0)
        status = status_for(passing, total, unverified=unverified)
        if status == CheckStatus.NOT_APPLICABLE:
            return Outcome(
                status=status,
                metric=f"0 {unit}",
                numerator=0,
                denominator=0,
                explanation=na_reason or f"There are no {unit} to evaluate.",
                evidence=evidence,
                details=details or {},
            )
        if self.rule and failing:
            evidence = [*evidence, findings_link(self.rule)]
        return Outcome(
            status=status,
            metric=f"{passing:,} of {total:,} {unit}",
            numerator=passing,
            denominator=total,
            explanation=f"{explanation} {STATUS_RULE}",
            failing=failing,
            evidence=evidence,
            details=details or {},
        )


class KeyRow(NamedTuple):
    id: int
    name: str
    state: str
    kind: str
    store_id: int
    purpose_id: int | None
    platform_usage: str
    platform_managed: bool
    owner_id: int | None
    tenant_id: int | None
    purpose_label: str | None  # the value of the store's purpose tag in the key's labels (None when absent)
    purpose_justification: str
    purpose_reviewed_on: dt.date | None
    created_on: dt.date | None
    activated_on: dt.date | None
    last_rotated_on: dt.date | None
    rotation_period_days: int | None
    cryptoperiod_days: int | None
    cryptoperiod_ends_on: dt.date | None
    not_seen_since: dt.date | None
    exposure_scope: str
    exposure_contract: str

    @property
    def period_start(self) -> dt.date | None:
        return self.last_rotated_on or self.activated_on or self.created_on


class PurposeRow(NamedTuple):
    id: int
    slug: str
    name: str
    function: str
    allowed_kinds: list
    allowed_operations: list
    max_cryptoperiod_days: int | None
    is_ai_specific: bool


class StoreRow(NamedTuple):
    id: int
    name: str
    purpose_tag_key: str
    last_full_import_at: dt.datetime | None
    inventory_confirmed_at: dt.datetime | None


class BindingRow(NamedTuple):
    id: int
    key_id: int
    service_id: int
    tenant_id: int | None
    purpose_id: int
    operations: frozenset


class GrantRow(NamedTuple):
    id: int
    key_id: int
    principal: str
    operations: frozenset
    justification: str
    approver_id: int | None
    approved_on: dt.date | None
    expires_on: dt.date | None


class ServiceRow(NamedTuple):
    id: int
    slug: str
    name: str
    lifecycle_phase: str
    ssrm_layer: str

    @property
    def is_ai(self) -> bool:
        """Part of the AI lifecycle: a lifecycle phase is set, or it runs at the SSRM model layer."""
        return bool(self.lifecycle_phase) or self.ssrm_layer == SsrmLayer.MODEL


ROWS_CHUNK = 20_000  # rows per fetch when the keys, bindings and grants are read


class _Rows:
    """A re-iterable read of a large table: every pass calls ``rows`` again, which streams it in chunks."""

    def __init__(self, rows: Callable[[], Iterator[Any]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return self._rows()


@dataclass
class _BindingSummary:
    """What one pass over the bindings gathers per key (``CheckContext._binding_summary``)."""

    count: int = 0
    other_purposes: defaultdict = field(default_factory=lambda: defaultdict(set))
    ai_bound_key_ids: set = field(default_factory=set)
    shared: dict = field(default_factory=dict)
    outside_purpose: list = field(default_factory=list)


class CheckContext:
    """The data every check reads, loaded once per run (lazily: a check that needs no bindings loads none)."""

    def __init__(self, *, now: dt.datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.purpose_review_days = settings.CEK_PURPOSE_REVIEW_DAYS
        self.inventory_fresh_days = settings.CEK_INVENTORY_FRESH_DAYS
        self.iac_fresh_days = settings.CEK_IAC_FRESH_DAYS

    # --- keys --------------------------------------------------------------------------------------

    @cached_property
    def state_counts(self) -> Counter:
        """Number of keys per state (every key, evaluated or not), as every page counts them (one query)."""
        by_state = key_breakdowns(Key.objects.all(), today=self.today).by_state
        return Counter({bucket.value: bucket.count for bucket in by_state})

    @property
    def total_keys(self) -> int:
        return sum(self.state_counts.values())

    @cached_property
    def keys(self) -> list[KeyRow]:
        """The evaluated keys (in use: active or suspended). Of the labels only the purpose tag is read, in SQL (one
        ``labels -> tag`` per distinct tag key of the stores): no JSON is decoded in Python.

        Read in chunks (a server-side cursor on PostgreSQL: the driver never holds every row at once), and every
        column but the id and the name is kept once per distinct value (states, kinds, dates, justifications repeat
        across a large inventory): a million keys fit in a few hundred megabytes."""
        stores_by_tag: dict[str, list[int]] = defaultdict(list)
        for store in self.stores.values():
            if store.purpose_tag_key.strip():
                stores_by_tag[store.purpose_tag_key].append(store.id)
        label = Case(
            *[When(store_id__in=ids, then=KeyTextTransform(tag, "labels")) for tag, ids in stores_by_tag.items()],
            default=Value(None),
            output_field=CharField(),
        )
        rows = Key.objects.filter(state__in=IN_USE_STATES).annotate(purpose_label=label).order_by("pk")
        # One dictionary per column: equal values of different types (True and 1) must not share an object.
        # ``map`` calls each column's ``setdefault`` in C: no Python frame per value.
        shared = [{} for _ in KeyRow._fields[2:]]
        setdefault, make = dict.setdefault, KeyRow._make
        keys = []
        for row in rows.values_list(*KeyRow._fields).iterator(chunk_size=ROWS_CHUNK):
            rest = row[2:]
            keys.append(make((row[0], row[1], *map(setdefault, shared, rest, rest))))
        return keys

    @cached_property
    def keys_by_id(self) -> dict[int, KeyRow]:
        return {key.id: key for key in self.keys}

    @cached_property
    def platform_managed_count(self) -> int:
        return sum(1 for key in self.keys if key.platform_managed)

    def not_evaluated_note(self) -> str:
        """A sentence on the keys left out (destroyed, deactivated, ...), for explanations."""
        left_out = {state: n for state, n in self.state_counts.items() if state not in IN_USE_STATES}
        if not left_out:
            return ""
        parts = ", ".join(f"{n:,} {KeyState(state).label.lower()}" for state, n in sorted(left_out.items()))
        return f" Keys not in use ({parts}) are not evaluated."

    def no_keys_reason(self) -> str:
        if self.total_keys == 0:
            return "The inventory holds no keys yet, so there is nothing to evaluate."
        return "No key is active or suspended, so there is nothing to evaluate." + self.not_evaluated_note()

    # --- catalog tables (small) ----------------------------------------------------------------------

    @cached_property
    def purposes(self) -> dict[int, PurposeRow]:
        return {row[0]: PurposeRow(*row) for row in Purpose.objects.values_list(*PurposeRow._fields)}

    @cached_property
    def purpose_tags(self) -> PurposeTags:
        """Which purpose a purpose label names (short name or name): the import's reading too."""
        return PurposeTags(self.purposes.values())

    @cached_property
    def stores(self) -> dict[int, StoreRow]:
        return {row[0]: StoreRow(*row) for row in KeyStore.objects.order_by("name").values_list(*StoreRow._fields)}

    @cached_property
    def services(self) -> dict[int, ServiceRow]:
        return {row[0]: ServiceRow(*row) for row in Service.objects.values_list(*ServiceRow._fields)}

    # --- bindings, grants, exposure of the evaluated keys ---------------------------------------------

    # Bindings are the largest table (two per key and more) and grants the next: they are not kept. Each pass
    # over ``bindings`` or ``grants`` streams the table in chunks (plain tuples, operations read as text and
    # parsed once per distinct value); what the checks need grouped per key is gathered in one pass.

    @property
    def bindings(self) -> Iterable[BindingRow]:
        """The bindings of the evaluated keys (streamed again on every pass: iterate, do not index)."""
        return _Rows(self._binding_rows)

    def _binding_rows(self) -> Iterator[BindingRow]:
        # No join with the keys: one sequential read of the table, bindings of keys not evaluated dropped here.
        keys = self.keys_by_id
        rows = (
            Binding.objects.annotate(operations_text=Cast("operations", TextField()))
            .order_by()
            .values_list("pk", "key_id", "service_id", "tenant_id", "purpose_id", "operations_text")
        )
        for pk, key_id, service_id, tenant_id, purpose_id, ops in rows.iterator(chunk_size=ROWS_CHUNK):
            if key_id in keys:
                yield BindingRow(pk, key_id, service_id, tenant_id, purpose_id, operation_set(ops))

    @cached_property
    def _binding_summary(self) -> _BindingSummary:
        """One pass over the bindings for everything grouped per key (see the properties below)."""
        keys = self.keys_by_id
        ai_services = {pk for pk, service in self.services.items() if service.is_ai}
        allowed = {pk: frozenset(purpose.allowed_operations) for pk, purpose in self.purposes.items()}
        summary = _BindingSummary()
        other, ai_bound, shared = summary.other_purposes, summary.ai_bound_key_ids, summary.shared
        outside = summary.outside_purpose
        first_service: dict[int, int] = {}
        first_tenant: dict[int, int | None] = {}
        for binding in self.bindings:
            summary.count += 1
            key_id, service_id, tenant_id = binding.key_id, binding.service_id, binding.tenant_id
            key_purpose_id = keys[key_id].purpose_id
            if binding.purpose_id != key_purpose_id:
                other[key_id].add(binding.purpose_id)
            if binding.operations and not binding.operations <= allowed[key_purpose_id or binding.purpose_id]:
                outside.append(binding)
            if service_id in ai_services:
                ai_bound.add(key_id)
            if key_id in shared:
                services, tenants = shared[key_id]
                services.add(service_id)
                if tenant_id is not None:
                    tenants.add(tenant_id)
                continue
            # Until a key is shared, its earlier bindings all had its first service and, those that named a
            # tenant, its first tenant: the sets it starts with when this binding makes it shared.
            had_tenant = key_id in first_tenant
            is_shared = first_service.setdefault(key_id, service_id) != service_id
            if tenant_id is not None:
                tenant = first_tenant.setdefault(key_id, keys[key_id].tenant_id or tenant_id)
                is_shared = is_shared or tenant != tenant_id
            if is_shared:
                tenants = {first_tenant[key_id]} if had_tenant else set()
                if tenant_id is not None:
                    tenants.add(tenant_id)
                shared[key_id] = ({first_service[key_id], service_id}, tenants)
        return summary

    @property
    def binding_count(self) -> int:
        return self._binding_summary.count

    @property
    def binding_other_purposes(self) -> dict[int, set[int]]:
        """Key id -> the purposes its bindings use other than the key's own (every binding purpose for a key
        without one)."""
        return self._binding_summary.other_purposes

    @property
    def ai_bound_key_ids(self) -> set[int]:
        """Evaluated keys bound to at least one service in the AI lifecycle."""
        return self._binding_summary.ai_bound_key_ids

    @property
    def bindings_outside_purpose(self) -> list[BindingRow]:
        """The bindings listing an operation their key's purpose (the binding's own for a key without one) does
        not allow, in the order ``bindings`` gives them."""
        return self._binding_summary.outside_purpose

    @property
    def shared_keys(self) -> dict[int, tuple[set[int], set[int]]]:
        """Key id -> (its services, its binding tenants) for the evaluated keys used by more than one service or
        tenant (binding tenants plus the key's own tenant)."""
        return self._binding_summary.shared

    @cached_property
    def grants(self) -> list[GrantRow]:
        """The grants on keys in use (fewer than the bindings: kept for the two checks that read them)."""
        fields = [name if name != "operations" else "operations_text" for name in GrantRow._fields]
        rows = (
            AccessGrant.objects.filter(key__state__in=IN_USE_STATES)
            .annotate(operations_text=Cast("operations", TextField()))
            .order_by("pk")
            .values_list(*fields)
        )
        position = GrantRow._fields.index("operations")
        return [
            GrantRow(*row[:position], operation_set(row[position]), *row[position + 1 :])
            for row in rows.iterator(chunk_size=ROWS_CHUNK)
        ]

    @cached_property
    def exposed_to(self) -> dict[int, set[int]]:
        """Key id -> the parties it is exposed to (evaluated keys only)."""
        through = Key.exposed_to.through.objects.filter(key__state__in=IN_USE_STATES)
        exposed: dict[int, set[int]] = defaultdict(set)
        for key_id, party_id in through.values_list("key_id", "party_id"):
            exposed[key_id].add(party_id)
        return exposed

    @cached_property
    def iac_coverage(self):
        """AG-8's figures: each repository's newest recorded IaC scan and its open IaC findings (one query)."""
        from evidence.iac.history import iac_coverage

        return iac_coverage(now=self.now, fresh_days=self.iac_fresh_days)

    @cached_property
    def manual_evidence(self) -> dict:
        """Guideline id -> its newest ``ManualEvidence`` (one query)."""
        from evidence.checks.registry import MANUAL_GUIDELINES
        from evidence.checks.selectors import latest_manual_evidence

        return latest_manual_evidence(MANUAL_GUIDELINES)


@lru_cache(maxsize=4096)
def operation_set(text: str | None) -> frozenset:
    """A JSON list of operations, as read from the database as text (parsed once per distinct value)."""
    if not text:
        return frozenset()
    value = json.loads(text)
    if isinstance(value, str):  # a JSON string holding the list (text columns of some backends)
        value = json.loads(value)
    return frozenset(value if isinstance(value, list) else ())


def checks_defined_in(package: str) -> list[type[Check]]:
    """The registered check classes defined in the modules of ``package`` (once those are imported)."""
    return [cls for cls in _DEFINED if cls.__module__.startswith(f"{package}.")]


def key_subject(key: KeyRow, reason: str) -> Subject:
    return Subject("inventory.key", key.id, key.name, reason)


def keys_in_use_link(label: str = f"Keys {IN_USE_LABEL}", **query) -> dict[str, str]:
    """The key list of the evaluated keys (in use), narrowed by ``query``."""
    return link(label, "inventory:key-list", state=list(IN_USE_STATES), **query)
