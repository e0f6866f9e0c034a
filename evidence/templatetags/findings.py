"""Template filters of the findings: a rule id read as its title."""

from __future__ import annotations

from django import template
from django.apps import apps

from evidence.findings.rules import rule_title as _rule_title

register = template.Library()


@register.filter
def rule_title(rule: str) -> str:
    return _rule_title(rule)


@register.filter
def subject_kind(subject_type: str) -> str:
    """What kind of thing a subject is, by name ("Key store"), for a stored model label ("inventory.keystore")."""
    try:
        model = apps.get_model(subject_type)
    except (LookupError, ValueError):
        return ""
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]
