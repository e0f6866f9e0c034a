"""Celery task of the reviews: the daily refresh of review due dates and the reminders to policy owners.

Thin: it imports its services when it runs. Its name keeps the original ``evidence.tasks.*`` form (the beat
schedule and messages already queued use it)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="evidence.tasks.policy_review_reminders")
def policy_review_reminders() -> dict:
    """Daily: bring the review due dates up to date, then send the reminders due today (idempotent)."""
    from evidence.reviews.services import policy_review_due_refresh, policy_review_reminders_send

    today = timezone.localdate()
    refreshed = policy_review_due_refresh()
    sent = policy_review_reminders_send(today=today)
    return {"date": today.isoformat(), "due_dates_changed": refreshed, "reminders_sent": len(sent)}
