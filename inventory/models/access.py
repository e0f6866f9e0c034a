"""Who uses a key (bindings) and who may use it (access grants)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cek.models import TimeStamped
from inventory.models.choices import Operation, PrincipalType
from inventory.models.keys import Key
from inventory.models.purposes import Purpose
from inventory.models.validation import free_text, validate_choice_list
from inventory.models.workloads import Service, Tenant


class Binding(TimeStamped):
    """A service (and optionally a tenant) that uses a key, for what purpose, as which principal."""

    key = models.ForeignKey(Key, on_delete=models.CASCADE, related_name="bindings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bindings")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="bindings")
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="bindings")
    principal = models.CharField(
        max_length=300, blank=True, validators=[free_text], help_text="Role, service account or ARN."
    )
    operations = models.JSONField(default=list, blank=True, validators=[validate_choice_list(Operation, "operations")])
    notes = models.TextField(blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["key__name", "service__name", "id"]

    def __str__(self) -> str:
        return f"{self.service} uses {self.key} for {self.purpose}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:binding-detail", args=[self.pk])


class AccessGrant(TimeStamped):
    """Who may use a key, for which operations, approved by whom, until when."""

    key = models.ForeignKey(Key, on_delete=models.CASCADE, related_name="grants")
    principal_type = models.CharField(max_length=10, choices=PrincipalType.choices, default=PrincipalType.SERVICE)
    principal = models.CharField(
        max_length=300, validators=[free_text], help_text="A specific principal; no wildcards."
    )
    operations = models.JSONField(default=list, validators=[validate_choice_list(Operation, "operations")])
    justification = models.TextField(blank=True, validators=[free_text])
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="approved_grants"
    )
    approved_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["key__name", "principal", "id"]
        indexes = [models.Index(fields=["expires_on"])]

    def __str__(self) -> str:
        return f"{self.principal} on {self.key}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:grant-detail", args=[self.pk])

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()

    @property
    def is_wildcard(self) -> bool:
        return "*" in self.principal
