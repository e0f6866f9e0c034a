"""Inventory pages. One generic set of list / detail / create / edit / delete views serves every model
through a ``Resource`` description; keys get their own list (filters) and detail (bindings, grants, history).

Reads go through ``inventory.selectors`` (role visibility, fixed joins); writes through
``inventory.services``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.generic import DetailView, FormView, ListView, TemplateView

from cek.roles import Role, RoleRequiredMixin, is_grc
from inventory import forms, selectors, services
from inventory.display import Column, col, field_display
from inventory.filters import KEY_ORDERING, KeyFilter
from inventory.history import history_entries
from inventory.models import (
    AccessGrant,
    Binding,
    CryptoFunction,
    Key,
    KeyState,
    KeyStore,
    Party,
    Purpose,
    Service,
    SsrmAssignment,
    SsrmLayer,
    Tenant,
)

READERS = (Role.GRC, Role.AUDITOR)
EVERYONE = (Role.GRC, Role.AUDITOR, Role.KEY_OWNER)


@dataclass(frozen=True)
class Resource:
    """How one model appears in the UI."""

    name: str  # URL name stem: "service" -> inventory:service-list ...
    model: type
    form_class: type
    columns: list[Column]
    detail_fields: list[str]
    title: str
    search: tuple[str, ...] = ("name",)
    read_roles: tuple[Role, ...] = READERS
    queryset: Callable[[Any], QuerySet] | None = None
    save: Callable[..., Any] | None = None
    delete: Callable[..., Any] | None = None
    intro: str = ""
    ordering: tuple[str, ...] = ()
    detail_prefetch: tuple[str, ...] = ()

    def get_queryset(self, user) -> QuerySet:
        return self.queryset(user) if self.queryset else self.model._default_manager.all()

    def url(self, action: str, *args) -> str:
        return reverse(f"inventory:{self.name}-{action}", args=args)


def _save_default(*, form, actor):
    m2m = {f.name: form.cleaned_data[f.name] for f in form.instance._meta.many_to_many if f.name in form.cleaned_data}
    return services.object_save(instance=form.instance, actor=actor, m2m=m2m)


def _save_key(*, form, actor):
    return services.key_save(key=form.instance, actor=actor, exposed_to=form.cleaned_data.get("exposed_to", []))


def _save_party(*, form, actor):
    return services.party_save(party=form.instance, actor=actor)


def _save_purpose(*, form, actor):
    return services.purpose_save(purpose=form.instance, actor=actor)


def _delete_key(*, instance, actor):
    services.key_delete(key=instance, actor=actor)


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


class ObjectListView(ResourceMixin, ListView):
    template_name = "inventory/object_list.html"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        queryset = super().get_queryset()
        self.q = self.request.GET.get("q", "").strip()
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
        context["props"] = [
            (obj._meta.get_field(name).verbose_name, field_display(obj, name)) for name in self.resource.detail_fields
        ]
        context["history"] = history_entries(obj)
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
        for name in ("key", "service", "party"):
            if name in self.request.GET and name in self.resource.form_class.base_fields:
                initial[name] = self.request.GET[name]
        if self.resource.model is Key and "pk" not in self.kwargs:
            from django.utils import timezone

            initial.update(purpose_approver=self.request.user.pk, purpose_reviewed_on=timezone.localdate())
        return initial

    def form_valid(self, form):
        save = self.resource.save or _save_default
        creating = form.instance.pk is None
        try:
            obj = save(form=form, actor=self.request.user)
        except ValidationError as exc:
            _errors_to_form(form, exc)
            return self.form_invalid(form)
        verb = "created" if creating else "saved"
        messages.success(
            self.request, format_html("{} “{}” {}.", self.resource.model._meta.verbose_name.capitalize(), obj, verb)
        )
        return HttpResponseRedirect(obj.get_absolute_url())

    def form_invalid(self, form):
        messages.error(self.request, "Nothing was saved: correct the fields marked below.")
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object if self.object.pk else None
        return context


def _errors_to_form(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


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


class KeyListView(RoleRequiredMixin, ListView):
    """The key list: filters, sorting and pagination through the URL, so a view can be bookmarked."""

    allowed_roles = EVERYONE
    template_name = "inventory/key_list.html"
    paginate_by = settings.CEK_PAGE_SIZE
    title = "Keys"
    mine_only = False

    def base_queryset(self) -> QuerySet[Key]:
        queryset = selectors.key_list(user=self.request.user)
        if self.mine_only:
            user = self.request.user
            queryset = Key.objects.filter(Q(owner=user) | Q(backup_owner=user)).select_related(
                "store", "purpose", "owner", "backup_owner", "tenant"
            )
        return queryset

    def get_queryset(self):
        self.filterset = KeyFilter(self.request.GET or None, queryset=self.base_queryset(), request=self.request)
        queryset = self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else self.base_queryset()
        if not self.request.GET.get("ordering"):
            queryset = queryset.order_by("name", "id")
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ordering = self.request.GET.get("ordering", "name")
        user_model = get_user_model()
        context.update(
            title=self.title,
            filter=self.filterset,
            choices={
                "store": KeyStore.objects.order_by("name").values_list("pk", "name"),
                "purpose": Purpose.objects.order_by("name").values_list("slug", "name"),
                "function": CryptoFunction.choices,
                "owner": [
                    (username, f"{first} {last}".strip() or username)
                    for username, first, last in user_model.objects.filter(is_active=True)
                    .order_by("username")
                    .values_list("username", "first_name", "last_name")
                ],
                "state": KeyState.choices,
                "tenant": Tenant.objects.order_by("name").values_list("slug", "name"),
                "service": Service.objects.order_by("name").values_list("slug", "name"),
                "ssrm_layer": SsrmLayer.choices,
                "overdue": [("true", "Yes"), ("false", "No")],
            },
            filter_errors=self.filterset.errors if self.filterset.is_bound else {},
            is_filtered=any(v for k, v in self.request.GET.items() if k not in ("page", "ordering")),
            ordering=ordering,
            sort_columns=KEY_ORDERING,
            can_edit=is_grc(self.request.user),
            mine_only=self.mine_only,
        )
        return context


class MyKeysView(KeyListView):
    title = "My keys"
    mine_only = True


class KeyDetailView(RoleRequiredMixin, DetailView):
    allowed_roles = EVERYONE
    template_name = "inventory/key_detail.html"

    def get_queryset(self):
        return selectors.key_detail(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        key = self.object
        bindings = list(key.bindings.all())
        context.update(
            can_edit=is_grc(self.request.user),
            bindings=bindings,
            grants=list(key.grants.all()),
            binding_purposes={b.purpose_id for b in bindings} | {key.purpose_id},
            binding_services={b.service_id for b in bindings},
            binding_tenants={b.tenant_id for b in bindings if b.tenant_id}
            | ({key.tenant_id} if key.tenant_id else set()),
            history=history_entries(key),
            exposed=list(key.exposed_to.all()),
            label_purpose=key.labels.get(key.store.purpose_tag_key) if isinstance(key.labels, dict) else None,
        )
        return context


# --- SSRM ---------------------------------------------------------------------------------------------


class SsrmView(RoleRequiredMixin, TemplateView):
    """Parties and their SSRM roles, and per layer who owns CEK-11 per the catalog and who is assigned."""

    allowed_roles = READERS
    template_name = "inventory/ssrm.html"

    def get_context_data(self, **kwargs):
        from cek.control import load_control

        context = super().get_context_data(**kwargs)
        control = load_control()
        parties = list(
            Party.objects.annotate(
                key_count=Count("custodied_keys", distinct=True), service_count=Count("services", distinct=True)
            )
        )
        assignments = list(SsrmAssignment.objects.select_related("party"))
        layers = []
        for layer in SsrmLayer:
            ownership = control.ssrm_for(layer.value)
            assigned = [a for a in assignments if a.layer == layer.value]
            assigned_roles = {a.role for a in assigned}
            required = list(ownership.owners)
            layers.append(
                {
                    "layer": layer,
                    "ownership": ownership,
                    "assigned": assigned,
                    "missing": [r for r in required if r not in assigned_roles],
                }
            )
        context.update(parties=parties, layers=layers, control=control, can_edit=is_grc(self.request.user))
        return context


# --- Resources ------------------------------------------------------------------------------------------


def _key_count_link(obj, param: str, value) -> str:
    return format_html('<a href="{}?{}={}">{}</a>', reverse("inventory:key-list"), param, value, obj.key_count)


RESOURCES: dict[str, Resource] = {
    "party": Resource(
        name="party",
        model=Party,
        form_class=forms.PartyForm,
        title="Parties",
        intro="Organisations in the AI supply chain and their SSRM roles. Exactly one party is “us”.",
        columns=[
            col("Name", "name", link=True),
            col("Roles", lambda p: p.roles),
            col("Us", "is_us"),
            col("Contact", "contact"),
        ],
        detail_fields=["name", "roles", "is_us", "contact", "description"],
        save=_save_party,
        detail_prefetch=("assignments",),
    ),
    "ssrmassignment": Resource(
        name="ssrmassignment",
        model=SsrmAssignment,
        form_class=forms.SsrmAssignmentForm,
        title="SSRM assignments",
        columns=[col("Layer", "layer", link=True), col("Party", "party"), col("Role", "role")],
        detail_fields=["layer", "party", "role", "responsibility"],
        queryset=lambda user: SsrmAssignment.objects.select_related("party"),
        search=("party__name",),
    ),
    "tenant": Resource(
        name="tenant",
        model=Tenant,
        form_class=forms.TenantForm,
        title="Tenants",
        intro="Customers or business units whose data and keys must stay apart.",
        columns=[
            col("Name", "name", link=True),
            col("Slug", "slug"),
            col("Party", "party"),
            col("Active", "is_active"),
            col("Keys", lambda t: _key_count_link(t, "tenant", t.slug), css="num"),
        ],
        detail_fields=["name", "slug", "party", "is_active", "description"],
        queryset=lambda user: Tenant.objects.select_related("party").annotate(key_count=Count("keys")),
        search=("name", "slug"),
    ),
    "service": Resource(
        name="service",
        model=Service,
        form_class=forms.ServiceForm,
        title="Services",
        intro="Workloads that use keys. Services with an AI lifecycle phase are part of an AI system.",
        columns=[
            col("Name", "name", link=True),
            col("Environment", "environment"),
            col("SSRM layer", "ssrm_layer"),
            col("AI lifecycle", "lifecycle_phase"),
            col("Operated by", "operating_party"),
            col("Owner", "owner"),
            col("Keys used", lambda s: _key_count_link(s, "service", s.slug), css="num"),
        ],
        detail_fields=[
            "name",
            "slug",
            "environment",
            "architectural_layer",
            "ssrm_layer",
            "lifecycle_phase",
            "operating_party",
            "owner",
            "is_active",
            "description",
        ],
        queryset=lambda user: Service.objects.select_related("operating_party", "owner").annotate(
            key_count=Count("bindings__key", distinct=True)
        ),
        detail_prefetch=("bindings__key", "bindings__tenant", "bindings__purpose"),
        search=("name", "slug", "description"),
    ),
    "keystore": Resource(
        name="keystore",
        model=KeyStore,
        form_class=forms.KeyStoreForm,
        title="Key stores",
        intro="Where keys live: KMS accounts and projects, vaults, HSMs, clusters.",
        columns=[
            col("Name", "name", link=True),
            col("Kind", "kind"),
            col("Account", "account"),
            col("Region", "region"),
            col("Operated by", "operating_party"),
            col("Purpose tag", "purpose_tag_key"),
            col("Keys", lambda s: _key_count_link(s, "store", s.pk), css="num"),
        ],
        detail_fields=["name", "kind", "account", "region", "operating_party", "purpose_tag_key", "description"],
        queryset=lambda user: KeyStore.objects.select_related("operating_party").annotate(key_count=Count("keys")),
        search=("name", "account", "region"),
    ),
    "purpose": Resource(
        name="purpose",
        model=Purpose,
        form_class=forms.PurposeForm,
        title="Purposes",
        intro="The catalog of allowed purposes. Every key has exactly one. Cryptoperiods default to NIST SP 800-57 "
        "Part 1 Table 1.",
        columns=[
            col("Name", "name", link=True),
            col("Function", "function"),
            col("SP 800-57 key type", "key_type"),
            col("Max cryptoperiod (days)", "max_cryptoperiod_days", css="num"),
            col("AI", "is_ai_specific"),
            col("Active", "is_active"),
            col("Keys", lambda p: _key_count_link(p, "purpose", p.slug), css="num"),
        ],
        detail_fields=[
            "name",
            "slug",
            "function",
            "key_type",
            "allowed_kinds",
            "allowed_operations",
            "max_cryptoperiod_days",
            "is_ai_specific",
            "is_active",
            "description",
        ],
        queryset=lambda user: selectors.purpose_list(user=user),
        read_roles=EVERYONE,
        save=_save_purpose,
        search=("name", "slug", "description"),
        ordering=("function", "name"),
    ),
    "key": Resource(
        name="key",
        model=Key,
        form_class=forms.KeyForm,
        title="Keys",
        columns=[],
        detail_fields=[],
        queryset=lambda user: selectors.key_list(user=user),
        read_roles=EVERYONE,
        save=_save_key,
        delete=_delete_key,
    ),
    "binding": Resource(
        name="binding",
        model=Binding,
        form_class=forms.BindingForm,
        title="Bindings",
        intro="Which service (and tenant) uses which key, for what, as which principal.",
        columns=[
            col("Key", "key", link=False),
            col("Service", "service"),
            col("Tenant", "tenant"),
            col("Purpose", "purpose"),
            col("Principal", "principal"),
            col("Operations", lambda b: b.operations),
            col("", lambda b: format_html('<a href="{}">details</a>', b.get_absolute_url())),
        ],
        detail_fields=["key", "service", "tenant", "purpose", "principal", "operations", "notes"],
        queryset=lambda user: selectors.binding_list(user=user),
        read_roles=EVERYONE,
        search=("key__name", "service__name", "principal"),
    ),
    "grant": Resource(
        name="grant",
        model=AccessGrant,
        form_class=forms.AccessGrantForm,
        title="Access grants",
        intro="Who may use a key, for which operations, approved by whom, until when.",
        columns=[
            col("Key", "key"),
            col("Principal", "principal"),
            col("Type", "principal_type"),
            col("Operations", lambda g: g.operations),
            col("Approver", "approver"),
            col("Expires", "expires_on"),
            col("", lambda g: format_html('<a href="{}">details</a>', g.get_absolute_url())),
        ],
        detail_fields=[
            "key",
            "principal_type",
            "principal",
            "operations",
            "justification",
            "approver",
            "approved_on",
            "expires_on",
        ],
        queryset=lambda user: selectors.grant_list(user=user),
        read_roles=EVERYONE,
        search=("key__name", "principal"),
    ),
}


class OverviewView(RoleRequiredMixin, TemplateView):
    """The landing page: the state of the inventory as each role needs it."""

    allowed_roles = EVERYONE
    template_name = "inventory/overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = selectors.keys_for(user)
        context.update(
            counts=selectors.key_counts(user=user),
            by_state=list(visible.values("state").annotate(n=Count("pk")).order_by("-n")),
            by_function=list(visible.values("purpose__function").annotate(n=Count("pk")).order_by("-n")),
            top_purposes=list(
                visible.values("purpose__slug", "purpose__name", "purpose__is_ai_specific")
                .annotate(n=Count("pk"))
                .order_by("-n")[:8]
            ),
            my_keys=Key.objects.filter(Q(owner=user) | Q(backup_owner=user)).count(),
            us=Party.objects.filter(is_us=True).first(),
            can_edit=is_grc(user),
        )
        labels = dict(Key._meta.get_field("state").choices)
        for row in context["by_state"]:
            row["label"] = labels.get(row["state"], row["state"])
        functions = dict(Purpose._meta.get_field("function").choices)
        for row in context["by_function"]:
            row["label"] = functions.get(row["purpose__function"], row["purpose__function"])
        return context
