"""The preference score (0-1): how well therapists meet what a person said matters, by the
person's own weights. Ranking orders with it; an outcome records it for its pair, so that a
retrain can tell how much it says about early alliance (``learning.model.learned_weight_of``).

It lives below both ranking and learning because both need it and ranking reads learning.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

import numpy as np
from django.conf import settings

from rapport.core.geo import PlaceNotFound, geocode
from rapport.directory.search.engine import SearchIndex
from rapport.directory.search.engine.index import epoch_microseconds
from rapport.matching import features
from rapport.matching.answers import STYLE_FIELDS, Availability, FitAnswers, Weight
from rapport.matching.leaning import Leaning

CONCERNS_WEIGHT = float(Weight.IMPORTANT)
AVAILABILITY_WEIGHT = float(Weight.NICE_TO_HAVE)
LEANING_WEIGHT = float(Weight.IMPORTANT)  # of the components a "did not fit" answer adds
AVAILABILITY_DAYS = 14  # a free consultation this soon, in a chosen window, counts
SOON_DAYS = 7  # "hard to schedule": a free consultation within a week
_QUARTER_HOUR_US = 900_000_000  # every zone's offset from UTC is a whole number of these


def feature_weights(answers: FitAnswers) -> np.ndarray:
    """The person's weight of each of ``features.FEATURES`` (0 where they chose none)."""
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


def person_zone(answers: FitAnswers, time_zone: str | None) -> zoneinfo.ZoneInfo:
    """The zone "Tuesday evening" is read in: the one given, else the place's, else the site's."""
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


def in_windows(
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


def preference_scores(
    *,
    leaning: Leaning,
    index: SearchIndex,
    rows: np.ndarray,
    degrees: np.ndarray,
    local: zoneinfo.ZoneInfo,
    now_us: int,
) -> np.ndarray:
    """The weighted mean of the match degrees the person chose (``degrees`` of ``rows``, as
    ``features.degrees`` gives them for the leaned answers), a free consultation in a window
    they chose, and the components a lean adds; 0.5 each when they chose nothing.

    "Too expensive" scores a fee by where it falls between the 10th and 90th percentiles of
    the fees of ``rows``, the people compared."""
    leaned = leaning.answers
    weights = feature_weights(leaned)
    chosen = weights > 0
    numerator = np.zeros(rows.size)
    denominator = float(weights.sum())
    if chosen.any():
        numerator += np.nan_to_num(degrees[:, chosen]) @ weights[chosen]
    starts = index.consultation_times.values[rows]
    if leaned.availability:
        numerator += AVAILABILITY_WEIGHT * in_windows(
            starts, leaned.availability, local, now_us, AVAILABILITY_DAYS
        )
        denominator += AVAILABILITY_WEIGHT
    if leaning.soon:
        numerator += LEANING_WEIGHT * in_windows(
            starts, tuple(Availability), local, now_us, SOON_DAYS
        )
        denominator += LEANING_WEIGHT
    if leaning.affordable and rows.size:
        fees = index.lowest_fee[rows].astype(np.float64)
        low, high = np.percentile(fees, [10, 90])
        spread = max(high - low, 1.0)
        numerator += LEANING_WEIGHT * np.clip((high - fees) / spread, 0.0, 1.0)
        denominator += LEANING_WEIGHT
    return numerator / denominator if denominator else np.full(rows.size, 0.5)


def pair_preference(
    *, answers: FitAnswers, therapist_id: int, index: SearchIndex, now: dt.datetime
) -> float | None:
    """One pair's preference score from what the person said, computed now from the
    therapist's listing as it stands; None when the therapist is not listed any more.

    What an outcome records (the retrain calibrates the learned part's weight against it). It
    leaves out the leans of re-matching, which ranking adds: a lean comes from "what did not
    fit" answers, and an engagement that ended badly records its outcome just after its own
    answers joined the profile, so a lean would tie the score to that very outcome."""
    rows, _found = index.locate(np.array([therapist_id], dtype=np.int64))
    if rows.size == 0:
        return None
    unleaned = Leaning(answers=answers, affordable=False, soon=False, sentences=())
    score = preference_scores(
        leaning=unleaned,
        index=index,
        rows=rows,
        degrees=features.degrees(answers, index, rows),
        local=person_zone(answers, None),
        now_us=epoch_microseconds(now),
    )
    return float(score[0])
