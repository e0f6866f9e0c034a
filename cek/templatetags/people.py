"""People by name: ``{{ user|person }}`` prints a user's full name, else their username (the one rule of
:func:`cek.people.person_name`), and "—" when there is nobody; ``{{ user|person:"nobody yet" }}`` says something
else for nobody. Text already worked out (a pack section's ``created_by``, a history entry's name) is printed as
written. Returns plain text, so autoescaping applies as usual. A builtin library (``TEMPLATES``): no
``{% load %}`` needed."""

from __future__ import annotations

from django import template

from cek.people import person_name

register = template.Library()

NOBODY = "—"


@register.filter
def person(value, default: str = NOBODY) -> str:
    if value is None or value == "":
        return default
    if hasattr(value, "get_full_name"):
        return person_name(value) or default
    return str(value)
