"""Evidence packs: what an auditor downloads to test CEK-11 over an observation window.

An ``EvidencePack`` is requested for a window, a party's perspective and a scope (all keys, or some key
stores / tenants); a Celery worker snapshots the data in one repeatable-read transaction, renders the PDF,
writes the data files, hashes them into ``manifest.json``, signs it (Ed25519) and stores one ``.zip``.
Status: queued -> building (progress %) -> ready | failed (reason; retryable) | cancelled; a ready pack is
immutable and may expire. Every download is logged in ``PackDownload``. Building is a background job
(``cek.jobs``): ``EvidencePack.job`` declares its statuses, its watchdog and who may retry or cancel it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from cek.jobs.kinds import Fail, JobKind, Requeue
from cek.jobs.models import JobFields
from cek.roles import can_read_all, is_grc
from evidence.records import FrozenRecordError


class PackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


REQUEUED = "queued again"  # the phase of a queued pack the watchdog queued a second time


def pack_upload_path(instance: EvidencePack, filename: str) -> str:
    return f"packs/{instance.uid}/{filename}"


def may_manage(user, pack: EvidencePack) -> bool:
    """GRC manages (retries, cancels) every pack; an auditor the packs they requested."""
    return is_grc(user) or (can_read_all(user) and pack.requested_by_id == user.pk)


class EvidencePack(JobFields):
    uid = models.UUIDField("pack id", default=uuid.uuid4, unique=True, editable=False)
    window_from = models.DateField("observation window from")
    window_to = models.DateField("observation window to")
    party = models.ForeignKey(
        "inventory.Party", on_delete=models.PROTECT, related_name="evidence_packs", help_text="Whose perspective."
    )
    stores = models.ManyToManyField(
        "inventory.KeyStore", blank=True, related_name="+", help_text="Scope: these key stores only (none = all)."
    )
    tenants = models.ManyToManyField(
        "inventory.Tenant", blank=True, related_name="+", help_text="Scope: these tenants only (none = all)."
    )
    sample_size = models.PositiveSmallIntegerField(default=25)
    sample_seed = models.CharField(max_length=64, help_text="Seed of the reproducible key sample.")
    status = models.CharField(max_length=20, choices=PackStatus.choices, default=PackStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    file = models.FileField(upload_to=pack_upload_path, blank=True, max_length=300)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the .zip.")
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    signing_public_key = models.CharField(max_length=100, blank=True, help_text="Ed25519 public key (base64).")
    software_version = models.CharField(max_length=40, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    # Figures of the build: {"keys": 100000, "sampled": 25, "render_seconds": 12.3, ...}
    stats = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    job = JobKind(
        name="pack",
        task="evidence.tasks.pack_build",
        queued=(PackStatus.QUEUED,),
        running=(PackStatus.BUILDING,),
        succeeded=(PackStatus.READY, PackStatus.EXPIRED),
        failed=(PackStatus.FAILED,),
        cancelled=(PackStatus.CANCELLED,),
        stale_setting="CEK_PACK_STALE_MINUTES",
        since="requested_at",
        # Its worker was killed and the task not redelivered, or lost: failed, so it can be retried.
        when_running_stalls=Fail(
            "The worker stopped while building this pack ({silence}: it was stopped, killed or lost the task). "
            "Nothing was kept; retry the pack."
        ),
        # The broker lost the message, or no worker runs: queued once more (a second message for a pack whose
        # first one was only slow is harmless: the first task to claim it builds it), then failed.
        when_queued_stalls=Requeue(
            phase=REQUEUED,
            then_fail="No worker took this pack in {total_minutes} minutes, even queued a second time: no worker is "
            "running, or the queue lost it. Retry it once a worker runs (see /healthz).",
        ),
        fail_when_workers_stopped=True,
        may_view=can_read_all,
        may_retry=lambda user, pack: pack.status == PackStatus.FAILED and may_manage(user, pack),
        may_cancel=lambda user, pack: pack.status in (PackStatus.QUEUED, PackStatus.BUILDING)
        and may_manage(user, pack),
        sweep_on_status=True,
        status_route="evidence:pack-status",
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-requested_at"], name="pack_status_requested"),
            models.Index(fields=["requested_by", "-requested_at"], name="pack_requester"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_from__lte=models.F("window_to")), name="pack_window_order"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | (~models.Q(sha256="") & ~models.Q(manifest_sha256="")),
                name="pack_ready_has_digests",
            ),
        ]

    def __str__(self) -> str:
        return f"Evidence pack {self.window_from:%Y-%m-%d}..{self.window_to:%Y-%m-%d} ({self.uid.hex[:8]})"

    def save(self, *args, **kwargs):
        # A ready pack is evidence: the only change left to it is expiring (status "expired", its file removed
        # by the cleanup task). Everything else of it is frozen.
        if not self._state.adding and self.pk is not None:
            stored = EvidencePack.objects.filter(pk=self.pk).values(*FROZEN_FIELDS, "status", "file").first()
            if stored and stored["status"] == PackStatus.READY:
                changed = [name for name in FROZEN_FIELDS if getattr(self, name) != stored[name]]
                if (
                    self.status not in (PackStatus.READY, PackStatus.EXPIRED)
                    or changed
                    or (self.status == PackStatus.EXPIRED and self.file)
                    or (self.status == PackStatus.READY and self.file.name != stored["file"])
                ):
                    raise FrozenRecordError("A ready evidence pack cannot be changed; request a new pack instead.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("evidence:pack-detail", args=[self.pk])


FROZEN_FIELDS = (
    "window_from",
    "window_to",
    "party_id",
    "sample_size",
    "sample_seed",
    "sha256",
    "manifest_sha256",
    "size",
    "signing_public_key",
    "software_version",
    "pages",
    "requested_by_id",
    "finished_at",
)


class PackDownload(models.Model):
    """One download of a pack: who, when, from where (append-only)."""

    pack = models.ForeignKey(EvidencePack, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["pack", "-at"], name="packdownload_pack_at")]

    def __str__(self) -> str:
        return f"{self.user} downloaded {self.pack} at {self.at:%Y-%m-%d %H:%M}"
