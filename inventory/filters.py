"""Filters shared by the key list page and the API: the same URL parameters mean the same thing in both."""

from __future__ import annotations

import copy

import django_filters as filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone
from django_filters.fields import ModelChoiceField as FilterModelChoiceField

from cek.filtering import TextFilter, YesNoFilter
from inventory.filter_choices import key_filter_ids
from inventory.models import (
    AccessGrant,
    Binding,
    CryptoFunction,
    Key,
    KeyKind,
    KeyState,
    KeyStore,
    Party,
    Purpose,
    Service,
    SsrmLayer,
    Tenant,
)
from inventory.selectors import cryptoperiod_passed, key_search


class OneOfManySelect(forms.Select):
    """A single ``<select>`` in the page that still reads repeated parameters (``?state=a&state=b``) from
    bookmarked URLs and the API."""

    allow_multiple_selected = False

    def value_from_datadict(self, data, files, name):
        return [value for value in forms.SelectMultiple().value_from_datadict(data, files, name) if value]


class CachedModelChoiceField(FilterModelChoiceField):
    """A model choice checked against the key list's cached drop-down lists (``inventory.filter_choices``) rather
    than by a query a request (1.1-1.7 ms of CPU at 100,000 keys): the same values are accepted, since the lists
    are read from the same rows as the filter's ``queryset`` and dropped whenever one of them is written, and the
    same message refuses any other. The cleaned value is the row with its id and the value given, nothing else
    read (another field would be read from the database when used), so the filter's SQL is what it was."""

    def __init__(self, *args, choices_of: str, **kwargs):
        self.choices_of = choices_of
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        model, to_field = self.queryset.model, self.to_field_name
        try:  # an id as the database would read it ("01" is 1), a slug or username as given
            text = str(value) if to_field else str(model._meta.pk.to_python(value))
        except ValidationError:
            text = None
        pk = None if text is None else key_filter_ids(self.choices_of).get(text)
        if pk is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        names, values = [model._meta.pk.attname], [pk]
        if to_field:
            names.append(to_field)
            values.append(text)
        return model.from_db(self.queryset.db, names, values)


class CachedChoiceFilter(filters.ModelChoiceFilter):
    """A ``ModelChoiceFilter`` whose value is checked against the cached list ``choices_of`` (see
    :class:`CachedModelChoiceField`); its ``queryset`` must select the same rows as that list."""

    field_class = CachedModelChoiceField


YES_NO_ANY = [("", "Any"), ("true", "Yes"), ("false", "No")]

KEY_ORDERING = {
    # URL value: (label, ORM ordering)
    "name": ("Name", ("name", "id")),
    "state": ("State", ("state", "name", "id")),
    "purpose": ("Purpose", ("purpose__name", "name", "id")),
    "store": ("Store", ("store__name", "name", "id")),
    "owner": ("Owner", ("owner__username", "name", "id")),
    "cryptoperiod_ends_on": ("Cryptoperiod ends", ("cryptoperiod_ends_on", "id")),
    "last_rotated_on": ("Last rotated", ("last_rotated_on", "id")),
    "updated_at": ("Updated", ("updated_at", "id")),
}


class SharedSetupFilterSet(filters.FilterSet):
    """A filter set whose instances share what django-filter rebuilds for each one: it deep-copies every filter
    (and each filter's queryset with its query) and builds a new form class with new form fields per instance,
    3.5 ms a request for the key list's 17 filters. Here the filters are copied shallowly (a ``method`` filter is
    re-bound to its copy, as django-filter binds it) and the form class is built once per filter-set class and set
    of filters a request names (Django's form still copies its fields per form, as always: only those).

    Only for filter sets whose filters hold no per-request state: no callable ``queryset`` (refused here)."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            copied = copy.copy(base)
            copied.model, copied.parent = queryset.model, self
            if base.method is not None:
                copied.method = base.method  # a FilterMethod of the copy, which finds the method on this filter set
            self.filters[name] = copied

    def get_form_class(self):
        """The form of the filters the data names (all of them when unbound), built once per set of names: a form
        copies each of its fields when it is made, and a request names one or two of the 17."""
        cls = type(self)
        classes = cls.__dict__.get("_shared_form_classes")
        if classes is None:
            for name, base in cls.base_filters.items():
                if callable(getattr(base, "queryset", None)):
                    raise TypeError(f"{cls.__name__}.{name}: a per-request queryset cannot be shared.")
            classes = cls._shared_form_classes = {}
        names = frozenset(name for name in self.data if name in cls.base_filters) if self.is_bound else None
        form_class = classes.get(names)
        if form_class is None:
            fields = {name: base.field for name, base in cls.base_filters.items() if names is None or name in names}
            form_class = classes.setdefault(names, type(f"{cls.__name__}Form", (cls._meta.form,), fields))
        return form_class


class KeyFilter(SharedSetupFilterSet):
    q = TextFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name, id, description", "type": "search"}),
    )
    # The values of these five are checked against the drop-downs' cached lists (inventory/filter_choices.py), whose
    # rows are these querysets': no query a request to find the value exists.
    store = CachedChoiceFilter(
        queryset=KeyStore.objects.order_by("name"), field_name="store", empty_label="Any", choices_of="store"
    )
    purpose = CachedChoiceFilter(
        queryset=Purpose.objects.order_by("name"),
        to_field_name="slug",
        field_name="purpose",
        empty_label="Any",
        choices_of="purpose",
    )
    function = filters.ChoiceFilter(choices=CryptoFunction.choices, field_name="purpose__function", empty_label="Any")
    owner = CachedChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        method="filter_owner",
        empty_label="Anyone",
        choices_of="owner",
    )
    state = filters.MultipleChoiceFilter(
        choices=[("", "Any"), *KeyState.choices],
        widget=OneOfManySelect,
        distinct=False,
        help_text="Repeat the parameter for several.",
    )
    kind = filters.ChoiceFilter(choices=KeyKind.choices, empty_label="Any")
    tenant = CachedChoiceFilter(
        queryset=Tenant.objects.order_by("name"),
        to_field_name="slug",
        field_name="tenant",
        empty_label="Any",
        choices_of="tenant",
    )
    service = CachedChoiceFilter(
        queryset=Service.objects.order_by("name"),
        to_field_name="slug",
        method="filter_service",
        empty_label="Any",
        choices_of="service",
    )
    ssrm_layer = filters.ChoiceFilter(choices=SsrmLayer.choices, label="SSRM layer", empty_label="Any")
    custodian = filters.ModelChoiceFilter(queryset=Party.objects.all(), field_name="custodian")
    overdue = YesNoFilter(
        method="filter_overdue", label="Cryptoperiod overdue", widget=forms.Select(choices=YES_NO_ANY)
    )
    ai = YesNoFilter(
        field_name="purpose__is_ai_specific", label="AI-specific purpose", widget=forms.Select(choices=YES_NO_ANY)
    )
    unassigned = YesNoFilter(
        field_name="purpose",
        lookup_expr="isnull",
        label="Purpose unassigned",
        widget=forms.Select(choices=YES_NO_ANY),
        help_text="Keys an import found without a purpose, waiting for GRC to map them.",
    )
    not_seen = YesNoFilter(
        field_name="not_seen_since",
        lookup_expr="isnull",
        exclude=True,
        label="No longer listed by the store",
        widget=forms.Select(choices=YES_NO_ANY),
    )
    platform_managed = YesNoFilter(label="Managed by the platform", widget=forms.Select(choices=YES_NO_ANY))
    ordering = filters.OrderingFilter(
        fields={value: value for value in KEY_ORDERING},
        field_labels={value: label for value, (label, _) in KEY_ORDERING.items()},
        method="filter_ordering",
    )

    class Meta:
        model = Key
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return key_search(queryset, value)

    def filter_owner(self, queryset, name, value):
        return queryset.filter(Q(owner=value) | Q(backup_owner=value)) if value else queryset

    def filter_service(self, queryset, name, value: Service | None):
        if not value:
            return queryset
        return queryset.filter(Exists(Binding.objects.filter(key=OuterRef("pk"), service=value)))

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = cryptoperiod_passed(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_ordering(self, queryset, name, value):
        orderings: list[str] = []
        for item in value or []:
            descending = item.startswith("-")
            _, fields = KEY_ORDERING[item.lstrip("-")]
            orderings.extend(f"-{f}" if descending else f for f in fields)
        return queryset.order_by(*orderings) if orderings else queryset


class BindingFilter(filters.FilterSet):
    key = filters.NumberFilter(field_name="key")
    service = filters.ModelChoiceFilter(queryset=Service.objects.all(), to_field_name="slug")
    tenant = filters.ModelChoiceFilter(queryset=Tenant.objects.all(), to_field_name="slug")
    purpose = filters.ModelChoiceFilter(queryset=Purpose.objects.all(), to_field_name="slug")

    class Meta:
        model = Binding
        fields: list[str] = []


class GrantFilter(filters.FilterSet):
    key = filters.NumberFilter(field_name="key")
    principal_type = TextFilter()
    expired = YesNoFilter(method="filter_expired")

    class Meta:
        model = AccessGrant
        fields: list[str] = []

    def filter_expired(self, queryset, name, value):
        if value is None:
            return queryset
        expired = Q(expires_on__lt=timezone.localdate())
        return queryset.filter(expired) if value else queryset.exclude(expired)
