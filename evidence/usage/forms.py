"""The upload form of usage-log files (GRC)."""

from __future__ import annotations

from django import forms

from cek.forms import RefusesKeyMaterial
from evidence.usage.sources import format_choices
from inventory.models import KeyStore


class UsageUploadForm(RefusesKeyMaterial, forms.Form):
    format = forms.ChoiceField(choices=format_choices, help_text="The format the file is in.")
    file = forms.FileField(
        help_text="gzip or plain; the file is read by a worker and deleted when its ingestion ends (only the "
        "aggregates are kept)."
    )
    store = forms.ModelChoiceField(
        queryset=KeyStore.objects.order_by("name"),
        required=False,
        empty_label="Match from the events' account and region",
        to_field_name="name",
        help_text="Chosen: events of another account or region refuse the file.",
    )
