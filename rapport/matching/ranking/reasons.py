"""\"Why this match\" and what is not met, for one therapist on the page: only what is true of
them and was asked for, by the same rules as the score.

- Worded from the person's own answers; where a past "did not fit" answer moved a style
  target, the card says so ("Client-led (you found one too directive)"), never "as you asked".
- Style: "as you asked" only when the therapist is on the same side of "In between" as the
  wish, or exactly at it ("In between" itself only when they are in between); two or more
  points away is listed as not met, a wish of "In between" included.
- Times: only the next free consultation is known. "A time you said works" only when it is
  within ``AVAILABILITY_DAYS`` and in a window the person chose (what the score counts); a
  later one is named with its date; when it falls outside their windows, their windows are
  "not confirmed", not missing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence

import numpy as np

from rapport.directory.cards import ResultCard
from rapport.directory.models import STYLE_DIMENSIONS, GenderCategory
from rapport.directory.search.contract import DELIVERY_IN_PERSON, SearchParam, SearchQuery
from rapport.directory.search.engine import SearchIndex
from rapport.directory.search.engine.index import epoch_microseconds
from rapport.matching.answers import (
    AVAILABILITY_LABELS,
    STYLE_FIELDS,
    Availability,
    FitAnswers,
    PreferenceKey,
)
from rapport.matching.leaning import Leaning
from rapport.matching.preference import AVAILABILITY_DAYS, in_windows

_STYLE_POLES = {name: (low, high) for name, low, high in STYLE_DIMENSIONS}
_GENDER_LABELS = dict(GenderCategory.choices)


def _and(items: Sequence[str]) -> str:
    """ "a, b and c"; with " · " between items when one already has an "and" in it."""
    if len(items) <= 1:
        return "".join(items)
    if any(" and " in item for item in items):
        return " · ".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _labels(
    index: SearchIndex, taxonomy: str, slugs: Iterable[str], row: int
) -> tuple[list[str], list[str]]:
    """(labels of the slugs the row has, labels of those it lacks), in the person's order."""
    columns = index.taxonomies[taxonomy]
    had: list[str] = []
    lacked: list[str] = []
    for slug in slugs:
        column = columns.column_of.get(slug)
        if column is None:
            continue
        label = columns.labels[column]
        (had if columns.by_column[row, column] else lacked).append(label)
    return had, lacked


IN_BETWEEN = 3  # the middle of a style dimension ("In between")

# Per dimension: how to say "between the poles", and "more towards the low / high pole".
_STYLE_MIDDLE = {
    "style_structure": "Between structured and exploratory",
    "style_direction": "Between directive and client-led",
    "style_challenge": "Between gentle and challenging",
    "style_time_focus": "Between present- and past-focused",
    "style_humour": "Some humour",
}
_STYLE_MORE = {
    "style_structure": ("More structured", "More exploratory"),
    "style_direction": ("More directive", "More client-led"),
    "style_challenge": ("Gentler", "More challenging"),
    "style_time_focus": ("More present-focused", "More past-focused"),
    "style_humour": ("Less humour", "More humour"),
}


def _style_words(dimension: str, placement: int) -> str:
    low, high = _STYLE_POLES[dimension]
    if placement == IN_BETWEEN:
        return _STYLE_MIDDLE[dimension]
    return low if placement < IN_BETWEEN else high


def _more(dimension: str, placed: int, target: int) -> str:
    """ "More exploratory": which way the therapist is from the target."""
    low, high = _STYLE_MORE[dimension]
    return high if placed > target else low


def _same_side(placed: int, target: int) -> bool:
    """On the same side of "In between" as the target, or exactly at it."""
    return placed == target or (placed - IN_BETWEEN) * (target - IN_BETWEEN) > 0


def _style(
    answers: FitAnswers, leaning: Leaning, index: SearchIndex, row: int
) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    unmet: list[str] = []
    leaned = leaning.answers
    if not leaned.style_weight:
        return reasons, unmet
    for dimension, target in leaned.style.items():
        placed = int(index.style[row, STYLE_FIELDS.index(dimension)])
        why = leaning.because.get(dimension)
        if why is not None:  # the target is the lean's, not the person's wish
            if _same_side(placed, target):
                reasons.append(f"{_style_words(dimension, target)} ({why})")
            elif abs(placed - target) >= 2:
                unmet.append(f"{_more(dimension, placed, target)}, though {why}")
            continue
        if _same_side(placed, target):
            reasons.append(f"{_style_words(dimension, target)}, as you asked")
        elif abs(placed - target) >= 2:
            unmet.append(f"{_more(dimension, placed, target)} than you asked")
    return reasons, unmet


def _when(start: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """ "Tuesday morning, Dec 15" in the person's zone."""
    local = start.astimezone(zone)
    part = "morning" if local.hour < 12 else "afternoon" if local.hour < 17 else "evening"
    return f"{local:%A} {part}, {local:%b} {local.day}"


def _windows_in_words(windows: Iterable[str]) -> str:
    chosen = [AVAILABILITY_LABELS[Availability(window)].lower() for window in windows]
    return _and(chosen)


def _times(
    answers: FitAnswers,
    start: dt.datetime | None,
    local: zoneinfo.ZoneInfo,
    now_microseconds: int,
) -> tuple[list[str], list[str]]:
    """The next free consultation in words, by the score's rule (``in_windows``)."""
    reasons: list[str] = []
    unmet: list[str] = []
    if start is None:
        if answers.availability:
            unmet.append("No free consultation time listed")
        return reasons, unmet
    when = _when(start, local)
    starts = np.array([epoch_microseconds(start)], dtype=np.int64)
    soon = bool(
        in_windows(starts, tuple(Availability), local, now_microseconds, AVAILABILITY_DAYS)[0]
    )
    if not answers.availability:
        reasons.append(f"Next free consultation {when}")
        return reasons, unmet
    if in_windows(starts, answers.availability, local, now_microseconds, AVAILABILITY_DAYS)[0]:
        reasons.append(f"Free consultation {when}, a time you said works")
        return reasons, unmet
    reasons.append(f"Next free consultation {when}")
    if soon:
        # Only the next free time is known: their other times may well suit.
        unmet.append(
            f"Not confirmed for {_windows_in_words(answers.availability)}: "
            "only their next free consultation is known"
        )
    else:
        unmet.append(f"No free consultation in the next {AVAILABILITY_DAYS} days")
    return reasons, unmet


def explain(
    *,
    answers: FitAnswers,
    leaning: Leaning,
    index: SearchIndex,
    row: int,
    card: ResultCard,
    distance_km: float | None,
    start: dt.datetime | None,
    local: zoneinfo.ZoneInfo,
    query: SearchQuery,
    now_microseconds: int,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """("why this match", "what is different from what you asked") for one therapist.
    ``answers`` are the person's own (never the leaned ones: a lean is no wish of theirs) and
    ``leaning`` what their past "did not fit" answers changed; see the module docstring."""
    reasons: list[str] = []
    unmet: list[str] = []
    language = answers.preference(PreferenceKey.LANGUAGE)
    if language.weight or answers.language_required:
        had, lacked = _labels(index, SearchParam.LANGUAGE, language.values, row)
        if had:
            reasons.append(f"Speaks {_and(had)}")
        if lacked and not had:
            unmet.append(f"Does not speak {_and(lacked)}")
    if answers.concerns:
        had, lacked = _labels(index, SearchParam.CONCERN, answers.concerns, row)
        if had:
            first, *rest = had
            reasons.append(_and([first, *[label.lower() for label in rest]]))
        if lacked:
            unmet.append(f"Does not list {_and([label.lower() for label in lacked])}")
    style_reasons, style_unmet = _style(answers, leaning, index, row)
    reasons += style_reasons
    unmet += style_unmet
    gender = answers.preference(PreferenceKey.GENDER)
    if gender.weight:
        value = index.gender_values[index.gender[row]]
        if value in gender.values:
            reasons.append(f"{_GENDER_LABELS[value]}, as you asked")
        else:
            unmet.append("Not the gender you asked for")
    for key, taxonomy, prefix, missing in (
        (
            PreferenceKey.LIVED_EXPERIENCE,
            SearchParam.LIVED_EXPERIENCE,
            "Lived experience",
            "No stated lived experience of",
        ),
        (PreferenceKey.FAITH, SearchParam.FAITH, "Faith", "Not of the faith you chose:"),
        (PreferenceKey.POPULATION, SearchParam.POPULATION, "Works with", "Does not list work with"),
    ):
        preference = answers.preference(key)
        if not preference.weight:
            continue
        had, lacked = _labels(index, taxonomy, preference.values, row)
        if key == PreferenceKey.FAITH:
            if had:
                reasons.append(f"{prefix}: {_and(had)}")
            else:
                unmet.append(f"{missing} {_and(lacked)}")
            continue
        if had:
            joined = _and([label.lower() for label in had])
            reasons.append(
                f"{prefix}: {joined}" if key != PreferenceKey.POPULATION else f"{prefix} {joined}"
            )
        if lacked:
            unmet.append(f"{missing} {_and([label.lower() for label in lacked])}")
    if answers.preference(PreferenceKey.LGBTQ2S_AFFIRMING).weight:
        if index.lgbtq2s_affirming[row]:
            reasons.append("LGBTQ2S+ affirming")
        else:
            unmet.append("Does not say they are LGBTQ2S+ affirming")
    if answers.budget_per_session is not None:
        if query.max_fee_minor is not None and index.fee[row] <= query.max_fee_minor:
            reasons.append(f"{card.fee}, within your budget")
        elif card.sliding_scale_from:
            reasons.append(f"Sliding scale from {card.sliding_scale_from} reaches your budget")
    else:
        reasons.append(f"{card.fee} a session")
    if distance_km is not None and (not answers.delivery or DELIVERY_IN_PERSON in answers.delivery):
        reasons.append(f"Office {distance_km:.0f} km away" if distance_km >= 1 else "Office nearby")
    time_reasons, time_unmet = _times(answers, start, local, now_microseconds)
    reasons += time_reasons
    unmet += time_unmet
    return tuple(reasons), tuple(unmet)
