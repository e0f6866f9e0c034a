"""Forms of the review pages: a policy's review, significant changes and effectiveness evaluations. They turn
HTML inputs into values; the rules live in the models and ``evidence.reviews.services``."""

from __future__ import annotations

from django import forms

from cek.forms import ChoiceListField, DateInput, FieldsetsMixin, RefusesKeyMaterial, UserChoiceField, active_users
from evidence.models import ChangeEvent, EffectivenessEvaluation, Policy, PolicyArea, PolicyReview


class PolicyChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj) -> str:
        return f"{obj.title} ({obj.get_kind_display().lower()})"


def _policies_not_retired():
    return Policy.objects.filter(retired_on__isnull=True).order_by("title")


class ReviewForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    reviewer = UserChoiceField(queryset=active_users())

    class Meta:
        model = PolicyReview
        fields = ["reviewed_on", "reviewer", "outcome", "notes"]
        widgets = {"reviewed_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "outcome": "“Retired” ends the policy: no more reviews, reminders or acknowledgements.",
            "notes": "What was checked, what changed and why; the changes this review addresses.",
        }


class ChangeEventForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    areas = ChoiceListField(
        choices=PolicyArea.choices,
        required=False,
        help_text="Every policy covering one of these areas is affected, in addition to those chosen below.",
    )
    policies = PolicyChoiceField(queryset=Policy.objects.none(), required=False, label="Affected policies")

    class Meta:
        model = ChangeEvent
        fields = ["kind", "title", "occurred_on", "description", "areas", "policies"]
        widgets = {"occurred_on": DateInput(), "description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = _policies_not_retired()
        if self.instance.pk:
            queryset = queryset | Policy.objects.filter(pk__in=self.instance.policies.values("pk"))
        self.fields["policies"].queryset = queryset.distinct().order_by("title")


class EvaluationForm(RefusesKeyMaterial, FieldsetsMixin, forms.ModelForm):
    performed_by = UserChoiceField(queryset=active_users(), help_text="Who led the evaluation.")
    policies = PolicyChoiceField(queryset=Policy.objects.none(), required=False, label="Policies evaluated")

    class Meta:
        model = EffectivenessEvaluation
        fields = [
            "kind",
            "title",
            "performed_on",
            "result",
            "performed_by",
            "assessor",
            "scope",
            "findings",
            "policies",
        ]
        widgets = {
            "performed_on": DateInput(),
            "scope": forms.Textarea(attrs={"rows": 3}),
            "findings": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policies"].queryset = Policy.objects.order_by("title")
