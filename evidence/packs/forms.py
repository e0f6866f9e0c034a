"""Forms of the evidence-pack pages: requesting a pack (window, perspective, scope, sample) and uploading a pack
to verify it."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone

from cek.forms import DateInput, FieldsetsMixin, RefusesKeyMaterial
from cek.keymaterial import KeyMaterialValidator
from evidence.packs.jobs import MAX_SAMPLE
from inventory.models import KeyStore, Party, Tenant


class PackRequestForm(RefusesKeyMaterial, FieldsetsMixin, forms.Form):
    window_from = forms.DateField(label="Window from", widget=DateInput, help_text="First day observed.")
    window_to = forms.DateField(
        label="Window to", widget=DateInput, help_text="Last day observed (today at the latest)."
    )
    party = forms.ModelChoiceField(
        queryset=Party.objects.order_by("-is_us", "name"),
        label="Perspective",
        help_text="Whose CEK-11.1 answer and SSRM responsibilities the pack presents.",
        empty_label=None,
    )
    stores = forms.ModelMultipleChoiceField(
        queryset=KeyStore.objects.order_by("name"),
        required=False,
        label="Key stores",
        help_text="Leave empty for every key store; Ctrl/Cmd-click to choose several.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    tenants = forms.ModelMultipleChoiceField(
        queryset=Tenant.objects.order_by("name"),
        required=False,
        label="Tenants",
        help_text="Leave empty for every tenant; Ctrl/Cmd-click to choose several.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    sample_size = forms.IntegerField(
        min_value=1, max_value=MAX_SAMPLE, initial=25, help_text="Keys drawn at random for your own testing."
    )
    sample_seed = forms.CharField(
        required=False,
        max_length=64,
        label="Sample seed",
        validators=[
            RegexValidator(r"^[A-Za-z0-9._-]+$", "Use letters, digits, dots, dashes and underscores only."),
            KeyMaterialValidator(),  # the seed is printed in the signed PDF and pack.json
        ],
        help_text="Leave empty for a random seed; give one to re-draw a sample you were given. It is printed in the pack.",
    )

    fieldsets = [
        ("Observation window", ["window_from", "window_to", "party"]),
        ("Scope", ["stores", "tenants"]),
        ("Sample", ["sample_size", "sample_seed"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["window_to"].initial = today
        self.fields["window_from"].initial = today - dt.timedelta(days=364)
        self.fields["window_to"].widget.attrs["max"] = today.isoformat()
        self.fields["window_from"].widget.attrs["max"] = today.isoformat()
        us = Party.objects.filter(is_us=True).first()
        if us is not None:
            self.fields["party"].initial = us.pk

    def clean(self):
        data = super().clean()
        start, end = data.get("window_from"), data.get("window_to")
        if start and end and start > end:
            self.add_error("window_to", "The window must end on or after the day it starts.")
        if end and end > timezone.localdate():
            self.add_error("window_to", f"The window cannot end in the future ({end:%Y-%m-%d} is after today).")
        return data


class PackVerifyForm(RefusesKeyMaterial, FieldsetsMixin, forms.Form):
    file = forms.FileField(label="Evidence pack (.zip)", help_text="The .zip exactly as downloaded.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CEK_PACK_VERIFY_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; the limit is {limit:,} bytes.")
        return upload
