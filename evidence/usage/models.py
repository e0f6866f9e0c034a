"""Key usage from audit logs: the ingestion of one file (a job row) and the aggregates it merges into.

Raw events are never stored. An ingestion reads its file with DuckDB (``evidence.usage.engine``) and merges one
``UsageAggregate`` per key x principal x operation x outcome x day into what earlier files gave, adding counts and
widening first/last seen. What later work computes from them (misuse rules, the key page's usage panel, AG-9)
needs no event: the key (or the reference of a key the inventory does not know), the principal and its type, the
platform's operation, the outcome, the day, counts, times, a bounded sample of event ids and of the context.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cek.jobs.kinds import Fail, JobKind, Requeue
from cek.jobs.models import JobFields
from cek.roles import is_grc

SAMPLE_EVENT_IDS = 5  # event ids kept per aggregate, for drill-down in the platform's own logs
CONTEXT_KEYS = 10  # encryption-context keys kept per aggregate
CONTEXT_VALUES = 5  # values kept per context key


def usage_upload_path(instance: UsageIngestion, filename: str) -> str:
    return f"usage-uploads/{instance.sha256[:16]}-{instance.pk or 'new'}.log"


class IngestionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# An ingestion in one of these holds its file's SHA-256 for its source: the same file again is refused.
HOLDS_FILE = (IngestionStatus.QUEUED, IngestionStatus.RUNNING, IngestionStatus.SUCCEEDED)


class UsageIngestion(JobFields):
    """One log file ingested: which file (name, SHA-256, size), which source and store, who, what it counted.

    The uploaded file is kept only until its ingestion ends (succeeded or failed), then deleted: a raw log is
    never kept. ``counts``: ``records`` read, ``events`` kept (key usage), ``skipped`` (other events),
    ``aggregates`` produced by the file, ``created`` / ``merged`` aggregate rows, ``keys`` and ``unknown_keys``
    named, ``withheld_context_values`` (values that looked like secrets)."""

    source = models.CharField(max_length=30, help_text="The log format (evidence.usage.sources).")
    store = models.ForeignKey(
        "inventory.KeyStore",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usage_ingestions",
        help_text="The store chosen for the file: events of another account or region are refused.",
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    file = models.FileField(upload_to=usage_upload_path, blank=True, max_length=300)
    status = models.CharField(max_length=20, choices=IngestionStatus.choices, default=IngestionStatus.QUEUED)
    counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    job = JobKind(
        name="usage-ingestion",
        task="evidence.tasks.usage_ingest",
        queued=(IngestionStatus.QUEUED,),
        running=(IngestionStatus.RUNNING,),
        succeeded=(IngestionStatus.SUCCEEDED,),
        failed=(IngestionStatus.FAILED,),
        stale_setting="CEK_USAGE_STALE_MINUTES",
        since="created_at",
        # The merge is one transaction: a worker that died wrote nothing.
        when_running_stalls=Fail(
            "The worker ingesting this file stopped ({silence}). Nothing was written; upload the file again."
        ),
        when_queued_stalls=Requeue(
            phase="queued again",
            then_fail="No worker took this ingestion in {total_minutes} minutes, even queued a second time: no "
            "worker is running. Upload the file again once a worker runs (see /healthz).",
        ),
        fail_when_workers_stopped=True,
        may_view=is_grc,
        sweep_on_status=True,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="usage_ingestion_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sha256"],
                condition=models.Q(status__in=HOLDS_FILE),
                name="usage_ingestion_one_per_file",
                violation_error_message="This file was already ingested.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def source_label(self) -> str:
        from evidence.usage.sources import REGISTRY

        source = REGISTRY.get(self.source)
        return source.label if source is not None else self.source


class PrincipalType(models.TextChoices):
    USER = "user", "User"
    ROLE = "role", "Role"
    SERVICE = "service", "Platform service"
    ACCOUNT = "account", "Account"
    OTHER = "other", "Other"


class UsageAggregate(models.Model):
    """Calls of one key by one principal with one operation and outcome on one day (UTC), from every file ingested.

    ``key`` is the inventory key when the reference resolved (``key_ref`` is then its external id), else None
    with ``key_ref`` as the log named it: an unknown key, kept so that inventory completeness can be judged.
    ``dimensions`` is the SHA-256 of the grouping (key or store/account/region/reference, principal, operation,
    error code, day): the upsert's conflict target on every database."""

    dimensions = models.CharField(max_length=64, unique=True, editable=False)
    source = models.CharField(max_length=30)
    key = models.ForeignKey(
        "inventory.Key", on_delete=models.SET_NULL, null=True, blank=True, related_name="usage_aggregates"
    )
    store = models.ForeignKey(
        "inventory.KeyStore", on_delete=models.SET_NULL, null=True, blank=True, related_name="usage_aggregates"
    )
    account = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=100, blank=True)
    key_ref = models.CharField("key reference", max_length=500)
    principal = models.CharField(max_length=500)
    principal_type = models.CharField(max_length=10, choices=PrincipalType.choices, default=PrincipalType.OTHER)
    operation = models.CharField(max_length=100)
    error_code = models.CharField(max_length=100, blank=True, help_text="Empty: the calls succeeded.")
    day = models.DateField()
    count = models.PositiveBigIntegerField()
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    sample_event_ids = models.JSONField(default=list, blank=True)
    context = models.JSONField(
        default=dict, blank=True, help_text="Context keys with up to a few values each (secrets withheld)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "key_ref", "principal", "operation", "error_code"]
        indexes = [
            models.Index(fields=["key", "-day"], name="usage_key_day"),
            models.Index(fields=["principal", "-day"], name="usage_principal_day"),
            models.Index(fields=["operation", "-day"], name="usage_operation_day"),
            models.Index(fields=["store", "-day"], name="usage_store_day"),
            models.Index(fields=["-day"], name="usage_day"),
            models.Index(fields=["key_ref"], condition=models.Q(key__isnull=True), name="usage_unknown_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key_ref} {self.principal} {self.operation} {self.day:%Y-%m-%d}: {self.count}"

    @property
    def failed(self) -> bool:
        return bool(self.error_code)


class UnknownUsageKey(models.Model):
    """A key the logs name that the inventory does not have (within a store, or an account and region when no store
    matched): the subject of its ``usage-unknown-key`` finding, one row per reference so the finding is upserted,
    never duplicated, ingestion after ingestion (as ``evidence.iac.IacAddress`` is for the IaC gate)."""

    dimensions = models.CharField(max_length=64, unique=True, editable=False)
    store = models.ForeignKey("inventory.KeyStore", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    account = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=100, blank=True)
    key_ref = models.CharField("key reference", max_length=500)
    first_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key_ref", "id"]
        verbose_name = "unknown key in usage logs"
        verbose_name_plural = "unknown keys in usage logs"

    def __str__(self) -> str:
        where = self.store.name if self.store_id else " ".join(part for part in (self.account, self.region) if part)
        return f"{self.key_ref} ({where or 'no store matched'})"
