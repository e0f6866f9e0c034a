"""Every form of the app, bound with a secret in each of its fields, re-renders without it.

The forms are discovered (every module of ``cek``, ``inventory`` and ``evidence``, plus the form classes the
URL configuration's views use, Django's account forms included), so a new form that does not inherit
``RefusesKeyMaterial`` fails here without anyone adding it to a list."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.html import escape

from cek.forms import RefusesKeyMaterial
from tests.factories import UserFactory

SECRET = "ghp_" + "Z8kQ2mW9xR4tY7uV1bN3cL6pJ0hG5fD2sA8e"  # a GitHub token's shape
# Also the shape only a field's own validator knows (a credential assignment), in the fields it fits.
ASSIGNMENT = "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _modules():
    for package_name in ("cek", "inventory", "evidence"):
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations" in info.name or info.name.endswith((".tests", ".celery", ".wsgi")):
                continue
            yield importlib.import_module(info.name)


def _view_forms():
    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                view = getattr(entry.callback, "view_class", None)
                initkwargs = getattr(entry.callback, "view_initkwargs", {})
                # LoginView uses ``authentication_form`` when given, its ``form_class`` only otherwise.
                attribute = "authentication_form" if initkwargs.get("authentication_form") else "form_class"
                form_class = initkwargs.get(attribute) or getattr(view, attribute, None)
                if inspect.isclass(form_class) and issubclass(form_class, forms.BaseForm):
                    yield form_class

    yield from walk(get_resolver().url_patterns)


def _form_classes() -> list[type[forms.BaseForm]]:
    found: set[type[forms.BaseForm]] = set(_view_forms())
    for module in _modules():
        for _name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
                and value is not RefusesKeyMaterial
            ):
                found.add(value)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


FORM_CLASSES = _form_classes()


def _bind(form_class, data, user):
    if issubclass(form_class, (PasswordChangeForm, SetPasswordForm)):
        return form_class(user, data=data)
    if issubclass(form_class, AuthenticationForm):
        # Login throttling (django-axes) authenticates only with the request the attempt came in.
        return form_class(request=RequestFactory().post("/accounts/login/"), data=data)
    if "generated_answer" in inspect.signature(form_class.__init__).parameters:
        return form_class(data=data, generated_answer="YES")
    if "user" in inspect.signature(form_class.__init__).parameters:
        return form_class(data=data, user=user)
    return form_class(data=data)


# Passwords and files are never rendered back and a checkbox only as ticked or not: not judged.
_NOT_RENDERED_BACK = (forms.PasswordInput, forms.FileInput, forms.CheckboxInput)


def _bound_with(form_class, value: str):
    """The form bound with ``value`` in every field, and the names of the fields it renders back."""
    user = UserFactory()
    probe = _bind(form_class, {}, user)
    form = _bind(form_class, {probe.add_prefix(name): value for name in probe.fields}, user)
    judged = [
        name
        for name, field in form.fields.items()
        if not (isinstance(field.widget, _NOT_RENDERED_BACK) or field.disabled)
    ]
    return form, judged


def test_the_discovery_finds_the_forms_of_both_apps():
    names = {cls.__name__ for cls in FORM_CLASSES}
    assert {"KeyForm", "PolicyVersionForm", "ManualEvidenceForm", "PackRequestForm", "ApiTokenForm"} <= names
    assert {"AcceptRiskForm", "CampaignForm", "ImportUploadForm", "DisclosureForm", "LoginForm"} <= names
    assert {"AccountPasswordChangeForm", "AccountPasswordResetForm", "AccountSetPasswordForm"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
@pytest.mark.parametrize("secret", [SECRET, ASSIGNMENT], ids=["token", "assignment"])
def test_a_refused_form_never_shows_the_secret_again(form_class, secret):
    assert issubclass(form_class, RefusesKeyMaterial), f"{form_class.__name__} must inherit RefusesKeyMaterial"
    form, judged = _bound_with(form_class, secret)
    if judged:
        assert not form.is_valid()
    else:
        form.is_valid()
    html = str(form) + "".join(str(form[name]) for name in form.fields) + str(form.errors)
    assert secret not in html and escape(secret) not in html
    assert secret[:20] not in html and escape(secret)[12:32] not in html
    for name in judged:
        assert form.has_error(name, code="key_material"), name


@pytest.mark.django_db
def test_a_service_refusal_after_cleaning_also_empties_the_field():
    from django.core.exceptions import ValidationError

    from evidence.findings.forms import ResolveForm

    form = ResolveForm(data={"note": "fixed"})
    assert form.is_valid()
    form.data = {"note": SECRET}  # as if the service judged a value the form had let through
    form.add_error(None, ValidationError(f"Refused: {SECRET}"))
    html = str(form) + str(form.non_field_errors())
    assert SECRET not in html and form.has_error("note", code="key_material")


UNSAFE = {
    "nul": "model-signing\x00key",
    "bidi-override": "model-signing\u202ekey",
    "escape-sequence": "model-signing\x1b[2Jkey",
}


# The forms with a field that is rendered back (password and upload forms have none).
TEXT_FORM_CLASSES = [
    cls
    for cls in FORM_CLASSES
    if any(not isinstance(field.widget, _NOT_RENDERED_BACK) for field in cls.base_fields.values())
]


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", TEXT_FORM_CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
@pytest.mark.parametrize("text", UNSAFE.values(), ids=UNSAFE.keys())
def test_every_form_refuses_control_characters_and_bidi_overrides_naming_the_character(form_class, text):
    form, judged = _bound_with(form_class, text)
    assert judged and not form.is_valid()
    for name in judged:
        assert form.has_error(name, code="unsafe_text"), name
        assert "U+" in " ".join(form.errors[name])


@pytest.mark.django_db
def test_line_breaks_are_text_in_a_text_area_but_refused_in_a_one_line_field():
    from evidence.checks.forms import ManualEvidenceForm
    from inventory.forms import KeyForm

    assert not ManualEvidenceForm(data={"note": "Rotated.\r\nChecked\twith the owner."}).has_error("note")
    form = KeyForm(data={"name": "inference\tlogs"})
    form.is_valid()
    assert form.has_error("name", code="unsafe_text")
