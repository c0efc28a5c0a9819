"""Check-in charts drawn on the server: an SVG, a text summary and a table for the same numbers.

Pure functions of plain data (no models, no database, no JavaScript, no external assets): the
client's pages and the therapist's show a history the same way, and tests read the markup with
an XML parser. A chart draws exactly what it is given, so the caller builds it only from scores
the viewer may see (the client's sharing choice decides that for the therapist, not this module).

How a page uses it::

    chart = Chart(
        title="Alliance over time",
        y_min=0, y_max=4, higher_is_better=True,
        lines=(
            Line(label="Bond", points=(Point(x_label="Session 1", value=2.5),
                                       Point(x_label="Session 2", value=None), ...)),
            Line(label="Goals", points=(...same x labels...)),
        ),
        cutoff=2.0, cutoff_label="Concern threshold", reliable_change=0.8,
    )
    context = {"alliance_chart": chart_context(chart, id_prefix="alliance")}

    {% include "care/_chart.html" with chart=alliance_chart %}

``cutoff`` and ``reliable_change`` come from the instrument's norms: the clinical cutoff
(``rapport.care.instruments.clinical_cutoff``) and the smallest reliable difference, 1.96 × the
standard error of the difference (``Change.standard_error_of_difference``).

The partial renders a ``<figure>``: the title and summary as its caption, the SVG, a legend
(colour, marker shape and dash pattern of each line, so colour is never the only cue) and a
"Show as a table" disclosure with the same values. ``id_prefix`` must be unique on the page
(it names the SVG's title and description for ``aria-labelledby``). With no check-ins the chart
says "No check-ins yet"; a page may rather leave it out while ``has_check_ins`` is False.

Every line shares the chart's scale and x positions (one x position per check-in). A ``None``
value is a check-in with no score: the line breaks there rather than bridging the gap, and the
table says "no score".

Values outside ``[y_min, y_max]`` are drawn at the nearest edge of the plot. The range is the
instrument's possible range, so such a value is a data error or another version of the scale;
drawing it off the plot would run over the axis labels and stretch or hide the rest of the
picture. Nothing is hidden by this: the marker's tooltip says it is off the scale, and the summary
and the table show the value as given.

The reliable-change band is drawn around the first scored value of the FIRST line (its
baseline), first value ± ``reliable_change``. The same threshold judges every line in the summary,
since all lines share the scale; a chart whose lines need different thresholds should be split
into several charts. A change counts as reliable only when it is strictly larger than
``reliable_change`` (Jacobson–Truax: |RCI| > 1.96, where ``reliable_change`` is 1.96 × S_diff).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from html import escape
from typing import TypedDict

from django.utils.safestring import SafeString, mark_safe

__all__ = [
    "EMPTY_MESSAGE",
    "NO_SCORE",
    "Chart",
    "ChartContext",
    "ChartTable",
    "LegendEntry",
    "Line",
    "Point",
    "TableRow",
    "chart_context",
    "chart_summary",
    "chart_svg",
    "chart_table",
]

EMPTY_MESSAGE = "No check-ins yet"
NO_SCORES_MESSAGE = "No scores yet"
NO_SCORE = "no score"
BAND_LABEL = "Within this band: no reliable change"

# --- geometry (viewBox units) ------------------------------------------------------------
# A viewBox this size, drawn at width 100%, scales to about 0.78 on a 375 px phone, so the
# 15-unit tick labels stay near 12 px there; on a wide screen the CSS caps the figure's width.
VIEW_WIDTH = 440
VIEW_HEIGHT = 280
PLOT_LEFT = 44  # room for the y tick labels
PLOT_RIGHT = 428
PLOT_TOP = 16
PLOT_BOTTOM = 236  # room for the x tick labels below
TICK_FONT_SIZE = 15
ANNOTATION_FONT_SIZE = 14
# The first and last check-ins sit this far inside the plot, so their markers clear the axis.
X_INSET = 16
MAX_X_LABELS = 4  # more would overlap at phone width; the table lists every check-in
MAX_X_LABEL_CHARACTERS = 12

# --- series styles --------------------------------------------------------------------------
# Okabe & Ito's colour-blind-safe palette, keeping only the colours with at least 3:1 contrast
# against the white plot (WCAG 1.4.11 for graphics). Colour is never the only cue: each line
# also has its own marker shape and dash pattern. Colours and dashes repeat every 4 lines and
# markers every 5, so the first 20 lines all look different.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
MARKERS = ("circle", "square", "triangle", "diamond", "triangle-down")
DASHES = ("", "8 4", "2 4", "10 4 2 4")
PLOT_BACKGROUND = "#ffffff"
INK = "#1d2a2f"
MUTED = "#4d5b61"
GRID = "#d9ddd9"
AXIS = "#7c8b89"
BAND_FILL = "#e6f0ee"

_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
# Characters XML 1.0 forbids (goal texts are typed by clients and may carry anything).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Point:
    """One check-in's value on one line.

    ``x_label`` is what the table's first column shows ("Session 3", "12 Mar"); ``value`` is
    ``None`` when there was no score that time (a gap in the line, "no score" in the table).
    """

    x_label: str
    value: float | None

    def __post_init__(self) -> None:
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"{self.x_label!r}: a value must be a finite number or None")


@dataclass(frozen=True)
class Line:
    """One series: "Bond", "Total", "Goal 1: sleep better"…"""

    label: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Chart:
    """What to draw. ``y_min``/``y_max`` are the scale's possible range (from the instrument);
    ``higher_is_better`` only changes the summary's words (improvement or worsening)."""

    title: str
    y_min: float
    y_max: float
    lines: tuple[Line, ...]
    higher_is_better: bool
    cutoff: float | None = None
    cutoff_label: str = "Clinical cutoff"
    reliable_change: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.y_min) and math.isfinite(self.y_max)):
            raise ValueError("the scale's range must be finite")
        if self.y_max <= self.y_min:
            raise ValueError(f"y_max ({self.y_max}) must be above y_min ({self.y_min})")
        if self.cutoff is not None and not (self.y_min <= self.cutoff <= self.y_max):
            raise ValueError(f"the cutoff {self.cutoff} lies outside the scale's range")
        if self.reliable_change is not None and not (
            math.isfinite(self.reliable_change) and self.reliable_change > 0
        ):
            raise ValueError("reliable_change must be a positive number")
        if self.lines:
            labels = [point.x_label for point in self.lines[0].points]
            for line in self.lines[1:]:
                if [point.x_label for point in line.points] != labels:
                    raise ValueError(
                        f"line {line.label!r} does not have the same check-ins as "
                        f"line {self.lines[0].label!r}"
                    )

    @property
    def x_labels(self) -> tuple[str, ...]:
        return tuple(point.x_label for point in self.lines[0].points) if self.lines else ()


# --- numbers and text -----------------------------------------------------------------------


def _number(value: float) -> str:
    """A coordinate or value for the markup: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _exact(value: float) -> Fraction:
    """The value as written (0.1 is 1/10), so 0.4 - 0.1 is not judged larger than 0.3."""
    return Fraction(repr(float(value)))


def _text(value: str) -> str:
    """Text for SVG or HTML: XML-escaped, quotes included, minus characters XML cannot carry."""
    return escape(_XML_FORBIDDEN.sub("", value), quote=True)


def _shorten(label: str) -> str:
    if len(label) <= MAX_X_LABEL_CHARACTERS:
        return label
    cut = label[: MAX_X_LABEL_CHARACTERS - 1].rstrip()
    # At a word's end when that keeps most of it: "3 March…" rather than "3 March 202…".
    space = cut.rfind(" ")
    if space >= MAX_X_LABEL_CHARACTERS // 2:
        cut = cut[:space].rstrip()
    return cut + "…"


def _sentence_case(label: str) -> str:
    """'Clinical cutoff' reads 'clinical cutoff' mid-sentence; 'PHQ cutoff' keeps its capitals."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


# --- geometry ------------------------------------------------------------------------------


def _x(index: int, count: int) -> float:
    if count == 1:
        return (PLOT_LEFT + PLOT_RIGHT) / 2
    first, last = PLOT_LEFT + X_INSET, PLOT_RIGHT - X_INSET
    return first + index * (last - first) / (count - 1)


def _clamp(chart: Chart, value: float) -> float:
    return min(max(value, chart.y_min), chart.y_max)


def _y(chart: Chart, value: float) -> float:
    share = (_clamp(chart, value) - chart.y_min) / (chart.y_max - chart.y_min)
    return PLOT_BOTTOM - share * (PLOT_BOTTOM - PLOT_TOP)


def _y_ticks(low: float, high: float) -> list[float]:
    """Round-numbered ticks (steps of 1, 2 or 5 times a power of ten), at most about six gaps."""
    rough = (high - low) / 6
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough - 1e-12)
    tick = math.ceil(low / step - 1e-9) * step
    ticks = []
    while tick <= high + 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    return ticks


def _x_label_indexes(count: int) -> list[int]:
    if count <= MAX_X_LABELS:
        return list(range(count))
    # Every step-th check-in, the last one taking the place of the final pick so that labels
    # never come closer than a step (the table lists them all).
    step = math.ceil((count - 1) / (MAX_X_LABELS - 1))
    indexes = list(range(0, count, step))
    indexes[-1] = count - 1
    return indexes


def _scored(line: Line) -> list[tuple[int, Point, float]]:
    return [
        (index, point, point.value)
        for index, point in enumerate(line.points)
        if point.value is not None
    ]


def _baseline(chart: Chart) -> float | None:
    """The first line's first score: the centre of the reliable-change band."""
    if not chart.lines:
        return None
    scored = _scored(chart.lines[0])
    return scored[0][2] if scored else None


# --- series styles -----------------------------------------------------------------------


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _dash(index: int) -> str:
    return DASHES[index % len(DASHES)]


def _marker(index: int, x: float, y: float, *, size: float = 1.0) -> str:
    """The line's marker shape centred on (x, y)."""
    shape = MARKERS[index % len(MARKERS)]
    if shape == "circle":
        return f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{_number(5 * size)}"/>'
    if shape == "square":
        half = 4.5 * size
        return (
            f'<rect x="{_number(x - half)}" y="{_number(y - half)}" '
            f'width="{_number(2 * half)}" height="{_number(2 * half)}"/>'
        )
    if shape == "triangle":
        corners = [
            (x, y - 6 * size),
            (x + 5.5 * size, y + 4 * size),
            (x - 5.5 * size, y + 4 * size),
        ]
    elif shape == "diamond":
        corners = [(x, y - 6 * size), (x + 6 * size, y), (x, y + 6 * size), (x - 6 * size, y)]
    else:  # triangle-down
        corners = [
            (x, y + 6 * size),
            (x + 5.5 * size, y - 4 * size),
            (x - 5.5 * size, y - 4 * size),
        ]
    points = " ".join(f"{_number(cx)},{_number(cy)}" for cx, cy in corners)
    return f'<polygon points="{points}"/>'


def _stroke(index: int) -> str:
    dash = _dash(index)
    dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
    return f'stroke="{_colour(index)}" stroke-width="2.5"{dash_attribute}'


def _swatch(index: int) -> SafeString:
    """A small picture of line `index` (dash pattern, colour, marker) for the legend."""
    return mark_safe(  # noqa: S308 - built only from the fixed style tables above
        '<svg class="care-chart__swatch" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 16" '
        'width="40" height="16" aria-hidden="true" focusable="false">'
        f'<line class="care-chart__line" x1="1" y1="8" x2="39" y2="8" {_stroke(index)}/>'
        f'<g class="care-chart__marker" fill="{_colour(index)}" stroke="{PLOT_BACKGROUND}" '
        f'stroke-width="1">{_marker(index, 20, 8, size=0.9)}</g></svg>'
    )


# --- the SVG -------------------------------------------------------------------------------


def _centred_message(message: str) -> str:
    return (
        f'<text class="care-chart__message" x="{_number(VIEW_WIDTH / 2)}" '
        f'y="{_number(VIEW_HEIGHT / 2)}" text-anchor="middle" font-size="18" '
        f'fill="{INK}">{_text(message)}</text>'
    )


def _axes(chart: Chart) -> list[str]:
    parts = []
    for tick in _y_ticks(chart.y_min, chart.y_max):
        y = _number(_y(chart, tick))
        parts.append(
            f'<line class="care-chart__grid" x1="{PLOT_LEFT}" y1="{y}" x2="{PLOT_RIGHT}" '
            f'y2="{y}" stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="care-chart__tick" x="{PLOT_LEFT - 8}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="{TICK_FONT_SIZE}" fill="{MUTED}">'
            f"{_number(tick)}</text>"
        )
    parts.append(
        f'<path class="care-chart__axis" d="M{PLOT_LEFT} {PLOT_TOP}V{PLOT_BOTTOM}H{PLOT_RIGHT}" '
        f'fill="none" stroke="{AXIS}" stroke-width="1"/>'
    )
    labels = chart.x_labels
    for index in _x_label_indexes(len(labels)):
        if len(labels) == 1:
            anchor = "middle"
        else:
            # The outermost labels lean inwards so a long one is not cut off by the edge.
            anchor = "start" if index == 0 else "end" if index == len(labels) - 1 else "middle"
        parts.append(
            f'<text class="care-chart__tick" x="{_number(_x(index, len(labels)))}" '
            f'y="{PLOT_BOTTOM + 22}" text-anchor="{anchor}" font-size="{TICK_FONT_SIZE}" '
            f'fill="{MUTED}">'
            f"{_text(_shorten(labels[index]))}</text>"
        )
    return parts


def _annotation(x: float, y: float, text: str, *, anchor: str, fill: str) -> str:
    """A label drawn over the lines with a halo of the plot's colour, so a line crossing it
    does not strike the words through."""
    return (
        f'<text class="care-chart__annotation" x="{_number(x)}" y="{_number(y)}" '
        f'text-anchor="{anchor}" font-size="{ANNOTATION_FONT_SIZE}" fill="{fill}" '
        f'stroke="{PLOT_BACKGROUND}" stroke-width="4" stroke-linejoin="round" '
        f'paint-order="stroke">{_text(text)}</text>'
    )


def _band(chart: Chart) -> tuple[list[str], list[str]]:
    """The band's shape (drawn under everything) and its label (drawn over the lines)."""
    baseline = _baseline(chart)
    if chart.reliable_change is None or baseline is None:
        return [], []
    top = _y(chart, baseline + chart.reliable_change)
    bottom = _y(chart, baseline - chart.reliable_change)
    # Inside the band along its lower edge (the cutoff's label sits above its line, so the two
    # rarely meet); outside it when the band is too thin for a line of text.
    if bottom - top >= 22:
        label_y = bottom - 6
    elif top - PLOT_TOP >= 18:
        label_y = top - 5
    else:
        label_y = bottom + 16
    shape = (
        f'<rect class="care-chart__band" x="{PLOT_LEFT}" y="{_number(top)}" '
        f'width="{PLOT_RIGHT - PLOT_LEFT}" height="{_number(bottom - top)}" fill="{BAND_FILL}"/>'
    )
    return [shape], [_annotation(PLOT_LEFT + 6, label_y, BAND_LABEL, anchor="start", fill=MUTED)]


def _cutoff(chart: Chart) -> tuple[list[str], list[str]]:
    """The cutoff's dashed line (under the data) and its label (over it)."""
    if chart.cutoff is None:
        return [], []
    y = _y(chart, chart.cutoff)
    # Below the line when it runs along the top edge, so the label stays inside the picture.
    label_y = y - 6 if y - PLOT_TOP >= 16 else y + 16
    shape = (
        f'<line class="care-chart__cutoff" x1="{PLOT_LEFT}" y1="{_number(y)}" '
        f'x2="{PLOT_RIGHT}" y2="{_number(y)}" stroke="{INK}" stroke-width="1.5" '
        'stroke-dasharray="6 3"/>'
    )
    label = f"{chart.cutoff_label} ({_number(chart.cutoff)})"
    return [shape], [_annotation(PLOT_RIGHT - 6, label_y, label, anchor="end", fill=INK)]


def _series(chart: Chart, index: int, line: Line) -> str:
    count = len(line.points)
    # Runs of consecutive scores: each run is one polyline, so a missing score is a visible gap.
    runs: list[list[tuple[float, float]]] = []
    previous = None
    for position, _point, value in _scored(line):
        if previous is None or position != previous + 1:
            runs.append([])
        runs[-1].append((_x(position, count), _y(chart, value)))
        previous = position
    parts = [f'<g class="care-chart__series care-chart__series--{index}">']
    for run in runs:
        if len(run) > 1:
            coordinates = " ".join(f"{_number(x)},{_number(y)}" for x, y in run)
            parts.append(
                f'<polyline class="care-chart__line" points="{coordinates}" fill="none" '
                f'{_stroke(index)} stroke-linejoin="round" stroke-linecap="round"/>'
            )
    # Every score gets a marker, so a lone score between gaps still shows.
    parts.append(
        f'<g class="care-chart__marker" fill="{_colour(index)}" stroke="{PLOT_BACKGROUND}" '
        'stroke-width="1.5">'
    )
    for position, point, value in _scored(line):
        tooltip = f"{line.label}, {point.x_label}: {_number(value)}"
        if value != _clamp(chart, value):
            tooltip += " (outside the scale, drawn at its edge)"
        shape = _marker(index, _x(position, count), _y(chart, value))
        parts.append(f"<g><title>{_text(tooltip)}</title>{shape}</g>")
    parts.append("</g></g>")
    return "".join(parts)


def chart_svg(chart: Chart, *, id_prefix: str) -> SafeString:
    """The chart as an inline ``<svg>``: fixed viewBox, 100% wide, height from the aspect ratio.

    Named by its ``<title>`` and described by ``<desc>`` (the text summary) through
    ``aria-labelledby``; ids start with ``id_prefix`` (a letter, then letters, digits, - or _).
    No scripts, no styles, no external references: presentation attributes only, which the
    site's content security policy allows and its stylesheet may override.
    """
    if not _ID_PATTERN.match(id_prefix):
        raise ValueError(f"id_prefix {id_prefix!r} is not a usable HTML id")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="care-chart__svg" '
        f'viewBox="0 0 {VIEW_WIDTH} {VIEW_HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="system-ui, sans-serif">',
        f'<title id="{title_id}">{_text(chart.title)}</title>',
        f'<desc id="{desc_id}">{_text(chart_summary(chart))}</desc>',
        f'<rect class="care-chart__background" width="{VIEW_WIDTH}" height="{VIEW_HEIGHT}" '
        f'fill="{PLOT_BACKGROUND}"/>',
    ]
    if not chart.x_labels:
        parts.append(_centred_message(EMPTY_MESSAGE))
    else:
        # Painted in order: band, grid and axes, cutoff line, the data, then the labels on top.
        band, band_label = _band(chart)
        cutoff, cutoff_label = _cutoff(chart)
        parts.extend(band)
        parts.extend(_axes(chart))
        parts.extend(cutoff)
        parts.extend(_series(chart, index, line) for index, line in enumerate(chart.lines))
        parts.extend(band_label + cutoff_label)
        if not any(_scored(line) for line in chart.lines):
            parts.append(_centred_message(NO_SCORES_MESSAGE))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above went through _text


# --- the summary ---------------------------------------------------------------------------


def _points(amount: Fraction) -> str:
    return f"{_number(float(amount))} point" + ("" if amount == 1 else "s")


def _line_summary(chart: Chart, line: Line) -> str:
    scored = _scored(line)
    if not scored:
        return f"{line.label} — no score yet."
    first_index, first_point, first_value = scored[0]
    _latest_index, latest_point, latest_value = scored[-1]
    if len(scored) == 1:
        sentence = (
            f"{line.label} — {_number(first_value)} ({first_point.x_label}), the only score so far."
        )
    else:
        since = "the first check-in" if first_index == 0 else "the first score"
        difference = _exact(latest_value) - _exact(first_value)
        if difference == 0:
            movement = f"the same as at {since}"
        else:
            direction = "up" if difference > 0 else "down"
            movement = f"{direction} {_points(abs(difference))} since {since}"
            if chart.reliable_change is not None:
                if abs(difference) > _exact(chart.reliable_change):
                    better = (difference > 0) == chart.higher_is_better
                    movement += ", a reliable improvement" if better else ", a reliable worsening"
                else:
                    movement += ", no reliable change"
        sentence = (
            f"{line.label} — {_number(first_value)} ({first_point.x_label}), "
            f"{_number(latest_value)} ({latest_point.x_label}): {movement}."
        )
    if chart.cutoff is not None:
        cutoff = _exact(chart.cutoff)
        latest = _exact(latest_value)
        side = "above" if latest > cutoff else "below" if latest < cutoff else "exactly at"
        subject = "It is" if len(scored) == 1 else "The latest score is"
        sentence += (
            f" {subject} {side} the {_sentence_case(chart.cutoff_label)} ({_number(chart.cutoff)})."
        )
    return sentence


def chart_summary(chart: Chart) -> str:
    """The chart in plain words: how many check-ins, then per line the first and latest scores,
    the change between them in words ("up 3 points since the first check-in"), whether it is
    beyond the reliable-change band (a reliable improvement or worsening, or no reliable change)
    and on which side of the cutoff the latest score lies."""
    opening, per_line = _summary_parts(chart)
    return " ".join([opening, *per_line])


def _summary_parts(chart: Chart) -> tuple[str, list[str]]:
    """The opening sentence, then one sentence or two per line."""
    labels = chart.x_labels
    if not labels:
        return f"{EMPTY_MESSAGE}.", []
    if len(labels) == 1:
        opening = f"1 check-in, {labels[0]}."
    else:
        opening = f"{len(labels)} check-ins, from {labels[0]} to {labels[-1]}."
    return opening, [_line_summary(chart, line) for line in chart.lines]


# --- the table -----------------------------------------------------------------------------


def _cell(value: float | None) -> str:
    return NO_SCORE if value is None else _number(value)


class TableRow(TypedDict):
    label: str  # the check-in (the row's heading)
    cells: list[str]  # one per line: the value as given (not clamped), or "no score"


class ChartTable(TypedDict):
    caption: str
    header: list[str]  # "Check-in", then each line's label
    rows: list[TableRow]  # one per check-in, in order


class LegendEntry(TypedDict):
    label: str
    swatch: SafeString  # a small picture of the line: its colour, dash pattern and marker


class ChartContext(TypedDict):
    id_prefix: str
    title: str
    svg: SafeString
    summary: str  # all of the summary, as in the SVG's description
    summary_opening: str  # the same words split for the caption: the opening sentence...
    summary_lines: list[str]  # ...then one item per line
    legend: list[LegendEntry]  # empty when there are no check-ins
    table: ChartTable
    has_check_ins: bool  # a page may leave the chart out while this is False


def chart_table(chart: Chart) -> ChartTable:
    """The same values as a table, one row per check-in, for the partial's ``<table>``."""
    rows: list[TableRow] = [
        {
            "label": label,
            "cells": [_cell(line.points[index].value) for line in chart.lines],
        }
        for index, label in enumerate(chart.x_labels)
    ]
    return {
        "caption": chart.title,
        "header": ["Check-in", *(line.label for line in chart.lines)],
        "rows": rows,
    }


def chart_context(chart: Chart, *, id_prefix: str) -> ChartContext:
    """Everything ``care/_chart.html`` needs: ``{% include "care/_chart.html" with chart=… %}``.

    ``id_prefix`` must be unique on the page (see :func:`chart_svg`).
    """
    opening, per_line = _summary_parts(chart)
    legend: list[LegendEntry] = (
        [{"label": line.label, "swatch": _swatch(index)} for index, line in enumerate(chart.lines)]
        if chart.x_labels
        else []
    )
    return {
        "id_prefix": id_prefix,
        "title": chart.title,
        "svg": chart_svg(chart, id_prefix=id_prefix),
        "summary": chart_summary(chart),
        "summary_opening": opening,
        "summary_lines": per_line,
        "legend": legend,
        "table": chart_table(chart),
        "has_check_ins": bool(chart.x_labels),
    }
