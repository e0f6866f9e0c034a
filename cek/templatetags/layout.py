"""The page layout's parts that are the same for every request of a kind: ``{% main_nav %}`` writes the main
navigation (``_nav.html``) once per combination of what it depends on (the user's role flags and the page's URL
name and namespace) and then reuses it. Its 28 ``{% url %}`` tags and 40 conditions cost a millisecond of CPU on
every page; the nav holds nothing else from the request or the user."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe

register = template.Library()

_ROLE_FLAGS = ("role", "is_grc", "is_auditor", "is_key_owner", "can_read_all")


@register.simple_tag(takes_context=True)
def main_nav(context) -> str:
    match = getattr(context.get("request"), "resolver_match", None)
    flags = tuple(bool(context.get(name)) for name in _ROLE_FLAGS)
    where = (match.namespace, match.url_name) if match else ("", None)
    return _rendered(get_script_prefix(), get_urlconf(), where, flags)


@lru_cache(maxsize=1024)
def _rendered(prefix: str, urlconf, where: tuple[str, str | None], flags: tuple[bool, ...]) -> str:
    namespace, url_name = where

    class Match:  # what _nav.html reads of request.resolver_match
        pass

    match = Match()
    match.namespace, match.url_name = namespace, url_name

    class Request:
        resolver_match = match

    context = dict(zip(_ROLE_FLAGS, flags, strict=True), request=Request())
    return mark_safe(render_to_string("_nav.html", context))
