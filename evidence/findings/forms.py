"""Forms of GRC's judgements on a finding: assign with a remediation date, accept the risk until a date, resolve.
The rules live in ``evidence.findings.services``."""

from __future__ import annotations

from django import forms

from cek.forms import DateInput, RefusesKeyMaterial, UserChoiceField, active_users
from cek.keymaterial import KeyMaterialValidator


class AssignForm(RefusesKeyMaterial, forms.Form):
    assigned_to = UserChoiceField(queryset=active_users(), label="Assign to", empty_label="Choose a user")
    remediation_due = forms.DateField(label="Remediation due", widget=DateInput())


class AcceptRiskForm(RefusesKeyMaterial, forms.Form):
    until = forms.DateField(label="Accepted until", widget=DateInput(), help_text="The finding reopens after this day.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[KeyMaterialValidator()],
        help_text="Why the risk is acceptable until then; you are recorded as the approver.",
    )


class ResolveForm(RefusesKeyMaterial, forms.Form):
    note = forms.CharField(
        max_length=100,
        validators=[KeyMaterialValidator()],
        widget=forms.TextInput(attrs={"placeholder": "What was done"}),
        help_text="What was done about it: kept in the finding's history for auditors.",
        error_messages={"required": "Say what was done before resolving: the note is the evidence of the fix."},
    )
