"""The inventory section (``templates/pdf/_inventory.html``, each breakdown drawn by ``_buckets.html``): the key
population counted by purpose, function, state, store and SSRM layer with GROUP BY queries. The figures, and the
breakdowns by purpose, function and state, are ``inventory.selectors.key_breakdowns``: the numbers the dashboard,
the inventory overview and the CEK-11.1 answer show. "In use" is active or suspended."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from inventory.models import IN_USE_STATES, SsrmLayer
from inventory.selectors import Bucket, key_breakdowns


@dataclass
class InventorySection:
    total: int
    in_use: int  # active or suspended
    unassigned: int  # keys without a purpose, whatever their state
    created_in_window: int
    by_purpose: list[Bucket]
    by_function: list[Bucket]
    by_state: list[Bucket]
    by_store: list[Bucket]
    by_layer: list[Bucket]


def _grouped(keys, *fields: str) -> list[tuple]:
    """(``fields``..., keys, keys in use) per distinct value of ``fields``."""
    return list(
        keys.order_by()
        .values_list(*fields)
        .annotate(n=Count("pk"), in_use=Count("pk", filter=Q(state__in=IN_USE_STATES)))
        .values_list(*fields, "n", "in_use")
    )


def inventory_section(keys, start: dt.datetime, end: dt.datetime) -> InventorySection:
    """The population summarised by GROUP BY queries: nothing iterates over the keys in Python."""
    inventory = key_breakdowns(keys, today=timezone.localdate())
    by_store = sorted(
        (
            Bucket(value=str(kind), label=name, count=n, in_use=in_use)
            for name, kind, n, in_use in _grouped(keys, "store__name", "store__kind")
        ),
        key=lambda b: (-b.count, b.label),
    )
    layer_labels = dict(SsrmLayer.choices)
    rank = {value: index for index, value in enumerate(SsrmLayer.values)}
    by_layer = sorted(
        (
            Bucket(value=layer or "", label=layer_labels.get(layer, layer or "—"), count=n, in_use=in_use)
            for layer, n, in_use in _grouped(keys, "ssrm_layer")
        ),
        key=lambda b: (rank.get(b.value, len(rank)), b.label),
    )
    return InventorySection(
        total=inventory.figures.total,
        in_use=inventory.figures.in_use,
        unassigned=inventory.figures.without_purpose,
        created_in_window=keys.filter(created_at__gte=start, created_at__lt=end).count(),
        by_purpose=inventory.by_purpose,
        by_function=inventory.by_function,
        by_state=inventory.by_state,
        by_store=by_store,
        by_layer=by_layer,
    )
