"""Attestation campaigns (CEK-11: key owners periodically confirm their keys serve their one recorded purpose).

A ``Campaign`` names its scope (all active keys, narrowed by store, purpose, tenant or service), a versioned
statement set with its SHA-256, a due date and a reminder cadence. Launching creates one ``Attestation`` per
key in scope, addressed to the key's owner (its backup owner when it has none; keys with neither stay
unaddressed and are listed on the campaign). ``CampaignNotice`` is the append-only log of e-mails sent.

An answered attestation is frozen, and so is every attestation of a closed campaign: ``save`` refuses it and
the queryset's ``update`` only ever touches pending rows of open campaigns, so no path changes an answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from cek.jobs.kinds import JobKind, Requeue
from cek.jobs.models import JobFields
from cek.keymaterial import KeyMaterialValidator
from cek.roles import can_read_all
from evidence.campaigns import schedule
from evidence.records import FrozenRecordError

free_text = KeyMaterialValidator()

# Versioned statement sets derived from CEK-11. A new wording is a new version; old versions stay here,
# because answers record the version and digest they were given against.
STATEMENT_SETS: dict[str, tuple[str, ...]] = {
    "cek-11-v1": (
        "The key serves only its recorded purpose.",
        "Its recorded bindings and the services using it are correct and complete.",
        "Access to it is limited to the listed principals.",
        "It is not shared across services or tenants beyond what is recorded.",
        "It is rotated per policy (within its cryptoperiod).",
    ),
}
DEFAULT_STATEMENT_VERSION = "cek-11-v1"


def statements_digest(statements) -> str:
    """SHA-256 of the statements as canonical JSON (a list of strings, in order)."""
    return hashlib.sha256(json.dumps(list(statements), ensure_ascii=False).encode()).hexdigest()


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    LAUNCHING = "launching", "Launching"
    LAUNCHED = "launched", "Launched"
    CLOSED = "closed", "Closed"


class Campaign(JobFields):
    """Launching a large scope is a background job (``cek.jobs``, as ``Campaign.job`` declares): "launching" while
    a worker creates the attestations (``keys_done`` of ``keys_total``) and mails each owner once."""

    name = models.CharField(max_length=200, validators=[free_text])
    scope_store = models.ForeignKey(
        "inventory.KeyStore", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="store"
    )
    scope_purpose = models.ForeignKey(
        "inventory.Purpose", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="purpose"
    )
    scope_tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="tenant"
    )
    scope_service = models.ForeignKey(
        "inventory.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="service"
    )
    statement_version = models.CharField(max_length=40, default=DEFAULT_STATEMENT_VERSION)
    statements = models.JSONField(default=list)
    statements_sha256 = models.CharField(max_length=64)
    due_on = models.DateField()
    reminder_days = models.PositiveSmallIntegerField(
        "reminder cadence (days)",
        default=schedule.DEFAULT_REMINDER_DAYS,
        help_text="Pending owners are reminded every this many days.",
    )
    status = models.CharField(max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Progress of the launch job (large scopes run on a worker).
    keys_total = models.PositiveIntegerField(default=0)
    keys_done = models.PositiveIntegerField(default=0)
    # Set on close: the SHA-256 of the results CSV (header included) and its number of data rows, so the
    # export of a closed campaign can be checked against what was recorded when it closed.
    results_sha256 = models.CharField("results SHA-256", max_length=64, blank=True)
    results_rows = models.PositiveIntegerField("results rows", null=True, blank=True)
    # Ask only about keys changed since their last confirmed attestation; the others are carried over (one
    # ``CarriedOver`` row each, naming the attestation), counted in ``keys_carried_over`` at launch.
    only_changed = models.BooleanField(
        "only keys changed since their last confirmation",
        default=False,
        help_text="Keys whose purpose, owners, bindings, grants, state and labels are unchanged since a confirmed "
        "attestation are carried over, not asked again.",
    )
    keys_carried_over = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    job = JobKind(
        name="campaign-launch",
        task="evidence.tasks.campaign_launch_run",
        running=(CampaignStatus.LAUNCHING,),
        succeeded=(CampaignStatus.LAUNCHED, CampaignStatus.CLOSED),
        stale_setting="CEK_CAMPAIGN_LAUNCH_STALE_MINUTES",
        since="launched_at",
        # The broker lost the task, or the worker stopped mid-launch: queued again (at most once per threshold),
        # never failed. Safe: a launch skips the attestations and notices it made already.
        when_running_stalls=Requeue(
            reason="The launch had not finished {minutes} minutes after it was requested (the worker stopped or the "
            "queue lost it); it was queued again and goes on where it stopped."
        ),
        may_view=can_read_all,
        status_route="evidence:campaign-status",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reminder_days__gte=schedule.MIN_REMINDER_DAYS),
                name="campaign_reminder_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("evidence:campaign-detail", args=[self.pk])

    @property
    def launch_percent(self) -> int:
        """How far a launch has got (attestations created of keys in scope), 0-100."""
        return min(100, int(100 * self.keys_done / self.keys_total)) if self.keys_total else 0

    def scope_label(self) -> str:
        parts = [
            f"{label} {value}"
            for label, value in (
                ("store", self.scope_store),
                ("purpose", self.scope_purpose),
                ("tenant", self.scope_tenant),
                ("service", self.scope_service),
            )
            if value is not None
        ]
        return "All active keys" + (f" of {', '.join(parts)}" if parts else "")

    def is_overdue(self, today: dt.date) -> bool:
        return self.status == CampaignStatus.LAUNCHED and self.due_on < today


class AttestationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    DISCREPANCY = "discrepancy", "Discrepancy reported"


class AttestationQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """Only pending attestations of campaigns still open ever change: answers are frozen."""
        return super(
            AttestationQuerySet,
            self.filter(status=AttestationStatus.PENDING).exclude(campaign__status=CampaignStatus.CLOSED),
        ).update(**kwargs)

    def delete(self):
        raise FrozenRecordError("Attestations are evidence and cannot be deleted.")


class Attestation(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="attestations")
    key = models.ForeignKey("inventory.Key", on_delete=models.PROTECT, related_name="attestations")
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="attestations"
    )
    status = models.CharField(max_length=20, choices=AttestationStatus.choices, default=AttestationStatus.PENDING)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, validators=[free_text])
    statement_version = models.CharField(max_length=40, blank=True)
    statements_sha256 = models.CharField(max_length=64, blank=True)
    reassigned_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reassigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reassigned_at = models.DateTimeField(null=True, blank=True)

    objects = AttestationQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "key__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="attestation_unique_campaign_key"),
            models.CheckConstraint(
                condition=models.Q(status="pending")
                | (models.Q(responded_by__isnull=False, responded_at__isnull=False) & ~models.Q(statements_sha256="")),
                name="attestation_answer_is_attributed",
            ),
        ]
        indexes = [
            models.Index(fields=["addressed_to", "status"]),
            models.Index(fields=["campaign", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.key}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            current = Attestation.objects.filter(pk=self.pk).values_list("status", "campaign__status").first()
            if current and (current[0] != AttestationStatus.PENDING or current[1] == CampaignStatus.CLOSED):
                raise FrozenRecordError(
                    "This attestation was answered or its campaign closed; the record cannot be changed."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FrozenRecordError("Attestations are evidence and cannot be deleted.")


class NoticeKind(models.TextChoices):
    LAUNCH = "launch", "Launch"
    REMINDER = "reminder", "Reminder"
    ESCALATION = "escalation", "Escalation"


class CampaignNotice(models.Model):
    """One e-mail of a campaign to one person on one day: the row is claimed before the mail is sent, so
    a task run twice (or two workers) never mails the same person twice the same day."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    sent_on = models.DateField()
    pending_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "recipient", "kind", "sent_on"], name="campaign_notice_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.campaign} to {self.recipient} on {self.sent_on:%Y-%m-%d}"


class CarriedOver(models.Model):
    """A key a campaign did not ask about: unchanged since ``attestation`` (its last confirmed one, in an earlier
    launched or closed campaign), which stands for it in this campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="carried_over")
    key = models.ForeignKey("inventory.Key", on_delete=models.PROTECT, related_name="+")
    attestation = models.ForeignKey(Attestation, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["campaign", "key__name", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="carried_over_unique_campaign_key")]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.key} (carried over)"
