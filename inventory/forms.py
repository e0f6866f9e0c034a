"""Forms of the inventory UI. Validation of the objects themselves lives in the models and services; these
forms only turn HTML inputs into values (dates, lists of choices, labels) and group fields for display."""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from cek.forms import ChoiceListField, DateInput, FieldsetsMixin, RefusesKeyMaterial, UserChoiceField, active_users
from cek.keymaterial import validate_labels
from inventory import keyfields
from inventory.keyfields import Kind
from inventory.models import (
    AccessGrant,
    Binding,
    Key,
    KeyKind,
    KeyStore,
    Operation,
    Party,
    Purpose,
    Service,
    SsrmAssignment,
    SsrmRole,
    Tenant,
)
from inventory.purposetags import purpose_tag_hint


class LabelsField(forms.CharField):
    """KMS tags / labels typed one ``name=value`` per line (or pasted as a JSON object)."""

    widget = forms.Textarea(attrs={"rows": 4, "placeholder": "purpose=inference-log-encryption\nteam=ml-platform"})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{name}={tag_value}" for name, tag_value in value.items())
        return value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError(
                    f"Labels look like JSON but do not parse: {exc.msg} (line {exc.lineno})."
                ) from None
            if not isinstance(parsed, dict):
                raise ValidationError("Labels must be a JSON object of name/value pairs.")
            return {str(k): str(v) for k, v in parsed.items()}
        labels: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            name, sep, tag_value = line.partition("=")
            if not sep or not name.strip():
                raise ValidationError(f"Label line {number} is not 'name=value'.")
            if name.strip() in labels:
                raise ValidationError(f"Label '{name.strip()[:60]}' appears twice.")
            labels[name.strip()] = tag_value.strip()
        return labels

    def validate(self, value):
        super().validate(value)
        validate_labels(value)


class PartyForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    roles = ChoiceListField(choices=SsrmRole.choices, required=False, label="SSRM roles")

    class Meta:
        model = Party
        fields = ["name", "roles", "is_us", "contact", "description"]
        help_texts = {"is_us": "Exactly one party is 'us'; ticking this moves the mark from the current one."}

    def _get_validation_exclusions(self):
        # "Exactly one party is us" is kept by inventory.services.party_save (it moves the mark), so the
        # form must not refuse the second "us" through the database constraint.
        return super()._get_validation_exclusions() | {"is_us"}


class SsrmAssignmentForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    class Meta:
        model = SsrmAssignment
        fields = ["layer", "party", "role", "responsibility"]


class TenantForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "slug", "party", "is_active", "description"]


class ServiceForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    owner = UserChoiceField(queryset=active_users(), required=False)

    class Meta:
        model = Service
        fields = [
            "name",
            "slug",
            "environment",
            "architectural_layer",
            "ssrm_layer",
            "lifecycle_phase",
            "operating_party",
            "owner",
            "is_active",
            "description",
        ]


class KeyStoreForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    class Meta:
        model = KeyStore
        fields = [
            "name",
            "kind",
            "account",
            "region",
            "operating_party",
            "purpose_tag_key",
            "owner_tag_key",
            "service_tag_key",
            "tenant_tag_key",
            "description",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What the tag's value should be, with a real purpose as the example: a name and a short name both work.
        field = self.fields["purpose_tag_key"]
        tag_key = self.initial.get("purpose_tag_key") or self.instance.purpose_tag_key or "purpose"
        field.help_text = f"{field.help_text} {purpose_tag_hint(str(tag_key))}"


class PurposeForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    allowed_kinds = ChoiceListField(choices=KeyKind.choices, required=False)
    allowed_operations = ChoiceListField(choices=Operation.choices, required=True)

    class Meta:
        model = Purpose
        fields = [
            "name",
            "slug",
            "function",
            "key_type",
            "allowed_kinds",
            "allowed_operations",
            "max_cryptoperiod_days",
            "is_ai_specific",
            "is_active",
            "description",
        ]
        labels = {"slug": "Short name"}
        help_texts = {
            "slug": "Letters, digits and hyphens (output-signing). A key's purpose tag may give this short name or "
            "the purpose's name.",
        }

    fieldsets = [
        ("Purpose", ["name", "slug", "function", "key_type", "is_ai_specific", "is_active", "description"]),
        ("Constraints", ["allowed_kinds", "allowed_operations", "max_cryptoperiod_days"]),
    ]


class PurposeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} — {obj.get_function_display()}" + (" (AI)" if obj.is_ai_specific else "")


def _key_formfield(model_field, **kwargs):
    """A key's reference to a user is chosen among the active users, shown by name and username."""
    if model_field.is_relation and model_field.related_model is get_user_model():
        return model_field.formfield(form_class=UserChoiceField, queryset=active_users(), **kwargs)
    return model_field.formfield(**kwargs)


_KEY_FORM_FIELDS = keyfields.form_fields()


class KeyForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    purpose = PurposeChoiceField(queryset=Purpose.objects.none())
    purpose_approver = UserChoiceField(queryset=active_users(), required=True, label="Purpose approved by")
    labels = LabelsField(required=False, help_text="One name=value per line. Tags only: never a secret.")
    exposed_to = forms.ModelMultipleChoiceField(
        queryset=Party.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Parties upstream or downstream that can use this key.",
    )

    class Meta:
        model = Key
        fields = [field.name for field in _KEY_FORM_FIELDS]  # inventory.keyfields
        formfield_callback = _key_formfield
        widgets = {
            field.name: DateInput() if field.kind is Kind.DATE else forms.Textarea(attrs={"rows": 3})
            for field in _KEY_FORM_FIELDS
            if field.kind is Kind.DATE or field.multiline
        } | {"exposure_scope": forms.Textarea(attrs={"rows": 2})}

    fieldsets = keyfields.form_fieldsets()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        purposes = Purpose.objects.filter(is_active=True)
        if self.instance.purpose_id:
            purposes = Purpose.objects.filter(is_active=True) | Purpose.objects.filter(pk=self.instance.purpose_id)
        self.fields["purpose"].queryset = purposes.order_by("function", "name")
        self.fields["purpose_justification"].required = True
        self.fields["purpose_reviewed_on"].required = True
        self.fields["store"].queryset = KeyStore.objects.order_by("name")


class BindingForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    purpose = PurposeChoiceField(queryset=Purpose.objects.order_by("function", "name"))
    operations = ChoiceListField(choices=Operation.choices, required=False)

    class Meta:
        model = Binding
        fields = ["key", "service", "tenant", "purpose", "principal", "operations", "notes"]
        help_texts = {"purpose": "What the service uses the key for. A purpose other than the key's own is a finding."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].queryset = Key.objects.select_related("store").order_by("name")
        self.fields["service"].queryset = Service.objects.order_by("name")


class AccessGrantForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    operations = ChoiceListField(choices=Operation.choices, required=True)
    approver = UserChoiceField(queryset=active_users(), required=False)

    class Meta:
        model = AccessGrant
        fields = [
            "key",
            "principal_type",
            "principal",
            "operations",
            "justification",
            "approver",
            "approved_on",
            "expires_on",
        ]
        widgets = {
            "approved_on": DateInput(),
            "expires_on": DateInput(),
            "justification": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].queryset = Key.objects.order_by("name")
