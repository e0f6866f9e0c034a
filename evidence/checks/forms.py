"""Forms of the check pages: manual evidence for the guidelines assessed by people (AG-9, and AG-8 while no IaC scan
is recorded)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from cek.forms import RefusesKeyMaterial
from cek.keymaterial import KeyMaterialValidator
from evidence.models import CheckStatus


class ManualEvidenceForm(RefusesKeyMaterial, forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
        validators=[KeyMaterialValidator()],
        help_text="What you verified and how (never paste keys or secrets).",
    )
    assessment = forms.ChoiceField(
        choices=[
            ("", "No assessment (observation only)"),
            (CheckStatus.PASS, "Pass"),
            (CheckStatus.PARTIAL, "Partial"),
            (CheckStatus.FAIL, "Fail"),
        ],
        required=False,
    )
    document = forms.FileField(
        required=False,
        help_text="Optional: a scan report, configuration export or screenshot; its SHA-256 is recorded.",
    )

    def clean_document(self):
        document = self.cleaned_data.get("document")
        limit = settings.CEK_MANUAL_EVIDENCE_MAX_BYTES
        if document is not None and document.size > limit:
            raise forms.ValidationError(f"The document is {document.size:,} bytes; the limit is {limit:,} bytes.")
        return document
