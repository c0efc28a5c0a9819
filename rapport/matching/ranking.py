"""Ranking: a fit profile's hard constraints through the search engine, then a transparent
score, then "why this match" for the first page.

Hard constraints are the search's own filters (``directory.search.engine.query.filter_rows``)
on a ``SearchQuery`` built from the answers (``constraints_query``): the place (licensed in the
person's province or state for video and phone, an office within the radius for in person),
accepting new clients, a budget that the fee or the sliding-scale floor reaches, and required
languages (at least one of them). Everyone past them is scored:

    score = preference score + LEARNED_WEIGHT × (predicted early alliance − its mean)

The preference score is the weighted mean of the match degrees (``features.degrees``) of what
the person chose, by their weights: concerns count as "important", each placed style dimension
shares the style's weight, and times that suit them (a free consultation in a window they
chose) count as "nice to have". The learned part is ``learning``'s prediction with a Thompson
draw of the therapist's effect, so therapists with little data are still shown. Ties go by a
seed that rotates daily (``rotating_seed``), never by id or name. Nothing is paid for.

Past "did not fit" answers lean the list away (``lean_away``): each moves a style target or
adds a component, and says so in ``MatchList.leaning``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings

from rapport.core.geo import PlaceNotFound, geocode
from rapport.directory.cards import ResultCard, result_cards_by_id
from rapport.directory.models import STYLE_DIMENSIONS, GenderCategory
from rapport.directory.search.contract import (
    DEFAULT_RADIUS_KM,
    DELIVERY_IN_PERSON,
    MAX_RADIUS_KM,
    SearchParam,
    SearchQuery,
    SearchQueryError,
)
from rapport.directory.search.engine import SearchIndex, current_index
from rapport.directory.search.engine.index import NO_CONSULTATION, epoch_microseconds
from rapport.directory.search.engine.query import Filtered, filter_rows
from rapport.directory.search.params import parse_search_query
from rapport.matching import features, learning
from rapport.matching.answers import (
    STYLE_FIELDS,
    Availability,
    FitAnswers,
    FitAnswersError,
    MisfitReason,
    Preference,
    PreferenceKey,
    Weight,
)

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
LEARNED_WEIGHT = 1.0  # alliance (0-1) and preference score (0-1) on one scale
CONCERNS_WEIGHT = float(Weight.IMPORTANT)
AVAILABILITY_WEIGHT = float(Weight.NICE_TO_HAVE)
LEANING_WEIGHT = float(Weight.IMPORTANT)  # of the components a "did not fit" answer adds
AVAILABILITY_DAYS = 14  # a free consultation this soon, in a chosen window, counts
SOON_DAYS = 7  # "hard to schedule": a free consultation within a week
RELAX_BELOW = 3  # offer relaxations when fewer therapists than this meet everything
_STYLE_POLES = {name: (low, high) for name, low, high in STYLE_DIMENSIONS}
_GENDER_LABELS = dict(GenderCategory.choices)
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Match:
    """One ranked therapist with what the person is told about why."""

    therapist_id: int
    card: ResultCard  # what the directory's card shows (name, fee, next consultation …)
    score: int  # 0-100, the rounded total score
    preference_score: float  # 0-1
    learned: float  # the learned part's contribution to the total (may be negative)
    reasons: tuple[str, ...]  # "Speaks Punjabi", "Anxiety and grief", "CA$120, within your budget"
    unmet: tuple[str, ...]  # preferences this therapist does not meet, in words
    distance_km: float | None
    next_consultation_at: dt.datetime | None


@dataclass(frozen=True)
class Relaxation:
    """One hard constraint to loosen, and how many more therapists that would give."""

    constraint: str  # "radius" | "budget" | "language" | "delivery"
    advice: str  # "Look up to 100 km away"
    adds: int


@dataclass(frozen=True)
class MatchList:
    total: int  # therapists meeting every hard constraint (after leaving out past ones)
    page: int
    pages: int
    matches: tuple[Match, ...]
    relaxations: tuple[Relaxation, ...]  # when fewer than RELAX_BELOW meet everything
    leaning: tuple[str, ...]  # how past "did not fit" answers changed this list, in words
    place_label: str | None
    left_out: int  # past therapists who would otherwise be on the list


@dataclass(frozen=True)
class Leaning:
    """What past "did not fit" answers change: the answers ranked with, extra components, and
    the sentences that say so."""

    answers: FitAnswers
    affordable: bool  # lean towards lower fees / sliding scales
    soon: bool  # lean towards a free consultation within SOON_DAYS
    sentences: tuple[str, ...]


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


def rotating_seed(*, day: dt.date, key: str) -> int:
    """The tie-breaking and exploration seed: the same for one person all day (their list does
    not jump on reload), different the next day (no therapist keeps a tie forever)."""
    digest = hashlib.blake2b(f"{day.isoformat()}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def _tie_breaks(ids: np.ndarray, seed: int) -> np.ndarray:
    """A per-seed pseudo-random order of therapist ids (a 64-bit mix, wrapping on purpose)."""
    with np.errstate(over="ignore"):
        mixed = (ids.astype(np.uint64) + np.uint64(seed)) * _MIX
        mixed ^= mixed >> np.uint64(31)
        mixed *= _MIX
        mixed ^= mixed >> np.uint64(29)
    return mixed


_QUERY_FIELDS: dict[str, str] = {
    SearchParam.PLACE: "place",
    SearchParam.RADIUS: "radius_km",
    SearchParam.MAX_FEE: "budget_per_session",
    SearchParam.DELIVERY: "delivery",
}


def constraints_query(
    answers: FitAnswers, *, index: SearchIndex, radius_km: float | None = None
) -> SearchQuery:
    """The answers' hard constraints as a search query (raises FitAnswersError for a place the
    geocoder does not know)."""
    params: dict[str, list[str]] = {}
    if answers.place:
        params[SearchParam.PLACE] = [answers.place]
    radius = radius_km if radius_km is not None else answers.radius_km
    if radius is not None:
        params[SearchParam.RADIUS] = [str(radius)]
    if answers.delivery:
        params[SearchParam.DELIVERY] = list(answers.delivery)
    if answers.budget_per_session is not None:
        params[SearchParam.MAX_FEE] = [str(answers.budget_per_session)]
        params[SearchParam.SLIDING_SCALE] = ["1"]
    try:
        query = parse_search_query(params, page_size=DEFAULT_PAGE_SIZE, index=index)
    except SearchQueryError as error:
        raise FitAnswersError(_QUERY_FIELDS.get(error.field, error.field), error.message) from None
    if answers.language_required:
        # Required languages: the therapist speaks at least one (the search's language filter,
        # in its any-of form; the answers' validator has already checked the slugs).
        required = answers.preference(PreferenceKey.LANGUAGE).values
        query = replace(query, any_languages=frozenset(required))
    return query


def _with_style(
    style: dict[str, int],
    dimension: str,
    *,
    at_most: int | None = None,
    at_least: int | None = None,
) -> None:
    current = style.get(dimension, 3)
    if at_most is not None:
        style[dimension] = min(current, at_most)
    if at_least is not None:
        style[dimension] = max(current, at_least)


# reason -> (dimension, at_most, at_least, sentence); None dimension: handled apart.
_STYLE_LEANS: dict[str, tuple[str, int | None, int | None, str]] = {
    MisfitReason.TOO_DIRECTIVE: (
        "style_direction",
        None,
        4,
        "Leaning towards therapists who let you lead, since one felt too directive.",
    ),
    MisfitReason.NOT_DIRECTIVE_ENOUGH: (
        "style_direction",
        2,
        None,
        "Leaning towards therapists who guide more, since you wanted more direction.",
    ),
    MisfitReason.TOO_STRUCTURED: (
        "style_structure",
        None,
        4,
        "Leaning towards more exploratory therapists, since one felt too structured.",
    ),
    MisfitReason.NOT_STRUCTURED_ENOUGH: (
        "style_structure",
        2,
        None,
        "Leaning towards more structured therapists, since you wanted more structure.",
    ),
    MisfitReason.TOO_CHALLENGING: (
        "style_challenge",
        2,
        None,
        "Leaning towards gentler therapists, since one pushed too hard.",
    ),
    MisfitReason.NOT_CHALLENGING_ENOUGH: (
        "style_challenge",
        None,
        4,
        "Leaning towards therapists who challenge more, since you wanted to be challenged.",
    ),
    MisfitReason.FELT_JUDGED: (
        "style_challenge",
        2,
        None,
        "Leaning towards gentler therapists, since you felt judged.",
    ),
    MisfitReason.GOALS_DISAGREED: (
        "style_structure",
        2,
        None,
        "Leaning towards therapists who agree goals explicitly, since goals were not shared.",
    ),
}
_BACKGROUND = (
    PreferenceKey.LIVED_EXPERIENCE,
    PreferenceKey.LANGUAGE,
    PreferenceKey.FAITH,
    PreferenceKey.LGBTQ2S_AFFIRMING,
)


def lean_away(answers: FitAnswers) -> Leaning:
    """How the person's "did not fit" answers change what is ranked for (never the hard
    constraints: nobody is hidden for a past disappointment)."""
    style = dict(answers.style)
    preferences = dict(answers.preferences)
    sentences: list[str] = []
    affordable = soon = False
    for reason in answers.did_not_fit:
        if reason in _STYLE_LEANS:
            dimension, at_most, at_least, sentence = _STYLE_LEANS[reason]
            _with_style(style, dimension, at_most=at_most, at_least=at_least)
        elif reason == MisfitReason.TOO_EXPENSIVE:
            affordable = True
            sentence = "Leaning towards lower fees and sliding scales, since cost got in the way."
        elif reason == MisfitReason.HARD_TO_SCHEDULE:
            soon = True
            sentence = "Leaning towards therapists with free times this week."
        elif reason == MisfitReason.DID_NOT_UNDERSTAND_ME:
            chosen = [key for key in _BACKGROUND if preferences.get(key, Preference()).weight]
            for key in chosen:
                pref = preferences[key]
                preferences[key] = replace(pref, weight=Weight(min(pref.weight + 1, 3)))
            sentence = (
                "Giving more weight to shared background and identity."
                if chosen
                else "Tell us what matters about your background (language, faith, lived "
                "experience) so we can weigh it."
            )
        else:
            continue
        if sentence not in sentences:
            sentences.append(sentence)
    style_weight = answers.style_weight
    if style != dict(answers.style) and not style_weight:
        style_weight = Weight.IMPORTANT
    leaned = replace(
        answers,
        style={name: style[name] for name in STYLE_FIELDS if name in style},
        style_weight=style_weight,
        preferences=preferences,
    )
    return Leaning(answers=leaned, affordable=affordable, soon=soon, sentences=tuple(sentences))


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


def _window_of(local: dt.datetime) -> str:
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
    their own zone: each distinct hour is converted once (exact across a DST change)."""
    soon = (starts >= now_us) & (starts <= now_us + days * 86_400_000_000)
    result = np.zeros(starts.size, dtype=bool)
    if not soon.any():
        return result
    hours = starts[soon] // 3_600_000_000
    unique, inverse = np.unique(hours, return_inverse=True)
    wanted = set(windows)
    fits = np.array(
        [
            _window_of(dt.datetime.fromtimestamp(int(hour) * 3600, tz=zone)) in wanted
            for hour in unique
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
    effects = learning.therapist_draws(model, ids, seed=seed)
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


def _explain(
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
        if answers.availability and _window_of(start.astimezone(local)) in answers.availability:
            reasons.append(f"Free consultation {when}, a time you said works")
        else:
            reasons.append(f"Free consultation {when}")
    if answers.availability and (
        start is None or _window_of(start.astimezone(local)) not in answers.availability
    ):
        unmet.append("No free consultation soon at the times you chose")
    return tuple(reasons), tuple(unmet)


def _relaxations(
    *,
    scored_: Scored,
    answers: FitAnswers,
    index: SearchIndex,
    now: dt.datetime,
    excluded: np.ndarray,
) -> tuple[Relaxation, ...]:
    """Each hard constraint that, loosened alone, brings therapists back, with how many."""
    filtered = scored_.filtered
    base = int(scored_.rows.size)

    def count(mask: np.ndarray) -> int:
        rows = np.flatnonzero(mask)
        if excluded.size:
            rows = rows[~np.isin(index.ids[rows], excluded)]
        return int(rows.size)

    options: list[Relaxation] = []
    size = index.size
    if answers.budget_per_session is not None:
        adds = count(filtered.masks.combined(size, without="fee")) - base
        options.append(Relaxation("budget", "Look beyond your budget per session", adds))
    if answers.language_required:
        adds = count(filtered.masks.combined(size, without=SearchParam.LANGUAGE)) - base
        options.append(
            Relaxation("language", "Make language a preference instead of a requirement", adds)
        )
    query = scored_.query
    if query.has_location:
        if query.radius_km < MAX_RADIUS_KM:
            wider = wider_radius_km(query.radius_km)
            relaxed = filter_rows(replace(query, radius_km=wider), now=now, index=index)
            options.append(
                Relaxation(
                    "radius", f"Look up to {wider:.0f} km away", count(relaxed.result_mask) - base
                )
            )
        if query.delivery and len(query.delivery) < 3:
            relaxed = filter_rows(replace(query, delivery=frozenset()), now=now, index=index)
            options.append(
                Relaxation(
                    "delivery",
                    "Include every way of meeting (in person, video and phone)",
                    count(relaxed.result_mask) - base,
                )
            )
    options = [option for option in options if option.adds > 0]
    options.sort(key=lambda option: -option.adds)
    return tuple(options)


RELAX_CONSTRAINTS = ("radius", "budget", "language", "delivery")


def wider_radius_km(radius_km: float) -> float:
    """How far "look further away" looks: four times as far, at least 100 km."""
    return min(MAX_RADIUS_KM, max(100.0, radius_km * 4))


def relaxed(answers: FitAnswers, constraint: str) -> FitAnswers:
    """The answers with one hard constraint loosened, as a ``Relaxation`` advises."""
    if constraint == "radius":
        radius = answers.radius_km if answers.radius_km is not None else DEFAULT_RADIUS_KM
        return replace(answers, radius_km=int(wider_radius_km(float(radius))))
    if constraint == "budget":
        return replace(answers, budget_per_session=None)
    if constraint == "language":
        return replace(answers, language_required=False)
    if constraint == "delivery":
        return replace(answers, delivery=())
    raise ValueError(f"Not a constraint that can be loosened: {constraint!r}")


def rank(
    *,
    answers: FitAnswers,
    now: dt.datetime,
    seed: int,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    exclude_therapist_ids: Iterable[int] = (),
    index: SearchIndex | None = None,
    time_zone: str | None = None,
) -> MatchList:
    """The ranked list for ``answers``; see the module docstring. Raises FitAnswersError
    (field "place") for a place that cannot be found."""
    index = index or current_index()
    excluded = np.fromiter(exclude_therapist_ids, dtype=np.int64)
    result = scored(
        answers=answers,
        index=index,
        now=now,
        seed=seed,
        model=learning.current_model(),
        exclude_therapist_ids=excluded,
        time_zone=time_zone,
    )
    total = int(result.rows.size)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    pages = max(1, math.ceil(total / page_size))
    start = (max(page, 1) - 1) * page_size
    page_slice = slice(start, start + page_size)
    page_rows = result.rows[page_slice]
    ids = [int(index.ids[row]) for row in page_rows]
    cards = result_cards_by_id(ids=ids, now=now)
    matches = []
    leaned = result.leaning.answers
    for offset, row in enumerate(page_rows.tolist()):
        card = cards.get(int(index.ids[row]))
        if card is None:  # hidden since the index was built
            continue
        position = start + offset
        nearest = result.filtered.nearest
        distance = (
            float(nearest[row]) if nearest is not None and np.isfinite(nearest[row]) else None
        )
        starts_us = int(index.consultation_times.values[row])
        next_start = (
            dt.datetime.fromtimestamp(starts_us / 1_000_000, tz=dt.UTC)
            if starts_us != NO_CONSULTATION and starts_us >= epoch_microseconds(now)
            else None
        )
        reasons, unmet = _explain(
            answers=leaned,
            index=index,
            row=row,
            card=card,
            distance_km=distance,
            start=next_start,
            local=result.local,
            query=result.query,
        )
        total_score = float(result.total[position])
        matches.append(
            Match(
                therapist_id=card.id,
                card=card,
                score=round(100 * min(1.0, max(0.0, total_score))),
                preference_score=float(result.preference[position]),
                learned=float(result.learned[position]),
                reasons=reasons,
                unmet=unmet,
                distance_km=distance,
                next_consultation_at=next_start,
            )
        )
    relaxations = (
        _relaxations(scored_=result, answers=answers, index=index, now=now, excluded=excluded)
        if total < RELAX_BELOW
        else ()
    )
    return MatchList(
        total=total,
        page=page,
        pages=pages,
        matches=tuple(matches),
        relaxations=relaxations,
        leaning=result.leaning.sentences,
        place_label=result.query.place_label,
        left_out=result.left_out,
    )
