"""Findings: one row per rule and subject, upserted by whatever observes a problem (attestation discrepancies
now; checks, usage logs and IaC scans later). The row keeps its first and last sighting; GRC resolves it or
accepts the risk until a date, with an approver and a reason."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from cek.keymaterial import KeyMaterialValidator

free_text = KeyMaterialValidator()


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    RISK_ACCEPTED = "risk-accepted", "Risk accepted"
    RESOLVED = "resolved", "Resolved"


class Finding(models.Model):
    """A problem ``rule`` found on a subject (``subject_type`` is the subject's ``app_label.model``)."""

    rule = models.SlugField(max_length=80)
    subject_type = models.CharField(max_length=80, help_text="app_label.model of the subject, e.g. inventory.key.")
    subject_id = models.PositiveBigIntegerField()
    subject_label = models.CharField(max_length=300)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_until = models.DateField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_reason = models.TextField(blank=True, validators=[free_text])
    details = models.JSONField(default=dict, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_findings",
        help_text="Who is remediating it.",
    )
    remediation_due = models.DateField(null=True, blank=True, help_text="When the remediation is planned to be done.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "subject_type", "subject_id"], name="finding_unique_rule_subject"),
            models.CheckConstraint(
                condition=~models.Q(status="risk-accepted")
                | (models.Q(accepted_until__isnull=False, accepted_by__isnull=False) & ~models.Q(accepted_reason="")),
                name="finding_risk_acceptance_complete",
                violation_error_message="A risk acceptance needs an end date, an approver and a reason.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["rule", "status"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self) -> str:
        # What the admin (its titles, breadcrumbs and history) calls the finding: the finding page's heading.
        return f"{self.rule_title}: {self.subject_label}"

    def get_absolute_url(self) -> str:
        return reverse("evidence:finding-detail", args=[self.pk])

    @property
    def rule_title(self) -> str:
        """What was found, in words (the rule id stays for filters and exports)."""
        from evidence.findings.rules import rule_title

        return rule_title(self.rule)

    def acceptance_expired(self, today: dt.date) -> bool:
        return (
            self.status == FindingStatus.RISK_ACCEPTED
            and self.accepted_until is not None
            and self.accepted_until < today
        )
