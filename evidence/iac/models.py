"""What ``check_iac --record`` keeps: the scan itself (``IacScan``, write-once evidence) and the IaC addresses its
findings are about when a violating key is not in the inventory (``IacAddress``: one row per repository and
address, so the findings on it are upserted, never duplicated, scan after scan)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from cek.keymaterial import KeyMaterialValidator
from cek.textsafety import check_text
from evidence.records import WriteOnceModel

free_text = KeyMaterialValidator()


def safe_text(value: str) -> None:
    check_text(value)


hex_commit = RegexValidator(r"^[0-9a-fA-F]*$", "A commit is hexadecimal (a git SHA).", code="invalid_commit")


class IacSource(models.TextChoices):
    PLAN = "plan", "Plan (terraform show -json)"
    DIRECTORY = "directory", "Directory of .tf files"


class IacScan(WriteOnceModel):
    """One recorded run of the IaC gate on a repository's plan or configuration, with its verdict and violations
    (as the JSON format writes them)."""

    repository = models.CharField(max_length=200, validators=[free_text, safe_text])
    commit = models.CharField(max_length=64, blank=True, validators=[hex_commit])
    source = models.CharField(max_length=10, choices=IacSource.choices)
    input_sha256 = models.CharField(max_length=64)
    resources = models.PositiveIntegerField(default=0)
    keys = models.PositiveIntegerField(default=0)
    consumers = models.PositiveIntegerField(default=0)
    matched_keys = models.PositiveIntegerField(default=0, help_text="Keys matched to the inventory.")
    violations_count = models.PositiveIntegerField(default=0)
    passed = models.BooleanField()
    violations = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    software_version = models.CharField(max_length=40)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = "IaC scan"
        verbose_name_plural = "IaC scans"
        indexes = [models.Index(fields=["repository", "-recorded_at"], name="iacscan_repository_recorded")]

    def __str__(self) -> str:
        verdict = "passed" if self.passed else f"{self.violations_count} violation(s)"
        return f"IaC scan #{self.pk} of {self.repository}: {verdict}"

    @property
    def title(self) -> str:
        """How pages name the scan: "IaC scan of acme/infra, 6 Dec 2026, 14:05 UTC" (its number stays in its URL,
        the API and the CI client's output)."""
        from cek.templatetags.dates import words_datetime  # the template library imports no models

        return f"IaC scan of {self.repository}, {words_datetime(self.recorded_at)}"

    def recorded_on_display(self) -> str:
        return f"{self.recorded_at:%Y-%m-%d}"


class IacAddress(models.Model):
    """A key's address in a repository's Terraform (or how its configuration names an existing key) that is not
    in the inventory: the subject of that key's IaC findings."""

    repository = models.CharField(max_length=200, validators=[free_text, safe_text])
    address = models.CharField(max_length=500, validators=[free_text, safe_text])
    first_seen_in = models.ForeignKey(IacScan, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["repository", "address"]
        verbose_name = "IaC address"
        verbose_name_plural = "IaC addresses"
        constraints = [
            models.UniqueConstraint(fields=["repository", "address"], name="iacaddress_unique_repository_address")
        ]

    def __str__(self) -> str:
        return f"{self.address} in {self.repository}"

    def clean(self) -> None:
        if not self.address.strip():
            raise ValidationError({"address": "An address is required."})
