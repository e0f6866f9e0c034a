"""Key stores: where keys live."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from cek.models import TimeStamped
from inventory.models.choices import StoreKind
from inventory.models.parties import Party
from inventory.models.validation import free_text


class KeyStore(TimeStamped):
    """Where keys live: a KMS account/region/project, a vault, an HSM, a cluster."""

    name = models.CharField(max_length=200, unique=True, validators=[free_text])
    kind = models.CharField(max_length=20, choices=StoreKind.choices)
    account = models.CharField(
        max_length=200, blank=True, validators=[free_text], help_text="Account, subscription, project or cluster."
    )
    region = models.CharField(max_length=100, blank=True, validators=[free_text])
    operating_party = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="key_stores"
    )
    purpose_tag_key = models.CharField(
        max_length=100,
        default="purpose",
        validators=[free_text],
        help_text="Label/tag that carries a key's purpose on this platform.",
    )
    owner_tag_key = models.CharField(
        max_length=100,
        default="owner",
        validators=[free_text],
        help_text="Label/tag naming a key's owner (a username or e-mail address); imports match it to users.",
    )
    service_tag_key = models.CharField(
        max_length=100,
        default="service",
        validators=[free_text],
        help_text="Label/tag naming the services that use a key (slugs, separated by commas).",
    )
    tenant_tag_key = models.CharField(
        max_length=100,
        default="tenant",
        validators=[free_text],
        help_text="Label/tag naming a key's tenant (a tenant slug).",
    )
    last_full_import_at = models.DateTimeField(
        "last full import",
        null=True,
        blank=True,
        editable=False,
        help_text="When an import last listed every key of this store (keys it did not list are marked not seen).",
    )
    inventory_confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When GRC last confirmed that the inventory lists every key this store holds (for stores "
        "that are not imported).",
    )
    inventory_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    description = models.TextField(blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:keystore-detail", args=[self.pk])
