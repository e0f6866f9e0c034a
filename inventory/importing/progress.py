"""Progress of an import being applied, for the progress bar.

An import is applied inside one database transaction, so progress written to the database would not be
visible to anyone until the end. It goes to the cache instead (Redis in production, files in the embedded
default), which web and worker processes share. It is advisory: losing it loses the bar, not the import."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

TIMEOUT = 24 * 3600


def _key(import_id: int) -> str:
    return f"key-import-progress:{import_id}"


def progress_report(import_id: int, done: int, total: int, *, phase: str) -> None:
    cache.set(_key(import_id), {"done": done, "total": total, "phase": phase, "at": time.time()}, TIMEOUT)


def progress_read(import_id: int) -> dict[str, Any] | None:
    """``{"done", "total", "phase", "at"}`` as last reported, or None."""
    return cache.get(_key(import_id))


def progress_clear(import_id: int) -> None:
    cache.delete(_key(import_id))


def progress_percent(progress: dict[str, Any] | None) -> int:
    if not progress or not progress.get("total"):
        return 0
    return min(100, int(100 * progress["done"] / progress["total"]))
