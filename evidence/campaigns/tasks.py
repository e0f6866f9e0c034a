"""Celery tasks of the attestation campaigns: a large launch on a worker, the recovery of launches whose task was
lost, and the daily reminders and escalations (the schedule is ``evidence.campaigns.schedule``).

Thin: each imports its service when it runs. Names keep their original ``evidence.tasks.*`` form (the beat
schedule and messages already queued use them)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(
    name="evidence.tasks.campaign_launch_run",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def campaign_launch_run(campaign_id: int) -> int:
    """Create the attestations of a launching campaign and mail each addressee once. Safe to run twice
    (existing attestations and sent notices are skipped). Returns the attestations created."""
    from evidence.campaigns import services

    return services.campaign_launch_run(campaign_id=campaign_id)


@shared_task(name="evidence.tasks.campaigns_requeue_stalled")
def campaigns_requeue_stalled() -> int:
    """Kept for messages already queued under this name: the campaign launches' part of ``cek.jobs.watchdog``
    (queue again the launches of campaigns still launching long after they were requested)."""
    from evidence.campaigns import services

    return services.campaigns_requeue_stalled()


@shared_task(name="evidence.tasks.campaign_reminders")
def campaign_reminders() -> dict:
    """Daily: campaign reminders per cadence and escalations of overdue owners to GRC (idempotent per day)."""
    from evidence.campaigns import services

    today = timezone.localdate()
    result = services.campaign_remind(today=today)
    return {"date": today.isoformat(), "reminded": len(result["reminded"]), "escalated": len(result["escalated"])}
