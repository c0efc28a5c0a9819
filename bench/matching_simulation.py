"""Does the matcher find better first consultations than a filtered search? A simulation.

    .venv/bin/python bench/matching_simulation.py [--therapists 2000] [--clients 2000] [--seed 7]
                                                   [--retrain-every 100]

Seeds a throwaway directory (a fresh SQLite file in a temporary folder), loads its search index
in this process, and invents a population around it whose TRUE compatibility this script
defines from hidden traits the engine never reads:

  therapists  (a generator keyed by the seed and the therapist's id)
    - a true style: the placement they gave on each style dimension plus noise (sd 0.9 on the
      1-5 scale), so what they say about themselves is only partly right;
    - warmth and skill, one number, not visible anywhere (only the learned therapist effect
      can find it);
    - true competence per concern: likely (75 %) for the concerns they list, unlikely (15 %)
      for the others;
    - whether their LGBTQ2S+ affirmation is real (90 % of those who say so, 15 % of the others).
  clients     (a generator keyed by the seed, the client's stream and number)
    - a true style preference per dimension and how much style matters to them; the answer
      they give is the truth plus noise (sd 0.7, rounded), and each dimension is skipped with
      probability 0.35;
    - one to three true concerns; each is named with probability 0.85;
    - what matters to them: a wanted therapist gender, language, faith, lived experience, and
      LGBTQ2S+ affirmation, each with a hidden importance 0-3. The stated weight is that
      importance, sometimes off by one, and a quarter of the time left unsaid;
    - a place (a large city, in proportion to where therapists are licensed), how they would
      meet, and a budget (some give none).

True compatibility of a client with a therapist (the formula is the simulation's, not the
product's):

    c = 0.45·skill + 0.9·(share of the client's true concerns the therapist is competent in)
        − 2.5·(how much style matters)·(mean distance of true style to true preference) / 4
        + Σ over what matters: 0.6·importance/3·(the therapist has it)
        + a fixed noise per pair (sd 0.35)

A first consultation is a GOOD FIT when c > GOOD_FIT_THRESHOLD, chosen so that about a third
of random client-therapist pairs that pass the hard constraints are good fits (the run prints
the measured share: it is the random-choice baseline). The early alliance a client reports is
drawn from c: 0.65 + 0.2·(c − threshold) + noise (sd 0.1), kept within 0-1.

Each evaluation client is compared on the same hard constraints (``ranking.constraints_query``):
  matcher      the first of ``ranking.scored`` (preferences, style, the learned part with its
               Thompson draw), with the model as it stands;
  filter-only  the first result of the search page in its default order (nearest first with a
               place), as a person using filters would pick, three ways:
                 - the hard constraints only (nothing else ticked);
                 - the hard constraints and every concern the client named ticked (the
                   person-like baseline the target is judged against);
                 - those and each preference they rated important or very important;
               when nobody is found, the person unticks the filter they ticked last, then the
               one before, until someone is (the run says how many had to). Every office of a
               town is equally far, so the first result is the search's daily tie order: each
               share is averaged over a week of days (fixed days, not the date of the run);
  random       a therapist drawn uniformly among those meeting the hard constraints (the
               exact expectation over them, not one draw).
A stream of training clients each books the matcher's first choice and answers one early
alliance check-in. Two learners follow the same stream: one updates the model answer by answer
only (``learning.ModelSums``, in memory); the other does that AND refits the model from every
outcome so far every ``--retrain-every`` check-ins (``learning.fit``), as the product's
housekeeping retrains once a day when answers came (default 100, about a day's answers on a
directory of this size). After 0, 250, 500, 1000, 2000 and 4000 check-ins both are evaluated on
a fixed set of evaluation clients (the models frozen meanwhile); the second is the product's
and its figure is the one compared. Exposure: the Gini coefficient of first-page appearances
(10 per list) over the therapists who met some evaluation client's hard constraints, for the
matcher at 2000 check-ins, each filter-only baseline (each client on one day of the week) and
random.

Target (issue 16): the matcher's good-fit share ≥ 1.5 × filter-only after 2,000 check-ins,
judged against the person-like (concerns ticked) baseline; every ratio is printed. The run is
deterministic for a given --seed and code, save that the seeded directory's dates (listing
freshness, free consultations) are relative to the day it runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from throwaway import prepared_environment, seed_therapists, start_django

if TYPE_CHECKING:
    from rapport.directory.search.contract import SearchQuery
    from rapport.directory.search.engine import SearchIndex
    from rapport.matching.answers import FitAnswers
    from rapport.matching.learning import Calibration, ModelState

CHECKPOINTS = (0, 250, 500, 1000, 2000, 4000)
TARGET_CHECKPOINT = 2000
TARGET_RATIO = 1.5
FIRST_PAGE = 10
# The product retrains once a day when answers came (housekeeping, matching.learning); on a
# directory of this size (about 1,800 listable therapists, each starting a new client every
# three weeks or so) a day brings on the order of a hundred early answers.
RETRAIN_EVERY = 100
# The search orders ties (every office of a town is equally far) by a seed that changes daily;
# evaluation clients search on one of a week of days, fixed days so the run does not depend on
# the date it runs.
SEARCH_DAYS = tuple(dt.date(2026, 1, 5) + dt.timedelta(days=day) for day in range(7))

# The simulation's truth: see the module docstring.
GOOD_FIT_THRESHOLD = 0.3
SKILL_WEIGHT = 0.45
CONCERN_WEIGHT = 0.9
STYLE_WEIGHT = 2.5
MATTERS_WEIGHT = 0.6
PAIR_NOISE = 0.35
TRUE_STYLE_NOISE = 0.9
STATED_STYLE_NOISE = 0.7
STYLE_SKIP = 0.35
CONCERN_NAMED = 0.85
COMPETENT_IF_LISTED = 0.75
COMPETENT_IF_NOT_LISTED = 0.15
AFFIRMING_IF_SAID = 0.9
AFFIRMING_IF_NOT_SAID = 0.15
PREFERENCE_UNSAID = 0.25
PREFERENCE_OFF_BY_ONE = 0.3
ALLIANCE_BASE = 0.65
ALLIANCE_SLOPE = 0.2
ALLIANCE_NOISE = 0.1

# Where clients live: large cities, weighted roughly by how many therapists are licensed there.
PLACES = (
    ("Toronto, ON", 6), ("Ottawa, ON", 2), ("Montréal, QC", 4), ("Vancouver, BC", 3),
    ("Calgary, AB", 1), ("Edmonton, AB", 1), ("Los Angeles, CA", 3), ("San Francisco, CA", 1),
    ("New York, NY", 2), ("Houston, TX", 1), ("Dallas, TX", 1), ("Miami, FL", 1),
    ("Chicago, IL", 1),
)  # fmt: skip
# How clients would meet: any way (most), video only, in person only.
DELIVERY_CHOICES: tuple[tuple[tuple[str, ...], float], ...] = (
    ((), 0.65),
    (("video",), 0.25),
    (("in_person",), 0.10),
)
# (preference, chance it matters at all, importance 1-3 weights when it does)
MATTERS = (
    ("gender", 0.45, (0.3, 0.4, 0.3)),
    ("language", 0.15, (0.1, 0.3, 0.6)),
    ("faith", 0.15, (0.3, 0.4, 0.3)),
    ("lived_experience", 0.2, (0.3, 0.4, 0.3)),
    ("lgbtq2s_affirming", 0.25, (0.2, 0.4, 0.4)),
)
GENDER_WANTED = (("woman", 0.65), ("man", 0.3), ("non_binary", 0.05))


# --- the hidden world ------------------------------------------------------------------------


@dataclass(frozen=True)
class Therapists:
    """Hidden traits of every row of the index (same order)."""

    true_style: np.ndarray  # rows × 5, continuous 1-5
    skill: np.ndarray  # rows
    competent: np.ndarray  # rows × concerns (the index's concern columns), bool
    affirming: np.ndarray  # rows, bool
    gender: np.ndarray  # rows, str (visible and true)
    language: np.ndarray  # rows × languages, bool
    faith: np.ndarray  # rows × faiths, bool
    lived_experience: np.ndarray  # rows × lived experiences, bool


@dataclass(frozen=True)
class Client:
    number: int
    answers: FitAnswers
    true_style: np.ndarray  # 5, continuous
    style_matters: float  # 0.3-1
    concern_columns: np.ndarray  # true concerns, as the index's concern columns
    # preference -> (importance 1-3, index column wanted, or the gender value)
    matters: dict[str, tuple[int, int | str | None]]
    pair_key: int  # keys the fixed per-pair noise


def hidden_therapists(index: SearchIndex, *, seed: int) -> Therapists:
    from rapport.directory.search.contract import SearchParam

    concerns = index.taxonomies[SearchParam.CONCERN].by_column
    rows = index.size
    true_style = np.empty((rows, index.style.shape[1]))
    skill = np.empty(rows)
    competent = np.empty(concerns.shape, dtype=bool)
    affirming = np.empty(rows, dtype=bool)
    for row in range(rows):
        rng = np.random.default_rng([seed, 1, int(index.ids[row])])
        noise = rng.normal(0.0, TRUE_STYLE_NOISE, index.style.shape[1])
        true_style[row] = np.clip(index.style[row] + noise, 1.0, 5.0)
        skill[row] = rng.normal()
        chance = np.where(concerns[row], COMPETENT_IF_LISTED, COMPETENT_IF_NOT_LISTED)
        competent[row] = rng.random(concerns.shape[1]) < chance
        said = bool(index.lgbtq2s_affirming[row])
        affirming[row] = rng.random() < (AFFIRMING_IF_SAID if said else AFFIRMING_IF_NOT_SAID)
    return Therapists(
        true_style=true_style,
        skill=skill,
        competent=competent,
        affirming=affirming,
        gender=np.asarray(index.gender_values, dtype=object)[index.gender],
        language=np.asarray(index.taxonomies[SearchParam.LANGUAGE].by_column),
        faith=np.asarray(index.taxonomies[SearchParam.FAITH].by_column),
        lived_experience=np.asarray(index.taxonomies[SearchParam.LIVED_EXPERIENCE].by_column),
    )


def _draw(rng: np.random.Generator, options: Sequence[Any], weights: Sequence[float]) -> Any:
    probabilities = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=probabilities / probabilities.sum()))]


def _draw_weighted(rng: np.random.Generator, pairs: Sequence[tuple[Any, float]]) -> Any:
    """One option of (option, weight) pairs, in proportion to the weights."""
    return _draw(rng, [option for option, _ in pairs], [weight for _, weight in pairs])


def make_client(index: SearchIndex, *, seed: int, stream: int, number: int) -> Client:
    """One client, the same for the same (seed, stream, number)."""
    from rapport.directory.search.contract import SearchParam
    from rapport.matching.answers import (
        STYLE_FIELDS,
        FitAnswers,
        Preference,
        Weight,
    )

    rng = np.random.default_rng([seed, 2, stream, number])
    concern_columns = index.taxonomies[SearchParam.CONCERN]
    # Clients bring the concerns therapists list most often, more or less in proportion.
    frequency = concern_columns.by_column.sum(axis=0).astype(np.float64) + 1.0
    true_concerns = rng.choice(
        frequency.size, size=int(rng.integers(1, 4)), replace=False, p=frequency / frequency.sum()
    )
    named = tuple(
        concern_columns.slugs[column] for column in true_concerns if rng.random() < CONCERN_NAMED
    )

    true_style = np.clip(rng.normal(3.0, 1.1, len(STYLE_FIELDS)), 1.0, 5.0)
    style_matters = float(rng.uniform(0.3, 1.0))
    stated_style = {
        name: int(np.clip(np.rint(true_style[offset] + rng.normal(0, STATED_STYLE_NOISE)), 1, 5))
        for offset, name in enumerate(STYLE_FIELDS)
        if rng.random() >= STYLE_SKIP
    }
    style_weight = Weight(_draw(rng, (1, 2, 3), (0.3, 0.4, 0.3)))

    matters: dict[str, tuple[int, int | str | None]] = {}
    preferences: dict[str, Preference] = {}
    for key, chance, importance_weights in MATTERS:
        if rng.random() >= chance:
            continue
        importance = int(_draw(rng, (1, 2, 3), importance_weights))
        wanted: int | str | None
        if key == "gender":
            wanted = str(_draw_weighted(rng, GENDER_WANTED))
            values: tuple[str, ...] = (wanted,)
        elif key == "lgbtq2s_affirming":
            wanted, values = None, ()
        else:
            columns = index.taxonomies[key]
            counts = columns.by_column.sum(axis=0).astype(np.float64)
            if key == "language":
                # Wanting a language is wanting one besides English, spoken by some therapists.
                counts[columns.column_of["en"]] = 0.0
            if counts.sum() == 0:
                continue
            wanted = int(rng.choice(counts.size, p=counts / counts.sum()))
            values = (columns.slugs[wanted],)
        matters[key] = (importance, wanted)
        if rng.random() < PREFERENCE_UNSAID:
            continue
        stated = importance
        if rng.random() < PREFERENCE_OFF_BY_ONE:
            stated = int(np.clip(importance + rng.choice((-1, 1)), 1, 3))
        preferences[key] = Preference(weight=Weight(stated), values=values)

    place = str(_draw_weighted(rng, PLACES))
    delivery = _draw_weighted(rng, DELIVERY_CHOICES)
    budget = None if rng.random() < 0.2 else int(rng.choice((100, 120, 150, 180, 200, 250)))
    answers = FitAnswers(
        concerns=named,
        preferences=preferences,
        style=stated_style,
        style_weight=style_weight,
        budget_per_session=budget,
        delivery=tuple(delivery),
        place=place,
    )
    return Client(
        number=number,
        answers=answers,
        true_style=true_style,
        style_matters=style_matters,
        concern_columns=np.asarray(true_concerns, dtype=np.int64),
        matters=matters,
        pair_key=int(rng.integers(0, 2**31)),
    )


def compatibility(
    client: Client, therapists: Therapists, rows: np.ndarray, *, seed: int, ids: np.ndarray
) -> np.ndarray:
    """The true compatibility of ``client`` with the therapists of ``rows`` (formula above)."""
    concern_fit = therapists.competent[np.ix_(rows, client.concern_columns)].mean(axis=1)
    style_gap = np.abs(therapists.true_style[rows] - client.true_style).mean(axis=1) / 4.0
    value = (
        SKILL_WEIGHT * therapists.skill[rows]
        + CONCERN_WEIGHT * concern_fit
        - STYLE_WEIGHT * client.style_matters * style_gap
    )
    for key, (importance, wanted) in client.matters.items():
        if key == "gender":
            has = therapists.gender[rows] == wanted
        elif key == "lgbtq2s_affirming":
            has = therapists.affirming[rows]
        else:
            has = getattr(therapists, key)[rows, wanted]
        value = value + MATTERS_WEIGHT * importance / 3.0 * has
    return value + _pair_noise(client, ids[rows], seed=seed)


def _pair_noise(client: Client, therapist_ids: np.ndarray, *, seed: int) -> np.ndarray:
    """Fixed per (client, therapist): the part of fit nobody can predict. A 64-bit mix of the
    pair (wrapping on purpose) gives two uniforms, and Box-Muller a normal from them."""
    mix = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        key = np.uint64((seed * 1_000_003 + client.pair_key) & 0xFFFF_FFFF_FFFF_FFFF)
        state = therapist_ids.astype(np.uint64) * mix + key
        uniforms = []
        for _ in range(2):
            state = state + mix
            mixed = state.copy()
            mixed ^= mixed >> np.uint64(30)
            mixed *= np.uint64(0xBF58476D1CE4E5B9)
            mixed ^= mixed >> np.uint64(27)
            mixed *= np.uint64(0x94D049BB133111EB)
            mixed ^= mixed >> np.uint64(31)
            uniforms.append(((mixed >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53)
    normal = np.sqrt(-2.0 * np.log(uniforms[0])) * np.cos(2.0 * np.pi * uniforms[1])
    return np.asarray(PAIR_NOISE * normal, dtype=np.float64)


def alliance(value: float, rng: np.random.Generator) -> float:
    drawn = ALLIANCE_BASE + ALLIANCE_SLOPE * (value - GOOD_FIT_THRESHOLD)
    return float(np.clip(drawn + rng.normal(0.0, ALLIANCE_NOISE), 0.0, 1.0))


def gini(counts: np.ndarray) -> float:
    """0 when every therapist appears as often, towards 1 when a few take every appearance."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    if values.size == 0 or values.sum() == 0:
        return 0.0
    ranks = np.arange(1, values.size + 1)
    return float((2.0 * (ranks * values).sum()) / (values.size * values.sum()) - 1.0
                 - 1.0 / values.size)  # fmt: skip


# --- choosing by filters, as a person on the search page ----------------------------------------


@dataclass(frozen=True)
class Tick:
    """One filter a person ticks on the search page: a search parameter and its values (one
    concern; a preference's values, which its filter takes together)."""

    param: str
    values: tuple[str, ...] = ()


# The search query's field for each filter a person ticks (lgbtq2s_affirming is a flag).
TICK_FIELDS = {
    "concern": "concerns",
    "gender": "genders",
    "language": "languages",
    "faith": "faiths",
    "lived_experience": "lived_experiences",
    "population": "populations",
}
AFFIRMING = "lgbtq2s_affirming"


def person_ticks(answers: FitAnswers, *, important: bool = False) -> tuple[Tick, ...]:
    """The filters a person using the search page ticks, in the order they tick them: each
    concern they named, in the order named; with ``important``, then each preference they
    rated important or very important, in the questionnaire's order."""
    from rapport.matching.answers import PreferenceKey, Weight

    ticks = [Tick("concern", (slug,)) for slug in answers.concerns]
    if important:
        for key in PreferenceKey:
            preference = answers.preference(key)
            if preference.weight < Weight.IMPORTANT:
                continue
            if key == AFFIRMING:
                ticks.append(Tick(AFFIRMING))
            elif preference.values:
                ticks.append(Tick(str(key), tuple(preference.values)))
    return tuple(ticks)


def ticked_query(query: SearchQuery, ticks: Sequence[Tick]) -> SearchQuery:
    """``query`` (the hard constraints) with these filters ticked as well."""
    changes: dict[str, Any] = {}
    for tick in ticks:
        if tick.param == AFFIRMING:
            changes[AFFIRMING] = True
            continue
        name = TICK_FIELDS[tick.param]
        changes[name] = changes.get(name, getattr(query, name)) | frozenset(tick.values)
    return replace(query, **changes)


@dataclass(frozen=True)
class SearchPick:
    """A person's filtered search: how many filters they wanted, how many were still ticked
    when someone was found, and the first page on each of ``SEARCH_DAYS`` (index rows)."""

    wanted: int
    kept: int
    pages: tuple[np.ndarray, ...]

    @property
    def fell_back(self) -> bool:
        return self.kept < self.wanted


def search_day_seed(day: dt.date) -> int:
    """The search's own tie seed on ``day`` (what its results page uses that day)."""
    from rapport.directory.search.engine.query import search_tie_seed

    return search_tie_seed(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


def searched(
    query: SearchQuery,
    ticks: Sequence[Tick],
    *,
    now: dt.datetime,
    index: SearchIndex,
    days: Sequence[dt.date] = SEARCH_DAYS,
    first: int = FIRST_PAGE,
) -> SearchPick:
    """The search page as a person uses it: every filter ticked; while nobody is found, the
    one ticked last is unticked (a person drops the afterthought first, and keeps what brought
    them). Then the first page in the search's default order (nearest first with a place) with
    each day's tie order: the search's own ``filter_rows`` and ``sort_rows``, as ``search``
    calls them (without its facet counts, which the pick does not need)."""
    from rapport.directory.search.engine.query import filter_rows, sort_rows

    for kept in range(len(ticks), -1, -1):
        ticked = ticked_query(query, ticks[:kept])
        filtered = filter_rows(ticked, now=now, index=index)
        if filtered.rows.size:
            break
    pages = tuple(
        sort_rows(
            index,
            ticked,
            filtered.rows,
            filtered.nearest,
            index.consultation_times.values,
            filtered.now_microseconds,
            tie_seed=search_day_seed(day),
            first=first,
        )
        for day in days
    )
    return SearchPick(wanted=len(ticks), kept=kept, pages=pages)


# The filter-only baselines: (key, label, whether the important preferences are ticked too);
# None: the hard constraints alone, nothing else ticked.
BASELINES: tuple[tuple[str, str, bool | None], ...] = (
    ("constraints", "hard constraints only", None),
    ("concerns", "+ the client's concerns ticked", False),
    ("important", "+ concerns and important preferences", True),
)
PERSON_LIKE = "concerns"  # the baseline the target is judged against


# --- the matcher, the baselines and random, compared -------------------------------------------


@dataclass
class Evaluated:
    """One evaluation client: who meets their hard constraints, and how well each fits."""

    client: Client
    rows: np.ndarray  # index rows meeting the hard constraints, ascending
    good: np.ndarray  # per entry of rows: a good fit?
    picks: dict[str, SearchPick]  # per baseline
    seed: int  # the client's ranking seed (tie-breaks and Thompson draws)

    @property
    def day(self) -> int:
        """The one of ``SEARCH_DAYS`` this client searches on (for exposure)."""
        return self.client.number % len(SEARCH_DAYS)


def _client_seed(seed: int, stream: int, number: int) -> int:
    return int(np.random.default_rng([seed, 4, stream, number]).integers(0, 2**62))


def _position_of(rows: np.ndarray, row: int) -> int:
    return int(np.searchsorted(rows, row))


class Learner:
    """The learned model fed by training clients' answers: each answer updates it at once
    (``ModelSums.add``, what care's hook does), and with ``retrain_every`` it is also refitted
    from every outcome so far that often (``learning.fit``, what housekeeping's daily retrain
    does; answers after a retrain add to the refitted sums, as in the product)."""

    def __init__(self, *, seed: int, retrain_every: int | None) -> None:
        from rapport.matching import learning

        self.retrain_every = retrain_every
        self.sums = learning.ModelSums()
        self.state = self.sums.state()
        self.rng = np.random.default_rng([seed, 6])  # the answers' noise
        self.check_ins = 0
        self.retrains = 0
        self.alliances: list[float] = []
        self.inputs: list[np.ndarray] = []
        self.preferences: list[float] = []
        self.therapist_ids: list[int] = []
        self.training_good: list[bool] = []

    def record(
        self,
        *,
        inputs: np.ndarray,
        preference: float,
        answer: float,
        therapist_id: int,
        good: bool,
    ) -> None:
        from rapport.matching import learning

        self.sums.add(inputs=inputs, alliance=answer, therapist_id=therapist_id)
        self.check_ins += 1
        self.alliances.append(answer)
        self.inputs.append(inputs)
        self.preferences.append(preference)
        self.therapist_ids.append(therapist_id)
        self.training_good.append(good)
        if self.retrain_every and self.check_ins % self.retrain_every == 0:
            self.sums = learning.fit(
                np.array(self.inputs),
                np.array(self.alliances),
                np.array(self.therapist_ids),
                preferences=np.array(self.preferences),
            )
            self.retrains += 1
        self.state = self.sums.state(version=self.check_ins)


class Simulation:
    def __init__(self, *, seed: int, now: dt.datetime) -> None:
        from rapport.directory.search.engine import current_index

        self.seed = seed
        self.now = now
        self.index = current_index()
        self.therapists = hidden_therapists(self.index, seed=seed)

    def scored_rows(
        self, client: Client, seed: int, state: ModelState
    ) -> tuple[np.ndarray, np.ndarray]:
        """The matcher's order of the rows meeting the hard constraints, and their model
        inputs (what the learned part reads), as ranking computes them."""
        from rapport.matching import features, ranking

        result = ranking.scored(
            answers=client.answers, index=self.index, now=self.now, seed=seed, model=state
        )
        return result.rows, features.model_inputs(result.degrees)

    def evaluated(self, client: Client) -> Evaluated | None:
        from rapport.directory.search.engine.query import filter_rows
        from rapport.matching import ranking

        query = ranking.constraints_query(client.answers, index=self.index)
        rows = filter_rows(query, now=self.now, index=self.index).rows
        if rows.size == 0:
            return None
        value = compatibility(client, self.therapists, rows, seed=self.seed, ids=self.index.ids)
        picks = {
            key: searched(
                query,
                () if important is None else person_ticks(client.answers, important=important),
                now=self.now,
                index=self.index,
            )
            for key, _, important in BASELINES
        }
        return Evaluated(
            client=client,
            rows=rows,
            good=value > GOOD_FIT_THRESHOLD,
            picks=picks,
            seed=_client_seed(self.seed, 0, client.number),
        )

    def matcher_first_pages(
        self, clients: Sequence[Evaluated], state: ModelState
    ) -> list[np.ndarray]:
        return [self.scored_rows(item.client, item.seed, state)[0][:FIRST_PAGE] for item in clients]

    def train(self, client: Client, learner: Learner) -> None:
        """One training client books the matcher's first choice and answers one early alliance
        check-in, which the learner records with the pair's preference score (what the
        product's outcome records: ``preference.pair_preference``)."""
        from rapport.matching import preference

        rows, inputs = self.scored_rows(
            client, _client_seed(self.seed, 1, client.number), learner.state
        )
        if rows.size == 0:
            return
        row = int(rows[0])
        value = float(
            compatibility(
                client, self.therapists, np.array([row]), seed=self.seed, ids=self.index.ids
            )[0]
        )
        therapist_id = int(self.index.ids[row])
        score = preference.pair_preference(
            answers=client.answers, therapist_id=therapist_id, index=self.index, now=self.now
        )
        learner.record(
            inputs=inputs[0],
            preference=float("nan") if score is None else score,
            answer=alliance(value, learner.rng),
            therapist_id=therapist_id,
            good=value > GOOD_FIT_THRESHOLD,
        )


def good_share(clients: Sequence[Evaluated], picks: Sequence[int]) -> float:
    hits = [
        bool(item.good[_position_of(item.rows, row)])
        for item, row in zip(clients, picks, strict=True)
    ]
    return float(np.mean(hits))


def exposure_gini(clients: Sequence[Evaluated], pages: Sequence[np.ndarray], size: int) -> float:
    """Gini of first-page appearances over the therapists who met some client's constraints."""
    eligible = np.zeros(size, dtype=bool)
    counts = np.zeros(size, dtype=np.int64)
    for item, page in zip(clients, pages, strict=True):
        eligible[item.rows] = True
        np.add.at(counts, page, 1)
    return gini(counts[eligible])


def random_first_pages(clients: Sequence[Evaluated], *, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng([seed, 5])
    return [
        rng.choice(item.rows, size=min(FIRST_PAGE, item.rows.size), replace=False)
        for item in clients
    ]


@dataclass(frozen=True)
class BaselineFigures:
    key: str
    label: str
    share: float  # over the clients and the week's tie orders
    day_shares: tuple[float, ...]  # per day of SEARCH_DAYS, every client on that day
    gini: float  # each client's first page on their own day
    distinct: int  # different therapists chosen first (own day)
    ticked: int  # clients who wanted to tick at least one filter
    fell_back: int  # clients who had to untick at least one
    unticked_all: int  # of those, clients who found someone only with none of their filters


def baseline_figures(
    clients: Sequence[Evaluated], key: str, label: str, size: int
) -> BaselineFigures:
    picks = [item.picks[key] for item in clients]
    day_shares = tuple(
        good_share(clients, [int(pick.pages[day][0]) for pick in picks])
        for day in range(len(SEARCH_DAYS))
    )
    own_day = [pick.pages[item.day] for item, pick in zip(clients, picks, strict=True)]
    return BaselineFigures(
        key=key,
        label=label,
        share=float(np.mean(day_shares)),
        day_shares=day_shares,
        gini=exposure_gini(clients, own_day, size),
        distinct=len({int(page[0]) for page in own_day}),
        ticked=sum(pick.wanted > 0 for pick in picks),
        fell_back=sum(pick.fell_back for pick in picks),
        unticked_all=sum(pick.fell_back and pick.kept == 0 for pick in picks),
    )


# --- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    therapists: int
    clients: int
    without_results: int
    median_candidates: float
    retrain_every: int
    random_share: float
    baselines: tuple[BaselineFigures, ...]
    curve: list[tuple[int, float, float]]  # check-ins, answer by answer only, daily retrain
    gini_matcher: float  # with the daily retrain, at TARGET_CHECKPOINT
    gini_online: float  # answer by answer only, at TARGET_CHECKPOINT
    gini_random: float
    distinct_matcher: int  # different therapists chosen first, over the evaluation clients
    training_good_share: float  # the daily-retrain learner's training clients
    mean_alliance: float
    seconds: float

    def baseline(self, key: str) -> BaselineFigures:
        return next(figures for figures in self.baselines if figures.key == key)

    @property
    def at_target(self) -> float:
        return {check_ins: share for check_ins, _, share in self.curve}[TARGET_CHECKPOINT]

    def ratio(self, key: str) -> float:
        share = self.baseline(key).share
        return self.at_target / share if share else float("inf")


def _calibration_words(calibration: Calibration) -> str:
    if calibration.preference_slope is None or calibration.learned_slope is None:
        return f"{calibration.weight:.2f}"
    return (
        f"{calibration.weight:.2f}: slopes {calibration.preference_slope:.3f} for the "
        f"preference score, {calibration.learned_slope:.3f} for the learned part"
    )


def simulate(arguments: argparse.Namespace, *, progress: Callable[[str], None]) -> Report:
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    simulation = Simulation(seed=arguments.seed, now=now)
    index = simulation.index
    progress(f"index: {index.size:,} listable therapists")

    clients: list[Evaluated] = []
    without_results = 0
    for number in range(arguments.clients):
        evaluated = simulation.evaluated(
            make_client(index, seed=arguments.seed, stream=0, number=number)
        )
        if evaluated is None:
            without_results += 1
        else:
            clients.append(evaluated)
    random_share = float(np.mean([item.good.mean() for item in clients]))
    baselines = tuple(
        baseline_figures(clients, key, label, index.size) for key, label, _ in BASELINES
    )
    progress(f"{len(clients):,} evaluation clients; random {random_share:.3f}, filter-only "
             + ", ".join(f"{figures.key} {figures.share:.3f}" for figures in baselines)
             + f"  ({time.perf_counter() - started:.0f} s)")  # fmt: skip

    online = Learner(seed=arguments.seed, retrain_every=None)
    daily = Learner(seed=arguments.seed, retrain_every=arguments.retrain_every)
    curve: list[tuple[int, float, float]] = []
    matcher_pages: list[np.ndarray] = []
    online_pages: list[np.ndarray] = []
    number = 0
    for checkpoint in CHECKPOINTS:
        while daily.check_ins < checkpoint or online.check_ins < checkpoint:
            client = make_client(index, seed=arguments.seed, stream=1, number=number)
            for learner in (online, daily):
                if learner.check_ins < checkpoint:
                    simulation.train(client, learner)
            number += 1
        pages = simulation.matcher_first_pages(clients, online.state)
        share = good_share(clients, [int(page[0]) for page in pages])
        daily_pages = simulation.matcher_first_pages(clients, daily.state)
        daily_share = good_share(clients, [int(page[0]) for page in daily_pages])
        curve.append((checkpoint, share, daily_share))
        if checkpoint == TARGET_CHECKPOINT:
            matcher_pages, online_pages = daily_pages, pages
        progress(f"after {checkpoint:>5,} check-ins: matcher answer by answer {share:.3f}, "
                 f"with the daily retrain {daily_share:.3f} "
                 f"(learned part's weight {_calibration_words(daily.sums.calibration)})  "
                 f"({time.perf_counter() - started:.0f} s)")  # fmt: skip

    return Report(
        therapists=index.size,
        clients=len(clients),
        without_results=without_results,
        median_candidates=float(np.median([item.rows.size for item in clients])),
        retrain_every=arguments.retrain_every,
        random_share=random_share,
        baselines=baselines,
        curve=curve,
        gini_matcher=exposure_gini(clients, matcher_pages, index.size),
        gini_online=exposure_gini(clients, online_pages, index.size),
        gini_random=exposure_gini(
            clients, random_first_pages(clients, seed=arguments.seed), index.size
        ),
        distinct_matcher=len({int(page[0]) for page in matcher_pages}),
        training_good_share=float(np.mean(daily.training_good)),
        mean_alliance=float(np.mean(daily.alliances)),
        seconds=time.perf_counter() - started,
    )


def print_report(report: Report, arguments: argparse.Namespace) -> bool:
    """Prints the figures; True when the target holds against the person-like baseline."""
    person_like = report.baseline(PERSON_LIKE)
    ratio = report.ratio(PERSON_LIKE)
    met = ratio >= TARGET_RATIO
    print()
    print(f"directory       {report.therapists:,} listable therapists "
          f"(seeded {arguments.therapists:,}, seed {arguments.seed})")  # fmt: skip
    print(
        f"clients         {report.clients:,} evaluated ({report.without_results} had nobody "
        "meeting their hard constraints),"
    )
    print(f"                median {report.median_candidates:.0f} therapists meeting them")
    print(f"good fit        true compatibility > {GOOD_FIT_THRESHOLD}")
    print(f"matcher         answers update the model at once; retrained from every outcome "
          f"every {report.retrain_every:,} check-ins (a day's)")  # fmt: skip
    print()
    print("(a) good-fit share of first consultations")
    print(f"    {'random among the hard constraints':<46} {report.random_share:.3f}")
    print("    filter-only: the first result of the search (nearest first), its tie order")
    print(f"    averaged over {len(SEARCH_DAYS)} days (range over the days in brackets)")
    for figures in report.baselines:
        low, high = min(figures.day_shares), max(figures.day_shares)
        print(f"      {figures.label:<44} {figures.share:.3f}  ({low:.3f}-{high:.3f})")
    print(f"    {f'matcher after {TARGET_CHECKPOINT:,} check-ins':<46} {report.at_target:.3f}")
    for figures in report.baselines:
        if figures.ticked:
            print(f"    {figures.key}: {figures.ticked:,} clients ticked something; "
                  f"{figures.fell_back:,} found nobody and unticked the last-chosen filter "
                  f"until someone was found ({figures.unticked_all:,} down to none)")  # fmt: skip
    print()
    print("(b) learning curve: the matcher's good-fit share")
    print(f"    {'check-ins':>9}  {'answer by answer':>16}  {'+ daily retrain':>15}  "
          + "  ".join(f"{'× ' + figures.key:>13}" for figures in report.baselines)
          + f"  {'× random':>8}")  # fmt: skip
    for check_ins, share, daily_share in report.curve:
        print(f"    {check_ins:>9,}  {share:>16.3f}  {daily_share:>15.3f}  "
              + "  ".join(f"{daily_share / figures.share:>13.2f}" for figures in report.baselines)
              + f"  {daily_share / report.random_share:>8.2f}")  # fmt: skip
    print("    (the ratios are those of the matcher with the daily retrain)")
    print(f"    (training clients' own first choices: {report.training_good_share:.3f} good "
          f"fits; mean early alliance {report.mean_alliance:.3f})")  # fmt: skip
    print()
    print("(c) exposure: Gini of first-page appearances (0 = even)")
    print(f"    {f'matcher ({TARGET_CHECKPOINT:,} check-ins, daily retrain)':<46} "
          f"{report.gini_matcher:.3f}")  # fmt: skip
    print(f"    {'matcher (answer by answer only)':<46} {report.gini_online:.3f}")
    for figures in report.baselines:
        print(f"    {'filter-only, ' + figures.key:<46} {figures.gini:.3f}")
    print(f"    {'random':<46} {report.gini_random:.3f}")
    distinct = ", ".join(f"{figures.key} {figures.distinct:,}" for figures in report.baselines)
    print(f"    different therapists chosen first: matcher {report.distinct_matcher:,}, {distinct}")
    print()
    print(f"target: matcher ≥ {TARGET_RATIO} × filter-only after {TARGET_CHECKPOINT:,} check-ins")
    for figures in report.baselines:
        judged = " (the person-like baseline: the verdict)" if figures.key == PERSON_LIKE else ""
        print(f"    × filter-only, {figures.key:<12} {report.ratio(figures.key):.2f}{judged}")
    verdict = "met" if met else "MISSED"
    print(f"    {verdict}: {report.at_target:.3f} against {person_like.share:.3f} is {ratio:.2f} ×")
    print(f"ran in {report.seconds:.0f} s (after seeding)")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2000, help="evaluation clients")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--retrain-every",
        type=int,
        default=RETRAIN_EVERY,
        help="check-ins between two retrains of the model (a day's worth)",
    )
    parser.add_argument(
        "--folder",
        help="reuse a folder whose SQLite database is already seeded with --therapists and "
        "--seed (for repeated runs); a temporary one by default",
    )
    arguments = parser.parse_args()
    if arguments.retrain_every < 1:
        parser.error("--retrain-every must be at least 1")

    def progress(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as temporary:
        folder = arguments.folder or temporary
        environment = prepared_environment(
            folder=folder, database_url=None, seed=arguments.seed, LOG_LEVEL="WARNING"
        )
        progress(f"seeding {arguments.therapists:,} therapists …")
        seed_therapists(environment, therapists=arguments.therapists, seed=arguments.seed)
        start_django(environment)
        report = simulate(arguments, progress=progress)
    print_report(report, arguments)


if __name__ == "__main__":
    main()
