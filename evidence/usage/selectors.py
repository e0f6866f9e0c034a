"""Reads of usage aggregates and ingestions, with role visibility applied once and joins decided once (one query
per page, plus the count)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

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
