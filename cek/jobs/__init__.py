"""One job model for every long job (import apply, check run, evidence pack, campaign launch, and the kinds to come).

- ``cek.jobs.models.JobFields``: the shared columns (progress, phase, task id, attempts, reason, started /
  heartbeat / finished at). A concrete model keeps its own ``status`` choices.
- ``cek.jobs.kinds.JobKind``: declared once on the model (``job = JobKind(...)``): the task's name, which
  statuses mean queued / running / succeeded / failed / cancelled, the stale threshold and what the watchdog
  does then, who may see, retry and cancel it.
- :func:`enqueue`: the one place that queues a job's task, by name, on commit (``cek.jobs.queue``).
- :class:`Progress`: the progress and heartbeat a worker reports, bounded writes (``cek.jobs.progress``).
- ``cek.jobs.watchdog``: one watchdog for every kind (beat task ``cek.jobs.watchdog``, and pages).
- ``cek.jobs.cancel``: cancelling a job of a kind that can be cancelled.
- ``cek.jobs.views.JobStatusView``: the one status view (JSON) the progress bars poll.
"""

from __future__ import annotations

from cek.jobs.kinds import Fail, JobKind, Requeue, State, kind_of
from cek.jobs.progress import JobStopped, Progress, job_claim
from cek.jobs.queue import enqueue, send_on_commit

__all__ = [
    "Fail",
    "JobKind",
    "JobStopped",
    "Progress",
    "Requeue",
    "State",
    "enqueue",
    "job_claim",
    "kind_of",
    "send_on_commit",
]
