"""One notification to one target, with its delivery attempts: a webhook POST about one finding, or an e-mail to one
person listing the new findings of one batch (a scan, an ingestion) that concern them.

Only findings seen for the first time are notified (``finding_upsert`` says so once in a finding's life), and
``dedupe_key`` is unique, so no target hears of a finding twice. A delivery is a job (``cek.jobs``): queued,
sending, then delivered or failed; a failed attempt with attempts left goes back to queued with the reason and
when it is tried again."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cek.jobs.kinds import Fail, JobKind, Requeue
from cek.jobs.models import JobFields
from cek.roles import is_grc


class AlertChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class AlertStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class AlertDelivery(JobFields):
    findings = models.ManyToManyField("evidence.Finding", related_name="alert_deliveries")
    dedupe_key = models.CharField(
        max_length=120, unique=True, help_text="webhook:<finding>:<url digest> or email:<batch>:<address digest>."
    )
    channel = models.CharField(max_length=10, choices=AlertChannel.choices)
    target = models.CharField(max_length=500, help_text="The e-mail address or the webhook URL.")
    event = models.CharField(max_length=40, default="finding.opened")
    payload = models.JSONField(default=dict, blank=True, help_text="The webhook body, as sent on every attempt.")
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.QUEUED)
    response_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The webhook's last HTTP status."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a failed attempt is tried again.")
    delivered_at = models.DateTimeField(null=True, blank=True)

    job = JobKind(
        name="alert",
        task="evidence.alerts.deliver",
        queued=(AlertStatus.QUEUED,),
        running=(AlertStatus.SENDING,),
        succeeded=(AlertStatus.DELIVERED,),
        failed=(AlertStatus.FAILED,),
        stale_setting="CEK_ALERT_STALE_MINUTES",
        since="created_at",
        # The broker lost the message (or no worker ran when it was queued, or its retry): queued once more.
        when_queued_stalls=Requeue(
            reason="Queued again: no worker took this notification within {minutes} minutes.",
            phase="requeued",
            then_fail="No worker sent this notification within {total_minutes} minutes; retry it.",
        ),
        when_running_stalls=Fail(
            "The worker stopped while sending this notification ({silence}); retry it. The receiver may have got it."
        ),
        may_view=is_grc,
        may_retry=lambda user, delivery: is_grc(user),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "alert delivery"
        verbose_name_plural = "alert deliveries"
        indexes = [
            models.Index(fields=["status", "-created_at"], name="alert_status_created"),
            models.Index(fields=["channel", "-created_at"], name="alert_channel_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.target}: {self.get_status_display()}"

    @property
    def max_attempts(self) -> int:
        return settings.CEK_ALERT_MAX_ATTEMPTS
