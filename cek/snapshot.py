"""Stored figures: values computed once, kept in Django's cache (Redis in production, shared by every web process),
and thrown away by the next committed write to the data they count. The dashboard's figures and the key lists'
counts are read from here.

Every figure of the dashboard is a grouped count over keys, findings, attestations, policies, runs... which takes
hundreds of milliseconds at 100,000 keys, and a key list's ``COUNT(*)`` scans an index of every key it counts
(6 ms at 100,000 keys, 60 ms at a million). The dashboard reads its figures from a snapshot instead: one for the
organisation view (GRC and auditors) and one per key owner, each stamped with the time it was computed
(``Dashboard.as_of``, shown on the page); a key list reads its count from the snapshot of that count's SQL
(:func:`cached_count`). A snapshot lives under the current *generation* (a token in the cache). Any INSERT, UPDATE
or DELETE on a table of ``inventory`` or ``evidence`` (bar the few no figure counts: pack builds and downloads,
notices sent, history rows written beside their record) moves the generation on once its transaction commits,
whichever process wrote it (web, worker, ``manage.py``), through a database execute wrapper; the next request
computes a fresh snapshot. Writes that bypass Django's cursor (PostgreSQL COPY of ``seed_demo``'s generated keys)
are followed by ordinary writes in the same command, and a snapshot is at most ``CEK_DASHBOARD_SNAPSHOT_SECONDS``
old in any case (and never from another day).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import transaction
from django.db.backends.signals import connection_created
from django.utils import timezone

logger = logging.getLogger(__name__)

GENERATION_KEY = "dashboard:generation"
# Part of every snapshot's cache key: change it when what is stored changes shape (the ``Dashboard`` dataclass), so
# processes of a new release never read an old release's pickles.
FORMAT = 2
WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)', re.IGNORECASE)
WATCHED_PREFIXES = ("inventory_", "evidence_")
# Tables the dashboard does not count, or that are only ever written beside a record that is (history rows).
IGNORED_PREFIXES = (
    "inventory_historical",
    "inventory_keyimport",  # an import's progress; its keys are written to inventory_key
    "evidence_historical",
    "evidence_evidencepack",
    "evidence_packdownload",
    "evidence_alertdelivery",
    "evidence_campaignnotice",
    "evidence_reviewreminder",
)

T = TypeVar("T")
# Whether this thread read a snapshot since its connection last wrote: an uncommitted write is seen by its own
# connection only, so the snapshot must then go at once too, not only on commit (see ``_invalidate_on_commit``).
_local = threading.local()


def enabled() -> bool:
    return settings.CEK_DASHBOARD_SNAPSHOT_SECONDS > 0


def generation() -> str:
    """The current generation's token (a new one when the cache holds none, e.g. after a restart of Redis)."""
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex[:16], timeout=None)
        token = cache.get(GENERATION_KEY) or "none"
    return token


def invalidate() -> None:
    """Move to a new generation: every stored snapshot is stale from now on. Never raises: it runs after a write
    committed (the write stands; with the cache down there is no snapshot to serve either)."""
    _local.read = False  # nothing of the new generation read yet
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex[:16], timeout=None)
    except Exception:
        logger.warning("Could not move the dashboard snapshot's generation on", exc_info=True)


def cached(scope: str, today, compute: Callable[[], T]) -> T:
    """The snapshot of ``scope`` for ``today`` in the current generation, computed by ``compute`` when missing.

    One round trip to the cache: the generation's token and the stored snapshot are read together, and the
    snapshot is kept with the token it was computed under (one entry per scope and day, replaced, not one per
    generation left to expire). The generation is read before computing: a write committed meanwhile leaves this
    snapshot under the old token, which no reader accepts."""
    if not enabled():
        return compute()
    _local.read = True
    key = f"dashboard:{FORMAT}:{today.isoformat()}:{scope}"
    try:
        found = cache.get_many([GENERATION_KEY, key])
        token = found.get(GENERATION_KEY) or generation()
    except Exception:  # the cache is down: the page counts its figures now, as without a snapshot
        logger.warning("Could not read the dashboard snapshot", exc_info=True)
        return compute()
    stored = found.get(key)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == token:
        return stored[1]
    value = compute()
    try:
        cache.set(key, (token, value), timeout=settings.CEK_DASHBOARD_SNAPSHOT_SECONDS)
    except Exception:
        logger.warning("Could not store the dashboard snapshot", exc_info=True)
    return value


def cached_count(queryset) -> int:
    """``queryset.count()`` from the snapshot of its SQL: the same statement with the same parameters (the user's
    scope, the filters, today's date) counts the same rows until a write to what it counts commits."""
    if not enabled():
        return queryset.count()
    try:  # the statement compiled once more (a fraction of a millisecond) names the figure
        sql, params = _counted_statement(queryset)
    except EmptyResultSet:  # a filter that selects nothing: no query to run either
        return queryset.count()
    digest = hashlib.blake2b(repr((sql, params)).encode(), digest_size=16).hexdigest()
    return cached(f"count:{digest}", timezone.localdate(), queryset.count)


def _counted_statement(queryset) -> tuple[str, tuple]:
    """The statement that names what ``queryset`` counts: for a plain filter of a model, the ids it selects in no
    order (what the count depends on: its tables, joins and conditions), so every ordering of one filter shares
    one figure, and compiling it skips the 30-odd columns of the row (0.3 ms of CPU of the key list's requests);
    any other queryset (annotated, distinct, grouped, sliced, combined, ``values()``) as it is."""
    query = queryset.query
    plain = not (
        query.combinator
        or query.annotations
        or query.distinct
        or query.group_by is not None
        or query.values_select
        or query.is_sliced
        or query.extra
    )
    if plain:
        queryset = queryset.order_by().values_list("pk")
    return queryset.query.get_compiler(queryset.db).as_sql()


# --- Invalidation on write ---------------------------------------------------------------------------------------


def counted_table(sql: str) -> bool:
    """Whether ``sql`` writes to a table the dashboard counts (a cheap test: it runs after every statement)."""
    head = sql[:7].lstrip().upper()
    if not head.startswith(("INSERT", "UPDATE", "DELETE")):
        return False
    match = WRITE.match(sql[:200])
    if match is None:
        return False
    table = match.group(1).lower()
    return table.startswith(WATCHED_PREFIXES) and not table.startswith(IGNORED_PREFIXES)


def _invalidate_on_commit(connection) -> None:
    if not connection.in_atomic_block:
        invalidate()
        return
    if getattr(_local, "read", False):
        # This thread may read a snapshot again inside the transaction (a test does): it must see its own write.
        _local.read = False
        invalidate()
    # Once per transaction: the callback is dropped with its transaction (or savepoint) when that rolls back.
    if not any(func is invalidate for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(invalidate, using=connection.alias)


def watch_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and counted_table(sql):
        _invalidate_on_commit(context["connection"])
    return result


def install(sender=None, connection=None, **kwargs) -> None:
    if connection is not None and watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(watch_writes)


def connect() -> None:
    """Called once from the app's ``ready``: every database connection opened from now on is watched."""
    connection_created.connect(install, dispatch_uid="cek-dashboard-snapshot")
