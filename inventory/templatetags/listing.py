"""Template helpers for bookmarkable lists: keep the current filters when paging or sorting."""

from __future__ import annotations

import html
from functools import lru_cache

from django import template
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **changes) -> str:
    """The current query string with ``changes`` applied (a value of None removes the parameter), without the
    filter values the page refused (links and exports carry only the filters that apply)."""
    params = QueryDict(mutable=True)  # as GET.copy(), without its deep copy (a page has a dozen such links)
    for name, values in context["request"].GET.lists():
        params.setlist(name, list(values))
    for refused in context.get("refused_filters") or ():
        params.pop(refused.name, None)
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str) -> str:
    """A column header that sorts by ``field`` and toggles the direction when already sorted by it."""
    current = context["request"].GET.get("ordering", "name")
    descending = current == f"-{field}"
    active = current.lstrip("-") == field
    target = field if descending or not active else f"-{field}"
    href = query_replace(context, ordering=target, page=None)
    css = "sort-active" + ("" if descending else " asc") if active else ""
    return format_html('<a href="{}" class="{}">{}</a>', href, css, label)


@register.simple_tag(takes_context=True)
def filter_options(context, name: str, options) -> str:
    """``<option>`` elements for a filter select, the current value(s) selected, "Any" first.

    The key list renders its filter selects from light value lists rather than form widgets: Django's
    per-option widget templates cost more than the page's own queries on a large inventory."""
    selected = set(context["request"].GET.getlist(name)) - {""}
    any_option = '<option value="">Any</option>' if selected else '<option value="" selected>Any</option>'
    rendered = _options_html(tuple(map(tuple, options)))
    for value in selected:  # mark the chosen ones in the list written once for these options
        option = f'<option value="{html.escape(value)}">'
        rendered = rendered.replace(option, f"{option[:-1]} selected>", 1)
    return mark_safe(any_option + rendered)


@lru_cache(maxsize=512)
def _options_html(options: tuple) -> str:
    """The ``<option>`` elements of ``options``, none selected: as format_html_join with conditional_escape, once
    per list (the key list has ~100 options; the same lists come back on every request)."""
    return "".join(f'<option value="{_escaped(value)}">{_escaped(label)}</option>' for value, label in options)


def _escaped(value) -> str:
    """``conditional_escape`` without its wrappers: safe text as it is, anything else escaped."""
    if isinstance(value, Promise):
        value = str(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))
