"""The score of everyone past the hard constraints: the weighted preference score plus the
learned part, ordered with ties broken by a rotating seed."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# The daily tie order is shared with the directory's search, so it lives in core.
from rapport.core.rotation import rotating_seed as rotating_seed
from rapport.core.rotation import tie_breaks as _tie_breaks
from rapport.directory.search.contract import SearchQuery
from rapport.directory.search.engine import SearchIndex
from rapport.directory.search.engine.query import Filtered, filter_rows
from rapport.matching import features, learning
from rapport.matching.answers import FitAnswers
from rapport.matching.leaning import Leaning, lean_away
from rapport.matching.preference import person_zone, preference_scores
from rapport.matching.ranking.constraints import constraints_query

EXPLORATION = 0.5  # the Thompson draws' spread, in posterior standard deviations


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
    local = person_zone(answers, time_zone)
    degrees = features.degrees(leaned, index, rows)
    preference = preference_scores(
        leaning=leaning,
        index=index,
        rows=rows,
        degrees=degrees,
        local=local,
        now_us=filtered.now_microseconds,
    )
    ids = index.ids[rows]
    # The learned part in the preference score's units: the model's own estimate of how much
    # its predictions say about early alliance next to the preference score (1 until data).
    # The draw's spread is divided by that weight, so exploration moves a score by the same
    # EXPLORATION posterior standard deviations whatever the weight: the weight is about what
    # the model knows, not about how far a guess may reach.
    weight = model.learned_weight
    spread = EXPLORATION / weight if weight > 0 else 0.0
    effects = learning.therapist_draws(model, ids, seed=seed, spread=spread)
    predicted = learning.predict(model, features.model_inputs(degrees), effects)
    learned = weight * (predicted - model.mean)
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
