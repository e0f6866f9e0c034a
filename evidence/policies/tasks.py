"""Celery tasks of the policies: e-mailing a communication's recipients, and the sweep of e-mails still pending.

Thin: each imports its service when it runs. Names keep their original ``evidence.tasks.*`` form (the beat
schedule and messages already queued use them)."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="evidence.tasks.policy_communication_emails",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def policy_communication_emails(communication_id: int) -> int:
    """E-mail the recipients of one communication who have not been mailed yet. Safe to run twice: each
    delivery is claimed before it is sent. Returns the number of e-mails sent."""
    from evidence.policies.services import policy_emails_send

    return policy_emails_send(communication_id=communication_id)


@shared_task(name="evidence.tasks.policy_emails_pending")
def policy_emails_pending() -> int:
    """Periodic sweep: policy e-mails still pending (their task was never queued or the mail server failed)."""
    from evidence.policies.services import policy_emails_send

    return policy_emails_send()
