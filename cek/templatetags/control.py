"""Link a guideline ID to its text on the control page.

    {% load control %}
    {{ "AG-3"|guideline_link }}      -> <a href="/control/#AG-3" title="Verify that ...">AG-3</a>
    {% guideline_text "AG-3" %}      -> the guideline's text (escaped by the template engine)
    {% guideline_url "AG-3" %}       -> /control/#AG-3

An ID that is not in the catalog renders as plain (escaped) text, so a page never breaks on a stale ID.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from cek.control import Guideline, load_control

register = template.Library()


def _lookup(value: object) -> Guideline | None:
    if isinstance(value, Guideline):
        return value
    guideline_id = str(value).strip()
    control = load_control()
    return control.guideline(guideline_id) if control.has_guideline(guideline_id) else None


@register.filter
def guideline_link(value: object) -> SafeString:
    """``"AG-3"`` (or a Guideline) as a link to its anchor on the control page, its text as the title."""
    guideline = _lookup(value)
    if guideline is None:
        return conditional_escape(value)
    return format_html(
        '<a class="guideline-link" href="{}#{}" title="{}">{}</a>',
        reverse("control"),
        guideline.anchor,
        guideline.text,
        guideline.id,
    )


@register.simple_tag
def guideline_text(value: object) -> str:
    """The guideline's text, or "" for an unknown ID."""
    guideline = _lookup(value)
    return guideline.text if guideline else ""


@register.simple_tag
def guideline_url(value: object) -> str:
    """``/control/#AG-3``; the control page itself for an unknown ID."""
    guideline = _lookup(value)
    url = reverse("control")
    return f"{url}#{guideline.anchor}" if guideline else url
