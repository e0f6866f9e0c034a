"""The inventory section (``templates/pdf/_inventory.html``, each breakdown drawn by ``_buckets.html``): the key
population counted by purpose, function, state, store and SSRM layer with GROUP BY queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from inventory.models import CryptoFunction, KeyState, SsrmLayer


@dataclass
class Bucket:
    value: str
    label: str
    count: int
    active: int = 0


@dataclass
class InventorySection:
    total: int
    active: int
    unassigned: int  # keys without a purpose
    created_in_window: int
    by_purpose: list[Bucket]
    by_function: list[Bucket]
    by_state: list[Bucket]
    by_store: list[Bucket]
    by_layer: list[Bucket]


def _buckets(rows, labels: dict, *, order: list | None = None) -> list[Bucket]:
    buckets = [
        Bucket(value=value or "", label=labels.get(value, value or "—"), count=count, active=active)
        for value, count, active in rows
    ]
    if order is not None:
        rank = {value: index for index, value in enumerate(order)}
        buckets.sort(key=lambda b: (rank.get(b.value, len(rank)), b.label))
    else:
        buckets.sort(key=lambda b: (-b.count, b.label))
    return buckets


def _grouped(keys, field_name: str) -> list[tuple]:
    return list(
        keys.order_by()
        .values_list(field_name)
        .annotate(n=Count("pk"), active=Count("pk", filter=Q(state=KeyState.ACTIVE)))
        .values_list(field_name, "n", "active")
    )


def inventory_section(keys, start: dt.datetime, end: dt.datetime) -> InventorySection:
    """The population summarised by GROUP BY queries: nothing iterates over the keys in Python."""
    by_purpose_rows = list(
        keys.order_by()
        .values_list("purpose__slug", "purpose__name")
        .annotate(n=Count("pk"), active=Count("pk", filter=Q(state=KeyState.ACTIVE)))
        .values_list("purpose__slug", "purpose__name", "n", "active")
    )
    by_purpose = sorted(
        (
            Bucket(value=slug or "", label=name or "Purpose unassigned", count=n, active=active)
            for slug, name, n, active in by_purpose_rows
        ),
        key=lambda b: (-b.count, b.label),
    )
    function_labels = dict(CryptoFunction.choices) | {None: "Purpose unassigned"}
    by_function = _buckets(_grouped(keys, "purpose__function"), function_labels)
    by_state = _buckets(_grouped(keys, "state"), dict(KeyState.choices), order=KeyState.values)
    by_store = sorted(
        (
            Bucket(value=str(kind), label=name, count=n, active=active)
            for name, kind, n, active in keys.order_by()
            .values_list("store__name", "store__kind")
            .annotate(n=Count("pk"), active=Count("pk", filter=Q(state=KeyState.ACTIVE)))
            .values_list("store__name", "store__kind", "n", "active")
        ),
        key=lambda b: (-b.count, b.label),
    )
    by_layer = _buckets(_grouped(keys, "ssrm_layer"), dict(SsrmLayer.choices), order=SsrmLayer.values)
    totals = keys.order_by().aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(state=KeyState.ACTIVE)),
        unassigned=Count("pk", filter=Q(purpose__isnull=True)),
        created=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
    )
    return InventorySection(
        total=totals["total"],
        active=totals["active"],
        unassigned=totals["unassigned"],
        created_in_window=totals["created"],
        by_purpose=by_purpose,
        by_function=by_function,
        by_state=by_state,
        by_store=by_store,
        by_layer=by_layer,
    )
