"""Forms of the campaign pages: drafting a campaign (name, due date, reminder cadence, statements, scope),
reassigning an attestation, and filtering a campaign's attestations. The rules live in
``evidence.campaigns.services``; the cadence bounds in ``evidence.campaigns.schedule``."""

from __future__ import annotations

from django import forms

from cek.forms import DateInput, FieldsetsMixin, RefusesKeyMaterial, UserChoiceField, active_users
from evidence.campaigns import schedule
from evidence.models import DEFAULT_STATEMENT_VERSION, STATEMENT_SETS, AttestationStatus
from inventory.models import KeyStore, Purpose, Service, Tenant


class CampaignForm(RefusesKeyMaterial, FieldsetsMixin, forms.Form):
    fieldsets = [
        ("Campaign", ["name", "due_on", "reminder_days", "statement_version"]),
        ("Scope: all active keys, or only those matching", ["store", "purpose", "tenant", "service", "only_changed"]),
    ]
    name = forms.CharField(max_length=200)
    due_on = forms.DateField(label="Due date", widget=DateInput())
    reminder_days = forms.IntegerField(
        label="Reminder cadence (days)",
        min_value=schedule.MIN_REMINDER_DAYS,
        max_value=schedule.MAX_REMINDER_DAYS,
        initial=schedule.DEFAULT_REMINDER_DAYS,
        help_text="Remind pending owners every N days.",
    )
    statement_version = forms.ChoiceField(
        label="Statements",
        choices=[(version, version) for version in STATEMENT_SETS],
        initial=DEFAULT_STATEMENT_VERSION,
        required=False,
        help_text="The versioned statement set key owners attest to; each answer records its version and digest.",
    )
    store = forms.ModelChoiceField(queryset=KeyStore.objects.order_by("name"), required=False, empty_label="Any store")
    purpose = forms.ModelChoiceField(
        queryset=Purpose.objects.order_by("name"), required=False, empty_label="Any purpose"
    )
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.order_by("name"), required=False, empty_label="Any tenant")
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), required=False, empty_label="Any service"
    )
    only_changed = forms.BooleanField(
        required=False,
        label="Only keys changed since their last confirmed attestation",
        help_text="Keys whose purpose, owners, bindings, grants, state and labels have not changed since an owner "
        "confirmed them are carried over, not asked again.",
    )


class ReassignForm(RefusesKeyMaterial, forms.Form):
    to = UserChoiceField(queryset=active_users(), label="Address to")


class AttestationFilterForm(RefusesKeyMaterial, forms.Form):
    """Filters of a campaign's attestation list (GET)."""

    status = forms.ChoiceField(choices=[("", "Any status"), *AttestationStatus.choices], required=False)
    addressed_to = UserChoiceField(queryset=active_users(), required=False, empty_label="Anyone")
    unaddressed = forms.BooleanField(required=False, label="Only unaddressed")
    q = forms.CharField(required=False, label="Key name", max_length=200)
