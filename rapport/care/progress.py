"""A client's answered check-ins as charts: the alliance, the progress total and the goal ratings.

Plain functions of history records (``rapport.care.history``), free of requests and views, so the
client's progress page and the therapist's check-in page draw the same pictures (each page may
word the titles for its reader). They draw what they are given: the caller chooses the records
the viewer may see (``history.for_client``, or ``history.for_therapist``, which applies the
client's sharing choice).

Each chart has one x position per check-in that asked for its part ("After session 3"), oldest
first. A check-in that could not be scored on a scale is a gap in that line, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapport.care import history, instruments
from rapport.care.charts import Chart, Line, Point
from rapport.care.models import Purpose
from rapport.care.services import GOAL_RATING_MAX, GOAL_RATING_MIN

CUTOFF_LABEL = "Clinical cutoff"


def check_in_label(record: history.CheckInRecord) -> str:
    """Where a check-in sits in the engagement: the first is asked before any session."""
    if record.after_session < 1:
        return "At the start"
    return f"After session {record.after_session}"


def _value(part: history.PartRecord, scale_id: str) -> float | None:
    try:
        return part.scale(scale_id).value
    except KeyError:  # an older version of the instrument without this subscale
        return None


def _higher_is_better(instrument: instruments.Instrument) -> bool:
    # Only the norms say which way is better; without them a higher score is read as better,
    # which is how every built-in instrument is written.
    if instrument.norms is None:
        return True
    return instrument.norms.direction == instruments.Direction.HIGHER_IS_BETTER


def _within(value: float | None, low: float, high: float) -> float | None:
    # A cutoff outside the drawable range (a definition's published cutoff on another scale)
    # is left out rather than refusing to draw the chart.
    if value is None or not low <= value <= high:
        return None
    return value


def _scale_chart(
    records: Sequence[history.CheckInRecord],
    *,
    purpose: str,
    title: str,
    with_subscales: bool,
) -> Chart | None:
    rows = [(record, part) for record in records if (part := record.part(purpose)) is not None]
    if not rows:
        return None
    instrument = rows[-1][1].instrument  # the newest version names the scales
    scales = [instrument.total]
    if with_subscales:
        scales.extend(instrument.subscales)
    lines = tuple(
        Line(
            label=scale.label,
            points=tuple(
                Point(x_label=check_in_label(record), value=_value(part, scale.id))
                for record, part in rows
            ),
        )
        for scale in scales
    )
    y_min = min(scale.minimum for scale in scales)
    y_max = max(scale.maximum for scale in scales)
    trend = history.trend([record for record, _ in rows], purpose=purpose)
    return Chart(
        title=title,
        y_min=y_min,
        y_max=y_max,
        lines=lines,
        higher_is_better=_higher_is_better(instrument),
        # The total comes first: the reliable-change band is drawn around its first score.
        cutoff=_within(trend.cutoff, y_min, y_max),
        cutoff_label=CUTOFF_LABEL,
        reliable_change=trend.reliable_difference or None,
    )


def alliance_chart(
    records: Sequence[history.CheckInRecord],
    *,
    title: str = "Alliance: total, bond, goals and tasks",
) -> Chart | None:
    """The alliance total and its subscales (bond, goals, tasks) over the check-ins that asked
    about it; None when none did."""
    return _scale_chart(records, purpose=Purpose.ALLIANCE, title=title, with_subscales=True)


def progress_chart(
    records: Sequence[history.CheckInRecord], *, title: str = "Progress check total"
) -> Chart | None:
    """The progress total over the check-ins that asked about it, with the clinical cutoff and
    the reliable-change band when the instrument has norms; None when none did."""
    return _scale_chart(records, purpose=Purpose.PROGRESS, title=title, with_subscales=False)


def goals_chart(
    records: Sequence[history.CheckInRecord], *, title: str = "Goal ratings, from 0 to 10"
) -> Chart | None:
    """One line per goal (by its number, named with its latest wording) over the check-ins
    that rated goals; None when no check-in did."""
    rated = [record for record in records if record.goal_ratings]
    if not rated:
        return None
    latest_text: dict[int, str] = {}
    for record in rated:
        for rating in record.goal_ratings:
            latest_text[rating.position] = rating.text
    lines = []
    for position in sorted(latest_text):
        points = []
        for record in rated:
            value = next(
                (
                    rating.rating
                    for rating in record.goal_ratings
                    if rating.position == position and rating.rating is not None
                ),
                None,
            )
            points.append(
                Point(
                    x_label=check_in_label(record),
                    value=None if value is None else float(value),
                )
            )
        lines.append(Line(label=f"Goal {position}: {latest_text[position]}", points=tuple(points)))
    return Chart(
        title=title,
        y_min=GOAL_RATING_MIN,
        y_max=GOAL_RATING_MAX,
        lines=tuple(lines),
        higher_is_better=True,
    )


__all__ = ["alliance_chart", "check_in_label", "goals_chart", "progress_chart"]
