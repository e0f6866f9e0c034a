"""The watchdog of every job kind, run by beat every minute (thin: it calls ``cek.jobs.watchdog``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="cek.jobs.watchdog")
def jobs_watchdog() -> dict:
    """Fail or queue again, as each kind declares, the jobs whose worker went silent for longer than their
    kind's threshold. Returns what it did per kind."""
    from cek.jobs.watchdog import watchdog_run

    return watchdog_run()
