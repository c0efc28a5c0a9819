"""Check-in charts: the SVG read back with an XML parser and held to coordinates worked out by hand
from the viewBox geometry, the summary's exact words, the table, and the template partial.

Geometry used for the hand values (viewBox 0 0 440 280): the plot runs from x 44 to 428 and from
y 16 (top) to 236 (bottom); check-ins sit 16 inside the plot, so the first is at x 60 and the last
at x 412, evenly spaced; a lone check-in is centred at x 236. With a 0-22 scale one point is
10 units of height (220 / 22), so a value v sits at y = 236 - 10 v.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest
from django.template.loader import render_to_string

from rapport.care.charts import Chart, Line, Point, chart_context, chart_summary, chart_svg
from rapport.care.charts import chart_table as table_of

SVG = "{http://www.w3.org/2000/svg}"


def _line(label: str, values: Sequence[float | None], *, prefix: str = "Session ") -> Line:
    return Line(
        label=label,
        points=tuple(
            Point(x_label=f"{prefix}{i}", value=value) for i, value in enumerate(values, start=1)
        ),
    )


def _chart(*lines: Line, **options: Any) -> Chart:
    settings: dict[str, Any] = {
        "title": "Progress",
        "y_min": 0,
        "y_max": 22,
        "higher_is_better": True,
    }
    settings.update(options)
    return Chart(lines=lines, **settings)


def _parse(markup: str) -> ET.Element:
    # Markup this module has just rendered from its own data, not input from outside.
    return ET.fromstring(markup)  # noqa: S314


def _svg(chart: Chart, id_prefix: str = "chart") -> ET.Element:
    return _parse(str(chart_svg(chart, id_prefix=id_prefix)))


def _classed(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [
        element
        for element in root.iter(SVG + tag)
        if css_class in (element.get("class") or "").split()
    ]


def _series(root: ET.Element, index: int) -> ET.Element:
    (group,) = _classed(root, "g", f"care-chart__series--{index}")
    return group


def _polylines(root: ET.Element, index: int = 0) -> list[str]:
    return [p.get("points", "") for p in _series(root, index).iter(SVG + "polyline")]


def _circles(root: ET.Element, index: int = 0) -> list[tuple[str, str]]:
    return [(c.get("cx", ""), c.get("cy", "")) for c in _series(root, index).iter(SVG + "circle")]


def _texts(root: ET.Element, css_class: str) -> list[str]:
    return [element.text or "" for element in _classed(root, "text", css_class)]


# --- the SVG element ------------------------------------------------------------------------


def test_svg_is_well_formed_scalable_and_named_by_its_title_and_description():
    chart = _chart(_line("Total", [6, 11, 17]))
    root = _svg(chart, id_prefix="progress-total")

    assert root.tag == SVG + "svg"
    assert root.get("viewBox") == "0 0 440 280"
    assert root.get("width") == "100%"
    assert root.get("height") is None  # the height follows the width on any screen
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "progress-total-title progress-total-desc"
    title = root.find(SVG + "title")
    desc = root.find(SVG + "desc")
    assert title is not None
    assert desc is not None
    assert (title.get("id"), title.text) == ("progress-total-title", "Progress")
    assert (desc.get("id"), desc.text) == ("progress-total-desc", chart_summary(chart))


def test_svg_has_no_script_style_or_external_reference():
    markup = str(chart_svg(_chart(_line("Total", [6, 11, 17]), cutoff=10), id_prefix="c"))

    assert "<script" not in markup
    assert "<style" not in markup
    assert " style=" not in markup
    assert "href" not in markup
    assert "http" not in markup.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_points_sit_where_the_geometry_puts_them():
    root = _svg(_chart(_line("Total", [6, 11, 17])))

    # x: 60, then 176 apart ((412 - 60) / 2); y = 236 - 10 v.
    assert _polylines(root) == ["60,176 236,126 412,66"]
    assert _circles(root) == [("60", "176"), ("236", "126"), ("412", "66")]


def test_points_on_a_one_to_five_mean_scale():
    chart = _chart(_line("Bond", [1, 2.5, 3, 4.25, 5]), y_min=1, y_max=5)

    # five check-ins 88 apart; 220 units of height for 4 points of scale: 55 per point.
    assert _polylines(_svg(chart)) == ["60,236 148,153.5 236,126 324,57.25 412,16"]


def test_cutoff_line_is_a_labelled_dashed_line_at_its_value():
    root = _svg(_chart(_line("Total", [6, 11, 17]), cutoff=10))

    (cutoff,) = _classed(root, "line", "care-chart__cutoff")
    assert (cutoff.get("y1"), cutoff.get("y2")) == ("136", "136")
    assert (cutoff.get("x1"), cutoff.get("x2")) == ("44", "428")
    assert cutoff.get("stroke-dasharray")
    assert "Clinical cutoff (10)" in _texts(root, "care-chart__annotation")


def test_reliable_change_band_spans_the_first_lines_baseline_plus_and_minus_the_change():
    # Baseline 6 (the first line's first score), reliable change 4: the band runs from 2 to 10,
    # y 216 to 136. The second line's values do not move it.
    root = _svg(_chart(_line("Total", [6, 11, 17]), _line("Other", [20, 1, 1]), reliable_change=4))

    (band,) = _classed(root, "rect", "care-chart__band")
    assert (band.get("x"), band.get("width")) == ("44", "384")
    assert (band.get("y"), band.get("height")) == ("136", "80")
    assert "Within this band: no reliable change" in _texts(root, "care-chart__annotation")


def test_band_centres_on_the_first_score_when_the_first_check_in_had_none():
    root = _svg(_chart(_line("Total", [None, 8, 12]), reliable_change=3))

    (band,) = _classed(root, "rect", "care-chart__band")
    # 8 ± 3: from 5 (y 186) to 11 (y 126).
    assert (band.get("y"), band.get("height")) == ("126", "60")


def test_band_is_cut_at_the_edge_of_the_scale():
    root = _svg(_chart(_line("Total", [20, 11]), reliable_change=4))

    (band,) = _classed(root, "rect", "care-chart__band")
    # 16 to 24, cut at 22 (y 16); 16 is at y 76.
    assert (band.get("y"), band.get("height")) == ("16", "60")


def test_no_band_or_cutoff_unless_given():
    root = _svg(_chart(_line("Total", [6, 11, 17])))

    assert _classed(root, "rect", "care-chart__band") == []
    assert _classed(root, "line", "care-chart__cutoff") == []


def test_a_missing_score_splits_the_line_in_two():
    root = _svg(_chart(_line("Total", [1, 2, None, 3, 4])))

    # Five check-ins 88 apart; the third has no score, so nothing joins 148 to 324.
    assert _polylines(root) == ["60,226 148,216", "324,206 412,196"]
    assert _circles(root) == [("60", "226"), ("148", "216"), ("324", "206"), ("412", "196")]


def test_a_score_between_two_gaps_is_a_marker_without_a_line():
    root = _svg(_chart(_line("Total", [1, None, 2, None, 3])))

    assert _polylines(root) == []
    assert _circles(root) == [("60", "226"), ("236", "216"), ("412", "206")]


def test_a_single_check_in_draws_a_centred_marker():
    root = _svg(_chart(_line("Total", [5])))

    assert _polylines(root) == []
    assert _circles(root) == [("236", "186")]


def test_values_outside_the_scale_are_drawn_at_its_edges_and_shown_as_given():
    chart = _chart(_line("Total", [30, -5, 11]))
    root = _svg(chart)

    assert _polylines(root) == ["60,16 236,236 412,126"]
    tooltips = [t.text for t in _series(root, 0).iter(SVG + "title")]
    assert tooltips == [
        "Total, Session 1: 30 (outside the scale, drawn at its edge)",
        "Total, Session 2: -5 (outside the scale, drawn at its edge)",
        "Total, Session 3: 11",
    ]
    assert [row["cells"] for row in table_of(chart)["rows"]] == [["30"], ["-5"], ["11"]]


def test_numbers_in_the_markup_have_at_most_two_decimals():
    thirds = [1 / 3, 2 / 3, 5 / 3, 7 / 3]
    markup = str(chart_svg(_chart(_line("Mean", thirds), y_max=3, cutoff=1 / 7), id_prefix="c"))

    assert re.findall(r"\d\.\d{3,}", markup) == []
    assert _polylines(_parse(markup)) == ["60,211.56 177.33,187.11 294.67,113.78 412,64.89"]


def test_y_axis_ticks_are_round_numbers_within_the_scale():
    def ticks(**options):
        root = _svg(_chart(_line("Total", [1, 2]), **options))
        return [t for t in _texts(root, "care-chart__tick") if not t.startswith("Session")]

    assert ticks(y_min=0, y_max=22) == ["0", "5", "10", "15", "20"]
    assert ticks(y_min=1, y_max=5) == ["1", "2", "3", "4", "5"]
    assert ticks(y_min=0, y_max=27) == ["0", "5", "10", "15", "20", "25"]
    assert ticks(y_min=0, y_max=10) == ["0", "2", "4", "6", "8", "10"]


def test_x_axis_labels_are_thinned_to_stay_apart_and_always_show_the_ends():
    def x_ticks(count: int) -> list[str]:
        root = _svg(_chart(_line("Total", [1.0] * count)))
        return [t for t in _texts(root, "care-chart__tick") if t.startswith("Session")]

    assert x_ticks(3) == ["Session 1", "Session 2", "Session 3"]
    assert x_ticks(8) == ["Session 1", "Session 4", "Session 8"]
    assert x_ticks(13) == ["Session 1", "Session 5", "Session 9", "Session 13"]


def test_long_check_in_names_are_shortened_on_the_axis_but_whole_in_the_table():
    chart = _chart(
        Line(
            label="Total",
            points=(
                Point(x_label="3 March 2026 (first)", value=4),
                Point(x_label="17 March", value=5),
            ),
        )
    )
    root = _svg(chart)

    x_ticks = [t for t in _texts(root, "care-chart__tick") if not t.isdigit()]
    assert x_ticks == ["3 March…", "17 March"]
    assert [row["label"] for row in table_of(chart)["rows"]] == ["3 March 2026 (first)", "17 March"]
    assert "3 March 2026 (first)" in chart_summary(chart)


def test_every_line_differs_by_more_than_colour():
    lines = [_line(f"Goal {i}", [1, 2, 3]) for i in range(6)]
    root = _svg(_chart(*lines))

    looks = []
    for index in range(6):
        series = _series(root, index)
        (polyline,) = series.iter(SVG + "polyline")
        (markers,) = _classed(series, "g", "care-chart__marker")
        # Every line's first marker is centred on the same spot (value 1 at x 60), so two
        # markers of the same shape are the same element with the same attributes.
        first = next(child for child in markers[0] if child.tag != SVG + "title")
        shape = (first.tag, tuple(sorted(first.items())))
        looks.append((polyline.get("stroke-dasharray"), shape))
    # The first four lines all differ in both dash and marker; beyond that the pair still
    # differs, whatever the colour.
    assert len(set(looks)) == 6
    assert len({dash for dash, _ in looks[:4]}) == 4
    assert len({shape for _, shape in looks[:5]}) == 5


def _relative_luminance(hex_colour: str) -> float:
    channels = []
    for start in (1, 3, 5):
        value = int(hex_colour[start : start + 2], 16) / 255
        linear = value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
        channels.append(linear)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_line_colours_have_three_to_one_contrast_with_the_plot():
    root = _svg(_chart(*[_line(f"Goal {i}", [1, 2]) for i in range(4)]))
    (background,) = _classed(root, "rect", "care-chart__background")
    plot = _relative_luminance(background.get("fill", ""))

    for index in range(4):
        (polyline,) = _series(root, index).iter(SVG + "polyline")
        colour = _relative_luminance(polyline.get("stroke", ""))
        lighter, darker = max(plot, colour), min(plot, colour)
        assert (lighter + 0.05) / (darker + 0.05) >= 3


# --- hostile text ---------------------------------------------------------------------------

HOSTILE_TITLE = '</title><script>alert("x")</script> & more'
HOSTILE_GOAL = "Goal 1: \"sleep\" <better> & 'rest' ]]>"


def test_labels_written_by_clients_are_escaped_and_read_back_unchanged():
    chart = _chart(
        Line(
            label=HOSTILE_GOAL,
            points=(Point(x_label="<b>", value=2), Point(x_label="a&b", value=4)),
        ),
        title=HOSTILE_TITLE,
        cutoff=3,
        cutoff_label="Cut <off> & 'on'",
    )
    root = _svg(chart)

    assert list(root.iter(SVG + "script")) == []
    assert list(root.iter("script")) == []
    title = root.find(SVG + "title")
    assert title is not None
    assert title.text == HOSTILE_TITLE
    desc = root.find(SVG + "desc")
    assert desc is not None
    assert HOSTILE_GOAL in (desc.text or "")
    assert [t.text for t in _series(root, 0).iter(SVG + "title")] == [
        f"{HOSTILE_GOAL}, <b>: 2",
        f"{HOSTILE_GOAL}, a&b: 4",
    ]
    assert [t for t in _texts(root, "care-chart__tick") if not t.isdigit()] == ["<b>", "a&b"]
    assert "Cut <off> & 'on' (3)" in _texts(root, "care-chart__annotation")


def test_characters_xml_cannot_carry_are_dropped_rather_than_breaking_the_page():
    chart = _chart(_line("Goal\x0b one\x00", [1, 2]), title="Progress\x1b")
    root = _svg(chart)

    title = root.find(SVG + "title")
    assert title is not None
    assert title.text == "Progress"
    assert next(t.text for t in _series(root, 0).iter(SVG + "title")) == "Goal one, Session 1: 1"


# --- empty charts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines", [(), (Line(label="Total", points=()),)], ids=["no lines", "no points"]
)
def test_a_chart_without_check_ins_says_so(lines):
    chart = _chart(*lines, cutoff=10, reliable_change=3)
    root = _svg(chart)

    assert _texts(root, "care-chart__message") == ["No check-ins yet"]
    assert list(root.iter(SVG + "polyline")) == []
    assert chart_summary(chart) == "No check-ins yet."
    assert table_of(chart)["rows"] == []
    context = chart_context(chart, id_prefix="empty")
    assert context["has_check_ins"] is False
    assert context["legend"] == []


def test_check_ins_without_any_score_draw_the_axes_and_say_no_scores_yet():
    chart = _chart(_line("Total", [None, None]), reliable_change=3)
    root = _svg(chart)

    assert _texts(root, "care-chart__message") == ["No scores yet"]
    assert _classed(root, "rect", "care-chart__band") == []
    assert chart_summary(chart) == "2 check-ins, from Session 1 to Session 2. Total — no score yet."


# --- the summary ----------------------------------------------------------------------------


def test_summary_reads_first_and_latest_change_reliability_and_cutoff():
    chart = _chart(
        _line("Total", [6, 11, 17]),
        _line("Goal 1: sleep better", [4, None, 5]),
        cutoff=10,
        reliable_change=4,
    )

    assert chart_summary(chart) == (
        "3 check-ins, from Session 1 to Session 3. "
        "Total — 6 (Session 1), 17 (Session 3): up 11 points since the first check-in, "
        "a reliable improvement. The latest score is above the clinical cutoff (10). "
        "Goal 1: sleep better — 4 (Session 1), 5 (Session 3): up 1 point since the first "
        "check-in, no reliable change. The latest score is below the clinical cutoff (10)."
    )


@pytest.mark.parametrize(
    ("values", "higher_is_better", "words"),
    [
        ([10, 13], True, "up 3 points since the first check-in, a reliable improvement."),
        ([13, 10], True, "down 3 points since the first check-in, a reliable worsening."),
        ([18, 10], False, "down 8 points since the first check-in, a reliable improvement."),
        ([10, 13], False, "up 3 points since the first check-in, a reliable worsening."),
        ([10, 12], True, "up 2 points since the first check-in, no reliable change."),
        ([12, 10], False, "down 2 points since the first check-in, no reliable change."),
        # Exactly the reliable change is not beyond it (|RCI| must exceed 1.96).
        ([10, 12.5], True, "up 2.5 points since the first check-in, no reliable change."),
        ([10, 10], True, "the same as at the first check-in."),
    ],
)
def test_summary_words_for_each_direction(values, higher_is_better, words):
    chart = _chart(_line("Total", values), higher_is_better=higher_is_better, reliable_change=2.5)

    assert chart_summary(chart).endswith(words)


def test_reliable_change_is_judged_on_the_values_as_written_not_their_binary_floats():
    # 0.4 - 0.1 is 0.30000000000000004 in floating point: still not beyond 0.3.
    chart = _chart(_line("Mean", [0.1, 0.4]), y_max=1, reliable_change=0.3)

    assert chart_summary(chart).endswith(
        "up 0.3 points since the first check-in, no reliable change."
    )


@pytest.mark.parametrize(
    ("latest", "side"), [(11, "above"), (9, "below"), (10, "exactly at")], ids=str
)
@pytest.mark.parametrize("higher_is_better", [True, False])
def test_summary_says_which_side_of_the_cutoff_the_latest_score_is(latest, side, higher_is_better):
    chart = _chart(_line("Total", [4, 20, latest]), cutoff=10, higher_is_better=higher_is_better)

    assert chart_summary(chart).endswith(f"The latest score is {side} the clinical cutoff (10).")


def test_summary_keeps_the_capitals_of_an_acronym_in_the_cutoff_label():
    chart = _chart(_line("Total", [4, 12]), cutoff=10, cutoff_label="PHQ cutoff")

    assert chart_summary(chart).endswith("The latest score is above the PHQ cutoff (10).")


def test_summary_without_reliable_change_or_cutoff_only_reports_the_change():
    chart = _chart(_line("Total", [4, 3]))

    assert chart_summary(chart) == (
        "2 check-ins, from Session 1 to Session 2. "
        "Total — 4 (Session 1), 3 (Session 2): down 1 point since the first check-in."
    )


def test_summary_measures_from_the_first_score_when_the_first_check_in_had_none():
    chart = _chart(_line("Total", [None, 4, 9, None]), reliable_change=4)

    assert chart_summary(chart).endswith(
        "Total — 4 (Session 2), 9 (Session 3): up 5 points since the first score, "
        "a reliable improvement."
    )


def test_summary_of_a_single_score():
    chart = _chart(_line("Bond", [3.5], prefix="Check-in "), cutoff=2, reliable_change=1)

    assert chart_summary(chart) == (
        "1 check-in, Check-in 1. Bond — 3.5 (Check-in 1), the only score so far. "
        "It is above the clinical cutoff (2)."
    )


# --- the table -------------------------------------------------------------------------------


def test_table_has_one_row_per_check_in_and_says_no_score_for_a_gap():
    chart = _chart(_line("Bond", [2, None, 3.5]), _line("Goals", [None, 1.25, 1 / 3]))

    assert table_of(chart) == {
        "caption": "Progress",
        "header": ["Check-in", "Bond", "Goals"],
        "rows": [
            {"label": "Session 1", "cells": ["2", "no score"]},
            {"label": "Session 2", "cells": ["no score", "1.25"]},
            {"label": "Session 3", "cells": ["3.5", "0.33"]},
        ],
    }


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"y_min": 5, "y_max": 5}, "must be above"),
        ({"y_min": 0, "y_max": float("inf")}, "finite"),
        ({"cutoff": 23}, "outside the scale"),
        ({"reliable_change": 0}, "positive"),
        ({"reliable_change": -1}, "positive"),
    ],
)
def test_a_chart_that_cannot_be_drawn_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        _chart(_line("Total", [1, 2]), **options)


def test_lines_must_share_their_check_ins():
    with pytest.raises(ValueError, match="same check-ins"):
        _chart(_line("Bond", [1, 2]), _line("Goals", [1, 2, 3]))


def test_a_value_must_be_a_number_or_none():
    with pytest.raises(ValueError, match="finite number or None"):
        Point(x_label="Session 1", value=float("nan"))


@pytest.mark.parametrize("id_prefix", ["", "1chart", 'x" onload="y', "a b"])
def test_id_prefix_must_be_a_plain_html_id(id_prefix):
    with pytest.raises(ValueError, match="id_prefix"):
        chart_svg(_chart(_line("Total", [1])), id_prefix=id_prefix)


# --- the template partial -------------------------------------------------------------------


def test_partial_renders_a_figure_with_caption_chart_key_and_table(settings):
    settings.DEBUG = False
    chart = _chart(
        _line("Bond", [2, None, 3]),
        _line(HOSTILE_GOAL, [1, 2, None]),
        title=HOSTILE_TITLE,
        cutoff=10,
        reliable_change=4,
    )
    html = render_to_string(
        "care/_chart.html", {"chart": chart_context(chart, id_prefix="alliance")}
    )
    # The partial is well-formed XML too, so the parser can hold its structure.
    figure = _parse(html)

    assert figure.tag == "figure"
    children = list(figure)
    assert children[0].tag == "figcaption"  # the words come before the picture
    caption_text = "".join(children[0].itertext())
    assert HOSTILE_TITLE in caption_text
    assert "Bond — 2 (Session 1), 3 (Session 3)" in caption_text
    assert [li.text for li in children[0].iter("li")] == [
        "Bond — 2 (Session 1), 3 (Session 3): up 1 point since the first check-in, "
        "no reliable change. The latest score is below the clinical cutoff (10).",
        f"{HOSTILE_GOAL} — 1 (Session 1), 2 (Session 2): up 1 point since the first "
        "check-in, no reliable change. The latest score is below the clinical cutoff (10).",
    ]
    assert children[1].tag == SVG + "svg"
    assert children[1].get("aria-labelledby") == "alliance-title alliance-desc"

    legend = figure.find("ul")
    assert legend is not None
    assert ["".join(item.itertext()) for item in legend.iter("li")] == ["Bond", HOSTILE_GOAL]
    for item in legend.iter("li"):
        swatch = item.find(SVG + "svg")
        assert swatch is not None
        assert swatch.get("aria-hidden") == "true"

    details = figure.find("details")
    assert details is not None
    summary = details.find("summary")
    assert summary is not None
    assert summary.text == "Show as a table"
    table = details.find(".//table")
    assert table is not None
    caption = table.find("caption")
    assert caption is not None
    assert caption.text == HOSTILE_TITLE
    header = table.findall("./thead/tr/th")
    assert [(th.get("scope"), th.text) for th in header] == [
        ("col", "Check-in"),
        ("col", "Bond"),
        ("col", HOSTILE_GOAL),
    ]
    rows = [
        (heading.get("scope"), heading.text, [td.text for td in row.findall("td")])
        for row in table.findall("./tbody/tr")
        for heading in row.findall("th")
    ]
    assert rows == [
        ("row", "Session 1", ["2", "1"]),
        ("row", "Session 2", ["no score", "2"]),
        ("row", "Session 3", ["3", "no score"]),
    ]
    assert "<script" not in html


def test_partial_for_no_check_ins_has_no_table_or_key(settings):
    settings.DEBUG = False
    html = render_to_string(
        "care/_chart.html",
        {"chart": chart_context(_chart(title="Goals"), id_prefix="goals")},
    )
    figure = _parse(html)

    assert figure.find("details") is None
    assert figure.find("ul") is None
    assert "No check-ins yet" in "".join(figure.itertext())
