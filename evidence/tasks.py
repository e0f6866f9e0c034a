"""Celery tasks of the evidence app: thin wrappers around ``evidence.services``."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, name="evidence.tasks.pack_build", acks_late=True, reject_on_worker_lost=True)
def pack_build(self, pack_id: int) -> dict:
    """Build a queued evidence pack. Acknowledged only when done: a worker killed mid-build leaves the task to be
    redelivered, and the redelivered task takes the pack over. Failures are recorded on the pack (retryable)."""
    from evidence.packs.builder import build_pack

    pack = build_pack(pack_id, task_id=self.request.id or "")
    return {"pack": pack_id, "status": pack.status if pack else "deleted"}


@shared_task(name="evidence.tasks.packs_fail_stale")
def packs_fail_stale() -> dict:
    """Every 5 minutes: fail pack builds whose worker stopped reporting (they can then be retried) and queue
    again, or fail, queued packs no worker took."""
    from evidence.packs.jobs import packs_watchdog

    return packs_watchdog()


@shared_task(name="evidence.tasks.packs_cleanup")
def packs_cleanup() -> int:
    """Daily: expire ready packs past their retention and delete their files from storage."""
    from evidence.packs.jobs import packs_cleanup as cleanup

    return cleanup()


from evidence.campaigns import tasks as campaigns_tasks  # noqa: E402, F401
from evidence.checks import tasks as checks_tasks  # noqa: E402, F401
from evidence.findings import tasks as findings_tasks  # noqa: E402, F401
from evidence.policies import tasks as policies_tasks  # noqa: E402, F401  (the worker registers them through here)
from evidence.reviews import tasks as reviews_tasks  # noqa: E402, F401
