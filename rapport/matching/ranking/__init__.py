"""Ranking: a fit profile's hard constraints through the search engine, then a transparent
score, then "why this match" for the first page.

Hard constraints are the search's own filters (``directory.search.engine.query.filter_rows``)
on a ``SearchQuery`` built from the answers (``constraints_query``): the place (licensed in the
person's province or state for video and phone, an office within the radius for in person),
accepting new clients, a budget that the fee or the sliding-scale floor reaches, and required
languages (at least one of them). Everyone past them is scored:

    score = preference score + w × (predicted early alliance − its mean)

with ``w`` the model version's ``learned_weight`` (1 until a retrain estimates it from stored
outcomes, within 1/3–3; ``learning.learned_weight_of``).

The preference score is the weighted mean of the match degrees (``features.degrees``) of what
the person chose, by their weights: concerns count as "important", each placed style dimension
shares the style's weight, and times that suit them (a free consultation in a window they
chose) count as "nice to have". The learned part is ``learning``'s prediction with a Thompson
draw of the therapist's effect, so therapists with little data are still shown. The draw only
orders: the "fit" shown (``Match.score``) is the preference score alone. Ties go by a seed that
rotates daily (``rotating_seed``), never by id or name. Nothing is paid for.

Past "did not fit" answers lean the list away (``lean_away``): each moves a style target or
adds a component, and says so in ``MatchList.leaning``; "why this match" is worded from the
person's own answers, a leaned style as the lean's ("Client-led (you found one too directive)").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rapport.directory.cards import ResultCard, result_cards_by_id
from rapport.directory.search.engine import SearchIndex, current_index
from rapport.directory.search.engine.index import NO_CONSULTATION, epoch_microseconds
from rapport.matching import learning
from rapport.matching.answers import FitAnswers
from rapport.matching.leaning import Leaning, lean_away
from rapport.matching.ranking.constraints import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    RELAX_BELOW,
    RELAX_CONSTRAINTS,
    Relaxation,
    constraints_query,
    relaxations,
    relaxed,
    wider_radius_km,
)
from rapport.matching.ranking.reasons import explain
from rapport.matching.ranking.scoring import Scored, rotating_seed, scored

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "RELAX_BELOW",
    "RELAX_CONSTRAINTS",
    "Leaning",
    "Match",
    "MatchList",
    "Relaxation",
    "Scored",
    "constraints_query",
    "lean_away",
    "rank",
    "relaxed",
    "rotating_seed",
    "scored",
    "wider_radius_km",
]


@dataclass(frozen=True)
class Match:
    """One ranked therapist with what the person is told about why."""

    therapist_id: int
    card: ResultCard  # what the directory's card shows (name, fee, next consultation …)
    # 0-100: the preference score, rounded. The learned part and its exploration draw only
    # order the list: a random draw is no figure to show anyone.
    score: int
    preference_score: float  # 0-1
    learned: float  # the learned part's contribution to the total (may be negative)
    reasons: tuple[str, ...]  # "Speaks Punjabi", "Anxiety and grief", "CA$120, within your budget"
    unmet: tuple[str, ...]  # preferences this therapist does not meet, in words
    distance_km: float | None
    next_consultation_at: dt.datetime | None


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
        reasons, unmet = explain(
            answers=answers,
            leaning=result.leaning,
            index=index,
            row=row,
            card=card,
            distance_km=distance,
            start=next_start,
            local=result.local,
            query=result.query,
            now_microseconds=result.filtered.now_microseconds,
        )
        preference = float(result.preference[position])
        matches.append(
            Match(
                therapist_id=card.id,
                card=card,
                score=round(100 * min(1.0, max(0.0, preference))),
                preference_score=preference,
                learned=float(result.learned[position]),
                reasons=reasons,
                unmet=unmet,
                distance_km=distance,
                next_consultation_at=next_start,
            )
        )
    loosen = (
        relaxations(scored_=result, answers=answers, index=index, now=now, excluded=excluded)
        if total < RELAX_BELOW
        else ()
    )
    return MatchList(
        total=total,
        page=page,
        pages=pages,
        matches=tuple(matches),
        relaxations=loosen,
        leaning=result.leaning.sentences,
        place_label=result.query.place_label,
        left_out=result.left_out,
    )
