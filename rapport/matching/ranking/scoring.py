"""The score of everyone past the hard constraints: the weighted preference score plus the
learned part, ordered with ties broken by a rotating seed."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from rapport.core.geo import PlaceNotFound, geocode

# The daily tie order is shared with the directory's search, so it lives in core.
from rapport.core.rotation import rotating_seed as rotating_seed
from rapport.core.rotation import tie_breaks as _tie_breaks
from rapport.directory.search.contract import SearchQuery
from rapport.directory.search.engine import SearchIndex
from rapport.directory.search.engine.query import Filtered, filter_rows
from rapport.matching import features, learning
from rapport.matching.answers import STYLE_FIELDS, Availability, FitAnswers, Weight
from rapport.matching.ranking.constraints import constraints_query
from rapport.matching.ranking.leaning import Leaning, lean_away

EXPLORATION = 0.5  # the Thompson draws' spread, in posterior standard deviations
LEARNED_WEIGHT = 1.0  # alliance (0-1) and preference score (0-1) on one scale
CONCERNS_WEIGHT = float(Weight.IMPORTANT)
AVAILABILITY_WEIGHT = float(Weight.NICE_TO_HAVE)
LEANING_WEIGHT = float(Weight.IMPORTANT)  # of the components a "did not fit" answer adds
AVAILABILITY_DAYS = 14  # a free consultation this soon, in a chosen window, counts
SOON_DAYS = 7  # "hard to schedule": a free consultation within a week
_QUARTER_HOUR_US = 900_000_000  # every zone's offset from UTC is a whole number of these


@dataclass(frozen=True)
class Scored:
    """Everyone meeting the hard constraints, best first, with each part of their score."""

    query: SearchQuery
    filtered: Filtered
    leaning: Leaning
    rows: np.ndarray  # index rows, best first
    total: np.ndarray  # score per entry of rows
    preference: np.ndarray
    learned: np.ndarray
    degrees: np.ndarray  # rows × features.FEATURES
    left_out: int
    local: zoneinfo.ZoneInfo  # the person's zone, for "Tuesday evening"


def _feature_weights(answers: FitAnswers) -> np.ndarray:
    weights = np.zeros(len(features.FEATURES))
    if answers.concerns:
        weights[0] = CONCERNS_WEIGHT
    for position, key in enumerate(features.PREFERENCE_FEATURES[1:], start=1):
        weights[position] = float(answers.preference(key).weight)
    placed = [name for name in STYLE_FIELDS if name in answers.style]
    for name in placed:
        weights[len(features.PREFERENCE_FEATURES) + STYLE_FIELDS.index(name)] = float(
            answers.style_weight
        ) / len(placed)
    return weights


def _person_zone(answers: FitAnswers, time_zone: str | None) -> zoneinfo.ZoneInfo:
    if time_zone:
        return zoneinfo.ZoneInfo(time_zone)
    if answers.place:
        try:
            return zoneinfo.ZoneInfo(geocode(answers.place).time_zone)
        except PlaceNotFound:
            pass
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def window_of(local: dt.datetime) -> str:
    if local.weekday() >= 5:
        return Availability.WEEKEND
    if local.hour < 12:
        return Availability.WEEKDAY_MORNING
    if local.hour < 17:
        return Availability.WEEKDAY_AFTERNOON
    return Availability.WEEKDAY_EVENING


def _in_windows(
    starts: np.ndarray, windows: Sequence[str], zone: zoneinfo.ZoneInfo, now_us: int, days: int
) -> np.ndarray:
    """Whether each start (epoch µs) is within ``days`` and in one of the person's windows, in
    their own zone: each distinct quarter hour is converted once (exact across a DST change,
    and in zones a half or three quarters of an hour off UTC, such as Newfoundland's, where a
    whole UTC hour would put 17:15 in the afternoon)."""
    soon = (starts >= now_us) & (starts <= now_us + days * 86_400_000_000)
    result = np.zeros(starts.size, dtype=bool)
    if not soon.any():
        return result
    quarters = starts[soon] // _QUARTER_HOUR_US
    unique, inverse = np.unique(quarters, return_inverse=True)
    wanted = set(windows)
    fits = np.array(
        [
            window_of(dt.datetime.fromtimestamp(int(quarter) * 900, tz=zone)) in wanted
            for quarter in unique
        ],
        dtype=bool,
    )
    result[soon] = fits[inverse]
    return result


def scored(
    *,
    answers: FitAnswers,
    index: SearchIndex,
    now: dt.datetime,
    seed: int,
    model: learning.ModelState,
    exclude_therapist_ids: Iterable[int] = (),
    time_zone: str | None = None,
) -> Scored:
    """Everyone meeting the hard constraints, scored and ordered; pure (no database unless
    the answers hold search words, which they never do)."""
    leaning = lean_away(answers)
    leaned = leaning.answers
    query = constraints_query(answers, index=index)
    filtered = filter_rows(query, now=now, index=index)
    rows = filtered.rows
    excluded = np.fromiter(exclude_therapist_ids, dtype=np.int64)
    left_out = 0
    if excluded.size and rows.size:
        keep = ~np.isin(index.ids[rows], excluded)
        left_out = int(rows.size - keep.sum())
        rows = rows[keep]
    local = _person_zone(answers, time_zone)
    degrees = features.degrees(leaned, index, rows)
    weights = _feature_weights(leaned)
    chosen = weights > 0
    numerator = np.zeros(rows.size)
    denominator = float(weights.sum())
    if chosen.any():
        numerator += np.nan_to_num(degrees[:, chosen]) @ weights[chosen]
    starts = index.consultation_times.values[rows]
    if leaned.availability:
        numerator += AVAILABILITY_WEIGHT * _in_windows(
            starts, leaned.availability, local, filtered.now_microseconds, AVAILABILITY_DAYS
        )
        denominator += AVAILABILITY_WEIGHT
    if leaning.soon:
        numerator += LEANING_WEIGHT * _in_windows(
            starts, tuple(Availability), local, filtered.now_microseconds, SOON_DAYS
        )
        denominator += LEANING_WEIGHT
    if leaning.affordable and rows.size:
        fees = index.lowest_fee[rows].astype(np.float64)
        low, high = np.percentile(fees, [10, 90])
        spread = max(high - low, 1.0)
        numerator += LEANING_WEIGHT * np.clip((high - fees) / spread, 0.0, 1.0)
        denominator += LEANING_WEIGHT
    preference = numerator / denominator if denominator else np.full(rows.size, 0.5)
    ids = index.ids[rows]
    effects = learning.therapist_draws(model, ids, seed=seed, spread=EXPLORATION)
    predicted = learning.predict(model, features.model_inputs(degrees), effects)
    learned = LEARNED_WEIGHT * (predicted - model.mean)
    total = preference + learned
    # Whole-permille ties are ties: broken by the rotating seed, never by id or name.
    order = np.lexsort((_tie_breaks(ids, seed), -np.round(total * 1000)))
    return Scored(
        query=query,
        filtered=filtered,
        leaning=leaning,
        rows=rows[order],
        total=total[order],
        preference=preference[order],
        learned=learned[order],
        degrees=degrees[order],
        left_out=left_out,
        local=local,
    )
