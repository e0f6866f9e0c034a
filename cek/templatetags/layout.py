"""The page layout's parts that are the same for every request of a kind: ``{% main_nav %}`` writes the main
navigation (``_nav.html``) once per combination of what it depends on (the user's role flags and the page's URL
name and namespace) and then reuses it. Its 28 ``{% url %}`` tags and 40 conditions cost a millisecond of CPU on
every page; the nav holds nothing else from the request or the user.

``{% layout_url name %}`` and ``{% layout_static path %}`` are ``{% url name %}`` (without arguments) and
``{% static path %}`` for the links every page writes (the user menu, the stylesheet and scripts): the same text,
looked up once per URL conf and script prefix instead of on every request (11 of them were 0.3 ms of CPU of every
page, an eighth of the cheapest page's)."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
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


@register.simple_tag
def layout_url(name: str) -> str:
    """``{% url name %}`` for a URL without arguments (escaped as it is, by the template)."""
    return _reversed(get_script_prefix(), get_urlconf(), name)


@register.simple_tag
def layout_static(path: str) -> str:
    """``{% static path %}`` (the storage's URL of a static file: fixed while the process runs)."""
    return _static_url(get_script_prefix(), path)


@lru_cache(maxsize=256)
def _reversed(prefix: str, urlconf, name: str) -> str:
    return reverse(name, urlconf=urlconf)


@lru_cache(maxsize=64)
def _static_url(prefix: str, path: str) -> str:
    return static(path)


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs) -> None:
    """A test that changes where URLs or static files are gets them looked up again."""
    if setting in {"ROOT_URLCONF", "STATIC_URL", "STORAGES", "STATIC_ROOT", "FORCE_SCRIPT_NAME"}:
        _reversed.cache_clear()
        _static_url.cache_clear()
        _rendered.cache_clear()
