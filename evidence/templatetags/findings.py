"""Template filters of the findings: a rule id read as its title."""

from __future__ import annotations

from django import template

from evidence.findings.rules import rule_title as _rule_title

register = template.Library()


@register.filter
def rule_title(rule: str) -> str:
    return _rule_title(rule)
