"""Pages print dates in words for people ("6 Dec 2026", "6 Dec 2026, 14:05 UTC") with ISO 8601 kept for machines
in ``<time datetime>``; the key list prints no ISO date a person reads."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import formats

from tests.factories import KeyFactory

ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def test_the_settings_speak_in_words():
    day = dt.date(2026, 12, 6)
    moment = dt.datetime(2026, 12, 6, 14, 5, tzinfo=dt.UTC)
    assert formats.date_format(day) == "6 Dec 2026"
    assert formats.date_format(day, "SHORT_DATE_FORMAT") == "6 Dec 2026"
    assert formats.date_format(moment, "DATETIME_FORMAT") == "6 Dec 2026, 14:05 UTC"
    assert render("{{ day|date }}", day=day) == "6 Dec 2026"


def test_the_tags_print_words_with_iso_for_machines():
    day = dt.date(2026, 12, 6)
    moment = dt.datetime(2026, 12, 6, 14, 5, 9, 123456, tzinfo=dt.UTC)
    assert render("{% humandate day %}", day=day) == '<time datetime="2026-12-06">6 Dec 2026</time>'
    assert render("{% humandate moment %}", moment=moment) == '<time datetime="2026-12-06">6 Dec 2026</time>'
    assert (
        render("{% humantime moment %}", moment=moment)
        == '<time datetime="2026-12-06T14:05:09+00:00">6 Dec 2026, 14:05 UTC</time>'
    )
    assert "14:05:09 UTC" in render("{% humantime moment seconds=True %}", moment=moment)


def test_no_value_prints_the_default_and_iso_text_reads_as_a_date():
    assert render('{% humandate none default="never" %}', none=None) == "never"
    assert render("{% humantime none default=text %}", none=None, text="<b>") == "&lt;b&gt;"
    assert render("{% humandate text %}", text="2026-12-06") == '<time datetime="2026-12-06">6 Dec 2026</time>'
    assert render("{% humandate text %}", text="<b>2026") == "&lt;b&gt;2026"  # not a date: as written, escaped
    assert render("{{ text|humandate }}", text="2026-13-45") == ""


def test_the_filters_give_plain_words_for_e_mails():
    day = dt.date(2026, 1, 31)
    moment = dt.datetime(2026, 1, 31, 8, 0, tzinfo=dt.UTC)
    assert render("{{ day|humandate }} {{ moment|humantime }}", day=day, moment=moment) == (
        "31 Jan 2026 31 Jan 2026, 08:00 UTC"
    )


@pytest.mark.django_db
def test_the_key_list_prints_dates_in_words(grc_client):
    KeyFactory(name="dated", cryptoperiod_ends_on=dt.date(2031, 3, 4), last_rotated_on=dt.date(2026, 2, 1))

    html = grc_client.get(reverse("inventory:key-list")).content.decode()

    assert '<time datetime="2031-03-04">4 Mar 2031</time>' in html and "1 Feb 2026" in html
    assert not ISO_DAY.search(re.sub(r' datetime="[^"]*"', "", html))
