"""Who is told of new findings, and one attempt at telling them.

``finding_alerts_create`` is called by a detection (a recorded IaC scan, a usage ingestion) with the findings it
saw for the first time. Per finding and configured webhook whose severities include the finding's, one webhook
delivery; per person concerned (the owner and backup owner of each finding's key, and every active GRC user with an
e-mail address), one e-mail listing the batch's findings of an e-mailed severity that concern them. Deliveries are
queued after the caller's transaction commits; a worker sends them (``alert_delivery_send``) and retries with
backoff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cek.jobs import enqueue, job_claim
from cek.jobs.progress import running_rows
from cek.people import person_name
from cek.roles import Role
from evidence.alerts import webhooks
from evidence.alerts.models import AlertChannel, AlertDelivery, AlertStatus
from evidence.emails import absolute_url, email_send
from evidence.findings.models import Finding
from evidence.findings.rules import rule_title
from evidence.writes import require_grc
from inventory.models import Key

EVENT = "finding.opened"
BACKOFF_SECONDS = 30
BACKOFF_MAX_SECONDS = 600


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def webhook_label(url: str) -> str:
    """How a webhook is named on pages and in the database: its host and a digest of the whole URL. The rest of
    the URL is never kept: a chat webhook's path is its secret (``hooks.slack.com/services/T0/B0/<secret>``)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/… ({_digest(url)[:8]})"


def _webhook_url(label: str) -> str | None:
    """The configured URL a delivery's label names (None when the setting no longer holds it)."""
    return next((url for url, _severities in settings.CEK_ALERT_WEBHOOKS if webhook_label(url) == label), None)


def finding_alerts_create(*, findings: Sequence[Finding], source: str) -> list[AlertDelivery]:
    """Queue the notifications of ``findings`` (new ones: each finding is notified once in its life) found by
    ``source`` (``"IaC scan #12 of acme/infra"``). Returns the deliveries created."""
    findings = list(findings)
    if not findings:
        return []
    created: list[AlertDelivery] = []
    with transaction.atomic():
        for finding in findings:
            for url, severities in settings.CEK_ALERT_WEBHOOKS:
                if finding.severity in severities:
                    created.append(
                        _delivery(
                            AlertChannel.WEBHOOK,
                            webhook_label(url),
                            dedupe=f"webhook:{finding.pk}:{_digest(url)}",
                            findings=[finding],
                            payload=_payload(finding, source=source),
                        )
                    )
        batch = uuid.uuid4().hex[:16]
        for address, concerning in _email_recipients(findings).items():
            created.append(
                _delivery(AlertChannel.EMAIL, address, dedupe=f"email:{batch}:{_digest(address)}", findings=concerning)
            )
    return created


def _delivery(channel: str, target: str, *, dedupe: str, findings: list[Finding], payload=None) -> AlertDelivery:
    delivery = AlertDelivery(
        channel=channel, target=target[:500], dedupe_key=dedupe, event=EVENT, payload=payload or {}
    )
    delivery.save()
    delivery.findings.set(findings)
    enqueue(delivery, robust=True)  # a broker that is down: the watchdog queues it again
    return delivery


def _email_recipients(findings: list[Finding]) -> dict[str, list[Finding]]:
    """E-mail address -> the findings of an e-mailed severity that concern its holder: GRC gets all of them, a key's
    owner and backup owner the findings on that key. Three queries whatever the number of findings."""
    mailed = [finding for finding in findings if finding.severity in settings.CEK_ALERT_EMAIL_SEVERITIES]
    if not mailed:
        return {}
    users = get_user_model().objects
    recipients: dict[str, list[Finding]] = {}
    grc = users.filter(groups__name=Role.GRC.value, is_active=True).exclude(email="").distinct().order_by("pk")
    for address in grc.values_list("email", flat=True):
        recipients.setdefault(address.lower(), []).extend(mailed)
    key_ids = {finding.subject_id for finding in mailed if finding.subject_type == "inventory.key"}
    owners: dict[int, set[str]] = {}
    for key_id, owner, backup in Key.objects.filter(pk__in=key_ids).values_list(
        "pk", "owner__email", "backup_owner__email"
    ):
        owners[key_id] = {address.lower() for address in (owner, backup) if address}
    for finding in mailed:
        if finding.subject_type != "inventory.key":
            continue
        for address in owners.get(finding.subject_id, ()):
            concerning = recipients.setdefault(address, [])
            if finding not in concerning:
                concerning.append(finding)
    return recipients


def _payload(finding: Finding, *, source: str) -> dict:
    """The webhook body: what a SIEM or chat channel needs to act, and links back. Details are the rule's own
    (addresses, references, counts): findings never hold key material."""
    return {
        "event": EVENT,
        "source": source,
        "finding": {
            "id": finding.pk,
            "url": absolute_url(finding.get_absolute_url()),
            "rule": finding.rule,
            "severity": finding.severity,
            "status": finding.status,
            "subject": finding.subject_label,
            "subject_type": finding.subject_type,
            "first_seen": finding.first_seen.isoformat(),
            "details": finding.details,
        },
        "organisation": settings.CEK_ORGANISATION,
    }


def backoff(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1``: 30 s, doubling, at most 10 minutes."""
    return min(BACKOFF_SECONDS * 2 ** max(attempt - 1, 0), BACKOFF_MAX_SECONDS)


def alert_delivery_send(*, delivery_id: int, task_id: str = "") -> int | None:
    """One attempt at a queued delivery (a worker). Returns the seconds after which the task should try again, or
    None when done (delivered, failed for good, or not this worker's to send)."""
    kind = AlertDelivery.job
    if not job_claim(kind, delivery_id, task_id=task_id):
        return None
    delivery = AlertDelivery.objects.prefetch_related("findings").get(pk=delivery_id)
    attempt = delivery.attempts
    url = _webhook_url(delivery.target) if delivery.channel == AlertChannel.WEBHOOK else None
    if delivery.channel == AlertChannel.WEBHOOK and url is None:
        outcome = webhooks.Outcome(False, None, "This webhook is no longer in CEK_ALERT_WEBHOOKS.")
    elif delivery.channel == AlertChannel.WEBHOOK:
        outcome = webhooks.post(
            url=url,
            payload=delivery.payload,
            event=delivery.event,
            delivery_id=delivery.pk,
            secret=settings.CEK_ALERT_WEBHOOK_SECRET,
            timeout=settings.CEK_ALERT_TIMEOUT_SECONDS,
        )
    else:
        outcome = _send_email(delivery)
    now = timezone.now()
    rows = running_rows(kind, delivery_id, attempt)
    if outcome.delivered:
        rows.update(
            status=AlertStatus.DELIVERED,
            response_status=outcome.status,
            delivered_at=now,
            finished_at=now,
            phase="delivered",
            progress=100,
            next_attempt_at=None,
        )
        return None
    if attempt >= settings.CEK_ALERT_MAX_ATTEMPTS:
        rows.update(
            status=AlertStatus.FAILED,
            response_status=outcome.status,
            finished_at=now,
            phase="failed",
            last_error=f"{outcome.error} Gave up after {attempt} attempts; retry it when the receiver is fixed.",
            next_attempt_at=None,
        )
        return None
    wait = backoff(attempt)
    at = now + dt.timedelta(seconds=wait)
    rows.update(
        status=AlertStatus.QUEUED,
        response_status=outcome.status,
        heartbeat_at=now,
        phase=f"attempt {attempt + 1} of {settings.CEK_ALERT_MAX_ATTEMPTS} at {timezone.localtime(at):%H:%M:%S}",
        last_error=f"{outcome.error} Trying again at {timezone.localtime(at):%H:%M:%S}.",
        next_attempt_at=at,
    )
    return wait


def _send_email(delivery: AlertDelivery) -> webhooks.Outcome:
    findings = sorted(delivery.findings.all(), key=lambda finding: (finding.severity != "critical", finding.pk))
    recipient = get_user_model().objects.filter(email__iexact=delivery.target, is_active=True).first()
    context = {
        "recipient_name": person_name(recipient) if recipient else "",
        "findings": [
            {"finding": finding, "url": absolute_url(finding.get_absolute_url()), "rule": rule_title(finding.rule)}
            for finding in findings
        ],
        "findings_url": absolute_url("/evidence/findings/?status=open"),
    }
    try:
        sent = email_send(name="finding_alert", to=[delivery.target], context=context)
    except (OSError, ValueError) as exc:  # SMTP refused or unreachable
        return webhooks.Outcome(False, None, f"The mail server refused the message: {exc}.")
    return webhooks.Outcome(bool(sent), None, "" if sent else "No address to send to.")


def alert_delivery_retry(*, delivery: AlertDelivery, actor) -> AlertDelivery:
    """GRC queues a failed delivery again, with a fresh count of attempts."""
    require_grc(actor, "retry notifications")
    with transaction.atomic():
        updated = AlertDelivery.objects.filter(pk=delivery.pk, status=AlertStatus.FAILED).update(
            status=AlertStatus.QUEUED,
            attempts=0,
            phase="retried",
            last_error="",
            heartbeat_at=timezone.now(),
            finished_at=None,
            next_attempt_at=None,
        )
        if not updated:
            raise ValidationError("Only a failed notification can be retried.")
        delivery.refresh_from_db()
        enqueue(delivery, robust=True)
    return delivery
