"""Pages that are not one model's: the overview and the SSRM page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count
from django.utils import timezone
from django.views.generic import TemplateView

from cek.pages import EVERYONE
from cek.roles import RoleRequiredMixin, is_grc
from inventory import selectors
from inventory.models import (
    IN_USE_LABEL,
    IN_USE_STATES,
    Key,
    Party,
    SsrmAssignment,
    SsrmLayer,
)
from inventory.views.generic import READERS

TOP_PURPOSES = 8


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
    """The landing page: the state of the inventory as each role needs it (its figures from
    ``inventory.selectors.key_breakdowns``, as the dashboard's and the evidence pack's)."""

    allowed_roles = EVERYONE
    template_name = "inventory/overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        inventory = selectors.key_breakdowns(selectors.keys_for(user), today=timezone.localdate())
        context.update(
            counts=inventory.figures,
            by_state=inventory.by_state,
            by_function=inventory.by_function,
            top_purposes=inventory.by_purpose[:TOP_PURPOSES],
            in_use_query=urlencode({"state": IN_USE_STATES}, doseq=True),  # the key list's filter for them
            in_use_label=IN_USE_LABEL,
            my_keys=Key.objects.filter(selectors.owned_by(user)).count(),
            us=Party.objects.filter(is_us=True).first(),
            can_edit=is_grc(user),
        )
        return context
