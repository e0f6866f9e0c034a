"""Usage figures shown outside the usage pages: the dashboard's "Key usage (AG-9)" card and the recent principals of
each key in the attestation inbox. Reads only, a fixed number of queries each, over the aggregates' indexes.

Days are the aggregates' days (UTC, as the logs aggregate them); "the last 90 days" are today and the 89 days before,
as the key page's usage panel and the misuse rules count them. A store *has usage ingested* when any aggregate names
it, and is *fresh* when its newest aggregate's day is at most ``CEK_USAGE_FRESH_DAYS`` old, as AG-9 judges it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import CharField, Count, Exists, F, Max, OuterRef, Q, Sum, Value, Window
from django.db.models.functions import Cast, Coalesce, Concat, FirstValue, RowNumber

from evidence.findings.models import Finding
from evidence.findings.selectors import effectively_open
from evidence.usage.misuse import MISUSE_RULES
from evidence.usage.models import UsageAggregate
from inventory.models import IN_USE_STATES

RECENT_DAYS = 90  # keys with recorded use, unknown references, the inbox's principals
FAILED_DAYS = 7  # failed calls on the dashboard
PRINCIPALS_SHOWN = 3  # per key in the attestation inbox


@dataclass
class UsageFigures:
    """The dashboard's usage card. ``keys_used``: keys in use (``inventory.models.IN_USE_STATES``) with at least one
    recorded call in the last ``recent_days``; the card divides it by the dashboard's own keys in use
    (``inventory.selectors.key_breakdowns``)."""

    fresh_days: int
    recent_days: int = RECENT_DAYS
    failed_days: int = FAILED_DAYS
    stores_with_usage: int = 0
    fresh_stores: int = 0
    keys_used: int = 0
    unknown_refs: int = 0  # references of keys the inventory does not know (per store), last ``recent_days``
    failed_calls: int = 0  # calls that failed in the last ``failed_days``
    misuse_open: int = 0  # open misuse findings (``evidence.usage.misuse.MISUSE_RULES``, what AG-9 counts)

    @property
    def ingested(self) -> bool:
        return self.stores_with_usage > 0 or self.keys_used > 0 or self.unknown_refs > 0


def _store_and_ref():
    """An unknown key is its reference within its store (the same Vault path in two Vaults is two keys), as the
    evidence pack counts them per store."""
    return Concat(Coalesce(Cast("store_id", CharField()), Value("")), Value("|"), "key_ref", output_field=CharField())


def usage_figures(*, today: dt.date) -> UsageFigures:
    """Three queries whatever the number of aggregates: each store's newest usage day, one pass over the last
    ``RECENT_DAYS`` days for the keys used, unknown references and failed calls, and the open misuse findings."""
    figures = UsageFigures(fresh_days=settings.CEK_USAGE_FRESH_DAYS)
    fresh_since = today - dt.timedelta(days=figures.fresh_days)
    newest = UsageAggregate.objects.filter(store__isnull=False).values("store_id").annotate(newest=Max("day"))
    days = [row["newest"] for row in newest.order_by()]
    figures.stores_with_usage = len(days)
    figures.fresh_stores = sum(1 for day in days if day >= fresh_since)
    recent = UsageAggregate.objects.filter(day__gte=today - dt.timedelta(days=RECENT_DAYS - 1)).aggregate(
        keys_used=Count("key_id", distinct=True, filter=Q(key__state__in=IN_USE_STATES)),
        unknown=Count(_store_and_ref(), distinct=True, filter=Q(key__isnull=True)),
        failed=Coalesce(
            Sum("count", filter=Q(error_code__gt="", day__gte=today - dt.timedelta(days=FAILED_DAYS - 1))), 0
        ),
    )
    figures.keys_used = recent["keys_used"]
    figures.unknown_refs = recent["unknown"]
    figures.failed_calls = recent["failed"]
    figures.misuse_open = Finding.objects.filter(effectively_open(today), rule__in=MISUSE_RULES).count()
    return figures


def store_has_usage(store_field: str = "key__store") -> Exists:
    """An annotation for a query of rows with a key: whether any usage was ever ingested for the key's store (one
    index probe per row, inside the page's own query)."""
    return Exists(UsageAggregate.objects.filter(store=OuterRef(store_field)))


@dataclass
class KeyPrincipals:
    """A key's callers over the last ``RECENT_DAYS`` days: the busiest ``PRINCIPALS_SHOWN`` (principal, calls), how
    many others, the last call."""

    principals: list[tuple[str, int]] = field(default_factory=list)
    others: int = 0
    last_used: dt.datetime | None = None


def recent_principals(key_ids, *, today: dt.date, shown: int = PRINCIPALS_SHOWN) -> dict[int, KeyPrincipals]:
    """The recent principals of each key of ``key_ids`` (a page's keys): one query. Per key and principal the calls
    are summed; window functions rank them per key, count the key's principals and take its last call, and only
    the first ``shown`` of each key are read."""
    since = today - dt.timedelta(days=RECENT_DAYS - 1)
    per_key = {"partition_by": [F("key_id")]}
    rows = (
        UsageAggregate.objects.filter(key_id__in=list(key_ids), day__gte=since)
        .values("key_id", "principal")
        .annotate(calls=Sum("count"), last=Max("last_seen"))
        .annotate(
            rank=Window(RowNumber(), order_by=[F("calls").desc(), F("principal").asc()], **per_key),
            principals=Window(Count("principal"), **per_key),
            key_last=Window(FirstValue("last"), order_by=F("last").desc(), **per_key),
        )
        .filter(rank__lte=shown)
        .order_by("key_id", "rank")
    )
    found: dict[int, KeyPrincipals] = {}
    for row in rows:
        usage = found.setdefault(row["key_id"], KeyPrincipals(last_used=row["key_last"]))
        usage.principals.append((row["principal"], row["calls"]))
        usage.others = row["principals"] - len(usage.principals)
    return found
