"""Celery task of the findings: the daily reopening of findings whose risk acceptance ended.

Thin: it imports its service when it runs. Its name keeps the original ``evidence.tasks.*`` form (the beat
schedule and messages already queued use it)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="evidence.tasks.finding_acceptances_expire")
def finding_acceptances_expire() -> dict:
    """Daily: reopen the findings whose risk acceptance ended (idempotent)."""
    from evidence.findings import services

    today = timezone.localdate()
    return {"date": today.isoformat(), "reopened": services.finding_acceptances_expire(today=today)}
