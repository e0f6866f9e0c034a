"""Tenants and services: who and what uses keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from cek.models import TimeStamped
from inventory.models.choices import ArchitecturalLayer, Environment, LifecyclePhase, SsrmLayer
from inventory.models.parties import Party
from inventory.models.validation import free_text


class Tenant(TimeStamped):
    name = models.CharField(max_length=200, validators=[free_text])
    slug = models.SlugField(max_length=100, unique=True, validators=[free_text])
    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="tenants", help_text="Customer party."
    )
    description = models.TextField(blank=True, validators=[free_text])
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:tenant-detail", args=[self.pk])


class Service(TimeStamped):
    """A workload that uses keys."""

    name = models.CharField(max_length=200, validators=[free_text])
    slug = models.SlugField(max_length=100, unique=True, validators=[free_text])
    description = models.TextField(blank=True, validators=[free_text])
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    architectural_layer = models.CharField(
        max_length=30, choices=ArchitecturalLayer.choices, default=ArchitecturalLayer.APPLICATION
    )
    ssrm_layer = models.CharField("SSRM layer", max_length=20, choices=SsrmLayer.choices, default=SsrmLayer.APPLICATION)
    lifecycle_phase = models.CharField(
        "AI lifecycle phase",
        max_length=20,
        choices=LifecyclePhase.choices,
        blank=True,
        help_text="Leave empty for a workload that is not part of an AI system.",
    )
    operating_party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True, related_name="services")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_services"
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["ssrm_layer"]), models.Index(fields=["lifecycle_phase"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:service-detail", args=[self.pk])

    @property
    def is_ai(self) -> bool:
        return bool(self.lifecycle_phase)
