"""What pages built on services share: the role set that reads everything, a read mixin that tells the template
whether the user may edit, loading the page's objects after the role check, turning a service's errors into form
errors, a service-backed form view, and safe "back to" redirects."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView

from cek.keymaterial import find_key_material
from cek.roles import Role, RoleRequiredMixin, is_grc
from cek.textsafety import find_unsafe_text

EVERYONE = (Role.GRC, Role.AUDITOR, Role.KEY_OWNER)


# Parameters of a list's URL that are not filters: paging and sorting.
NOT_FILTERS = frozenset({"page", "ordering", "sort"})
_SHOWN_LENGTH = 60


def shown_value(raw) -> str:
    """A refused filter value as a page may quote it: shortened, and "" (the template then says "the value
    given") when it looks like key material or holds characters a page should not print. The template escapes."""
    text = " ".join(str(v) for v in raw) if isinstance(raw, (list, tuple)) else str(raw)
    text = text.strip()
    if not text or find_key_material(text) or find_unsafe_text(text):
        return ""
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


@dataclass(frozen=True)
class RefusedFilter:
    name: str  # URL parameter
    label: str  # the filter's label on the page
    value: str  # what may be quoted ("" when it must not be)


class FilterNotices:
    """A list page that says which filter values of its URL it refused (an unknown state, store, a non-boolean)
    instead of dropping them silently: ``refuse_filter`` records one, ``choice_param`` reads a parameter against
    its allowed values, ``lenient_filterset`` runs a django-filter FilterSet with its invalid fields dropped. The
    context gets ``refused_filters`` and ``refused_filters_others`` (whether other filters still narrow the
    list); ``base.html`` shows them (``_refused_filters.html``) above the list."""

    def refuse_filter(self, name: str, label: str, value) -> None:
        refused = self.__dict__.setdefault("_refused_filters", {})
        refused.setdefault(name, RefusedFilter(name, str(label), shown_value(value)))

    def choice_param(self, name: str, label: str, allowed) -> str:
        """``?name=`` when it is one of ``allowed``, else "" (and the refusal is recorded)."""
        value = (self.request.GET.get(name) or "").strip()
        if value and value not in allowed:
            self.refuse_filter(name, label, value)
            return ""
        return value

    def text_param(self, name: str, label: str) -> str:
        """``?name=`` free text (a search), or "" when it looks like key material: then refused (the page says so
        without quoting it), neither searched for nor written back into the page or its links."""
        value = (self.request.GET.get(name) or "").strip()
        if value and find_key_material(value):
            self.refuse_filter(name, label, value)
            return ""
        return value

    def lenient_filterset(self, filterset_class, data, **kwargs):
        """The FilterSet on ``data`` with every invalid field refused and dropped, so the valid filters still
        apply (yes/no filters are ``cek.filtering.YesNoFilter``: a value other than yes or no is invalid).
        Returns the filterset, unbound when ``data`` names none of its filters (``?page=7``: no form to validate)."""
        if data and not any(name in filterset_class.base_filters for name in data):
            data = None
        filterset = filterset_class(data or None, **kwargs)
        if not filterset.is_bound or filterset.is_valid():
            return filterset
        kept = data.copy()
        for name in list(filterset.errors):
            if name in filterset.form.fields:
                self.refuse_filter(name, filterset.form[name].label, data.getlist(name))
                kept.pop(name, None)
        return filterset_class(kept or None, **kwargs)

    def lenient_form(self, form_class, data):
        """A GET filter form on ``data`` with its invalid fields refused and dropped (the others still apply)."""
        form = form_class(data or None)
        if not form.is_bound or form.is_valid():
            return form
        kept = data.copy()
        for name in list(form.errors):
            if name in form.fields:
                self.refuse_filter(name, form[name].label, data.getlist(name))
                kept.pop(name, None)
        form = form_class(kept or None)
        form.is_valid()
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        refused = list(self.__dict__.get("_refused_filters", {}).values())
        context["refused_filters"] = refused
        names = {r.name for r in refused}
        context["refused_filters_others"] = any(
            value.strip()
            for name, values in self.request.GET.lists()
            if name not in NOT_FILTERS and name not in names
            for value in values
        )
        return context


class LenientPages(FilterNotices):
    """A junk or out-of-range ``?page=`` shows the first or last page instead of a 404; a refused filter value
    is said above the list (``FilterNotices``)."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()


class ReadMixin(RoleRequiredMixin):
    """Pages every role reads and GRC alone writes (policies, changes, evaluations): ``can_edit`` tells the template."""

    allowed_roles = EVERYONE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = is_grc(self.request.user)
        return context


class LoadsObjects:
    """Calls ``self.load()`` (which 404s for a missing object) after the role check of the mixin before it."""

    def dispatch(self, request, *args, **kwargs):
        self.load()
        return super().dispatch(request, *args, **kwargs)

    def load(self) -> None:
        raise NotImplementedError


def errors_to_form(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: under its field when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ServiceFormView(FormView):
    """A form whose valid data goes to a service (``perform``); the service's refusals re-render the form."""

    success_message = ""

    def perform(self, form):  # returns the saved object
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.saved = self.perform(form)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message.format(obj=self.saved))
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        messages.error(self.request, "Nothing was saved: correct the fields marked below.")
        return super().form_invalid(form)

    def get_success_url(self) -> str:
        return self.saved.get_absolute_url()


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return default


@dataclass
class Confirmation:
    """An irreversible step asked first: a page (``_confirm.html``) that says what will happen, in sentences
    computed from the data, with one button that POSTs the step and a way back. The step's own POST is unchanged
    (scripts and tests post it directly); people reach it through this page."""

    title: str
    consequences: list[str]
    button: str
    action: str
    cancel: str
    subject: str = ""
    warning: str = ""
    danger: bool = False
    disabled: bool = False
    fields: list[tuple[str, str]] = field(default_factory=list)


def confirmation_page(request, confirmation: Confirmation):
    from django.template.response import TemplateResponse

    return TemplateResponse(request, "_confirm.html", {"confirm": confirmation})
