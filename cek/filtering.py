"""Filter fields the page lists and the API share. ``YesNoFilter``: a yes/no filter that refuses any other value
(django-filter's BooleanFilter reads ``?overdue=maybe`` as "any" and filters nothing, silently): the API then
answers 400 and a page says the filter was not applied (``cek.pages.FilterNotices``)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError

YES_NO_ANY = [("", "Any"), ("true", "Yes"), ("false", "No")]
YES = frozenset({True, "True", "true", "1"})
NO = frozenset({False, "False", "false", "0"})


class YesNoField(forms.NullBooleanField):
    widget = forms.Select(choices=YES_NO_ANY)  # passes the raw value on (NullBooleanSelect maps junk to None)

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in YES:
            return True
        if value in NO:
            return False
        raise ValidationError("Choose yes or no (true or false).", code="invalid")

    def validate(self, value):
        pass


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField
