"""Policies and procedures for cryptography, encryption and key management (CEK-11 IG-1..3, CCM-1).

A ``Policy`` has ``PolicyVersion``s. A version is drafted, submitted for approval, approved by a governance
body (``PolicyApproval``) and later superseded by the next approved version. Approved versions are
communicated to audiences (``Communication``: Django groups) and acknowledged by each recipient
(``Acknowledgement``). Reviews, significant changes and effectiveness evaluations are in ``reviews``.

Records that are evidence once written are frozen, in the model as well as in the services, so no path
(form, service, admin, shell, ``QuerySet.update``) can change them:

- a version's content once it left draft (submitted, approved or superseded); its status only moves
  forward along ``VERSION_TRANSITIONS``;
- approvals, communications and acknowledgements, once saved.

``PolicyDelivery`` (who was e-mailed a version) is an append-only log: each row is itself the record, with
its time, so it carries no history table (nor does ``reviews.ReviewReminder``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from simple_history.models import HistoricalRecords

from cek.keymaterial import KeyMaterialValidator
from cek.models import TimeStamped
from cek.people import person_name
from evidence.records import FrozenRecordError, WriteOnceModel

free_text = KeyMaterialValidator()
https_only = URLValidator(
    schemes=["https"], message="Enter the document's https:// address (plain http links are not accepted)."
)


@deconstructible
class AreaListValidator:
    """``areas`` is a JSON list of ``PolicyArea`` values."""

    def __call__(self, value) -> None:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError("Areas must be a list of values.", code="not_a_list")
        unknown = sorted(set(value) - set(PolicyArea.values))
        if unknown:
            raise ValidationError(
                f"Areas: {', '.join(unknown)} not recognised; expected some of: {', '.join(PolicyArea.values)}.",
                code="unknown_value",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AreaListValidator)

    def __hash__(self) -> int:
        return hash("AreaListValidator")


class PolicyKind(models.TextChoices):
    POLICY = "policy", "Policy"
    PROCEDURE = "procedure", "Procedure"


class PolicyArea(models.TextChoices):
    """What a policy covers. A ``ChangeEvent`` naming an area makes every policy tagged with it due for review."""

    KEY_MANAGEMENT = "key-management", "Key management"
    KEY_PURPOSE = "key-purpose", "Key purpose and separation"
    ENCRYPTION = "encryption", "Encryption"
    SECRETS = "secrets", "Secrets and credentials"
    PKI = "pki", "Certificates and PKI"
    ACCESS = "access-control", "Access to keys"
    AI_MODELS = "ai-models", "AI models and artifacts"
    AI_DATA = "ai-data", "AI training and inference data"
    CLOUD = "cloud", "Cloud infrastructure and KMS"
    SUPPLY_CHAIN = "supply-chain", "Third parties and supply chain"
    LOGGING = "logging", "Logging and monitoring"
    REGULATORY = "regulatory", "Regulatory and contractual"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_APPROVAL = "in-approval", "In approval"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"


# Which status may follow which. Approved versions only ever become superseded; superseded is final.
VERSION_TRANSITIONS: dict[str, frozenset[str]] = {
    VersionStatus.DRAFT: frozenset({VersionStatus.DRAFT, VersionStatus.IN_APPROVAL}),
    VersionStatus.IN_APPROVAL: frozenset({VersionStatus.IN_APPROVAL, VersionStatus.DRAFT, VersionStatus.APPROVED}),
    VersionStatus.APPROVED: frozenset({VersionStatus.APPROVED, VersionStatus.SUPERSEDED}),
    VersionStatus.SUPERSEDED: frozenset({VersionStatus.SUPERSEDED}),
}
# A version's content is fixed from the moment it is submitted: the governance body approves what it saw.
VERSION_CONTENT_FIELDS = (
    "policy",
    "label",
    "document",
    "document_name",
    "document_kind",
    "document_size",
    "document_sha256",
    "link",
    "summary",
    "created_by",
)


class DocumentKind(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word document (DOCX)"
    MARKDOWN = "markdown", "Markdown"


# --- Policies --------------------------------------------------------------------------------------


class Policy(TimeStamped):
    """A policy or procedure, with its owner and what it covers. Its content lives in its versions."""

    title = models.CharField(max_length=200, unique=True, validators=[free_text])
    kind = models.CharField(max_length=20, choices=PolicyKind.choices, default=PolicyKind.POLICY)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_policies",
        help_text="Keeps the policy current; receives the review reminders.",
    )
    description = models.TextField(blank=True, validators=[free_text])
    scope = models.TextField(
        blank=True, validators=[free_text], help_text="Systems, services, SSRM layers and parties it applies to."
    )
    areas = models.JSONField(
        default=list,
        blank=True,
        validators=[AreaListValidator()],
        help_text="What the policy covers. A significant change recorded for an area makes the policy due for review.",
    )
    current_version = models.ForeignKey(
        "PolicyVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The approved version in force. Set by approving a version.",
    )
    retired_on = models.DateField(
        null=True, blank=True, editable=False, help_text="Set by a review with the outcome 'retired'."
    )
    next_review_due_on = models.DateField(
        "next review due",
        null=True,
        blank=True,
        editable=False,
        help_text="Derived (evidence.reviews.schedule): empty for a policy with no approved version or a retired one.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "policies"
        indexes = [
            models.Index(fields=["next_review_due_on"]),
            models.Index(fields=["retired_on", "next_review_due_on"]),
            models.Index(fields=["kind"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("evidence:policy-detail", args=[self.pk])

    @property
    def is_retired(self) -> bool:
        return self.retired_on is not None

    def is_review_overdue(self, today: dt.date | None = None) -> bool:
        return self.next_review_due_on is not None and self.next_review_due_on < (today or timezone.localdate())

    @property
    def owner_label(self) -> str:
        return person_name(self.owner, empty="—")


def document_upload_path(instance: PolicyVersion, filename: str) -> str:
    """Content-addressed: the stored name is the document's SHA-256 (the original name is kept on the row)."""
    extension = {DocumentKind.PDF: "pdf", DocumentKind.DOCX: "docx", DocumentKind.MARKDOWN: "md"}[
        instance.document_kind
    ]
    return f"policy-documents/{instance.document_sha256[:2]}/{instance.document_sha256}.{extension}"


class PolicyVersionQuerySet(models.QuerySet):
    """Bulk writes cannot reach around the freeze either."""

    def update(self, **kwargs):
        touched = set(kwargs) & ({*VERSION_CONTENT_FIELDS, "status"} | {f"{f}_id" for f in VERSION_CONTENT_FIELDS})
        if touched and self.exclude(status=VersionStatus.DRAFT).exists():
            raise FrozenRecordError(
                "Submitted, approved and superseded policy versions are frozen; "
                f"{', '.join(sorted(touched))} cannot be changed in bulk."
            )
        return super().update(**kwargs)

    def delete(self):
        if self.exclude(status=VersionStatus.DRAFT).exists():
            raise FrozenRecordError("Only draft policy versions can be deleted; the others are evidence.")
        return super().delete()


class PolicyVersion(TimeStamped):
    """One version of a policy: a document (PDF, DOCX or Markdown, kept with its SHA-256) or an https link."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField("version", max_length=40, validators=[free_text], help_text="E.g. 1.0 or 2026.1.")
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT, editable=False)
    document = models.FileField(upload_to=document_upload_path, max_length=200, blank=True, editable=False)
    document_name = models.CharField(
        "file name", max_length=255, blank=True, editable=False, validators=[free_text], help_text="As uploaded."
    )
    document_kind = models.CharField(max_length=10, choices=DocumentKind.choices, blank=True, editable=False)
    document_size = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    document_sha256 = models.CharField("SHA-256", max_length=64, blank=True, editable=False)
    link = models.URLField(
        max_length=500,
        blank=True,
        validators=[https_only, free_text],
        help_text="Where the document is published (an https:// address), instead of uploading it.",
    )
    summary = models.TextField("summary of changes", validators=[free_text])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    history = HistoricalRecords()

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "label"],
                name="policy_version_label_unique",
                violation_error_message="This policy already has a version with this label; choose another one.",
            ),
            models.UniqueConstraint(
                fields=["policy"],
                condition=models.Q(status="approved"),
                name="policy_one_approved_version",
                violation_error_message="A policy has at most one approved version in force.",
            ),
            models.CheckConstraint(
                condition=(models.Q(document="", document_sha256="") & ~models.Q(link=""))
                | (~models.Q(document="") & ~models.Q(document_sha256="") & models.Q(link="")),
                name="policy_version_document_or_link",
                violation_error_message="A version has either an uploaded document or a link, not both.",
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.policy} v{self.label}"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk is not None:
            self._refuse_frozen_changes()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return f"{self.policy.get_absolute_url()}#version-{self.pk}"

    def delete(self, *args, **kwargs):
        stored = type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored is not None and stored != VersionStatus.DRAFT:
            raise FrozenRecordError(
                f"Version {self.label} is {VersionStatus(stored).label.lower()}: only draft versions can be deleted."
            )
        return super().delete(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_in_force(self) -> bool:
        return self.status == VersionStatus.APPROVED

    @property
    def has_document(self) -> bool:
        return bool(self.document)

    def _refuse_frozen_changes(self) -> None:
        """The integrity guard behind the services: content is fixed once submitted, status moves forward only."""
        attnames = [self._meta.get_field(name).attname for name in VERSION_CONTENT_FIELDS]
        stored = type(self)._base_manager.filter(pk=self.pk).values("status", *attnames).first()
        if stored is None:
            return
        status = stored["status"]
        if self.status not in VERSION_TRANSITIONS[status]:
            raise FrozenRecordError(
                f"Version {self.label} is {VersionStatus(status).label.lower()}; it cannot become "
                f"{VersionStatus(self.status).label.lower()}."
            )
        if status == VersionStatus.DRAFT:
            return
        changed = []
        for name, attname in zip(VERSION_CONTENT_FIELDS, attnames, strict=True):
            value = getattr(self, attname)
            if name == "document":
                value = value.name or ""
            if value != stored[attname]:
                changed.append(str(self._meta.get_field(name).verbose_name))
        if changed:
            raise FrozenRecordError(
                f"Version {self.label} is {VersionStatus(status).label.lower()} and frozen: its "
                f"{', '.join(changed)} cannot change. Create a new version instead."
            )


class PolicyApproval(WriteOnceModel):
    """A governance body's approval of one version. Recorded by GRC; frozen once saved."""

    version = models.OneToOneField(PolicyVersion, on_delete=models.PROTECT, related_name="approval")
    governance_body = models.CharField(
        max_length=200, validators=[free_text], help_text="E.g. Security committee, CISO, Board risk committee."
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="policy_approvals",
        help_text="Who approved it for the governance body.",
    )
    approved_on = models.DateField()
    reference = models.CharField(
        max_length=200, blank=True, validators=[free_text], help_text="Minutes, decision or ticket reference."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-approved_on", "-id"]
        indexes = [models.Index(fields=["approved_on"])]

    def __str__(self) -> str:
        return f"{self.version} approved by {self.governance_body} on {self.approved_on:%Y-%m-%d}"

    def recorded_on_display(self) -> str:
        return f"{self.recorded_at:%Y-%m-%d}"


class Communication(WriteOnceModel):
    """An approved version sent to audiences (groups of users), each recipient e-mailed once."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="communications")
    audiences = models.ManyToManyField(Group, related_name="policy_communications")
    message = models.TextField(blank=True, validators=[free_text], help_text="Added to the e-mail.")
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recipient_count = models.PositiveIntegerField(
        default=0, help_text="Recipients e-mailed by this communication (not those e-mailed this version before)."
    )
    history = HistoricalRecords(m2m_fields=[audiences])

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} sent on {self.sent_at:%Y-%m-%d}"

    def recorded_on_display(self) -> str:
        return f"{self.sent_at:%Y-%m-%d}"


class PolicyDeliveryQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(emailed_at__isnull=True)


class PolicyDelivery(models.Model):
    """One recipient of one version, e-mailed once: the unique pair is what keeps it to once."""

    communication = models.ForeignKey(Communication, on_delete=models.PROTECT, related_name="deliveries")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="deliveries")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    objects = PolicyDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "policy deliveries"
        constraints = [
            models.UniqueConstraint(fields=["version", "recipient"], name="policy_delivery_once_per_recipient")
        ]
        indexes = [models.Index(fields=["emailed_at"])]

    def __str__(self) -> str:
        return f"{self.version} to {self.email}"


class Acknowledgement(WriteOnceModel):
    """A recipient confirms, with one click, that they read an approved version."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="policy_acknowledgements"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-acknowledged_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "recipient"],
                name="acknowledgement_once_per_user_and_version",
                violation_error_message="This person has already acknowledged this version.",
            )
        ]

    def __str__(self) -> str:
        return f"{person_name(self.recipient, empty='—')} acknowledged {self.version}"

    def recorded_on_display(self) -> str:
        return f"{self.acknowledged_at:%Y-%m-%d}"
