"""Celery tasks of the evidence packs: building a pack on a worker, failing builds whose worker stopped, and
expiring packs past their retention.

Thin: each imports what it calls when it runs. Names keep their original ``evidence.tasks.*`` form (the beat
schedule and messages already queued use them)."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, name="evidence.tasks.pack_build", acks_late=True, reject_on_worker_lost=True)
def pack_build(self, pack_id: int) -> dict:
    """Build a queued evidence pack. Acknowledged only when done: a worker killed mid-build leaves the task to be
    redelivered, and the redelivered task takes the pack over once the build is stalled (a delivery of the same task
    while the build still reports builds nothing). Failures are recorded on the pack (retryable)."""
    from evidence.packs.builder import build_pack

    pack = build_pack(pack_id, task_id=self.request.id or "")
    # "built": this task claimed the pack and built it; False when another task had it (a duplicate delivery).
    return {"pack": pack_id, "status": pack.status if pack else "deleted", "built": getattr(pack, "built_now", False)}


@shared_task(name="evidence.tasks.packs_fail_stale")
def packs_fail_stale() -> dict:
    """Kept for messages already queued under this name: the packs' part of ``cek.jobs.watchdog`` (fail pack builds
    whose worker stopped reporting, queue again, or fail, queued packs no worker took)."""
    from evidence.packs.jobs import packs_watchdog

    return packs_watchdog()


@shared_task(name="evidence.tasks.packs_cleanup")
def packs_cleanup() -> int:
    """Daily: expire ready packs past their retention and delete their files from storage."""
    from evidence.packs.jobs import packs_cleanup as cleanup

    return cleanup()
