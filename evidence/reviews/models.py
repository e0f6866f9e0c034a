"""Reviews of policies (CEK-11 IG-5, IG-6): periodic and change-triggered reviews, significant changes,
effectiveness evaluations, and the log of review reminders sent.

When a review is due is computed in ``evidence.reviews.schedule`` and kept on ``Policy.next_review_due_on`` by
the services. ``ReviewReminder`` is an append-only log (each row is the record): no history table.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cek.models import TimeStamped
from evidence.policies.models import AreaListValidator, Policy, free_text


class ReviewOutcome(models.TextChoices):
    NO_CHANGE = "no-change", "No change needed"
    NEW_VERSION = "new-version", "New version needed"
    RETIRED = "retired", "Retired"


class ChangeKind(models.TextChoices):
    SYSTEM = "system", "Significant system change"
    MODEL = "model", "Significant model change"
    REGULATORY = "regulatory", "Regulatory change"


class EvaluationKind(models.TextChoices):
    INTERNAL_AUDIT = "internal-audit", "Internal audit"
    TECHNICAL_REVIEW = "technical-review", "Technical review"
    ENCRYPTION_VALIDATION = "encryption-control-validation", "Encryption control validation"


class EvaluationResult(models.TextChoices):
    EFFECTIVE = "effective", "Effective"
    PARTIALLY_EFFECTIVE = "partially-effective", "Partially effective"
    NOT_EFFECTIVE = "not-effective", "Not effective"


class PolicyReview(TimeStamped):
    """A periodic or change-triggered review: who, when, with what outcome."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="policy_reviews")
    reviewed_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices)
    notes = models.TextField(blank=True, validators=[free_text])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        indexes = [models.Index(fields=["policy", "reviewed_on"])]

    def __str__(self) -> str:
        return f"Review of {self.policy} on {self.reviewed_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return f"{self.policy.get_absolute_url()}#review-{self.pk}"


class ChangeEvent(TimeStamped):
    """A significant system, model or regulatory change: the affected policies must be reviewed within
    ``CEK_CHANGE_REVIEW_DAYS`` (IG-6). The deadline is fixed when the change is recorded."""

    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    title = models.CharField(max_length=200, validators=[free_text])
    description = models.TextField(validators=[free_text])
    occurred_on = models.DateField(help_text="When the change took (or takes) effect.")
    areas = models.JSONField(
        default=list,
        blank=True,
        validators=[AreaListValidator()],
        help_text="Every policy covering one of these areas is affected, in addition to those chosen below.",
    )
    policies = models.ManyToManyField(
        Policy, blank=True, related_name="change_events", verbose_name="affected policies"
    )
    review_due_on = models.DateField(
        "review due by",
        editable=False,
        help_text="Derived: the later of the change and the day it was recorded, plus CEK_CHANGE_REVIEW_DAYS.",
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(m2m_fields=[policies])

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["occurred_on"]), models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("evidence:changeevent-detail", args=[self.pk])


class EffectivenessEvaluation(TimeStamped):
    """An internal audit, technical review or encryption control validation of how the policies work (IG-5)."""

    kind = models.CharField(max_length=40, choices=EvaluationKind.choices)
    title = models.CharField(max_length=200, validators=[free_text])
    performed_on = models.DateField()
    scope = models.TextField(validators=[free_text], help_text="What was evaluated: systems, keys, controls, period.")
    result = models.CharField(max_length=30, choices=EvaluationResult.choices)
    findings = models.TextField(
        blank=True, validators=[free_text], help_text="Required unless the result is 'effective'."
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="policy_evaluations"
    )
    assessor = models.CharField(
        "external assessor", max_length=200, blank=True, validators=[free_text], help_text="Firm, if external."
    )
    policies = models.ManyToManyField(Policy, blank=True, related_name="evaluations", verbose_name="policies evaluated")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(m2m_fields=[policies])

    class Meta:
        ordering = ["-performed_on", "-id"]
        indexes = [
            models.Index(fields=["performed_on"]),
            models.Index(fields=["kind"]),
            models.Index(fields=["result"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("evidence:evaluation-detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if self.result and self.result != EvaluationResult.EFFECTIVE and not self.findings.strip():
            raise ValidationError({"findings": "Describe the findings: the result is not 'effective'."})
        if self.performed_on and self.performed_on > timezone.localdate():
            raise ValidationError({"performed_on": "An evaluation is recorded once performed; this date is ahead."})


class ReviewReminder(models.Model):
    """One review reminder sent for one due date. ``days_before`` is 30, 7 or 0, or -7, -14 ... while overdue.

    The unique triple is what keeps each reminder to once, however often the daily task runs."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="review_reminders")
    due_on = models.DateField()
    days_before = models.IntegerField()
    sent_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.CharField(max_length=500, help_text="E-mail addresses, comma-separated.")

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["policy", "due_on", "days_before"], name="review_reminder_once")]

    def __str__(self) -> str:
        return f"Reminder for {self.policy} due {self.due_on:%Y-%m-%d} ({self.days_before:+d} days)"
