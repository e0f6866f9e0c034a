"""The one watchdog of every job kind: jobs queued or running whose last sign of life is older than their kind's
threshold are failed with the reason shown, or queued again, as their kind declares (``cek.jobs.kinds``).

A job's last sign of life is its row's ``heartbeat_at`` (its worker's reports, a claim, a requeue), else when it
was started, else when it was queued (the kind's ``since`` field); a report in the cache newer than the threshold
(a worker reporting from inside its own transaction) spares it too. Every change is one conditional UPDATE that
repeats the staleness test, so a heartbeat or a claim that lands while the watchdog looks wins.

Beat runs :func:`watchdog_run` (task ``cek.jobs.watchdog``) every minute; pages call :func:`watchdog_soon` for
their kind, so jobs settle without beat too.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError

from cek.jobs.kinds import Fail, JobKind, Policy, Requeue, State, all_kinds
from cek.jobs.progress import progress_clear, progress_read, reporting_since, silent_since, stalled_limit
from cek.jobs.queue import dispatch
from cek.workerbeat import workers_stopped_since

logger = logging.getLogger(__name__)

SOON_EVERY_SECONDS = 60


def sweep(
    kind: JobKind, *, now: dt.datetime | None = None, states: tuple[State, ...] = (State.RUNNING, State.QUEUED)
) -> dict[str, int]:
    """Settle the stalled jobs of one kind (running ones first, then queued ones). Returns how many were failed
    and requeued, per state: ``{"running_failed", "running_requeued", "queued_failed", "queued_requeued"}``."""
    now = now or timezone.now()
    counts = dict.fromkeys(("running_failed", "running_requeued", "queued_failed", "queued_requeued"), 0)
    for state, statuses, policy in (
        (State.RUNNING, kind.running, kind.when_running_stalls),
        (State.QUEUED, kind.queued, kind.when_queued_stalls),
    ):
        if state not in states or policy is None or not statuses:
            continue
        failed, requeued = _settle(kind, statuses, policy, now=now, running=state == State.RUNNING)
        counts[f"{state}_failed"] += failed
        counts[f"{state}_requeued"] += requeued
    return counts


def _settle(kind: JobKind, statuses, policy: Policy, *, now: dt.datetime, running: bool) -> tuple[int, int]:
    minutes = kind.stale_minutes()
    limit = stalled_limit(kind, now)
    silence = f"no sign of life for over {minutes} minutes"
    if running and kind.fail_when_workers_stopped and workers_stopped_since(now) is not None:
        # Every worker stopped beating (cek/workerbeat.py): a job silent for as long has nobody running it, so it
        # fails now rather than after the threshold. (With no heartbeat ever seen, nothing changes.)
        seconds = settings.CEK_HEALTHZ_WORKER_SECONDS
        limit = max(limit, now - dt.timedelta(seconds=seconds))
        silence = f"no worker has been alive for over {seconds} seconds"
    words = {"minutes": minutes, "total_minutes": 2 * minutes, "silence": silence}
    stale = kind.model.objects.filter(silent_since(kind, limit), status__in=statuses)
    failed = requeued = 0
    for pk, phase, heartbeat_at in list(stale.values_list("pk", "phase", "heartbeat_at")):
        if reporting_since(kind, pk, limit):
            continue  # still reporting from inside its own transaction
        rows = stale.filter(pk=pk)
        if isinstance(policy, Fail):
            failed += _fail(kind, rows, pk, policy.reason.format(**words), now=now)
        elif policy.then_fail and policy.phase and phase == policy.phase:
            failed += _fail(kind, rows.filter(phase=policy.phase), pk, policy.then_fail.format(**words), now=now)
        else:
            requeued += _requeue(kind, rows, pk, policy, words, now=now, before=(phase, heartbeat_at))
    return failed, requeued


def _fail(kind: JobKind, rows, pk: int, reason: str, *, now: dt.datetime) -> int:
    # Still stale when updated: a heartbeat (or a claim) since the query above spares the job.
    updated = rows.update(status=kind.failed[0], finished_at=now, phase="failed", last_error=reason[:2000])
    if updated:
        progress_clear(kind, pk)
    return updated


def _requeue(kind: JobKind, rows, pk: int, policy: Requeue, words: dict, *, now: dt.datetime, before) -> int:
    """Queue the job again. Its clock is reset first, by the UPDATE that claims the requeue (so two watchdogs
    never both send it, and it is not queued again before another threshold has passed)."""
    marked = {"heartbeat_at": now, **({"phase": policy.phase} if policy.phase else {})}
    if not rows.update(**marked):
        return 0  # claimed or finished meanwhile
    try:
        dispatch(kind, pk)
    except OperationalError as exc:  # the broker is down: as it was, so the next sweep tries again
        logger.warning("Could not queue %s %s again: %s", kind.name, pk, exc)
        phase, heartbeat_at = before
        kind.model.objects.filter(pk=pk, status__in=kind.active).update(phase=phase, heartbeat_at=heartbeat_at)
        return 0
    if policy.reason:
        kind.model.objects.filter(pk=pk, status__in=kind.active).update(last_error=policy.reason.format(**words))
    return 1


# A job still silent this long past its kind's threshold was not settled by the watchdog (beat runs it every
# minute): beat is not running, or the watchdog cannot settle it. ``/healthz`` reports it.
HEALTH_GRACE_MINUTES = 5


def stalled_jobs(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Active jobs past their kind's watchdog: silent for over its threshold plus ``HEALTH_GRACE_MINUTES`` (and not
    reporting to the cache either), per kind name, kinds with none left out. One query per kind."""
    now = now or timezone.now()
    stalled = {}
    for kind in all_kinds():
        limit = now - dt.timedelta(minutes=kind.stale_minutes() + HEALTH_GRACE_MINUTES)
        silent = kind.model.objects.filter(silent_since(kind, limit), status__in=kind.active)
        pks = list(silent.values_list("pk", flat=True)[:100])
        count = sum(1 for pk in pks if (progress_read(kind, pk) or {}).get("at", 0) < limit.timestamp())
        if count:
            stalled[kind.name] = count
    return stalled


def watchdog_run(*, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """Sweep every kind (beat). One kind failing to sweep does not stop the others."""
    results = {}
    for kind in all_kinds():
        try:
            results[kind.name] = sweep(kind, now=now)
        except Exception:
            logger.exception("The watchdog of %s jobs failed", kind.name)
    return results


def soon_key(kind: JobKind) -> str:
    return f"jobs-watchdog:{kind.name}"


def watchdog_soon(kind: JobKind) -> None:
    """The kind's watchdog from a page view: at most once a minute across web processes; never fails the page."""
    try:
        if not cache.add(soon_key(kind), True, SOON_EVERY_SECONDS):
            return
        sweep(kind)
    except Exception:  # the page matters more than this sweep; beat (or the next page) runs it again
        logger.exception("The watchdog of %s jobs failed", kind.name)
