"""The key list (filters, sorting, pagination through the URL), "My keys" and the key detail page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.views.generic import DetailView, ListView

from cek.history import history_entries
from cek.pages import EVERYONE, LenientPages
from cek.roles import RoleRequiredMixin, is_grc
from inventory import selectors
from inventory.filters import KEY_ORDERING, KeyFilter
from inventory.models import (
    CryptoFunction,
    Key,
    KeyStore,
    Purpose,
    Service,
    SsrmLayer,
    Tenant,
)
from inventory.panels import key_panels
from inventory.purposetags import tag_names_purpose
from inventory.usage import usage_conflict


class KeyListView(LenientPages, RoleRequiredMixin, ListView):
    """The key list: filters, sorting and pagination through the URL, so a view can be bookmarked."""

    allowed_roles = EVERYONE
    template_name = "inventory/key_list.html"
    paginate_by = settings.CEK_PAGE_SIZE
    title = "Keys"
    mine_only = False

    def base_queryset(self) -> QuerySet[Key]:
        return selectors.key_list(user=self.request.user, mine_only=self.mine_only)

    def get_queryset(self):
        self.filterset = self.lenient_filterset(
            KeyFilter, self.request.GET, queryset=self.base_queryset(), request=self.request
        )
        queryset = self.filterset.qs if self.filterset.is_bound else self.base_queryset()
        if not self.filterset.data.get("ordering"):  # none given, or refused
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
                "state": selectors.key_state_choices(self.base_queryset(), selected=self.request.GET.getlist("state")),
                "tenant": Tenant.objects.order_by("name").values_list("slug", "name"),
                "service": Service.objects.order_by("name").values_list("slug", "name"),
                "ssrm_layer": SsrmLayer.choices,
                "overdue": [("true", "Yes"), ("false", "No")],
                "unassigned": [("true", "Yes"), ("false", "No")],
                "not_seen": [("true", "Yes"), ("false", "No")],
            },
            is_filtered=any(v for k, v in self.filterset.data.items() if k not in ("page", "ordering")),
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
        label = key.labels.get(key.store.purpose_tag_key) if isinstance(key.labels, dict) else None
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
            label_purpose=label,
            label_contradicts=bool(label and key.purpose_id)
            and not tag_names_purpose(label, slug=key.purpose.slug, name=key.purpose.name),
            usage_conflict=usage_conflict(key.platform_usage, key.purpose.function) if key.purpose_id else None,
            panels=key_panels(key=key, user=self.request.user),
        )
        return context


# --- SSRM ---------------------------------------------------------------------------------------------
