"""The control page: the CEK-11 catalog entry, readable by every role."""

from __future__ import annotations

from django.views.generic import TemplateView

from cek.control import load_control
from cek.roles import AnyRoleMixin


class ControlView(AnyRoleMixin, TemplateView):
    """Everything the catalog holds for CEK-11. Guidelines carry anchors (``/control/#AG-3``) so other
    pages can link to the text they evaluate."""

    template_name = "cek/control.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["control"] = load_control()
        return context
