"""Celery tasks of the evidence app: thin wrappers around ``evidence.services``."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from evidence import services


@shared_task(
    name="evidence.tasks.policy_communication_emails",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def policy_communication_emails(communication_id: int) -> int:
    """E-mail the recipients of one communication who have not been mailed yet. Safe to run twice: each
    delivery is claimed before it is sent. Returns the number of e-mails sent."""
    return services.policy_emails_send(communication_id=communication_id)


@shared_task(name="evidence.tasks.policy_emails_pending")
def policy_emails_pending() -> int:
    """Periodic sweep: policy e-mails still pending (their task was never queued or the mail server failed)."""
    return services.policy_emails_send()


@shared_task(name="evidence.tasks.policy_review_reminders")
def policy_review_reminders() -> dict:
    """Daily: bring the review due dates up to date, then send the reminders due today (idempotent)."""
    today = timezone.localdate()
    refreshed = services.policy_review_due_refresh()
    sent = services.policy_review_reminders_send(today=today)
    return {"date": today.isoformat(), "due_dates_changed": refreshed, "reminders_sent": len(sent)}


@shared_task(
    name="evidence.tasks.campaign_launch_run",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def campaign_launch_run(campaign_id: int) -> int:
    """Create the attestations of a launching campaign and mail each addressee once. Safe to run twice
    (existing attestations and sent notices are skipped). Returns the attestations created."""
    return services.campaign_launch_run(campaign_id=campaign_id)


@shared_task(name="evidence.tasks.campaigns_requeue_stalled")
def campaigns_requeue_stalled() -> int:
    """Kept for messages already queued under this name: the campaign launches' part of ``cek.jobs.watchdog``
    (queue again the launches of campaigns still launching long after they were requested)."""
    return services.campaigns_requeue_stalled()


@shared_task(name="evidence.tasks.campaign_reminders")
def campaign_reminders() -> dict:
    """Daily: campaign reminders per cadence and escalations of overdue owners to GRC (idempotent per day)."""
    today = timezone.localdate()
    result = services.campaign_remind(today=today)
    return {"date": today.isoformat(), "reminded": len(result["reminded"]), "escalated": len(result["escalated"])}


@shared_task(name="evidence.tasks.finding_acceptances_expire")
def finding_acceptances_expire() -> dict:
    """Daily: reopen the findings whose risk acceptance ended (idempotent)."""
    today = timezone.localdate()
    return {"date": today.isoformat(), "reopened": services.finding_acceptances_expire(today=today)}


@shared_task(name="evidence.tasks.checks_run")
def checks_run(run_id: int) -> dict:
    """Execute a queued check run (started from the UI or the API). A failure is recorded on the run."""
    run = services.check_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="evidence.tasks.checks_nightly")
def checks_nightly() -> dict:
    """Nightly: evaluate every auditing guideline (inline in this worker). Skipped while a run is in progress."""
    try:
        run = services.check_run_start(trigger="schedule", background=False)
    except services.CheckRunError as exc:
        return {"skipped": str(exc)}
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="evidence.tasks.checks_fail_stale")
def checks_fail_stale() -> int:
    """Kept for messages already queued under this name: the check runs' part of ``cek.jobs.watchdog`` (fail check
    runs whose worker stopped without a word; they can then be retried)."""
    return services.checks_fail_stale()


@shared_task(bind=True, name="evidence.tasks.pack_build", acks_late=True, reject_on_worker_lost=True)
def pack_build(self, pack_id: int) -> dict:
    """Build a queued evidence pack. Acknowledged only when done: a worker killed mid-build leaves the task to be
    redelivered, and the redelivered task takes the pack over. Failures are recorded on the pack (retryable)."""
    from evidence.packs.builder import build_pack

    pack = build_pack(pack_id, task_id=self.request.id or "")
    return {"pack": pack_id, "status": pack.status if pack else "deleted"}


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
