"""The CEK-11.1 answer (AI-CAIQ) from one party's point of view.

A draft is generated from a check run and the party's SSRM roles; GRC may edit the text or override the
answer (with a recorded reason), then publishes it. A published answer is frozen with the SHA-256 of its
canonical content and the check run it came from; later answers never change it (the history is the list of
answers per party, newest first).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from cek.keymaterial import KeyMaterialValidator
from evidence.records import FrozenRecordError

free_text = KeyMaterialValidator()


class AnswerValue(models.TextChoices):
    YES = "YES", "Yes"
    NO = "NO", "No"
    NA = "NA", "Not applicable"


class ControlOwnership(models.TextChoices):
    """SSRM Control Ownership in the AI-CAIQ vocabulary."""

    CSP = "CSP-Owned", "CSP-Owned"
    MP = "MP-Owned", "MP-Owned"
    OSP = "OSP-Owned", "OSP-Owned"
    AP = "AP-Owned", "AP-Owned"
    AIC = "AIC-Owned", "AIC-Owned"
    SHARED_CSP_MP = "Shared CSP-MP", "Shared CSP-MP"
    SHARED_MP_OSP = "Shared MP-OSP", "Shared MP-OSP"
    SHARED_OSP_AP = "Shared OSP-AP", "Shared OSP-AP"
    SHARED_AP_AIC = "Shared AP-AIC", "Shared AP-AIC"
    SHARED_SUPPLY_CHAIN = "Shared Across the Supply Chain", "Shared Across the Supply Chain"
    ND = "ND", "ND (not determined)"


class AnswerStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class CaiqAnswer(models.Model):
    party = models.ForeignKey("inventory.Party", on_delete=models.PROTECT, related_name="caiq_answers")
    question_id = models.CharField(max_length=20, default="CEK-11.1")
    catalog_version = models.CharField(max_length=40)
    check_run = models.ForeignKey(
        "evidence.CheckRun", on_delete=models.PROTECT, null=True, blank=True, related_name="answers"
    )
    status = models.CharField(max_length=10, choices=AnswerStatus.choices, default=AnswerStatus.DRAFT)
    # What the generator derived, kept beside what GRC may change, so an override is always visible.
    generated_answer = models.CharField(max_length=3, choices=AnswerValue.choices)
    answer = models.CharField("service provider answer", max_length=3, choices=AnswerValue.choices)
    override_reason = models.TextField(blank=True, validators=[free_text])
    ownership = models.CharField(
        "SSRM control ownership", max_length=40, choices=ControlOwnership.choices, default=ControlOwnership.ND
    )
    generated_ownership = models.CharField(max_length=40, choices=ControlOwnership.choices, default=ControlOwnership.ND)
    implementation = models.TextField("implementation description", validators=[free_text])
    generated_implementation = models.TextField(blank=True)
    customer_responsibilities = models.TextField(blank=True, validators=[free_text])
    # Minor gaps disclosed under a YES: [{"guideline": "AG-2", "gap": "...", "remediation": "...", "due": "2027-03-01"}]
    disclosures = models.JSONField(default=list, blank=True)
    # NO needs a corrective-action plan: {"owner": "...", "milestones": [{"text": "...", "due": "..."}], "due": "..."}
    corrective_action = models.JSONField(default=dict, blank=True)
    na_justification = models.TextField("NA justification", blank=True, validators=[free_text])
    # The figures the text was written from (policy, inventory, guideline results, campaign, findings).
    facts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the published content.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["party", "status", "-published_at"], name="caiqanswer_party_status")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="published") | (models.Q(published_at__isnull=False) & ~models.Q(sha256="")),
                name="caiqanswer_published_has_digest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} for {self.party}: {self.answer} ({self.get_status_display().lower()})"

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == AnswerStatus.PUBLISHED:
                raise FrozenRecordError(
                    "A published answer is frozen with its digest; generate a new draft to change the answer."
                )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("evidence:answer-detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        if self.status == AnswerStatus.PUBLISHED:
            raise FrozenRecordError("A published answer is evidence and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def state_words(self) -> str:
        """Which answer this is, as pages say it: "published 6 Dec 2026, 14:05 UTC" or "draft of 6 Dec 2026,
        14:05 UTC" (its number stays in its URL, the API and the exports)."""
        from cek.templatetags.dates import words_datetime  # the template library imports no models

        if self.published_at is not None:
            return f"published {words_datetime(self.published_at)}"
        return f"draft of {words_datetime(self.created_at)}"

    @property
    def short_title(self) -> str:
        """ "Draft of 6 Dec 2026, 14:05 UTC", "Published 6 Dec 2026, 14:05 UTC": in the party's answers."""
        return self.state_words[:1].upper() + self.state_words[1:]

    @property
    def title(self) -> str:
        """ "CEK-11.1 answer of Acme AI, draft of 6 Dec 2026, 14:05 UTC" (reads the party: select it with the row)."""
        return f"{self.question_id} answer of {self.party.name}, {self.state_words}"

    @property
    def is_overridden(self) -> bool:
        return self.answer != self.generated_answer
