"""Parties in the AI supply chain and who carries CEK-11 at each SSRM layer."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from cek.models import TimeStamped
from inventory.models.choices import SsrmLayer, SsrmRole
from inventory.models.validation import free_text, validate_choice_list


class Party(TimeStamped):
    """An organisation in the AI supply chain, with its SSRM roles. Exactly one party is "us"."""

    name = models.CharField(max_length=200, unique=True, validators=[free_text])
    roles = models.JSONField(default=list, validators=[validate_choice_list(SsrmRole, "roles")])
    is_us = models.BooleanField("this is us", default=False)
    description = models.TextField(blank=True, validators=[free_text])
    contact = models.CharField(max_length=200, blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_us", "name"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=["is_us"], condition=models.Q(is_us=True), name="one_party_is_us")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:party-detail", args=[self.pk])

    @property
    def role_labels(self) -> list[str]:
        return [SsrmRole(role).label for role in self.roles if role in SsrmRole.values]


class SsrmAssignment(TimeStamped):
    """Who carries CEK-11 at one SSRM layer, in which role, as agreed in contracts."""

    layer = models.CharField(max_length=20, choices=SsrmLayer.choices)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=5, choices=SsrmRole.choices)
    responsibility = models.TextField(blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["layer", "party__name"]
        constraints = [models.UniqueConstraint(fields=["layer", "party", "role"], name="ssrm_assignment_unique")]

    def __str__(self) -> str:
        return f"{self.get_layer_display()}: {self.party} as {self.role}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:ssrm")
