"""Filter fields the page lists and the API share. ``YesNoFilter``: a yes/no filter that refuses any other value
(django-filter's BooleanFilter reads ``?overdue=maybe`` as "any" and filters nothing, silently): the API then
answers 400 and a page says the filter was not applied (``cek.pages.FilterNotices``)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend

from cek.keymaterial import KeyMaterialValidator

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


class TextFilter(django_filters.CharFilter):
    """Free text in a query string (a search, a name): refused when it looks like key material, so it is neither
    searched for nor written back into the page's form, its links or an error (a refused filter is never quoted
    then: ``cek.pages.shown_value``; the API's error names the field, not the value)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["validators"] = [*kwargs.get("validators", ()), KeyMaterialValidator()]
        super().__init__(*args, **kwargs)


class FilterBackend(DjangoFilterBackend):
    """django-filter's API backend, except that a query string naming none of the view's filters (``?page=7``)
    builds and validates no filter form: the queryset is returned as it is, as the filter set would return it."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in filterset_class.base_filters for name in request.query_params
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
