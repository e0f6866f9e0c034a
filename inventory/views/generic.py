"""One generic set of list / detail / create / edit / delete views that serves every inventory model through a
``Resource`` description. Reads go through ``inventory.selectors``, writes through ``inventory.services``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import DetailView, FormView, ListView

from cek.history import history_entries
from cek.pages import LenientPages, errors_to_form
from cek.roles import Role, RoleRequiredMixin, is_grc
from inventory import services
from inventory.display import Column, field_display

READERS = (Role.GRC, Role.AUDITOR)


@dataclass(frozen=True)
class Resource:
    """How one model appears in the UI."""

    name: str  # URL name stem: "service" -> inventory:service-list ...
    model: type
    form_class: type
    columns: list[Column]
    title: str
    search: tuple[str, ...] = ("name",)
    read_roles: tuple[Role, ...] = READERS
    queryset: Callable[[Any], QuerySet] | None = None
    save: Callable[..., Any] | None = None
    delete: Callable[..., Any] | None = None
    intro: str = ""
    ordering: tuple[str, ...] = ()
    detail_prefetch: tuple[str, ...] = ()
    key_filter: tuple[str, str] | None = None
    initial_from_query: tuple[str, ...] = ()  # fields a new object's form takes from the URL (?account=...)
    initial: Callable[[Any], dict] | None = (
        None  # initial values of a new object's form, given the user  # (key-list parameter, object attribute): "Show the keys" link
    )

    @property
    def detail_fields(self) -> list[str]:
        """The detail page shows what the form edits, in the same order."""
        return list(self.form_class._meta.fields)

    def get_queryset(self, user) -> QuerySet:
        return self.queryset(user) if self.queryset else self.model._default_manager.all()

    def url(self, action: str, *args) -> str:
        return reverse(f"inventory:{self.name}-{action}", args=args)


def _save_default(*, form, actor):
    m2m = {f.name: form.cleaned_data[f.name] for f in form.instance._meta.many_to_many if f.name in form.cleaned_data}
    return services.object_save(instance=form.instance, actor=actor, m2m=m2m)


class ResourceMixin(RoleRequiredMixin):
    resource: Resource = None  # set through as_view(resource=...)
    action = "read"

    def dispatch(self, request, *args, **kwargs):
        self.allowed_roles = self.resource.read_roles if self.action == "read" else (Role.GRC,)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.resource.get_queryset(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["resource"] = self.resource
        context["verbose_name"] = self.resource.model._meta.verbose_name
        context["can_edit"] = is_grc(self.request.user)
        return context


class ObjectListView(LenientPages, ResourceMixin, ListView):
    template_name = "inventory/object_list.html"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        queryset = super().get_queryset()
        self.q = self.text_param("q", "Search")
        if self.q:
            condition = Q()
            for name in self.resource.search:
                condition |= Q(**{f"{name}__icontains": self.q})
            queryset = queryset.filter(condition)
        # Aggregating querysets drop Meta.ordering, so the order is always explicit (stable pagination).
        return queryset.order_by(*(self.resource.ordering or self.resource.model._meta.ordering or ("pk",)))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["q"] = self.q
        context["rows"] = [
            (obj, [(c.css, c.render(obj)) for c in self.resource.columns]) for obj in context["object_list"]
        ]
        return context


class ObjectDetailView(ResourceMixin, DetailView):
    template_name = "inventory/object_detail.html"

    def get_queryset(self):
        return super().get_queryset().prefetch_related(*self.resource.detail_prefetch)

    def get_template_names(self):
        return [f"inventory/{self.resource.name}_detail.html", self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        form_fields = self.resource.form_class.base_fields  # the page names each field as the form does
        context["props"] = [
            (
                getattr(form_fields.get(name), "label", None) or obj._meta.get_field(name).verbose_name,
                field_display(obj, name),
            )
            for name in self.resource.detail_fields
        ]
        context["history"] = history_entries(obj)
        if self.resource.key_filter:
            context["key_filter_value"] = getattr(obj, self.resource.key_filter[1])
        return context


class ObjectFormView(ResourceMixin, FormView):
    """Create (no pk) or edit (pk) an object through the resource's service."""

    template_name = "inventory/object_form.html"
    action = "write"

    def get_object(self):
        if "pk" not in self.kwargs:
            return self.resource.model()
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_form_class(self):
        return self.resource.form_class

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        self.object = self.get_object()
        kwargs["instance"] = self.object
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        for name in ("key", "service", "party") + (() if "pk" in self.kwargs else self.resource.initial_from_query):
            if name in self.request.GET and name in self.resource.form_class.base_fields:
                initial[name] = self.request.GET[name]
        if self.resource.initial and "pk" not in self.kwargs:
            initial.update(self.resource.initial(self.request.user))
        return initial

    def form_valid(self, form):
        save = self.resource.save or _save_default
        creating = form.instance.pk is None
        try:
            obj = save(form=form, actor=self.request.user)
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.form_invalid(form)
        verb = "created" if creating else "saved"
        messages.success(
            self.request, format_html("{} “{}” {}.", self.resource.model._meta.verbose_name.capitalize(), obj, verb)
        )
        back = self.request.GET.get("next", "")
        if creating and back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
            return HttpResponseRedirect(back)  # a page that sent here to create what it lacked (the import)
        return HttpResponseRedirect(obj.get_absolute_url())

    def form_invalid(self, form):
        messages.error(self.request, "Nothing was saved: correct the fields marked below.")
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object if self.object.pk else None
        return context


class ObjectDeleteView(ResourceMixin, DetailView):
    template_name = "inventory/object_confirm_delete.html"
    action = "write"

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        delete = self.resource.delete or (
            lambda *, instance, actor: services.object_delete(instance=instance, actor=actor)
        )
        try:
            delete(instance=obj, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(obj.get_absolute_url())
        messages.success(
            request, format_html("{} “{}” deleted.", self.resource.model._meta.verbose_name.capitalize(), obj)
        )
        return redirect(self.resource.url("list"))


# --- Keys -------------------------------------------------------------------------------------------
