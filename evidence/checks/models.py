"""Check runs: the control's auditing guidelines (AG-1..10, CCM-1..3) evaluated from the data.

A ``CheckRun`` is one evaluation of every registered check (who or what triggered it, when, how long it took);
it has one ``CheckResult`` per guideline with a status, a metric ("412 of 415 keys in use"), the failing
subjects (capped; the full count is kept), an explanation and references to the evidence used. Results are
kept per run so the dashboard can show a trend and a published CAIQ answer can name the run it came from.

``ManualEvidence`` is what people attach to a guideline the data cannot (yet) decide (AG-8 without IaC scans,
AG-9 without usage records): a note, optionally a document with its SHA-256, and the author's assessment.
It is write-once: a newer record supersedes an older one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from cek.jobs.kinds import Fail, JobKind
from cek.jobs.models import JobFields
from cek.keymaterial import KeyMaterialValidator
from cek.roles import can_read_all, is_grc
from evidence.records import WriteOnceModel

free_text = KeyMaterialValidator()

FAILING_SUBJECTS_KEPT = 200  # per result; failing_count holds the full number


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    PARTIAL = "partial", "Partial"
    FAIL = "fail", "Fail"
    MANUAL = "manual", "Manual"
    NOT_APPLICABLE = "na", "Not applicable"


class RunTrigger(models.TextChoices):
    UI = "ui", "Web UI"
    API = "api", "API"
    COMMAND = "command", "manage.py run_checks"
    SCHEDULE = "schedule", "Nightly schedule"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


STALE_RUN = (
    "The run did not finish within {minutes} minutes (its worker stopped or the task was lost). Nothing was written; "
    "retry it."
)


class CheckRun(JobFields):
    """A large inventory is evaluated by a worker: a background job (``cek.jobs``) that writes in one transaction,
    so its progress (one step per guideline) goes to the cache only."""

    trigger = models.CharField(max_length=20, choices=RunTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    catalog_version = models.CharField(max_length=40, help_text="The control catalog the guidelines came from.")
    created_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # Summary kept on the row so lists and the trend read one table: {"pass": 9, "fail": 2, ...}, the
    # number of keys in use (active or suspended) evaluated, and the findings opened / resolved by this run.
    counts = models.JSONField(default=dict, blank=True)
    keys_evaluated = models.PositiveIntegerField(default=0)
    findings_opened = models.PositiveIntegerField(default=0)
    findings_resolved = models.PositiveIntegerField(default=0)

    job = JobKind(
        name="check-run",
        task="evidence.tasks.checks_run",
        queued=(RunStatus.QUEUED,),
        running=(RunStatus.RUNNING,),
        succeeded=(RunStatus.SUCCEEDED,),
        failed=(RunStatus.FAILED,),
        stale_setting="CEK_CHECKS_STALE_MINUTES",
        since="created_at",
        # Failed (queued or running), so a new run can start; a run writes in one transaction: nothing was kept.
        when_queued_stalls=Fail(STALE_RUN),
        when_running_stalls=Fail(STALE_RUN),
        may_view=can_read_all,
        may_retry=lambda user, run: run.status == RunStatus.FAILED and is_grc(user),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="checkrun_status_created")]
        constraints = [
            # At most one run queued or running: two GRC users starting runs at the same moment both pass a
            # "is one in progress?" read; the database lets only one of the inserts through.
            models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(status__in=["queued", "running"]),
                name="checkrun_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display().lower()})"

    @property
    def title(self) -> str:
        """How pages and messages name the run: "Check run of 6 Dec 2026, 14:05 UTC" (when it was started), not
        its number (which stays in its URL, the API and the exports)."""
        return f"Check run of {self.when}"

    @property
    def when(self) -> str:
        from cek.templatetags.dates import words_datetime  # the template library imports no models

        return words_datetime(self.created_at)

    def get_absolute_url(self) -> str:
        return reverse("evidence:checkrun-detail", args=[self.pk])

    @property
    def passing(self) -> int:
        return int(self.counts.get(CheckStatus.PASS, 0))


class CheckResult(models.Model):
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    guideline_id = models.CharField(max_length=20, help_text="AG-1..AG-10, CCM-1..CCM-3.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Display order (catalog order).")
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    metric = models.CharField(max_length=200, blank=True, help_text='e.g. "412 of 415 keys in use".')
    numerator = models.PositiveIntegerField(null=True, blank=True)
    denominator = models.PositiveIntegerField(null=True, blank=True)
    explanation = models.TextField(blank=True)
    # [{"type": "inventory.key", "id": 12, "label": "orders-signing", "reason": "..."}], at most
    # FAILING_SUBJECTS_KEPT of them; failing_count is the full number.
    failing = models.JSONField(default=list, blank=True)
    failing_count = models.PositiveIntegerField(default=0)
    # [{"label": "Key inventory", "url": "/inventory/keys/?..."}, {"label": "Policy v3", "sha256": "..."}]
    evidence = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    manual_evidence = models.ForeignKey(
        "ManualEvidence", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["run", "position", "guideline_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "guideline_id"], name="checkresult_unique_run_guideline"),
        ]
        indexes = [models.Index(fields=["guideline_id", "run"], name="checkresult_guideline_run")]

    def __str__(self) -> str:
        return f"{self.guideline_id}: {self.get_status_display()}"


def manual_evidence_path(instance: ManualEvidence, filename: str) -> str:
    return f"manual-evidence/{instance.guideline_id}/{instance.sha256[:16]}-{filename}"


class ManualEvidence(WriteOnceModel):
    """Evidence people attach to a guideline the data cannot decide; the newest one per guideline counts."""

    guideline_id = models.CharField(max_length=20)
    assessment = models.CharField(
        max_length=10,
        choices=[(CheckStatus.PASS, "Pass"), (CheckStatus.PARTIAL, "Partial"), (CheckStatus.FAIL, "Fail")],
        blank=True,
        help_text="The author's judgement; blank when the note only records what was seen.",
    )
    note = models.TextField(validators=[free_text])
    document = models.FileField(upload_to=manual_evidence_path, blank=True)
    document_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "manual evidence"
        indexes = [models.Index(fields=["guideline_id", "-created_at"], name="manualevidence_guideline")]

    def __str__(self) -> str:
        return f"{self.guideline_id} evidence by {self.created_by} on {self.created_at:%Y-%m-%d}"

    def recorded_on_display(self) -> str:
        return f"{self.created_at:%Y-%m-%d}"
