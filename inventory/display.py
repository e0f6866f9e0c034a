"""Turning model values into HTML for the generic list and detail pages (escaped, via format_html)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from cek.people import person_name
from cek.templatetags.dates import humandate, humantime

DASH = mark_safe('<span class="muted">—</span>')


def render_value(value: Any, *, link: bool = True) -> SafeString:
    if value is None or value == "" or value == [] or value == {}:
        return DASH
    if isinstance(value, bool):
        return format_html('<span class="badge {}">{}</span>', "badge-ok" if value else "", "yes" if value else "no")
    if isinstance(value, dt.datetime):
        return humantime(value)
    if isinstance(value, dt.date):
        return humandate(value)
    if isinstance(value, dict):
        return format_html_join(" ", '<span class="badge">{}={}</span>', value.items())
    if isinstance(value, list | tuple):
        return format_html_join(" ", '<span class="badge">{}</span>', ((v,) for v in value))
    if isinstance(value, models.Model):
        label = person_name(value) if hasattr(value, "get_full_name") else str(value)
        url = value.get_absolute_url() if link and hasattr(value, "get_absolute_url") else None
        return format_html('<a href="{}">{}</a>', url, label) if url else format_html("{}", label)
    return format_html("{}", value)


def field_display(obj: models.Model, name: str) -> SafeString:
    field = obj._meta.get_field(name)
    if field.many_to_many:
        items = list(getattr(obj, name).all())
        return format_html_join(", ", "{}", ((render_value(i),) for i in items)) if items else DASH
    if field.choices and not isinstance(getattr(obj, name), list):
        value = getattr(obj, f"get_{name}_display")()
        if name == "state":
            return format_html('<span class="badge state-{}">{}</span>', getattr(obj, name), value)
        return render_value(value)
    return render_value(getattr(obj, name))


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable[[Any], Any]
    link: bool = False
    css: str = ""

    def render(self, obj) -> SafeString:
        value = self.value(obj)
        html = value if isinstance(value, SafeString) else render_value(value, link=not self.link)
        if self.link and hasattr(obj, "get_absolute_url"):
            return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), html)
        return html


def col(label: str, path: str | Callable[[Any], Any], *, link: bool = False, css: str = "") -> Column:
    """A list column from a dotted attribute path (``"store.name"``) or a function of the row."""
    if callable(path):
        return Column(label, path, link, css)

    *parents, last = path.split(".")

    def getter(obj):
        for part in parents:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        display = getattr(obj, f"get_{last}_display", None)
        return display() if display else getattr(obj, last)

    return Column(label, getter, link, css)
