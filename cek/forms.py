"""What the forms of every app share: the key-material guard each form puts first (``RefusesKeyMaterial``), the
account forms, and the fields and widgets the inventory and evidence forms both use (dates, people, choice lists,
fieldsets)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils import formats, timezone

from cek.keymaterial import ADVICE, find_key_material, message_for
from cek.textsafety import find_unsafe_text
from cek.textsafety import message_for as unsafe_message


class RefusesKeyMaterial:
    """Put first in the bases of every form of the app: a value that holds key material is never shown again.

    A refused form re-renders what was typed so nothing is lost, except a value that looks like key material
    (a key, secret or token): that field comes back empty, with one error that says why and never quotes the
    value. The check runs on the raw submitted value of every field (text, choices, dates, hidden fields,
    labels), not only on fields that have a validator, because Django's own messages quote what was typed
    (an invalid choice, a label named twice) and because a service can refuse a form after it was cleaned
    (``add_error`` runs it again). Passwords and files are never rendered back, so they are not judged here.

    A valid form never reaches the page again, but it is refused too when one of its fields holds key material
    that the field's own validation let through: that is the one guard, whatever the field.
    """

    _key_material_cleaning = False
    _instance_before: dict = {}  # replaced per form in full_clean, never mutated

    def full_clean(self) -> None:
        # A model form copies cleaned values onto its instance before the model's own validators run, and the
        # page shows the instance ("Edit <name>" in the title): a refused value must not stay there either.
        instance = getattr(self, "instance", None)
        self._instance_before = (
            {field.name: getattr(instance, field.attname) for field in instance._meta.concrete_fields}
            if instance is not None and hasattr(instance, "_meta")
            else {}
        )
        self._key_material_cleaning = True
        try:
            super().full_clean()  # type: ignore[misc]
        finally:
            self._key_material_cleaning = False
        self.refuse_key_material()
        self.refuse_unsafe_text()

    def add_error(self, field, error) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        if not self._key_material_cleaning:
            self.refuse_key_material()

    def refuse_key_material(self) -> None:
        """Empty every field whose submitted value holds key material, and make its error say why."""
        errors = getattr(self, "_errors", None)
        if not getattr(self, "is_bound", False) or errors is None:
            return
        found: dict[str, str] = {}
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if field.disabled or isinstance(field.widget, (forms.PasswordInput, forms.FileInput)):
                continue
            reason = _submitted_key_material(self, name, field)
            if reason:
                found[name] = reason
        if found:
            data = self.data.copy()  # type: ignore[attr-defined]  # a request's QueryDict is immutable
            for name, reason in found.items():
                for html_name in _html_names(self, name, self.fields[name]):  # type: ignore[attr-defined]
                    data.pop(html_name, None)
                kept = (
                    [error for error in errors[name].as_data() if error.code == "key_material"]
                    if name in errors
                    else []
                )
                errors[name] = self.error_class(  # type: ignore[attr-defined]
                    kept or [ValidationError(message_for("This value", reason), code="key_material")],
                    renderer=self.renderer,  # type: ignore[attr-defined]
                )
                getattr(self, "cleaned_data", {}).pop(name, None)
                before = getattr(self, "_instance_before", {})
                if name in before:
                    setattr(self.instance, self.instance._meta.get_field(name).attname, before[name])  # type: ignore[attr-defined]
            self.data = data
        # Whatever the field, no message may quote key material (a service's message, a non-field error).
        for name, error_list in list(errors.items()):
            listed = error_list.as_data()
            if any(find_key_material(" ".join(error)) for error in listed):
                errors[name] = self.error_class(  # type: ignore[attr-defined]
                    [
                        ValidationError(REFUSED_MESSAGE, code="key_material")
                        if find_key_material(" ".join(error))
                        else error
                        for error in listed
                    ],
                    renderer=self.renderer,  # type: ignore[attr-defined]
                )

    def refuse_unsafe_text(self) -> None:
        """NUL and other control characters, unpaired surrogates and bidirectional overrides are refused in
        every field (``cek.textsafety``; line breaks and tabs only in text areas), naming the character, never
        quoting the text. The value stays in the field, so what was typed is not lost."""
        errors = getattr(self, "_errors", None)
        if not getattr(self, "is_bound", False) or errors is None:
            return
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if field.disabled or isinstance(field.widget, (forms.PasswordInput, forms.FileInput)):
                continue
            if name in errors and any(error.code == "key_material" for error in errors[name].as_data()):
                continue  # emptied already
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))  # type: ignore[attr-defined]
            multiline = isinstance(field.widget, forms.Textarea)
            for value in raw if isinstance(raw, (list, tuple)) else [raw]:
                reason = find_unsafe_text(value, multiline=multiline) if isinstance(value, str) else None
                if reason:
                    errors[name] = self.error_class(  # type: ignore[attr-defined]
                        [ValidationError(unsafe_message("This value", reason), code="unsafe_text")],
                        renderer=self.renderer,  # type: ignore[attr-defined]
                    )
                    getattr(self, "cleaned_data", {}).pop(name, None)
                    break


REFUSED_MESSAGE = f"A value was refused: it looks like key material. {ADVICE}"


def _html_names(form, name: str, field: forms.Field) -> list[str]:
    html_name = form.add_prefix(name)
    if isinstance(field.widget, forms.MultiWidget):
        return [html_name] + [html_name + suffix for suffix in field.widget.widgets_names]
    return [html_name]


def _submitted_key_material(form, name: str, field: forms.Field) -> str | None:
    raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    values = raw if isinstance(raw, (list, tuple)) else [raw]
    for value in values:
        if isinstance(value, str) and value:
            reason = find_key_material(value)
            if reason:
                return reason
    return None


# --- Fields and widgets the forms of both apps share ------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)  # the ISO form a date input understands, whatever the locale


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


def active_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class ChoiceListField(forms.MultipleChoiceField):
    """A JSON list of choices, shown as checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def prepare_value(self, value):
        return list(value or [])


class FieldsetsMixin:
    """``fieldsets = [(title, [field names])]`` for templates that group long forms."""

    fieldsets: list[tuple[str, list[str]]] = []

    def grouped(self):
        if not self.fieldsets:
            return [("", list(self))]
        return [(title, [self[name] for name in names]) for title, names in self.fieldsets]


class LoginForm(RefusesKeyMaterial, AuthenticationForm):
    """The standard login form, plus a clear reason when an account's access limit has passed.

    The reason is given only after the correct password, so it reveals nothing to a guesser.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "access_expired": "Your access ended on %(date)s. Ask a GRC administrator to extend it.",
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            # Noted by cek.access.ExpiringAccessBackend when the password was right: checking it again here
            # would hash twice for existing usernames only, which tells them apart by timing.
            ended_at = getattr(self.request, "cek_access_ended_at", None)
            if ended_at is not None:
                raise forms.ValidationError(
                    self.error_messages["access_expired"],
                    code="access_expired",
                    params={"date": formats.date_format(timezone.localtime(ended_at), "DATETIME_FORMAT")},
                ) from None
            raise


# The account pages use Django's forms; these keep them under the same rule as every other form of the app.
class AccountPasswordChangeForm(RefusesKeyMaterial, PasswordChangeForm):
    pass


class AccountPasswordResetForm(RefusesKeyMaterial, PasswordResetForm):
    pass


class AccountSetPasswordForm(RefusesKeyMaterial, SetPasswordForm):
    pass
