"""Reads of the inventory, with their joins decided once so every page and API list runs a fixed number of
queries, and with role visibility applied in one place."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cek.roles import can_read_all, is_key_owner
from inventory.models import AccessGrant, Binding, Key, Purpose

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


def key_detail(*, user) -> QuerySet[Key]:
    return (
        key_list(user=user)
        .prefetch_related(
            "exposed_to",
            "bindings__service",
            "bindings__tenant",
            "bindings__purpose",
            "grants__approver",
        )
        .select_related("purpose_approver", "custodian")
    )


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


def key_counts(*, user) -> dict[str, int]:
    """Headline figures of the visible inventory, in one query."""
    today = timezone.localdate()
    return keys_for(user).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(state="active")),
        overdue=Count("pk", filter=Q(state="active", cryptoperiod_ends_on__lt=today)),
        unowned=Count("pk", filter=Q(state="active", owner__isnull=True)),
        ai=Count("pk", filter=Q(purpose__is_ai_specific=True)),
        unassigned=Count("pk", filter=Q(purpose__isnull=True)),
        not_seen=Count("pk", filter=Q(not_seen_since__isnull=False)),
    )
