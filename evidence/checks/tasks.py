"""Celery tasks of the checks: a queued run on a worker, the nightly run, and failing runs whose worker stopped.

Thin: each imports its service when it runs. Names keep their original ``evidence.tasks.*`` form (the beat
schedule and messages already queued use them)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="evidence.tasks.checks_run")
def checks_run(run_id: int) -> dict:
    """Execute a queued check run (started from the UI or the API). A failure is recorded on the run."""
    from evidence.checks import services

    run = services.check_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="evidence.tasks.checks_nightly")
def checks_nightly() -> dict:
    """Nightly: evaluate every auditing guideline (inline in this worker). Skipped while a run is in progress."""
    from evidence.checks import services

    try:
        run = services.check_run_start(trigger="schedule", background=False)
    except services.CheckRunError as exc:
        return {"skipped": str(exc)}
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="evidence.tasks.checks_fail_stale")
def checks_fail_stale() -> int:
    """Kept for messages already queued under this name: the check runs' part of ``cek.jobs.watchdog`` (fail check
    runs whose worker stopped without a word; they can then be retried)."""
    from evidence.checks import services

    return services.checks_fail_stale()
