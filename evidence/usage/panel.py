"""The key page's usage panel (registered with ``inventory.panels`` by ``EvidenceConfig.ready``): who called the key
and how over the last ``PANEL_DAYS`` days, when it was last used, its failed calls, and its open usage findings.

At most three queries whatever the number of aggregates (the figures with whether the key's store has logs at all,
the busiest principal x operation rows when the key has any in the window, the open findings), and at most
``PANEL_ROWS`` rows.
Shown to whoever may see the key (the key page's own visibility); a key owner sees the findings of their keys.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, IntegerField, Max, Q, Sum, Value
from django.db.models.functions import Cast
from django.utils import timezone

from evidence.findings.rules import rule_title
from evidence.findings.selectors import SEVERITY_RANK, effectively_open
from evidence.models import Finding
from evidence.usage.models import UsageAggregate
from inventory.panels import Panel

PANEL_DAYS = 90
PANEL_ROWS = 15
PANEL_FINDINGS = 10


def usage_panel(*, key, user) -> Panel:
    today = timezone.localdate()
    since = today - dt.timedelta(days=PANEL_DAYS - 1)
    recent = Q(day__gte=since)
    failed = recent & ~Q(error_code="")
    mine = UsageAggregate.objects.filter(key_id=key.pk)
    # Whether the key's store has any log at all, in the figures' own statement (an index probe): the key's rows
    # plus one when the store has any, so more than nothing when it does. Filters on the day alone (the rows are
    # the key's) keep the statement cheap to build as well as to run.
    store_has_logs = Value(0)
    if key.store_id is not None:
        store_has_logs = Cast(Exists(UsageAggregate.objects.filter(store_id=key.store_id)), IntegerField())
    figures = mine.aggregate(
        calls=Sum("count", filter=recent),
        errors=Sum("count", filter=failed),
        principals=Count("principal", filter=recent, distinct=True),
        operations=Count("operation", filter=recent, distinct=True),
        last_used=Max("last_seen"),
        last_in_window=Max("last_seen", filter=recent),
        logged=Count("pk") + store_has_logs,
    )
    store_logged = figures.pop("logged") > 0
    rows = []
    if figures["last_in_window"] is not None:  # no row in the window: no busiest principals to read
        rows = list(
            mine.filter(recent)
            .values("principal", "principal_type", "operation")
            .annotate(
                calls=Sum("count"),
                errors=Sum("count", filter=~Q(error_code="")),
                days=Count("day", distinct=True),
                last=Max("last_seen"),
            )
            .order_by("-calls", "principal", "operation")[: PANEL_ROWS + 1]
        )
    findings = [
        {"finding": finding, "title": rule_title(finding.rule)}
        for finding in Finding.objects.filter(
            effectively_open(today), subject_type="inventory.key", subject_id=key.pk, rule__startswith="usage-"
        )
        .annotate(rank=SEVERITY_RANK)
        .order_by("rank", "-last_seen")[:PANEL_FINDINGS]
    ]
    return Panel(
        template="evidence/_key_usage_panel.html",
        context={
            "days": PANEL_DAYS,
            "since": since,
            "figures": figures,
            "rows": rows[:PANEL_ROWS],
            "more_rows": len(rows) > PANEL_ROWS,
            "findings": findings,
            "store_logged": store_logged,
        },
    )
