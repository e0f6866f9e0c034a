"""The server-side SVG charts: accessible (a title, a description, a tooltip per mark), escaped, no script."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from evidence.dashboard import charts

HOSTILE = '<script>alert("x")</script> & "quotes"'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - the app's own markup; well-formed XML, or this raises


@pytest.mark.parametrize(
    "draw",
    [
        lambda data: charts.bar_chart(data, title=HOSTILE),
        lambda data: charts.donut_chart(data, title=HOSTILE),
        lambda data: charts.sparkline(data, title=HOSTILE),
    ],
    ids=["bars", "donut", "sparkline"],
)
def test_every_chart_escapes_its_labels_and_titles(draw):
    data = [charts.Datum(HOSTILE, 3, '/x?a=1&b="2"'), charts.Datum("plain", 5)]
    svg = str(draw(data))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "group"  # not "img": its marks are links, and an image holds nothing interactive
    title = root.find(f"{ns}title")
    assert title is not None and title.text == HOSTILE
    assert title.get("id") == root.get("aria-labelledby")
    assert root.find(f"{ns}desc").get("id") == root.get("aria-describedby")
    tips = [t.text for t in root.iter(f"{ns}title")][1:]
    assert any(HOSTILE in tip for tip in tips)
    links = [a.get("href") for a in root.iter(f"{ns}a")]
    assert links == ['/x?a=1&b="2"']  # parsed back from the escaped attribute


def test_a_bar_is_proportional_to_the_largest_value_and_labels_are_shortened():
    svg = str(charts.bar_chart([charts.Datum("a" * 60, 10), charts.Datum("b", 5)], title="T", label_width=140))
    widths = [
        float(w)
        for w in re.findall(r'<rect x="140" y="\d+" width="([\d.]+)" height="22" rx="3" fill="#(?!eef1f4)', svg)
    ]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    assert "a" * 60 in svg  # the full label stays in the tooltip and the description
    assert "…" in svg  # the drawn label is shortened


def test_a_donut_leaves_out_zero_slices_but_describes_them():
    svg = str(charts.donut_chart([charts.Datum("Open", 0), charts.Datum("Closed", 4)], title="T", centre="4"))
    assert svg.count('class="segment"') == 1
    assert "Open: 0" in svg and "Closed: 4 (100%)" in svg


def test_empty_charts_say_so():
    assert "No data" in str(charts.bar_chart([], title="T"))
    assert "No runs yet" in str(charts.sparkline([], title="T"))
    parse(charts.donut_chart([], title="T"))


def test_the_legend_and_the_meter_escape_too():
    legend = str(charts.legend([charts.Datum(HOSTILE, 1, "/a?b=1&c=2")]))
    assert "<script>" not in legend and 'href="/a?b=1&amp;c=2"' in legend
    meter = str(charts.meter(3, 4, title=HOSTILE))
    assert "<script>" not in meter and ": 3 of 4" in meter
    parse(meter)
