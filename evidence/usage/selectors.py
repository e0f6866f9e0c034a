"""Reads of usage aggregates and ingestions, with role visibility applied once and joins decided once (one query
per page, plus the count)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from cek.roles import can_read_all, is_key_owner
from evidence.usage.models import UsageAggregate, UsageIngestion
from inventory.selectors import owned_by


def aggregate_visibility(user) -> Q:
    """GRC and auditors see every aggregate (unknown keys included); a key owner those of the keys they own or back
    up, as the inventory shows them their keys; others none."""
    if can_read_all(user):
        return Q()
    if is_key_owner(user):
        return Q(key__in=_owned_keys(user))
    return Q(pk__in=[])


def _owned_keys(user):
    from inventory.models import Key

    return Key.objects.filter(owned_by(user)).values("pk")


def usage_aggregates(*, user) -> QuerySet[UsageAggregate]:
    return (
        UsageAggregate.objects.filter(aggregate_visibility(user))
        .select_related("key", "store")
        .order_by("-day", "key_ref", "principal", "operation", "error_code", "id")
    )


def usage_ingestions() -> QuerySet[UsageIngestion]:
    return UsageIngestion.objects.select_related("store", "created_by").order_by("-created_at", "-id")


@dataclass
class UsageCoverage:
    """AG-9's figures: each store's newest usage day, the keys with an open misuse finding (by rule), the open
    unknown-key findings."""

    fresh_days: int
    fresh_since: dt.date
    newest_by_store: dict[int, dt.date] = field(default_factory=dict)
    open_misuse: dict[int, set[str]] = field(default_factory=dict)
    open_rules: dict[str, int] = field(default_factory=dict)
    unknown_keys: int = 0

    def as_dict(self) -> dict:
        return {
            "fresh_days": self.fresh_days,
            "stores_with_logs": len(self.newest_by_store),
            "fresh_stores": sum(1 for day in self.newest_by_store.values() if day >= self.fresh_since),
            "keys_with_open_misuse": len(self.open_misuse),
            "open_findings_by_rule": dict(sorted(self.open_rules.items())),
            "unknown_keys": self.unknown_keys,
        }


def usage_coverage(*, now: dt.datetime, misuse_rules: tuple[str, ...]) -> UsageCoverage:
    """Three queries: the newest usage day per store, the open misuse findings on keys, the open unknown-key
    findings."""
    from evidence.findings.selectors import effectively_open
    from evidence.models import Finding

    today = timezone.localdate(now)
    fresh_days = settings.CEK_USAGE_FRESH_DAYS
    coverage = UsageCoverage(fresh_days=fresh_days, fresh_since=today - dt.timedelta(days=fresh_days))
    newest = UsageAggregate.objects.filter(store__isnull=False).values("store_id").annotate(newest=Max("day"))
    coverage.newest_by_store = {row["store_id"]: row["newest"] for row in newest.order_by()}
    open_q = effectively_open(today)
    rows = Finding.objects.filter(open_q, rule__in=misuse_rules, subject_type="inventory.key")
    for key_id, rule in rows.values_list("subject_id", "rule"):
        coverage.open_misuse.setdefault(key_id, set()).add(rule)
        coverage.open_rules[rule] = coverage.open_rules.get(rule, 0) + 1
    coverage.unknown_keys = Finding.objects.filter(open_q, rule="usage-unknown-key").count()
    if coverage.unknown_keys:
        coverage.open_rules["usage-unknown-key"] = coverage.unknown_keys
    return coverage
