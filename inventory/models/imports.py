"""Imports of inventory files: who, when, which file, what they did."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cek.jobs.kinds import Fail, JobKind
from cek.jobs.models import JobFields
from cek.roles import is_grc
from inventory.models.stores import KeyStore


def import_upload_path(instance: KeyImport, filename: str) -> str:
    return f"imports/{instance.created_at:%Y/%m}/{instance.sha256[:16]}-{instance.pk}.dat"


class KeyImport(JobFields):
    """One import of an inventory file: who, when, which file (name, SHA-256), what it did.

    The uploaded file is kept (it is metadata, and it was checked for key material before it was kept) so
    that the preview the user saw is exactly what is applied. A file refused for key material or unsafe text
    is never written anywhere: its record keeps the name, size, SHA-256 and the refusal (row, field, kind and
    reason of each finding, never a value).

    Applying a large file is a background job (``cek.jobs``): "applying" while a worker writes it in one
    transaction, so its progress goes to the cache only (``started_at``: when applying started).
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"
        REFUSED = "refused", "Refused"

    class RefusalKind(models.TextChoices):
        KEY_MATERIAL = "key_material", "Key material"
        UNSAFE_TEXT = "unsafe_text", "Unsafe text"

    format = models.CharField(max_length=30)
    store = models.ForeignKey(
        KeyStore,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="imports",
        help_text="The store the file belongs to (platform exports), chosen at upload or matched from the file.",
    )
    full = models.BooleanField(
        "full import",
        default=False,
        help_text="The file lists every key of the store: keys it does not list are marked not seen since the import.",
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=import_upload_path, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEWED)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(
        default=list, blank=True, help_text="Conflicts and unknown references found in the file (they do not block it)."
    )
    unknowns = models.JSONField(
        default=dict, blank=True, help_text="Owners, services and tenants named by tags that match nothing here."
    )
    refusal = models.JSONField(
        default=list,
        blank=True,
        help_text="Why the file was refused, one entry per finding: row, field, kind and reason (never the value).",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="key_imports")
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="applied_key_imports"
    )

    job = JobKind(
        name="import",
        task="inventory.tasks.apply_key_import",
        running=(Status.APPLYING,),
        succeeded=(Status.APPLIED,),
        failed=(Status.FAILED, Status.REFUSED),
        cancelled=(Status.DISCARDED,),
        stale_setting="CEK_IMPORT_STALE_MINUTES",
        since="started_at",
        # Nothing of it was committed: apply writes in one transaction.
        when_running_stalls=Fail(
            "The worker applying this import stopped reporting for over {minutes} minutes. Nothing was written; "
            "retry the import."
        ),
        may_view=is_grc,
        may_retry=lambda user, record: is_grc(user) and record.status == KeyImport.Status.FAILED and bool(record.file),
        status_route="inventory:import-status",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @staticmethod
    def rejected_at_upload_q() -> models.Q:
        """Uploads refused before any preview (unreadable file, wrong format, no matching store): recorded for the
        trail (who, which file, why), but no import: nothing was planned, kept or written, nothing to retry.
        A failed apply keeps its file (it may be retried), so it is never one of these."""
        return models.Q(status=KeyImport.Status.FAILED, file="", started_at__isnull=True)

    @property
    def rejected_at_upload(self) -> bool:
        return self.status == self.Status.FAILED and not self.file and self.started_at is None

    # What the pages and the API call an upload rejected before its preview: stored as "failed" (it is one for
    # the job model), shown apart from the failed imports, which may be retried.
    REJECTED = "rejected"
    REJECTED_LABEL = "Rejected at upload"

    @classmethod
    def shown_status_choices(cls) -> list[tuple[str, str]]:
        """The statuses the pages and the API tell apart: the stored ones, and "rejected"."""
        return [*cls.Status.choices, (cls.REJECTED, cls.REJECTED_LABEL)]

    @classmethod
    def shown_status_q(cls, value: str) -> models.Q:
        """The imports whose shown status is ``value`` (one of ``shown_status_choices``)."""
        if value == cls.REJECTED:
            return cls.rejected_at_upload_q()
        if value == cls.Status.FAILED:
            return models.Q(status=value) & ~cls.rejected_at_upload_q()
        return models.Q(status=value)

    @property
    def shown_status(self) -> str:
        """The status as the pages and the API tell it: "rejected" for an upload rejected before its preview."""
        return self.REJECTED if self.rejected_at_upload else self.status

    @property
    def status_label(self) -> str:
        """The status as people read it: an upload rejected before its preview is not a failed import."""
        return self.REJECTED_LABEL if self.rejected_at_upload else self.get_status_display()

    @property
    def format_label(self) -> str:
        """The format's name as the upload page shows it ("AWS KMS", "CycloneDX CBOM"), not its code."""
        from inventory.importers import REGISTRY  # the importers import these models

        importer = REGISTRY.get(self.format)
        return importer.label if importer is not None else self.format

    @property
    def refusal_summary(self) -> str:
        """ "Key material: row 3 (description), a PEM private key block; ..." for the history page."""
        parts = []
        for item in self.refusal[:5]:
            where = f"row {item['row']}" if item.get("row") is not None else ""
            if item.get("field"):
                where = f"{where} ({item['field']})" if where else item["field"]
            kind = dict(self.RefusalKind.choices).get(item.get("kind", ""), "Refused")
            parts.append(f"{kind}: {where + ', ' if where else ''}{item.get('reason', '')}")
        more = len(self.refusal) - 5
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
