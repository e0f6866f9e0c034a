"""The catalog of allowed key purposes."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from cek.models import TimeStamped
from inventory.models.choices import CryptoFunction, KeyKind, Operation, Sp80057KeyType
from inventory.models.validation import free_text, validate_choice_list


class Purpose(TimeStamped):
    """One allowed purpose of a key: data, not an enum, so GRC can extend the catalog."""

    slug = models.SlugField(max_length=80, unique=True, validators=[free_text])
    name = models.CharField(max_length=200, validators=[free_text])
    description = models.TextField(blank=True, validators=[free_text])
    function = models.CharField("cryptographic function", max_length=20, choices=CryptoFunction.choices)
    key_type = models.CharField("NIST SP 800-57 key type", max_length=40, choices=Sp80057KeyType.choices)
    allowed_kinds = models.JSONField(
        default=list, blank=True, validators=[validate_choice_list(KeyKind, "allowed kinds")]
    )
    allowed_operations = models.JSONField(
        default=list, validators=[validate_choice_list(Operation, "allowed operations")]
    )
    max_cryptoperiod_days = models.PositiveIntegerField(
        "maximum cryptoperiod (days)",
        null=True,
        blank=True,
        help_text="Default from NIST SP 800-57 Part 1 Table 1; empty when the standard gives none.",
    )
    is_ai_specific = models.BooleanField("AI-specific", default=False)
    is_active = models.BooleanField(default=True, help_text="Retired purposes cannot be given to new keys.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["function"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:purpose-detail", args=[self.pk])
