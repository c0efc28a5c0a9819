"""Hard constraints: the fit profile as the search's own query, and which constraint to loosen
when too few therapists meet them all: each one that brings therapists back alone, or, when
none does, the pairs that do (loosening two together)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from rapport.directory.search.contract import (
    DEFAULT_RADIUS_KM,
    MAX_RADIUS_KM,
    SearchParam,
    SearchQuery,
    SearchQueryError,
)
from rapport.directory.search.engine import SearchIndex
from rapport.directory.search.engine.query import filter_rows
from rapport.directory.search.params import parse_search_query
from rapport.matching.answers import FitAnswers, FitAnswersError, PreferenceKey

if TYPE_CHECKING:
    from rapport.matching.ranking.scoring import Scored

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 50

RELAX_BELOW = 3  # offer relaxations when fewer therapists than this meet everything


MAX_PAIRS = 3  # at most this many pairs are suggested, those adding most first


@dataclass(frozen=True)
class Relaxation:
    """A hard constraint to loosen (or two together), and how many more therapists that would
    give."""

    constraint: str  # "radius" | "budget" | "language" | "delivery"; a pair's first
    advice: str  # "Look up to 100 km away"; a pair's both, joined
    adds: int
    # A pair: (constraint, advice) of each of the two, loosened one at a time on the page.
    together: tuple[tuple[str, str], ...] = ()

    @property
    def constraints(self) -> tuple[str, ...]:
        """Every constraint to loosen: one, or a pair's two."""
        return tuple(name for name, _ in self.together) or (self.constraint,)


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
        raise FitAnswersError(
            _QUERY_FIELDS.get(error.field, error.field),
            error.message,
            suggestions=error.suggestions,
        ) from None
    if answers.language_required:
        # Required languages: the therapist speaks at least one (the search's language filter,
        # in its any-of form; the answers' validator has already checked the slugs).
        required = answers.preference(PreferenceKey.LANGUAGE).values
        query = replace(query, any_languages=frozenset(required))
    return query


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


def relaxations(
    *,
    scored_: Scored,
    answers: FitAnswers,
    index: SearchIndex,
    now: dt.datetime,
    excluded: np.ndarray,
) -> tuple[Relaxation, ...]:
    """Each hard constraint that, loosened alone, brings therapists back, with how many; when
    none does, the pairs that do (``_pairs``)."""
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
    singles = [option for option in options if option.adds > 0]
    singles.sort(key=lambda option: -option.adds)
    if singles:
        return tuple(singles)
    return _pairs(options=options, query=query, now=now, index=index, count=count, base=base)


def _loosened(query: SearchQuery, constraint: str) -> SearchQuery:
    """The query with one constraint loosened as its ``Relaxation`` says (the same as
    ``relaxed`` does to the answers)."""
    if constraint == "budget":
        return replace(query, max_fee_minor=None, sliding_scale=False)
    if constraint == "language":
        return replace(query, any_languages=frozenset())
    if constraint == "radius":
        return replace(query, radius_km=wider_radius_km(query.radius_km))
    return replace(query, delivery=frozenset())


def _pairs(
    *,
    options: list[Relaxation],
    query: SearchQuery,
    now: dt.datetime,
    index: SearchIndex,
    count: Callable[[np.ndarray], int],
    base: int,
) -> tuple[Relaxation, ...]:
    """When no one constraint alone brings anyone back: each pair of those that can be
    loosened that does, with how many it adds (the search's own filters, both loosened)."""
    pairs: list[Relaxation] = []
    for first, second in itertools.combinations(options, 2):
        both = _loosened(_loosened(query, first.constraint), second.constraint)
        adds = count(filter_rows(both, now=now, index=index).result_mask) - base
        if adds <= 0:
            continue
        advice = f"{first.advice}, and {second.advice[0].lower()}{second.advice[1:]}"
        pairs.append(
            Relaxation(
                first.constraint,
                advice,
                adds,
                together=(
                    (first.constraint, first.advice),
                    (second.constraint, second.advice),
                ),
            )
        )
    pairs.sort(key=lambda option: -option.adds)
    return tuple(pairs[:MAX_PAIRS])
