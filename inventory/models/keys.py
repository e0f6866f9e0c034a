"""Keys and secrets, described by metadata only."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cek.keymaterial import validate_labels
from cek.models import TimeStamped
from inventory.models.choices import KeyKind, KeyState, SsrmLayer
from inventory.models.parties import Party
from inventory.models.purposes import Purpose
from inventory.models.stores import KeyStore
from inventory.models.validation import days_after, free_text
from inventory.models.workloads import Tenant


class Key(TimeStamped):
    """A key or secret, described by metadata only.

    It has exactly one purpose, with one exception: a key an import found on a platform without a purpose
    that could be derived is "purpose unassigned" (``purpose`` is None) until GRC maps it. That state counts
    against the control, forms and the API never produce it, and a database constraint keeps an unassigned
    key from carrying a justification, approver or review date (there is no mapping to justify)."""

    name = models.CharField(max_length=200, validators=[free_text])
    kind = models.CharField(max_length=30, choices=KeyKind.choices, default=KeyKind.SYMMETRIC_KEY)
    algorithm = models.CharField(
        max_length=60, blank=True, validators=[free_text], help_text="E.g. AES-256-GCM, ECDSA P-256."
    )
    size_bits = models.PositiveIntegerField(null=True, blank=True)
    # The composite indexes of Meta start with store, purpose and tenant: no single-column index of their own.
    store = models.ForeignKey(KeyStore, on_delete=models.PROTECT, related_name="keys", db_index=False)
    external_id = models.CharField(
        max_length=500, validators=[free_text], help_text="The key's id in its store (ARN, resource name, path)."
    )
    platform_usage = models.CharField(
        max_length=60,
        blank=True,
        validators=[free_text],
        help_text="The store's native usage, e.g. AWS KeyUsage ENCRYPT_DECRYPT.",
    )
    platform_managed = models.BooleanField(
        "managed by the platform",
        default=False,
        help_text="The platform creates and operates the key itself (e.g. an AWS-managed KMS key).",
    )
    platform_details = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_labels],
        help_text="The platform's own facts about the key, as imported (origin, protection level, ...).",
    )
    not_seen_since = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set when a full import of the key's store no longer listed the key; cleared when it is seen again.",
    )
    description = models.TextField(blank=True, validators=[free_text])
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="keys", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_keys"
    )
    backup_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="backed_up_keys"
    )
    custodian = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custodied_keys",
        help_text="The party that holds and operates the key.",
    )
    ssrm_layer = models.CharField("SSRM layer", max_length=20, choices=SsrmLayer.choices, default=SsrmLayer.APPLICATION)
    state = models.CharField(max_length=20, choices=KeyState.choices, default=KeyState.ACTIVE)
    created_on = models.DateField("created (in store)", null=True, blank=True)
    activated_on = models.DateField(null=True, blank=True)
    last_rotated_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    rotation_period_days = models.PositiveIntegerField(null=True, blank=True)
    cryptoperiod_days = models.PositiveIntegerField(
        "cryptoperiod override (days)",
        null=True,
        blank=True,
        help_text="Leave empty to use the purpose's maximum cryptoperiod.",
    )
    cryptoperiod_ends_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="Derived: start of the current period plus the cryptoperiod. Kept by inventory.services.",
    )
    labels = models.JSONField(default=dict, blank=True, validators=[validate_labels], help_text="KMS tags / labels.")
    exposed_to = models.ManyToManyField(Party, blank=True, related_name="exposed_keys")
    exposure_scope = models.TextField(blank=True, validators=[free_text])
    exposure_contract = models.CharField(
        "exposure contract reference", max_length=200, blank=True, validators=[free_text]
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, null=True, blank=True, related_name="keys", db_index=False
    )
    purpose_justification = models.TextField(blank=True, validators=[free_text])
    purpose_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="approved_key_purposes"
    )
    purpose_reviewed_on = models.DateField("purpose mapping last reviewed", null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[exposed_to])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="key_unique_external_id_per_store"),
            models.CheckConstraint(
                condition=models.Q(purpose__isnull=False)
                | models.Q(purpose_justification="", purpose_approver__isnull=True, purpose_reviewed_on__isnull=True),
                name="key_unassigned_purpose_has_no_mapping",
                violation_error_message="A key without a purpose cannot have a purpose justification, approver or "
                "review date.",
            ),
        ]
        indexes = [
            # The list sorts by name: each filter the page offers gets (filter, name, id) so a filtered page is an
            # index range scan, not a sort of every matching row. (name, id) and (state, name, id) are created by
            # migration 0011, on PostgreSQL covering the owner columns (a key owner's pages) and the cryptoperiod's
            # end (the overdue filter), so a page's keys are found in the index alone.
            models.Index(fields=["store", "name", "id"]),
            models.Index(fields=["purpose", "name", "id"]),
            models.Index(fields=["tenant", "name", "id"]),
            models.Index(fields=["kind"]),
            models.Index(fields=["ssrm_layer"]),
            models.Index(fields=["state", "cryptoperiod_ends_on"]),
            models.Index(fields=["last_rotated_on"]),
            models.Index(fields=["updated_at"]),
            models.Index(fields=["store", "not_seen_since"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:key-detail", args=[self.pk])

    @property
    def purpose_unassigned(self) -> bool:
        return self.purpose_id is None

    @property
    def period_start(self) -> dt.date | None:
        return self.last_rotated_on or self.activated_on or self.created_on

    @property
    def effective_cryptoperiod_days(self) -> int | None:
        if self.cryptoperiod_days:
            return self.cryptoperiod_days
        return self.purpose.max_cryptoperiod_days if self.purpose_id is not None else None

    def compute_cryptoperiod_end(self) -> dt.date | None:
        start, days = self.period_start, self.effective_cryptoperiod_days
        if start is None or days is None:
            return None
        return days_after(start, days)

    @property
    def is_cryptoperiod_overdue(self) -> bool:
        return (
            self.state == KeyState.ACTIVE
            and self.cryptoperiod_ends_on is not None
            and self.cryptoperiod_ends_on < timezone.localdate()
        )

    @property
    def is_overdue_for_rotation(self) -> bool:
        start = self.last_rotated_on or self.activated_on or self.created_on
        if self.state != KeyState.ACTIVE or not self.rotation_period_days or start is None:
            return False
        due = days_after(start, self.rotation_period_days)
        return due is not None and due < timezone.localdate()

    def is_owned_by(self, user) -> bool:
        return user.pk is not None and user.pk in (self.owner_id, self.backup_owner_id)
