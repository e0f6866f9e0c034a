"""What a worker calls while it works: its progress and phase, which are also its heartbeat.

Reports go to the cache (Redis in production, files in the embedded default), which web and worker processes
share, and to the job's row (``progress``, ``phase``, ``heartbeat_at``). A job that writes inside one database
transaction (an import's apply, a check run) reports to the cache only: a row written there would be seen by
nobody until the end. Writes are bounded: the cache at most once a second unless the percent or the phase
changed, the row at most once every ``every`` seconds (``checkpoint`` writes it at once).

The cache is advisory: when it is down, a report is lost (a warning is logged), a read answers None, and the job
goes on. The row write is not: it is conditioned on the job still running (and on the attempt that claimed it),
so a job cancelled or failed by the watchdog meanwhile stops with :class:`JobStopped`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone

from cek.jobs.kinds import JobKind

logger = logging.getLogger(__name__)

CACHE_SECONDS = 24 * 3600

try:  # what the cache raises when its server is down: Redis in production, files in the embedded default
    from redis.exceptions import RedisError as _RedisError

    CACHE_ERRORS: tuple[type[Exception], ...] = (_RedisError, OSError)
except ImportError:  # pragma: no cover - redis is a requirement; kept importable without it
    CACHE_ERRORS = (OSError,)


class JobStopped(Exception):
    """The job is no longer this worker's to finish: cancelled, or failed by the watchdog."""


def progress_key(kind: JobKind, pk: int) -> str:
    return f"job:{kind.name}:{pk}:progress"


def cancel_key(kind: JobKind, pk: int) -> str:
    return f"job:{kind.name}:{pk}:cancel"


def progress_read(kind: JobKind, pk: int) -> dict[str, Any] | None:
    """The latest report ``{"percent", "phase", "done", "total", "at"}``, or None (also when the cache cannot be
    read: pages then show what the row says)."""
    try:
        return cache.get(progress_key(kind, pk))
    except CACHE_ERRORS as exc:
        logger.warning("Could not read the progress of %s %s: %s", kind.name, pk, type(exc).__name__)
        return None


def progress_clear(kind: JobKind, pk: int, *, cancel: bool = False) -> None:
    """Forget the job's report (and its cancel flag with ``cancel``)."""
    keys = [progress_key(kind, pk), *([cancel_key(kind, pk)] if cancel else [])]
    try:
        cache.delete_many(keys)
    except CACHE_ERRORS:
        pass  # it expires on its own


def cancel_requested(kind: JobKind, pk: int) -> bool:
    """Whether the job was cancelled (the flag its worker checks at every report). Raises the cache's error when
    it cannot be read: a worker must not go on as if it had not been cancelled."""
    return bool(cache.get(cancel_key(kind, pk)))


def running_rows(kind: JobKind, pk: int, attempt: int | None = None):
    """The job's row while it is running (by this attempt, when given): a worker's writes are conditioned on it."""
    rows = kind.model.objects.filter(pk=pk, status__in=kind.running)
    return rows if attempt is None else rows.filter(attempts=attempt)


def silent_since(kind: JobKind, limit: dt.datetime) -> Q:
    """Jobs whose last sign of life on the row is before ``limit``: its worker's last report (or its claim), else
    when it was started, else when it was queued (the kind's ``since`` field)."""
    return (
        Q(heartbeat_at__lt=limit)
        | Q(heartbeat_at__isnull=True, started_at__lt=limit)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, **{f"{kind.since}__lt": limit})
    )


def stalled_limit(kind: JobKind, now: dt.datetime) -> dt.datetime:
    """Before this moment, no sign of life means the job is stalled: its kind's ``CEK_*_STALE_MINUTES`` ago."""
    return now - dt.timedelta(minutes=kind.stale_minutes())


def reporting_since(kind: JobKind, pk: int, limit: dt.datetime) -> bool:
    """Whether the job reported to the cache at ``limit`` or later (a worker writing inside its own transaction
    reports there only)."""
    report = progress_read(kind, pk)
    return bool(report) and report.get("at", 0) >= limit.timestamp()


def job_claim(kind: JobKind, pk: int, *, task_id: str = "") -> bool:
    """Start a queued job: one conditional UPDATE (so of two workers exactly one claims it) to the kind's first
    running status, counting the attempt and resetting progress.

    With ``task_id``, a job running under that same task is claimed again only when it is stalled, as the
    watchdog judges it: no sign of life on its row nor in the cache for its kind's ``CEK_*_STALE_MINUTES``. That is
    a task redelivered after its worker died (``acks_late``). A task delivered twice while its first delivery still
    works (Redis redelivers a task unacknowledged past its visibility timeout; a worker restored it at a cold
    shutdown) finds the job claimed and does nothing: the first delivery finishes it. The stall is tested again
    by the UPDATE, so a report landing meanwhile wins, and of two redeliveries only one claims it."""
    now = timezone.now()
    claimable = Q(status__in=kind.queued)
    if task_id:
        limit = stalled_limit(kind, now)
        if not reporting_since(kind, pk, limit):
            claimable |= Q(status__in=kind.running, task_id=task_id) & silent_since(kind, limit)
    fields: dict[str, Any] = {
        "status": kind.running[0],
        "started_at": now,
        "heartbeat_at": now,
        "progress": 0,
        "phase": "starting",
        "attempts": F("attempts") + 1,
        "last_error": "",
        "finished_at": None,
    }
    if task_id:
        fields["task_id"] = task_id
    return bool(kind.model.objects.filter(claimable, pk=pk).update(**fields))


class Progress:
    """The progress reporter of one job: ``report(percent, phase)`` (or call it), optionally with ``done`` of
    ``total`` items. Percent never goes back. Set ``row`` False while inside a transaction of the job's own."""

    CACHE_EVERY = 1.0

    def __init__(self, kind: JobKind, pk: int, *, attempt: int | None = None, row: bool = True, every: float = 1.0):
        self.kind = kind
        self.pk = pk
        self.attempt = attempt
        self.row = row
        self.every = every
        self.percent = 0
        self.phase = ""
        self._row_at = 0.0
        self._cache_at = 0.0
        self._cached: tuple[int, str] | None = None

    def __call__(self, percent: int, phase: str, *, done: int | None = None, total: int | None = None) -> None:
        self.report(percent, phase, done=done, total=total)

    def report(self, percent: int, phase: str, *, done: int | None = None, total: int | None = None) -> None:
        self.percent = max(self.percent, min(int(percent), 100))
        self.phase = (phase or self.phase)[:60]
        if self.kind.may_cancel is not None and cancel_requested(self.kind, self.pk):
            raise JobStopped("cancelled")
        now = timezone.now()
        if self.row and time.monotonic() - self._row_at >= self.every:
            self._row_at = time.monotonic()
            updated = running_rows(self.kind, self.pk, self.attempt).update(
                progress=self.percent, phase=self.phase, heartbeat_at=now
            )
            if not updated:
                raise JobStopped("no longer running")
        if self._cached != (self.percent, self.phase) or time.monotonic() - self._cache_at >= self.CACHE_EVERY:
            self._write_cache(now, done, total)

    def checkpoint(self, percent: int, phase: str) -> None:
        """Between phases: the row is written now (and must still be running)."""
        self._row_at = 0.0
        self.report(percent, phase)

    def _write_cache(self, now, done: int | None, total: int | None) -> None:
        report = {"percent": self.percent, "phase": self.phase, "done": done, "total": total, "at": now.timestamp()}
        try:
            cache.set(progress_key(self.kind, self.pk), report, CACHE_SECONDS)
        except CACHE_ERRORS as exc:
            logger.warning(
                "%s %s: progress not recorded, the cache is unavailable (%s)",
                self.kind.name,
                self.pk,
                type(exc).__name__,
            )
            return
        self._cache_at = time.monotonic()
        self._cached = (self.percent, self.phase)
