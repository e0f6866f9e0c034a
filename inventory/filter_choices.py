"""The choice lists of the key list's filter drop-downs (stores, purposes, owners, tenants, services), cached.
The filters check a value against the same lists (``inventory.filters.CachedChoiceFilter``), with the id of each.

Reading them is five queries a request, for lists that change a few times a day. They are kept in the cache
(Redis in production, files in the embedded default) under one entry, dropped whenever a store, purpose, tenant,
service or user is saved or deleted (at once and again when the transaction commits, so a request that read the
old lists while the change was being written does not keep them), and for at most ``CACHE_SECONDS`` besides:
bulk writes (``QuerySet.update``) send no signal. When the cache cannot be reached the lists are read from the
database, as before.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from inventory.models import CryptoFunction, KeyState, KeyStore, Purpose, Service, SsrmLayer, Tenant

logger = logging.getLogger(__name__)

CACHE_KEY = "inventory:key-filter-choices:v2"
CACHE_SECONDS = 300
YES_NO = [("true", "Yes"), ("false", "No")]


def _read_lists() -> dict[str, dict]:
    """``labels``: each drop-down's (value, label) pairs; ``ids``: each drop-down's values with the id of the row
    they name, which the filters check a value against and filter by (``inventory.filters.CachedChoiceFilter``)."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    stores = list(KeyStore.objects.order_by("name").values_list("pk", "name"))
    purposes = list(Purpose.objects.order_by("name").values_list("pk", "slug", "name"))
    owners = list(users.values_list("pk", "username", "first_name", "last_name"))
    tenants = list(Tenant.objects.order_by("name").values_list("pk", "slug", "name"))
    services = list(Service.objects.order_by("name").values_list("pk", "slug", "name"))
    return {
        "labels": {
            "store": [(str(pk), name) for pk, name in stores],
            "purpose": [(slug, name) for _, slug, name in purposes],
            "owner": [(username, f"{first} {last}".strip() or username) for _, username, first, last in owners],
            "tenant": [(slug, name) for _, slug, name in tenants],
            "service": [(slug, name) for _, slug, name in services],
        },
        "ids": {
            "store": {str(pk): pk for pk, _ in stores},
            "purpose": {slug: pk for pk, slug, _ in purposes},
            "owner": {username: pk for pk, username, _, _ in owners},
            "tenant": {slug: pk for pk, slug, _ in tenants},
            "service": {slug: pk for pk, slug, _ in services},
        },
    }


def _cached_lists() -> dict[str, dict]:
    try:
        lists = cache.get(CACHE_KEY)
    except Exception as exc:  # the cache is advisory: the database answers
        logger.warning("Key filter choices read from the database: the cache is unavailable (%s)", exc)
        return _read_lists()
    if lists is None:
        lists = _read_lists()
        try:
            cache.set(CACHE_KEY, lists, CACHE_SECONDS)
        except Exception as exc:
            logger.warning("Key filter choices not cached: the cache is unavailable (%s)", exc)
    return lists


def key_filter_choices() -> dict[str, list[tuple[str, str]]]:
    """(value, label) pairs of each filter select of the key list, labels in plain words (names, full names)."""
    return {
        **_cached_lists()["labels"],
        "function": CryptoFunction.choices,
        "state": KeyState.choices,
        "ssrm_layer": SsrmLayer.choices,
        "overdue": YES_NO,
        "unassigned": YES_NO,
        "not_seen": YES_NO,
    }


def key_filter_ids(name: str) -> dict[str, int]:
    """The values the ``name`` drop-down offers (store ids as text, slugs, usernames), each with its row's id."""
    return _cached_lists()["ids"][name]


def forget_key_filter_choices(**kwargs) -> None:
    """Signal receiver: a store, purpose, tenant, service or user changed."""
    if kwargs.get("update_fields") and set(kwargs["update_fields"]) <= {"last_login"}:
        return  # a login: nothing the lists show
    _forget()
    transaction.on_commit(_forget)


def _forget() -> None:
    try:
        cache.delete(CACHE_KEY)
    except Exception as exc:
        logger.warning("Key filter choices not dropped from the cache: it is unavailable (%s)", exc)


def connect_signals() -> None:
    for model in (KeyStore, Purpose, Tenant, Service, get_user_model()):
        for name, signal in (("save", post_save), ("delete", post_delete)):
            uid = f"key-filter-choices-{name}-{model._meta.label_lower}"
            signal.connect(forget_key_filter_choices, sender=model, dispatch_uid=uid)
