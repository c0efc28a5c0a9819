"""\"Why this match\" and what is not met, for one therapist on the page: only what is true of
them and was asked for."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence

from rapport.directory.cards import ResultCard
from rapport.directory.models import STYLE_DIMENSIONS, GenderCategory
from rapport.directory.search.contract import DELIVERY_IN_PERSON, SearchParam, SearchQuery
from rapport.directory.search.engine import SearchIndex
from rapport.matching.answers import STYLE_FIELDS, FitAnswers, PreferenceKey
from rapport.matching.ranking.scoring import window_of

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


def _style_words(dimension: str, placement: int) -> str:
    low, high = _STYLE_POLES[dimension]
    return low if placement < 3 else high


def _when(start: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    local = start.astimezone(zone)
    part = "morning" if local.hour < 12 else "afternoon" if local.hour < 17 else "evening"
    return f"{local:%A} {part}"


def explain(
    *,
    answers: FitAnswers,
    index: SearchIndex,
    row: int,
    card: ResultCard,
    distance_km: float | None,
    start: dt.datetime | None,
    local: zoneinfo.ZoneInfo,
    query: SearchQuery,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """("why this match", "what is different from what you asked") for one therapist. Only
    what is true of them and was asked for; nothing about what was not asked."""
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
    for dimension, wanted in answers.style.items():
        if not answers.style_weight:
            break
        placed = int(index.style[row, STYLE_FIELDS.index(dimension)])
        if wanted == 3:
            continue
        if abs(placed - wanted) <= 1:
            reasons.append(f"{_style_words(dimension, wanted)}, as you asked")
        elif abs(placed - wanted) >= 2:
            unmet.append(f"More {_style_words(dimension, placed).lower()} than you asked")
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
    if start is not None:
        when = _when(start, local)
        if answers.availability and window_of(start.astimezone(local)) in answers.availability:
            reasons.append(f"Free consultation {when}, a time you said works")
        else:
            reasons.append(f"Free consultation {when}")
    if answers.availability and (
        start is None or window_of(start.astimezone(local)) not in answers.availability
    ):
        unmet.append("No free consultation soon at the times you chose")
    return tuple(reasons), tuple(unmet)
