"""Forms of the policy pages. They turn HTML inputs into values; the rules live in the models and services
(``evidence.policies.services``), and uploaded documents are checked by ``evidence.documents.uploads``."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from cek.forms import ChoiceListField, DateInput, FieldsetsMixin, RefusesKeyMaterial, UserChoiceField, active_users
from cek.keymaterial import KeyMaterialValidator
from evidence.documents.uploads import ACCEPTED, document_inspect, megabytes, read_upload
from evidence.models import (
    Policy,
    PolicyArea,
    PolicyVersion,
)

GOVERNANCE_BODIES = (
    "Security committee",
    "Chief Information Security Officer (CISO)",
    "Risk committee",
    "Board of directors",
    "AI governance board",
)


class PolicyForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    owner = UserChoiceField(queryset=active_users(), help_text="Keeps the policy current; receives review reminders.")
    areas = ChoiceListField(
        choices=PolicyArea.choices,
        required=False,
        help_text="A significant change recorded for one of these areas makes this policy due for review.",
    )

    class Meta:
        model = Policy
        fields = ["title", "kind", "owner", "areas", "scope", "description"]
        widgets = {"scope": forms.Textarea(attrs={"rows": 3}), "description": forms.Textarea(attrs={"rows": 4})}


class PolicyVersionForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    """A version's label, summary and either an uploaded document or a link."""

    document = forms.FileField(required=False, widget=forms.FileInput(attrs={"accept": ".pdf,.docx,.md,.markdown"}))
    link = forms.URLField(required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = PolicyVersion
        fields = ["label", "summary", "link"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    field_order = ["label", "document", "link", "summary"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = megabytes(settings.CEK_POLICY_MAX_BYTES)
        current = self.instance.document_name if self.instance.pk and self.instance.document else ""
        self.fields["document"].help_text = f"Upload {ACCEPTED}, up to {limit}." + (
            f" Leave empty to keep “{current}”." if current else ""
        )
        self.fields["link"].help_text = "Or the https:// address where the document is published (not both)."
        self.inspected = None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("document")
        if upload and cleaned.get("link"):
            raise ValidationError("Give either a document or a link, not both.")
        if upload:
            try:
                self.inspected = document_inspect(
                    name=upload.name, data=read_upload(upload), content_type=getattr(upload, "content_type", "")
                )
            except ValidationError as exc:
                self.add_error("document", exc)
        return cleaned


class ApprovalForm(RefusesKeyMaterial, FieldsetsMixin, forms.Form):
    governance_body = forms.CharField(
        max_length=200,
        validators=[KeyMaterialValidator()],
        widget=forms.TextInput(attrs={"list": "governance-bodies"}),
        help_text="The body that approved it, e.g. the security committee or the CISO.",
    )
    approver = UserChoiceField(queryset=active_users(), help_text="Who approved it for that body.")
    approved_on = forms.DateField(widget=DateInput())
    reference = forms.CharField(
        max_length=200,
        required=False,
        validators=[KeyMaterialValidator()],
        help_text="Minutes, decision or ticket reference.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("approved_on", timezone.localdate())


class CommunicationForm(RefusesKeyMaterial, FieldsetsMixin, forms.Form):
    audiences = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="Every active member is e-mailed once and asked to acknowledge it in the app.",
    )
    message = forms.CharField(
        required=False,
        validators=[KeyMaterialValidator()],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional note added to the e-mail.",
    )
