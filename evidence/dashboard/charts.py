"""Charts drawn by the app itself as inline SVG: horizontal bars, a donut and a sparkline.

No JavaScript and no CDN: each function returns markup safe to put in a template. Every chart is an
``role="group"`` element named by its ``<title>`` and described by a ``<desc>`` listing the figures (a group, not an
image: its marks can be links, and an image may hold nothing interactive); every mark carries its own ``<title>``
(the tooltip, and the name of its link); all labels are escaped. Colours come from a small palette keyed
by a "tone" (``ok``, ``warn``, ``bad``, ``info``, ``muted``, ``accent``...), so a chart reads like the badges.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

TONES = {
    "ok": "#1f7a4d",
    "warn": "#c98a00",
    "bad": "#b42318",
    "critical": "#7a1010",
    "info": "#3346a8",
    "accent": "#2a6f97",
    "ai": "#6b3fc6",
    "muted": "#9aa3ad",
}
_PALETTE = ("#2a6f97", "#6b3fc6", "#1f7a4d", "#c98a00", "#b42318", "#3346a8", "#0f766e", "#9d4edd", "#5b6573")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Datum:
    label: str
    value: int
    href: str = ""
    tone: str = ""


def _colour(datum: Datum, index: int) -> str:
    return TONES.get(datum.tone) or _PALETTE[index % len(_PALETTE)]


def _n(number: float) -> str:
    """A coordinate with at most one decimal (format_html escapes its arguments to text first)."""
    return f"{number:.1f}".removesuffix(".0")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(*, title: str, width: int, height: int, body: SafeString, data: Sequence[Datum], css: str) -> SafeString:
    chart_id = f"chart-{next(_ids)}"
    description = "; ".join(f"{d.label}: {d.value}" for d in data) or "No data"
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" width="100%" role="group" aria-labelledby="{}-t" aria-describedby="{}-d" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        css,
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        body,
    )


def _linked(href: str, inner: SafeString) -> SafeString:
    return format_html('<a href="{}">{}</a>', href, inner) if href else inner


def bar_chart(data: Sequence[Datum], *, title: str, width: int = 480, label_width: int = 170) -> SafeString:
    """Horizontal bars, one row per datum, scaled to the largest value; a bar links to ``href`` when given."""
    row, gap = 22, 6
    height = max(len(data), 1) * (row + gap) + gap
    largest = max((d.value for d in data), default=0) or 1
    bar_space = width - label_width - 56
    marks = []
    for index, datum in enumerate(data):
        y = gap + index * (row + gap)
        length = 0 if datum.value <= 0 else max(2.0, bar_space * datum.value / largest)
        tip = f"{datum.label}: {datum.value}"
        marks.append(
            _linked(
                datum.href,
                format_html(
                    '<g class="bar"><title>{}</title>'
                    '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>'
                    '<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="#eef1f4"></rect>'
                    '<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}"></rect>'
                    '<text x="{}" y="{}" class="chart-value">{}</text></g>',
                    tip,
                    _n(label_width - 8),
                    _n(y + row * 0.7),
                    _short(datum.label, max(8, label_width // 7)),
                    label_width,
                    _n(y),
                    bar_space,
                    row,
                    label_width,
                    _n(y),
                    _n(length),
                    row,
                    _colour(datum, index),
                    _n(label_width + length + 6),
                    _n(y + row * 0.7),
                    datum.value,
                ),
            )
        )
    if not data:
        marks.append(
            format_html(
                '<text x="{}" y="{}" class="chart-empty" text-anchor="middle">No data</text>', _n(width / 2), 20
            )
        )
    return _frame(title=title, width=width, height=height, body=mark_safe("".join(marks)), data=data, css="chart-bars")


def donut_chart(data: Sequence[Datum], *, title: str, centre: str = "", size: int = 160) -> SafeString:
    """A donut of the data's shares with ``centre`` (e.g. the total) written in the hole; zero values are
    left out of the ring but stay in the description and the legend the template draws."""
    radius, stroke = size / 2 - 14, 22
    circumference = 2 * math.pi * radius
    total = sum(max(d.value, 0) for d in data)
    cx = cy = size / 2
    marks = [
        format_html(
            '<circle cx="{}" cy="{}" r="{}" fill="none" stroke="#eef1f4" stroke-width="{}"></circle>',
            _n(cx),
            _n(cy),
            _n(radius),
            stroke,
        )
    ]
    offset = 0.0
    for index, datum in enumerate(data):
        if datum.value <= 0 or not total:
            continue
        length = circumference * datum.value / total
        share = round(100 * datum.value / total)
        marks.append(
            _linked(
                datum.href,
                format_html(
                    '<circle class="segment" cx="{}" cy="{}" r="{}" fill="none" stroke="{}" stroke-width="{}" '
                    'stroke-dasharray="{} {}" stroke-dashoffset="{}" transform="rotate(-90 {} {})">'
                    "<title>{}: {} ({}%)</title></circle>",
                    _n(cx),
                    _n(cy),
                    _n(radius),
                    _colour(datum, index),
                    stroke,
                    _n(length),
                    _n(circumference - length),
                    _n(-offset),
                    _n(cx),
                    _n(cy),
                    datum.label,
                    datum.value,
                    share,
                ),
            )
        )
        offset += length
    marks.append(
        format_html(
            '<text x="{}" y="{}" text-anchor="middle" class="chart-centre">{}</text>',
            _n(cx),
            _n(cy + 7),
            centre or total,
        )
    )
    return _frame(title=title, width=size, height=size, body=mark_safe("".join(marks)), data=data, css="chart-donut")


def legend(data: Sequence[Datum]) -> SafeString:
    """The donut's legend as an HTML list (colour swatch, label, value), in the same colours."""
    return format_html(
        '<ul class="chart-legend">{}</ul>',
        format_html_join(
            "",
            # An SVG swatch: a fill attribute, not an inline style, which the Content-Security-Policy refuses.
            '<li><svg class="swatch" viewBox="0 0 12 12" aria-hidden="true"><rect width="12" height="12" rx="3" '
            'fill="{}"></rect></svg>{}<span class="num">{}</span></li>',
            (
                (
                    _colour(d, i),
                    format_html('<a href="{}">{}</a>', d.href, d.label) if d.href else d.label,
                    d.value,
                )
                for i, d in enumerate(data)
            ),
        ),
    )


def sparkline(
    data: Sequence[Datum], *, title: str, maximum: int | None = None, width: int = 320, height: int = 70
) -> SafeString:
    """A line over the data in order (oldest first) with a dot per point; the y axis runs from 0 to
    ``maximum`` (default: the largest value), so "9 of 13 passing" is drawn against 13."""
    pad = 8
    top = maximum or max((d.value for d in data), default=0) or 1
    step = (width - 2 * pad) / max(len(data) - 1, 1)

    def point(index: int, value: int) -> tuple[float, float]:
        return pad + index * step, height - pad - (height - 2 * pad) * min(value, top) / top

    points = [point(i, d.value) for i, d in enumerate(data)]
    marks = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dde2e8" stroke-dasharray="3 3"></line>',
            pad,
            pad,
            _n(width - pad),
            pad,
        )
    ]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        area = f"{pad:.1f},{height - pad:.1f} {path} {points[-1][0]:.1f},{height - pad:.1f}"
        marks.append(format_html('<polygon points="{}" fill="#e6f0f6"></polygon>', area))
        marks.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"></polyline>', path, TONES["accent"]
            )
        )
    for (x, y), datum in zip(points, data, strict=True):
        marks.append(
            _linked(
                datum.href,
                format_html(
                    '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{}: {}</title></circle>',
                    _n(x),
                    _n(y),
                    _colour(datum, 0) if datum.tone else TONES["accent"],
                    datum.label,
                    datum.value,
                ),
            )
        )
    if not data:
        marks.append(
            format_html(
                '<text x="{}" y="{}" class="chart-empty" text-anchor="middle">No runs yet</text>',
                _n(width / 2),
                _n(height / 2),
            )
        )
    return _frame(
        title=title, width=width, height=height, body=mark_safe("".join(marks)), data=data, css="chart-sparkline"
    )


def meter(value: int, total: int, *, title: str, tone: str = "accent", width: int = 240) -> SafeString:
    """A single progress bar ("412 of 415"), for completion figures."""
    share = value / total if total else 0
    datum = Datum(title, value)
    body = format_html(
        '<rect x="0" y="0" width="{}" height="12" rx="6" fill="#eef1f4"></rect>'
        '<rect x="0" y="0" width="{}" height="12" rx="6" fill="{}"><title>{}: {} of {}</title></rect>',
        width,
        _n(width * share),
        TONES.get(tone, TONES["accent"]),
        title,
        value,
        total,
    )
    return _frame(title=title, width=width, height=12, body=body, data=[datum], css="chart-meter")
