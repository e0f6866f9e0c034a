"""Celery task of the alerts: one attempt at a notification, retried with backoff by Celery while attempts last."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, name="evidence.alerts.deliver", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver(self, delivery_id: int) -> dict:
    """Send a queued notification. When the attempt failed and attempts are left, the row says when it is tried
    again and the task is retried then (the count of attempts lives on the row, not in Celery)."""
    from evidence.alerts.services import alert_delivery_send

    wait = alert_delivery_send(delivery_id=delivery_id, task_id=self.request.id or "")
    if wait is not None:
        raise self.retry(countdown=wait)
    return {"delivery": delivery_id}
