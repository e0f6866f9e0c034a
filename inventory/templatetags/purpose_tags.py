"""What a key store's tags should say, for the pages where the tag keys are shown."""

from __future__ import annotations

from django import template

from inventory.purposetags import purpose_tag_hint

register = template.Library()


@register.simple_tag
def purpose_tag_hint_for(tag_key: str) -> str:
    """ "Tag keys with purpose = the purpose's name or its short name, e.g. ..." (escaped by the template)."""
    return purpose_tag_hint(tag_key)
