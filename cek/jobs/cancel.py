"""Cancelling a job of a kind that can be cancelled (its kind declares ``may_cancel``).

The cancel flag goes to the cache first: a worker inside its own transaction sees the cache, not the row (and on
SQLite the row's update may wait for that transaction to end). Its next progress report finds the flag and stops
(:class:`cek.jobs.progress.JobStopped`). Without the flag a running worker would go on, and could finish the job:
so when the cache cannot be reached nothing is cancelled and :class:`CancelNotDelivered` says so.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import timezone

from cek.jobs.kinds import kind_of
from cek.jobs.progress import CACHE_ERRORS, CACHE_SECONDS, cancel_key, progress_clear

logger = logging.getLogger(__name__)


class CancelNotDelivered(Exception):
    """The cancel flag could not be set (the cache is down): nothing was cancelled."""


def job_cancel(job) -> bool:
    """Cancel ``job`` if it is queued or running: True when it is now cancelled, False when it was neither
    (nothing changed). The caller checks who may cancel it."""
    kind = kind_of(job)
    if kind.may_cancel is None or not kind.cancelled:
        raise ValueError(f"Jobs of kind {kind.name!r} cannot be cancelled.")
    try:
        cache.set(cancel_key(kind, job.pk), True, CACHE_SECONDS)
    except CACHE_ERRORS as exc:
        logger.warning("Could not cancel %s %s: %s", kind.name, job.pk, exc)
        raise CancelNotDelivered(str(exc)) from None
    updated = kind.model.objects.filter(pk=job.pk, status__in=kind.active).update(
        status=kind.cancelled[0], finished_at=timezone.now(), phase="cancelled", last_error=""
    )
    if not updated:
        progress_clear(kind, job.pk, cancel=True)  # a job that is not running ignores the flag; it expires anyway
    return bool(updated)
