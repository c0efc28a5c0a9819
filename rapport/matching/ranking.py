"""Ranking: a fit profile's hard constraints through the search engine, then a transparent
score, then "why this match" for the first page.

Hard constraints are the search's own filters (``directory.search.engine.filter_rows``) on a
``SearchQuery`` built from the answers (``constraints_query``): the place (licensed in the
person's province or state for video and phone, an office within the radius for in person),
accepting new clients, a budget the fee or the sliding-scale floor reaches, and required
languages. Everyone past them is scored:

    score = preference score + LEARNED_WEIGHT × (predicted early alliance − its mean)

The preference score is the weighted mean of the match degrees (``features.degrees``) of the
preferences the person chose, by their weights (concerns count as "important"; each placed
style dimension shares the style's weight). The learned part is ``learning``'s prediction with
a Thompson draw for the therapist's effect, so therapists with little data still get shown.
Ties go by a seed that rotates daily (``rotating_seed``), never by id. Nothing is paid for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from rapport.directory.cards import ResultCard
from rapport.directory.search.contract import SearchQuery
from rapport.directory.search.engine import SearchIndex
from rapport.matching.answers import FitAnswers

DEFAULT_PAGE_SIZE = 10
LEARNED_WEIGHT = 2.0


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

    constraint: str  # "radius" | "budget" | "language" | "delivery" | "accepting"
    advice: str  # "Look up to 100 km away"
    adds: int


@dataclass(frozen=True)
class MatchList:
    total: int  # therapists meeting every hard constraint (after leaving out past ones)
    page: int
    pages: int
    matches: tuple[Match, ...]
    relaxations: tuple[Relaxation, ...]  # when total is 0 (or very small)
    leaning: tuple[str, ...]  # how past "did not fit" answers changed this list, in words
    place_label: str | None
    left_out: int  # past therapists left out


def rotating_seed(*, day: dt.date, key: str) -> int:
    """The tie-breaking seed: the same for one person all day, different the next day."""
    raise NotImplementedError


def constraints_query(answers: FitAnswers, *, index: SearchIndex) -> SearchQuery:
    """The answers' hard constraints as a search query (raises FitAnswersError for a place the
    geocoder does not know)."""
    raise NotImplementedError


def rank(
    *,
    answers: FitAnswers,
    now: dt.datetime,
    seed: int,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    exclude_therapist_ids: Iterable[int] = (),
    index: SearchIndex | None = None,
) -> MatchList:
    """The ranked list for ``answers``; see the module docstring. Raises FitAnswersError
    (field "place") for a place that cannot be found."""
    raise NotImplementedError
