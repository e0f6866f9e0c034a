"""Forms of the CEK-11.1 answer pages: the party to answer for, the draft's fields (with structured
disclosures and a corrective-action plan as formsets, never raw JSON) and the template upload."""

from __future__ import annotations

from django import forms

from cek.forms import DateInput, FieldsetsMixin, RefusesKeyMaterial
from cek.keymaterial import KeyMaterialValidator
from evidence.answers.selectors import parties
from evidence.models import AnswerValue, ControlOwnership

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
free_text = KeyMaterialValidator()


def _text(label: str, *, rows: int = 3, required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        validators=[free_text],
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class PartyForm(RefusesKeyMaterial, forms.Form):
    party = forms.ModelChoiceField(queryset=parties(), empty_label=None, label="Answer as")


class AnswerForm(RefusesKeyMaterial, forms.Form):
    answer = forms.ChoiceField(label="Service provider answer (C)", choices=AnswerValue.choices)
    override_reason = _text(
        "Reason for overriding the generated answer",
        help_text="Required when the answer differs from the one the evidence gives; recorded with the answer.",
    )
    ownership = forms.ChoiceField(label="SSRM Control Ownership (D)", choices=ControlOwnership.choices)
    implementation = _text("Implementation description (E)", rows=14, required=True)
    customer_responsibilities = _text("Customer responsibilities (F)", rows=5)
    na_justification = _text("NA justification", help_text="Why CEK-11 does not apply (answer NA only).")
    plan_owner = forms.CharField(
        label="Corrective-action owner", max_length=200, required=False, validators=[free_text]
    )
    plan_due = forms.DateField(label="Corrective-action due date", required=False, widget=DateInput())

    def __init__(self, *args, generated_answer: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.generated_answer = generated_answer

    def clean(self):
        data = super().clean()
        if data.get("answer") and data["answer"] != self.generated_answer and not data.get("override_reason"):
            self.add_error(
                "override_reason",
                f"The evidence gives {self.generated_answer}; give the reason for answering {data['answer']} instead.",
            )
        return data


class DisclosureForm(RefusesKeyMaterial, forms.Form):
    guideline = forms.CharField(max_length=40, required=False, validators=[free_text], label="Guideline")
    gap = forms.CharField(required=False, validators=[free_text], widget=forms.Textarea(attrs={"rows": 2}))
    remediation = forms.CharField(
        required=False, validators=[free_text], widget=forms.Textarea(attrs={"rows": 2}), label="Remediation plan"
    )
    due = forms.DateField(required=False, widget=DateInput(), label="Due")

    def clean(self):
        data = super().clean()
        filled = [name for name in ("guideline", "gap", "remediation", "due") if data.get(name)]
        if filled and not data.get("DELETE"):
            for name in ("gap", "remediation", "due"):
                if not data.get(name):
                    self.add_error(name, "Required for a disclosed gap.")
        return data


class MilestoneForm(RefusesKeyMaterial, forms.Form):
    text = forms.CharField(
        required=False, validators=[free_text], widget=forms.Textarea(attrs={"rows": 2}), label="Milestone"
    )
    due = forms.DateField(required=False, widget=DateInput(), label="Due")

    def clean(self):
        data = super().clean()
        if (data.get("text") or data.get("due")) and not data.get("DELETE"):
            for name in ("text", "due"):
                if not data.get(name):
                    self.add_error(name, "Required for a milestone.")
        return data


DisclosureFormSet = forms.formset_factory(DisclosureForm, extra=1, can_delete=True, max_num=30, validate_max=True)
MilestoneFormSet = forms.formset_factory(MilestoneForm, extra=1, can_delete=True, max_num=30, validate_max=True)


def rows_of(formset, fields: tuple[str, ...]) -> list[dict]:
    """The filled, undeleted rows of a valid formset, dates as ISO text."""
    rows = []
    for data in formset.cleaned_data:
        if not data or data.get("DELETE"):
            continue
        row = {
            name: (data[name].isoformat() if hasattr(data.get(name), "isoformat") else data.get(name) or "")
            for name in fields
        }
        if any(row.values()):
            rows.append(row)
    return rows


class TemplateUploadForm(RefusesKeyMaterial, FieldsetsMixin, forms.Form):
    workbook = forms.FileField(
        label="Blank AI-CAIQ workbook (.xlsx)",
        help_text="Your copy of CSA's official AI-CAIQ v1.1.0 workbook; only C-F of the CEK-11.1 row are written.",
    )

    def clean_workbook(self):
        upload = self.cleaned_data["workbook"]
        if upload.size > MAX_TEMPLATE_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB; the AI-CAIQ workbook is far smaller.")
        if not upload.name.lower().endswith((".xlsx", ".xlsm")):
            raise forms.ValidationError(f"“{upload.name}” is not an Excel workbook (.xlsx).")
        return upload
