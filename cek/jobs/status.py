"""The status of any job, as the pages' progress bars and the status view read it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from cek.jobs.kinds import ACTIVE, State, kind_of
from cek.jobs.progress import progress_read

WAITING = "waiting for a worker"
SHAPE = "job"  # ?shape=job: a kind's own status URL answers the common fields


def live_progress(job) -> dict[str, Any]:
    """``{"percent", "phase", "done", "total"}`` of a job: while it runs, its worker's latest report when that is
    at least as far as the row says (a report from inside the job's own transaction reaches only the cache)."""
    kind = kind_of(job)
    state = kind.state_of(job.status)
    percent, phase, done, total = job.progress, job.phase, None, None
    if state == State.SUCCEEDED:
        percent = 100
    elif state == State.RUNNING:
        reported = progress_read(kind, job.pk)
        if reported and reported.get("percent", 0) >= percent:
            percent, phase = reported["percent"], reported.get("phase") or phase
            done, total = reported.get("done"), reported.get("total")
    elif state == State.QUEUED:
        phase = WAITING
    return {"percent": max(0, min(int(percent or 0), 100)), "phase": phase, "done": done, "total": total}


def job_status(job, *, user) -> dict[str, Any]:
    """What the status view answers for ``job`` as seen by ``user``: its own status and label, the shared state,
    progress (0-100) and phase (with ``done`` of ``total`` items when the worker counts them), the reason shown
    to people, whether it finished, and whether ``user`` may retry or cancel it now."""
    kind = kind_of(job)
    state = kind.state_of(job.status)
    live = live_progress(job)
    return {
        "kind": kind.name,
        "id": job.pk,
        "status": job.status,
        "label": job.get_status_display(),
        "state": str(state),
        "progress": live["percent"],
        "phase": live["phase"],
        "done": live["done"],
        "total": live["total"],
        "reason": job.last_error,
        "finished": state not in ACTIVE,
        "retry_allowed": bool(kind.may_retry and kind.may_retry(user, job)),
        "cancel_allowed": bool(kind.may_cancel and kind.may_cancel(user, job)),
    }


def job_status_url(job) -> str:
    """The URL a page's progress bar polls for ``job``: its kind's own status URL when it has one (with
    ``?shape=job`` for the common fields), else the common one."""
    kind = kind_of(job)
    if kind.status_route:
        return f"{reverse(kind.status_route, args=[job.pk])}?shape={SHAPE}"
    return reverse("job-status", kwargs={"kind": kind.name, "pk": job.pk})
