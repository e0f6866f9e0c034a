"""Pages that are not one model's: the overview and the SSRM page."""

from __future__ import annotations

from django.db.models import Count
from django.views.generic import TemplateView

from cek.pages import EVERYONE
from cek.roles import RoleRequiredMixin, is_grc
from inventory import selectors
from inventory.models import (
    Key,
    Party,
    Purpose,
    SsrmAssignment,
    SsrmLayer,
)
from inventory.views.generic import READERS


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
            my_keys=Key.objects.filter(selectors.owned_by(user)).count(),
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
