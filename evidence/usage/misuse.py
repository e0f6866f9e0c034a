"""The misuse rules of key usage (issue 13, AG-9): what the usage aggregates show that a key's record forbids.

Each rule is evaluated over the aggregates of the last ``WINDOW_DAYS`` days (dormancy over
``CEK_USAGE_DORMANT_DAYS``) by grouped queries in the database (one ``GROUP BY`` per rule over the window, never a
loop over aggregate rows in Python), and yields one finding per subject: the inventory key, or the unknown key's
reference (``UnknownUsageKey``). ``evidence.usage.findings`` keeps the findings in step (upserted, resolved when
the rule no longer sees the subject, new ones alerted).

=====================================  =========  ==================================================================
rule                                   severity   fires when (within the window)
=====================================  =========  ==================================================================
``usage-purpose-mismatch``             high       an operation whose cryptographic function is none of the key's
                                                  purpose's functions (its function and those of its allowed
                                                  operations): a data-encryption key used to Sign
``usage-unusable-key``                 critical / calls (failed ones count) to a compromised or destroyed key
                                       high       (critical), a deactivated one (high; AWS ``PendingDeletion`` is
                                                  imported as deactivated), on or after the day it entered that
                                                  state (its history says when)
``usage-unknown-principal``            high       a principal that is neither a grant's principal (a grant not expired
                                                  on the day of the call) nor a binding's, on a key with grants
``usage-context-mismatch``             high       an encryption context whose tenant or service key
                                                  (``tenant``, ``tenant_id``, ``service``, ``app``...) names
                                                  another tenant or service than the key's (its tenant and its
                                                  bindings' tenants and services)
``usage-unknown-key``                  medium     a key reference the inventory does not have (and still cannot
                                                  resolve)
``usage-dormant-key``                  low        an active key with no call for ``CEK_USAGE_DORMANT_DAYS``, in a store
                                                  whose logs cover that period and are fresh
                                                  (``CEK_USAGE_FRESH_DAYS``), activated before it
=====================================  =========  ==================================================================

Platform-managed keys are never usage findings, and calls by the platform's own services (``principal_type``
``service``) are left out of the principal, context and unknown-key rules (an AWS service using its AWS-managed
key; AWS-managed aliases ``alias/aws/...``). They still count as use (dormancy), as misuse of purpose and as calls
to a key that can no longer be used: a service calling a destroyed customer key is a dependency that breaks.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from evidence.models import Severity
from evidence.usage.keyrefs import resolve_keys
from evidence.usage.models import PrincipalType, UsageAggregate
from inventory.models import AccessGrant, Binding, CryptoFunction, Key, KeyState, KeyStore, Operation

WINDOW_DAYS = 90  # the rules (but dormancy) look at this many days of aggregates, as the key page's usage panel
LISTED = 10  # principals, operations, contexts named in a finding's details; the rest are counted
SAMPLES = 5  # event ids named in a finding's details

# rule -> (sentence for people, severity when it fires)
RULES: dict[str, tuple[str, str]] = {
    "usage-purpose-mismatch": ("The key was used for an operation outside its purpose", Severity.HIGH),
    "usage-unusable-key": (
        "The key was called after it was deactivated, compromised, destroyed or scheduled for deletion",
        Severity.HIGH,
    ),
    "usage-unknown-principal": ("A principal with no grant or binding used the key", Severity.HIGH),
    "usage-context-mismatch": ("An encryption context named another tenant or service than the key's", Severity.HIGH),
    "usage-unknown-key": ("The usage logs name a key the inventory does not have", Severity.MEDIUM),
    "usage-dormant-key": ("The active key was not used for the dormancy period", Severity.LOW),
}
# The rules that say a key was misused (AG-9 fails a key with one open): not the unknown keys (not inventory keys)
# nor dormancy (a candidate for deactivation, not a misuse).
MISUSE_RULES: tuple[str, ...] = (
    "usage-purpose-mismatch",
    "usage-unusable-key",
    "usage-unknown-principal",
    "usage-context-mismatch",
)
UNUSABLE_SEVERITY = {
    KeyState.COMPROMISED: Severity.CRITICAL,
    KeyState.DESTROYED: Severity.CRITICAL,
    KeyState.DEACTIVATED: Severity.HIGH,
}

# Each Operation's cryptographic function (the vocabulary of purposes' allowed operations).
OPERATION_FUNCTIONS: dict[str, str] = {
    Operation.ENCRYPT: CryptoFunction.ENCRYPTION,
    Operation.DECRYPT: CryptoFunction.ENCRYPTION,
    Operation.RE_ENCRYPT: CryptoFunction.ENCRYPTION,
    Operation.GENERATE_DATA_KEY: CryptoFunction.ENCRYPTION,
    Operation.WRAP: CryptoFunction.KEY_WRAPPING,
    Operation.UNWRAP: CryptoFunction.KEY_WRAPPING,
    Operation.SIGN: CryptoFunction.SIGNING,
    Operation.VERIFY: CryptoFunction.SIGNING,
    Operation.GENERATE_MAC: CryptoFunction.MAC,
    Operation.VERIFY_MAC: CryptoFunction.MAC,
    Operation.DERIVE: CryptoFunction.KEY_DERIVATION,
    Operation.AGREE: CryptoFunction.KEY_AGREEMENT,
    Operation.AUTHENTICATE: CryptoFunction.AUTHENTICATION,
    Operation.GENERATE_RANDOM: CryptoFunction.RBG,
}

# A platform's operation name (lower case, without separators) -> the Operation it is. CloudTrail KMS, Cloud KMS,
# Key Vault and Vault transit names, and the Operation values themselves (usage-csv files may use either).
_PLATFORM_OPERATIONS: dict[str, str] = {
    "encrypt": Operation.ENCRYPT,
    "decrypt": Operation.DECRYPT,
    "asymmetricdecrypt": Operation.DECRYPT,
    "rawencrypt": Operation.ENCRYPT,
    "rawdecrypt": Operation.DECRYPT,
    "reencrypt": Operation.RE_ENCRYPT,
    "rewrap": Operation.RE_ENCRYPT,
    "generatedatakey": Operation.GENERATE_DATA_KEY,
    "generatedatakeywithoutplaintext": Operation.GENERATE_DATA_KEY,
    "generatedatakeypair": Operation.GENERATE_DATA_KEY,
    "generatedatakeypairwithoutplaintext": Operation.GENERATE_DATA_KEY,
    "datakey": Operation.GENERATE_DATA_KEY,
    "wrap": Operation.WRAP,
    "wrapkey": Operation.WRAP,
    "unwrap": Operation.UNWRAP,
    "unwrapkey": Operation.UNWRAP,
    "sign": Operation.SIGN,
    "asymmetricsign": Operation.SIGN,
    "verify": Operation.VERIFY,
    "generatemac": Operation.GENERATE_MAC,
    "macsign": Operation.GENERATE_MAC,
    "hmac": Operation.GENERATE_MAC,
    "verifymac": Operation.VERIFY_MAC,
    "macverify": Operation.VERIFY_MAC,
    "derive": Operation.DERIVE,
    "derivesharedsecret": Operation.AGREE,
    "agree": Operation.AGREE,
    "authenticate": Operation.AUTHENTICATE,
    "generaterandom": Operation.GENERATE_RANDOM,
}
_PREFIXES = ("key", "transit")  # Key Vault's "KeyEncrypt", Vault's "transit/encrypt"


def operation_of(platform_operation: str) -> str | None:
    """The ``Operation`` a platform's operation name is, or None when it is not one we know (no finding then)."""
    word = re.sub(r"[^a-z]", "", platform_operation.lower().rsplit("/", 1)[-1])
    if word in _PLATFORM_OPERATIONS:
        return _PLATFORM_OPERATIONS[word]
    for prefix in _PREFIXES:
        if word.startswith(prefix) and word[len(prefix) :] in _PLATFORM_OPERATIONS:
            return _PLATFORM_OPERATIONS[word[len(prefix) :]]
    if word.startswith("reencrypt"):
        return Operation.RE_ENCRYPT
    return None


def purpose_functions(function: str, allowed_operations: list[str] | None) -> frozenset[str]:
    """The functions a purpose allows: its own, and those of its allowed operations (a key-wrapping purpose that
    allows ``encrypt`` may Encrypt; a data-encryption purpose allows ``generate-data-key``)."""
    return frozenset(
        {function, *(OPERATION_FUNCTIONS[op] for op in allowed_operations or () if op in OPERATION_FUNCTIONS)}
    )


# Encryption-context keys (lower case, letters only) that name a tenant or a service.
TENANT_CONTEXT = frozenset({"tenant", "tenantid", "tenantname", "tenantslug", "customer", "customerid"})
SERVICE_CONTEXT = frozenset({"service", "serviceid", "servicename", "app", "application", "appname", "workload"})


@dataclass
class Hit:
    """One finding a rule wants: its subject (a key id, or an unknown reference's place), label and details."""

    rule: str
    severity: str
    subject: Any  # a Key id (int) or an UnknownRef
    label: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UnknownRef:
    store_id: int | None
    account: str
    region: str
    key_ref: str


def _figures(qs: QuerySet) -> QuerySet:
    """The grouped figures every rule reports: calls, failed calls, days, first and last seen, principals, and the
    newest row (its sampled event ids stand for the group)."""
    return qs.annotate(
        calls=Sum("count"),
        errors=Sum(Case(When(~Q(error_code=""), then=F("count")), default=0, output_field=IntegerField())),
        days=Count("day", distinct=True),
        first=Min("first_seen"),
        last=Max("last_seen"),
        principals=Count("principal", distinct=True),
        newest=Max("id"),
    ).order_by()


def _describe(row: dict) -> dict[str, Any]:
    return {
        "calls": row["calls"],
        "failed_calls": row["errors"],
        "days": row["days"],
        "first_seen": row["first"].isoformat(),
        "last_seen": row["last"].isoformat(),
    }


def _add_figures(total: dict[str, Any], row: dict) -> None:
    total["calls"] = total.get("calls", 0) + row["calls"]
    total["failed_calls"] = total.get("failed_calls", 0) + row["errors"]
    total["days"] = max(total.get("days", 0), row["days"])
    first, last = row["first"].isoformat(), row["last"].isoformat()
    total["first_seen"] = min(total.get("first_seen", first), first)
    total["last_seen"] = max(total.get("last_seen", last), last)


class Evaluation:
    """The rules over the aggregates as they are at ``now``: ``hits()`` returns every finding wanted, by rule."""

    def __init__(self, *, now: dt.datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.today = self.now.date()
        self.since = self.today - dt.timedelta(days=WINDOW_DAYS - 1)
        self.recent = UsageAggregate.objects.filter(day__gte=self.since)
        self._newest: dict[int, list[int]] = {}  # hit index -> newest aggregate ids, for the samples
        self.hits: list[Hit] = []
        self.seconds: dict[str, float] = {}  # per rule, for the log and the benchmark

    def run(self) -> list[Hit]:
        for rule in (
            self.purpose_mismatch,
            self.unusable_key,
            self.unknown_principal,
            self.context_mismatch,
            self.unknown_key,
            self.dormant_key,
            self._samples,
        ):
            started = time.monotonic()
            rule()
            self.seconds[rule.__name__] = round(time.monotonic() - started, 3)
        return self.hits

    def _hit(self, rule: str, subject: Any, label: str, details: dict, newest: list[int], severity: str = "") -> None:
        self._newest[len(self.hits)] = newest
        self.hits.append(Hit(rule, severity or RULES[rule][1], subject, label[:300], details))

    def _keys(self, ids) -> dict[int, dict]:
        fields = ("pk", "name", "state", "tenant_id", "tenant__name", "store__name", "purpose__name")
        fields += ("purpose__function", "purpose__allowed_operations")
        return {row["pk"]: row for row in Key.objects.filter(pk__in=list(ids)).values(*fields)}

    def _customer(self, qs: QuerySet) -> QuerySet:
        return qs.filter(key__isnull=False, key__platform_managed=False)

    # --- (a) an operation outside the purpose ------------------------------------------------------------

    def purpose_mismatch(self) -> None:
        rows = list(
            _figures(self._customer(self.recent).filter(key__purpose__isnull=False).values("key_id", "operation"))
        )
        keys = self._keys({row["key_id"] for row in rows})
        found: dict[int, list[dict]] = {}
        for row in rows:
            key = keys[row["key_id"]]
            operation = operation_of(row["operation"])
            allowed = purpose_functions(key["purpose__function"], key["purpose__allowed_operations"])
            if operation is None or OPERATION_FUNCTIONS[operation] in allowed:
                continue
            found.setdefault(row["key_id"], []).append({**row, "as": operation})
        for key_id, groups in found.items():
            key = keys[key_id]
            details: dict[str, Any] = {
                "key": key["name"],
                "store": key["store__name"],
                "purpose": key["purpose__name"],
                "purpose_function": CryptoFunction(key["purpose__function"]).label,
                "allowed_operations": key["purpose__allowed_operations"],
                "operations": [
                    {
                        "operation": group["operation"],
                        "function": CryptoFunction(OPERATION_FUNCTIONS[group["as"]]).label,
                        "principals": group["principals"],
                        **_describe(group),
                    }
                    for group in sorted(groups, key=lambda g: -g["calls"])[:LISTED]
                ],
            }
            for group in groups:
                _add_figures(details, group)
            self._hit("usage-purpose-mismatch", key_id, key["name"], details, [g["newest"] for g in groups])

    # --- (b) calls to a key that can no longer be used --------------------------------------------------

    def unusable_key(self) -> None:
        states = list(UNUSABLE_SEVERITY)
        rows = list(_figures(self._customer(self.recent).filter(key__state__in=states).values("key_id", "day")))
        if not rows:
            return
        keys = self._keys({row["key_id"] for row in rows})
        since = _state_since(keys)
        found: dict[int, list[dict]] = {}
        for row in rows:
            start = since.get(row["key_id"])
            if start is None or row["day"] >= start:
                found.setdefault(row["key_id"], []).append(row)
        for key_id, days in found.items():
            key = keys[key_id]
            details: dict[str, Any] = {
                "key": key["name"],
                "store": key["store__name"],
                "state": KeyState(key["state"]).label,
                "state_since": since[key_id].isoformat() if since.get(key_id) else "",
            }
            for row in days:
                _add_figures(details, row)
            details["days"] = len(days)
            self._hit(
                "usage-unusable-key",
                key_id,
                key["name"],
                details,
                [row["newest"] for row in days],
                severity=UNUSABLE_SEVERITY[key["state"]],
            )

    # --- (c) a principal with no grant or binding ----------------------------------------------------------

    def unknown_principal(self) -> None:
        grant = AccessGrant.objects.filter(key_id=OuterRef("key_id"))
        granted = grant.filter(principal__iexact=OuterRef("principal")).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=OuterRef("day"))
        )
        bound = Binding.objects.filter(key_id=OuterRef("key_id"), principal__iexact=OuterRef("principal"))
        qs = (
            self._customer(self.recent)
            .exclude(principal_type=PrincipalType.SERVICE)
            .filter(Exists(grant))
            .exclude(Exists(granted))
            .exclude(Exists(bound))
        )
        rows = list(_figures(qs.values("key_id", "principal")))
        keys = self._keys({row["key_id"] for row in rows})
        grouped: dict[int, list[dict]] = {}
        for row in rows:
            grouped.setdefault(row["key_id"], []).append(row)
        for key_id, principals in grouped.items():
            key = keys[key_id]
            details: dict[str, Any] = {
                "key": key["name"],
                "store": key["store__name"],
                "unknown_principals": len(principals),
                "principals": [
                    {"principal": row["principal"], **_describe(row)}
                    for row in sorted(principals, key=lambda r: -r["calls"])[:LISTED]
                ],
            }
            for row in principals:
                _add_figures(details, row)
            self._hit("usage-unknown-principal", key_id, key["name"], details, [r["newest"] for r in principals])

    # --- (d) an encryption context naming another tenant or service ----------------------------------------

    def context_mismatch(self) -> None:
        qs = self._customer(self.recent).exclude(principal_type=PrincipalType.SERVICE).exclude(context={})
        rows = list(_figures(qs.values("key_id", "context")))
        if not rows:
            return
        keys = self._keys({row["key_id"] for row in rows})
        tenants, services = _names_of(keys)
        grouped: dict[int, list[tuple[dict, list[str]]]] = {}
        for row in rows:
            problems = _context_problems(
                row["context"], tenants.get(row["key_id"], set()), services.get(row["key_id"], set())
            )
            if problems:
                grouped.setdefault(row["key_id"], []).append((row, problems))
        for key_id, contexts in grouped.items():
            key = keys[key_id]
            named = sorted({problem for _row, problems in contexts for problem in problems})
            details: dict[str, Any] = {
                "key": key["name"],
                "store": key["store__name"],
                "tenant": key["tenant__name"] or "",
                "services": sorted(services.get(key_id, set()) - {""})[:LISTED],
                "mismatches": named[:LISTED],
            }
            for row, _problems in contexts:
                _add_figures(details, row)
            self._hit("usage-context-mismatch", key_id, key["name"], details, [row["newest"] for row, _ in contexts])

    # --- (e) keys the inventory does not have --------------------------------------------------------------

    def unknown_key(self) -> None:
        qs = (
            self.recent.filter(key__isnull=True)
            .exclude(principal_type=PrincipalType.SERVICE)
            .exclude(key_ref__startswith="alias/aws/")
            .exclude(key_ref__contains=":alias/aws/")
        )
        rows = list(_figures(qs.values("store_id", "account", "region", "key_ref")))
        if not rows:
            return
        stores = {
            store.pk: store for store in KeyStore.objects.filter(pk__in={r["store_id"] for r in rows if r["store_id"]})
        }
        resolved = resolve_keys(
            (row["key_ref"], row["account"], row["region"], stores.get(row["store_id"])) for row in rows
        )
        for row in rows:
            if (row["key_ref"], row["account"], row["region"], row["store_id"]) in resolved:
                continue  # imported since: the aggregates keep the reference, the key is known now
            ref = UnknownRef(row["store_id"], row["account"], row["region"], row["key_ref"])
            store = stores.get(row["store_id"])
            details = {
                "key_ref": row["key_ref"],
                "store": store.name if store else "",
                "account": row["account"],
                "region": row["region"],
                "principals": row["principals"],
                **_describe(row),
            }
            self._hit("usage-unknown-key", ref, row["key_ref"], details, [row["newest"]])

    # --- (f) dormant keys ----------------------------------------------------------------------------------

    def dormant_key(self) -> None:
        days = settings.CEK_USAGE_DORMANT_DAYS
        cutoff = self.today - dt.timedelta(days=days)
        stores = covered_stores(today=self.today, dormant_days=days)
        if not stores:
            return
        used = UsageAggregate.objects.filter(key_id=OuterRef("pk"), day__gt=cutoff)
        last = UsageAggregate.objects.filter(key_id=OuterRef("pk")).order_by("-last_seen").values("last_seen")[:1]
        keys = (
            Key.objects.filter(state=KeyState.ACTIVE, platform_managed=False, store_id__in=stores)
            # In use since before the period: activated (or created in its store) then, else recorded here then.
            .annotate(started=Coalesce("activated_on", "created_on", TruncDate("created_at")))
            .filter(started__lte=cutoff)
            .exclude(Exists(used))
            .annotate(last_used=Subquery(last))
            .values_list("pk", "name", "store__name", "last_used")
        )
        for key_id, name, store_name, last_used in keys.iterator(chunk_size=2000):
            details = {
                "key": name,
                "store": store_name,
                "dormant_days": days,
                "last_used": last_used.isoformat() if last_used else "",
                "calls": 0,
            }
            self._hit("usage-dormant-key", key_id, name, details, [])

    def _samples(self) -> None:
        """Each finding's sample event ids, from the newest aggregate of each of its groups (one query)."""
        wanted = {pk for ids in self._newest.values() for pk in ids}
        if not wanted:
            return
        samples = dict(UsageAggregate.objects.filter(pk__in=wanted).values_list("pk", "sample_event_ids"))
        for index, ids in self._newest.items():
            events: list[str] = []
            for pk in sorted(ids, reverse=True):
                events.extend(samples.get(pk) or [])
            if ids:
                self.hits[index].details["sample_event_ids"] = list(dict.fromkeys(events))[:SAMPLES]


def covered_stores(*, today: dt.date, dormant_days: int | None = None) -> set[int]:
    """Stores whose usage logs are ingested: their newest aggregate at most ``CEK_USAGE_FRESH_DAYS`` old, and (for
    dormancy) their oldest at least ``dormant_days`` old, so that a key without a call there really had none. One
    query."""
    fresh = today - dt.timedelta(days=settings.CEK_USAGE_FRESH_DAYS)
    rows = UsageAggregate.objects.filter(store__isnull=False).values("store_id").annotate(a=Min("day"), b=Max("day"))
    stores = set()
    for row in rows.order_by():
        if row["b"] < fresh:
            continue
        if dormant_days is not None and row["a"] > today - dt.timedelta(days=dormant_days):
            continue
        stores.add(row["store_id"])
    return stores


def _state_since(keys: dict[int, dict]) -> dict[int, dt.date]:
    """The day each key entered its current state, from its history (one query). Absent when the key was recorded
    in that state (an import of a key already deactivated): then every call of the window counts."""
    history = Key.history.model.objects.filter(id__in=list(keys)).order_by("id", "history_date", "history_id")
    since: dict[int, dt.date | None] = {}
    previous: dict[int, str] = {}
    for key_id, state, when in history.values_list("id", "state", "history_date").iterator(chunk_size=2000):
        if previous.get(key_id) != state:
            since[key_id] = timezone.localdate(when) if key_id in previous else None
            previous[key_id] = state
    return {
        key_id: day
        for key_id, day in since.items()
        if day is not None and previous.get(key_id) == keys[key_id]["state"]
    }


def _names_of(keys: dict[int, dict]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Key id -> the tenant names and slugs it may serve (its own and its bindings'), and the service names and
    slugs (its bindings'), lower case. One query for the bindings."""
    tenants: dict[int, set[str]] = {}
    services: dict[int, set[str]] = {}
    for key_id, key in keys.items():
        if key["tenant_id"]:
            tenants.setdefault(key_id, set()).add((key["tenant__name"] or "").lower())
    own = Key.objects.filter(pk__in=list(keys), tenant__isnull=False).values_list("pk", "tenant__slug")
    for key_id, slug in own:
        tenants.setdefault(key_id, set()).add(slug.lower())
    bindings = Binding.objects.filter(key_id__in=list(keys)).values_list(
        "key_id", "tenant__name", "tenant__slug", "service__name", "service__slug"
    )
    for key_id, tenant_name, tenant_slug, service_name, service_slug in bindings:
        if tenant_name:
            tenants.setdefault(key_id, set()).update({tenant_name.lower(), tenant_slug.lower()})
        services.setdefault(key_id, set()).update({service_name.lower(), service_slug.lower()})
    return tenants, services


def _context_problems(context: dict, tenants: set[str], services: set[str]) -> list[str]:
    """``key=value`` of each context pair naming a tenant or service the key does not serve (none when the key's
    tenants or services are not recorded: nothing to compare with). Withheld values are not compared."""
    problems = []
    for name, values in (context or {}).items():
        word = re.sub(r"[^a-z]", "", name.lower())
        known = tenants if word in TENANT_CONTEXT else services if word in SERVICE_CONTEXT else None
        if not known:
            continue
        for value in values if isinstance(values, list) else [values]:
            text = str(value)
            if text.startswith("(withheld") or text.lower() in known:
                continue
            problems.append(f"{name}={text}"[:200])
    return problems
