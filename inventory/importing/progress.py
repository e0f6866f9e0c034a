"""Progress of an import being applied, for the progress bar.

An import is applied inside one database transaction, so progress written to the database would not be
visible to anyone until the end. It goes to the cache instead (Redis in production, files in the embedded
default), which web and worker processes share. It is advisory: losing it loses the bar, not the import."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

TIMEOUT = 24 * 3600
# What the cache raises when its server is down (Redis) or its folder unusable (file cache). Progress is
# advisory: an import applied in the request needs no worker and no cache, so Redis being down must not
# stop it (it answered 500); the bar just shows nothing.
_CACHE_DOWN = (RedisError, OSError)


def _key(import_id: int) -> str:
    return f"key-import-progress:{import_id}"


def progress_report(import_id: int, done: int, total: int, *, phase: str) -> None:
    try:
        cache.set(_key(import_id), {"done": done, "total": total, "phase": phase, "at": time.time()}, TIMEOUT)
    except _CACHE_DOWN as exc:
        logger.warning("Import %s: progress not recorded, the cache is unavailable (%s)", import_id, type(exc).__name__)


def progress_read(import_id: int) -> dict[str, Any] | None:
    """``{"done", "total", "phase", "at"}`` as last reported, or None (also when the cache is unavailable)."""
    try:
        return cache.get(_key(import_id))
    except _CACHE_DOWN:
        return None


def progress_clear(import_id: int) -> None:
    try:
        cache.delete(_key(import_id))
    except _CACHE_DOWN:
        pass  # it expires on its own


def progress_percent(progress: dict[str, Any] | None) -> int:
    if not progress or not progress.get("total"):
        return 0
    return min(100, int(100 * progress["done"] / progress["total"]))
