"""The key usage section (``templates/pdf/_usage.html``) and the rows of ``usage.csv``: what the ingested audit logs
say about the keys of the pack's scope during its window (AG-9).

Which aggregates the pack covers (:func:`usage_in_scope`): those of the window's days (UTC days, as the logs
aggregate them) whose key is in the pack's scope (``evidence.packs.scope.scoped_keys``), plus the aggregates of
keys the inventory does not know. Those have no tenant, so they belong to a pack by their store: every one when the
pack covers the whole organisation, those of the scope's stores when it names stores, none when it names tenants
only (nothing ties an unknown key to a tenant).

The section reads a fixed number of queries whatever the number of aggregates: AG-9's result in the pack's check
run, the window's aggregates grouped per store, the stores with their keys in use and newest usage day, the
window's ingestions. ``usage.csv`` streams the aggregates in primary-key batches, with names (store, key) rather
than ids and without the sample event ids or the encryption context: the event ids are the platform's, for
drill-down in its own logs, and context values are the customers' data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BigIntegerField, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from evidence.models import CheckResult, EvidencePack
from evidence.packs.content.table import Table
from evidence.packs.scope import scoped_keys
from evidence.usage.models import IngestionStatus, UsageAggregate, UsageIngestion
from inventory.models import IN_USE_STATES, KeyStore

USAGE_GUIDELINE = "AG-9"
USAGE_FILE = "usage.csv"
NO_STORE = "(no store matched)"

USAGE_HEADER = [
    "day",
    "store",
    "key",
    "key_ref",
    "known",
    "principal",
    "principal_type",
    "operation",
    "outcome",
    "count",
    "first_seen",
    "last_seen",
    "source",
]
_FIELDS = ["pk", "day", "store__name", "key__name", "key_id", "key_ref", "principal", "principal_type", "operation"]
_FIELDS += ["error_code", "count", "first_seen", "last_seen", "source"]


@dataclass
class UsageSection:
    status: str  # AG-9's status in the pack's check run ("" without a run)
    status_label: str
    metric: str
    fresh_days: int
    calls: int  # calls recorded in the window, in scope
    failed_calls: int
    unknown_refs: int  # distinct references of keys the inventory does not know, per store, summed
    ingestions: int  # ingestions started in the window (any status)
    ingestions_succeeded: int
    ingestions_failed: int
    records: int  # events the window's succeeded ingestions kept
    stores: Table  # rows: dicts, see _store_row


def _scope_ids(pack: EvidencePack) -> tuple[list[int], list[int]]:
    return [store.pk for store in pack.stores.all()], [tenant.pk for tenant in pack.tenants.all()]


def usage_in_scope(pack: EvidencePack, scope: tuple[list[int], list[int]] | None = None) -> QuerySet[UsageAggregate]:
    """The aggregates of the pack's window and scope (see the module's docstring); ``scope``: the scope's store and
    tenant ids when the caller has read them."""
    aggregates = UsageAggregate.objects.filter(day__gte=pack.window_from, day__lte=pack.window_to)
    store_ids, tenant_ids = scope or _scope_ids(pack)
    if not store_ids and not tenant_ids:
        return aggregates
    known = Q(key__in=scoped_keys(pack))
    if store_ids:
        return aggregates.filter(known | Q(key__isnull=True, store_id__in=store_ids))
    return aggregates.filter(known)


def usage_rows(pack: EvidencePack, batched) -> Iterator[list]:
    """The rows of ``usage.csv`` in the order stored (``batched``: the data module's primary-key batching). The
    outcome is "success" or the platform's error code."""
    for row in batched(usage_in_scope(pack), _FIELDS):
        yield [
            row["day"],
            row["store__name"] or "",
            row["key__name"] or "",
            row["key_ref"],
            row["key_id"] is not None,
            row["principal"],
            row["principal_type"],
            row["operation"],
            row["error_code"] or "success",
            row["count"],
            row["first_seen"],
            row["last_seen"],
            row["source"],
        ]


def usage_section(
    pack: EvidencePack, run_id: int | None, start: dt.datetime, end: dt.datetime, limit: int
) -> UsageSection:
    """Four queries (one without a check run) plus the scope's own reads; see the module's docstring."""
    result = CheckResult.objects.filter(run_id=run_id, guideline_id=USAGE_GUIDELINE).first() if run_id else None
    store_ids, tenant_ids = _scope_ids(pack)
    failed = Q(error_code__gt="")
    per_store = (
        usage_in_scope(pack, (store_ids, tenant_ids))
        .order_by()
        .values("store_id")
        .annotate(
            calls=Sum("count"),
            failed=Coalesce(Sum("count", filter=failed), 0),
            keys_used=Count("key_id", distinct=True, filter=Q(key__state__in=IN_USE_STATES)),
            unknown=Count("key_ref", distinct=True, filter=Q(key__isnull=True)),
        )
    )
    usage = {row["store_id"]: row for row in per_store}
    in_use = Q(keys__state__in=IN_USE_STATES)
    if tenant_ids:
        in_use &= Q(keys__tenant_id__in=tenant_ids)
    newest = UsageAggregate.objects.filter(store=OuterRef("pk")).order_by("-day").values("day")[:1]
    stores = KeyStore.objects.annotate(in_use=Count("keys", filter=in_use), newest_day=Subquery(newest))
    stores = stores.filter(pk__in=store_ids) if store_ids else stores.filter(Q(in_use__gt=0) | Q(pk__in=list(usage)))
    # Fresh as at the window's end (or now, for a window not over yet), as AG-9 judges it.
    today = timezone.localdate(min(timezone.now(), end - dt.timedelta(microseconds=1)))
    fresh_days = settings.CEK_USAGE_FRESH_DAYS
    rows = [
        _store_row(store.name, store.in_use, store.newest_day, usage.get(store.pk), today - dt.timedelta(fresh_days))
        for store in stores.order_by("name", "pk")
    ]
    if None in usage:
        rows.append(_store_row(NO_STORE, 0, None, usage[None], None))
    ingestions = UsageIngestion.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        total=Count("pk"),
        succeeded=Count("pk", filter=Q(status=IngestionStatus.SUCCEEDED)),
        failed=Count("pk", filter=Q(status=IngestionStatus.FAILED)),
        records=Coalesce(
            Sum(
                Cast(KeyTextTransform("events", "counts"), BigIntegerField()),
                filter=Q(status=IngestionStatus.SUCCEEDED),
            ),
            0,
        ),
    )
    return UsageSection(
        status=result.status if result else "",
        status_label=result.get_status_display() if result else "",
        metric=result.metric if result else "",
        fresh_days=fresh_days,
        calls=sum(row["calls"] for row in rows),
        failed_calls=sum(row["failed_calls"] for row in rows),
        unknown_refs=sum(row["unknown_refs"] for row in rows),
        ingestions=ingestions["total"],
        ingestions_succeeded=ingestions["succeeded"],
        ingestions_failed=ingestions["failed"],
        records=ingestions["records"],
        stores=Table(total=len(rows), rows=rows, data_file=USAGE_FILE, limit=limit),
    )


def _store_row(name: str, in_use: int, newest: dt.date | None, usage: dict | None, fresh_since: dt.date | None) -> dict:
    usage = usage or {}
    return {
        "store": name,
        "newest_day": newest,
        "fresh": bool(newest and fresh_since and newest >= fresh_since),
        "calls": usage.get("calls") or 0,
        "failed_calls": usage.get("failed") or 0,
        "keys_used": usage.get("keys_used") or 0,
        "keys_in_use": in_use,
        "unknown_refs": usage.get("unknown") or 0,
    }
