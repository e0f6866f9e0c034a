"""Dates in words for people, ISO 8601 for machines, in one element: ``{% humandate value %}`` prints
``<time datetime="2026-12-06">6 Dec 2026</time>``, ``{% humantime value %}`` prints
``<time datetime="2026-12-06T14:05:00+00:00">6 Dec 2026, 14:05 UTC</time>`` (in the app's time zone); both take
``default="…"`` for an empty value, ``humantime`` takes ``seconds=True``. An ISO string (JSON data) is read as a
date; other text is printed as written. The filters ``|humandate`` and
``|humantime`` give the words alone (plain-text e-mails, attributes). A builtin library (``TEMPLATES``): no
``{% load %}`` needed. The evidence pack's PDF keeps its own ISO dates."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import get_format
from django.utils.html import format_html

register = template.Library()


def _parsed(value):
    """A date or datetime; an ISO 8601 string (as JSON data stores them) parsed; anything else as it is."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_datetime(text) if "T" in text or " " in text else parse_date(text)
        except ValueError:
            return None
    return value


def _local(value):
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def words_date(value) -> str:
    """``6 Dec 2026`` ("" for no value); a datetime gives its day in the app's time zone."""
    if not isinstance(value, dt.date):
        return ""
    value = _local(value)
    return date_format(value.date() if isinstance(value, dt.datetime) else value, get_format("DATE_FORMAT"))


def words_datetime(value, *, seconds: bool = False) -> str:
    """``6 Dec 2026, 14:05 UTC`` (a plain date gives its words alone)."""
    if not isinstance(value, dt.datetime):
        return words_date(value)
    fmt = get_format("DATETIME_FORMAT")
    if seconds:
        fmt = fmt.replace("H:i", "H:i:s")
    return date_format(_local(value), fmt)


def _iso(value, *, with_time: bool) -> str:
    value = _local(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds") if with_time else value.date().isoformat()
    return value.isoformat()


@register.simple_tag
def humandate(value, default: str = ""):
    if value in (None, ""):
        return default
    parsed = _parsed(value)
    if not isinstance(parsed, dt.date):
        return value  # text that is not a date is printed as written
    value = parsed
    return format_html('<time datetime="{}">{}</time>', _iso(value, with_time=False), words_date(value))


@register.simple_tag
def humantime(value, default: str = "", seconds: bool = False):
    if value in (None, ""):
        return default
    parsed = _parsed(value)
    if not isinstance(parsed, dt.date):
        return value
    value = parsed
    return format_html(
        '<time datetime="{}">{}</time>', _iso(value, with_time=True), words_datetime(value, seconds=seconds)
    )


@register.filter(name="humandate")
def humandate_filter(value) -> str:
    return words_date(_parsed(value))


@register.filter(name="humantime")
def humantime_filter(value) -> str:
    return words_datetime(_parsed(value))
