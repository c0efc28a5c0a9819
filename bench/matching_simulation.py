"""Does the matcher find better first consultations than a filtered search? A simulation.

    .venv/bin/python bench/matching_simulation.py [--therapists 2000] [--clients 1000] [--seed 7]

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

Each client is compared three ways on the same hard constraints (``ranking.constraints_query``):
  matcher      the first of ``ranking.scored`` (preferences, style, the learned part with its
               Thompson draw), with the model as it stands;
  filter-only  the first result of ``search`` with that query in the search's default order
               (nearest first with a place, else by name), as a person using filters would;
  random       a therapist drawn uniformly among those meeting the hard constraints (the
               exact expectation over them, not one draw).
A stream of training clients each books the matcher's first choice and answers one early
alliance check-in, which updates the learned model (``learning.ModelSums``, in memory); after
0, 250, 500, 1000, 2000 and 4000 check-ins the matcher is evaluated on a fixed set of evaluation
clients (the model frozen meanwhile). Exposure: the Gini coefficient of first-page appearances
(10 per list) over the therapists who met some evaluation client's hard constraints, for the
matcher at 2000 check-ins, filter-only and random.

Target (issue 16): the matcher's good-fit share ≥ 1.5 × filter-only after 2,000 check-ins.
Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from throwaway import RAPPORT, ROOT, prepared_environment

if TYPE_CHECKING:
    from rapport.directory.search.engine import SearchIndex
    from rapport.matching.answers import FitAnswers
    from rapport.matching.learning import ModelState

CHECKPOINTS = (0, 250, 500, 1000, 2000, 4000)
TARGET_CHECKPOINT = 2000
TARGET_RATIO = 1.5
FIRST_PAGE = 10

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


# --- the three ways of choosing ---------------------------------------------------------------


@dataclass
class Evaluated:
    """One evaluation client: who meets their hard constraints, and how well each fits."""

    client: Client
    rows: np.ndarray  # index rows meeting the hard constraints, ascending
    good: np.ndarray  # per entry of rows: a good fit?
    filter_first_page: np.ndarray  # index rows, the search's first page in its default order
    seed: int  # the client's ranking seed (tie-breaks and Thompson draws)


def _client_seed(seed: int, stream: int, number: int) -> int:
    return int(np.random.default_rng([seed, 4, stream, number]).integers(0, 2**62))


def _position_of(rows: np.ndarray, row: int) -> int:
    return int(np.searchsorted(rows, row))


class Simulation:
    def __init__(self, *, seed: int, now: dt.datetime) -> None:
        from rapport.directory.search.engine import current_index
        from rapport.matching import learning

        self.seed = seed
        self.now = now
        self.index = current_index()
        self.therapists = hidden_therapists(self.index, seed=seed)
        self.sums = learning.ModelSums()
        self.state = self.sums.state()
        self.check_ins = 0
        self.alliances: list[float] = []
        self.inputs: list[np.ndarray] = []
        self.therapist_ids: list[int] = []
        self.training_good: list[bool] = []

    def scored_rows(
        self, client: Client, seed: int, state: ModelState | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The matcher's order of the rows meeting the hard constraints, and their model
        inputs (what the learned part reads), as ranking computes them."""
        from rapport.matching import features, ranking

        result = ranking.scored(
            answers=client.answers,
            index=self.index,
            now=self.now,
            seed=seed,
            model=state or self.state,
        )
        return result.rows, features.model_inputs(result.degrees)

    def retrained(self) -> ModelState:
        """What `rapport retrain_matcher` would make of the outcomes so far: one fit of all of
        them, with the noise and effect variances estimated from their residuals."""
        from rapport.matching import learning

        if not self.alliances:
            return self.state
        sums = learning.fit(
            np.array(self.inputs), np.array(self.alliances), np.array(self.therapist_ids)
        )
        return sums.state(version=self.check_ins)

    def evaluated(self, client: Client) -> Evaluated | None:
        from rapport.directory.search.engine import search
        from rapport.directory.search.engine.query import filter_rows
        from rapport.matching import ranking

        query = ranking.constraints_query(client.answers, index=self.index)
        rows = filter_rows(query, now=self.now, index=self.index).rows
        if rows.size == 0:
            return None
        value = compatibility(client, self.therapists, rows, seed=self.seed, ids=self.index.ids)
        # The search page's own default order for these filters: nearest first with a place.
        default_order = replace(query, page=1, page_size=FIRST_PAGE)
        hits = search(default_order, now=self.now, index=self.index).hits
        first_page = self.index.rows_of_ids(np.array([hit.therapist_id for hit in hits]))
        return Evaluated(
            client=client,
            rows=rows,
            good=value > GOOD_FIT_THRESHOLD,
            filter_first_page=first_page,
            seed=_client_seed(self.seed, 0, client.number),
        )

    def matcher_first_pages(
        self, clients: Sequence[Evaluated], state: ModelState | None = None
    ) -> list[np.ndarray]:
        return [self.scored_rows(item.client, item.seed, state)[0][:FIRST_PAGE] for item in clients]

    def train(self, client: Client, rng: np.random.Generator) -> None:
        """One training client books the matcher's first choice and answers one early alliance
        check-in, which updates the model at once."""
        rows, inputs = self.scored_rows(client, _client_seed(self.seed, 1, client.number))
        if rows.size == 0:
            return
        row = int(rows[0])
        value = float(
            compatibility(
                client, self.therapists, np.array([row]), seed=self.seed, ids=self.index.ids
            )[0]
        )
        answer = alliance(value, rng)
        self.sums.add(inputs=inputs[0], alliance=answer, therapist_id=int(self.index.ids[row]))
        self.state = self.sums.state(version=self.check_ins + 1)
        self.check_ins += 1
        self.alliances.append(answer)
        self.inputs.append(inputs[0])
        self.therapist_ids.append(int(self.index.ids[row]))
        self.training_good.append(value > GOOD_FIT_THRESHOLD)


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


# --- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    therapists: int
    clients: int
    without_results: int
    median_candidates: float
    random_share: float
    filter_share: float
    curve: list[tuple[int, float, float]]  # check-ins, matcher online, after a retrain
    gini_matcher: float
    gini_filter: float
    gini_random: float
    distinct_matcher: int  # different therapists chosen first, over the evaluation clients
    distinct_filter: int
    training_good_share: float
    mean_alliance: float
    seconds: float


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
    filter_share = good_share(clients, [int(item.filter_first_page[0]) for item in clients])
    progress(f"{len(clients):,} evaluation clients; random {random_share:.3f}, "
             f"filter-only {filter_share:.3f}")  # fmt: skip

    curve: list[tuple[int, float, float]] = []
    matcher_pages: list[np.ndarray] = []
    training_rng = np.random.default_rng([arguments.seed, 6])
    number = 0
    for checkpoint in CHECKPOINTS:
        while simulation.check_ins < checkpoint:
            client = make_client(index, seed=arguments.seed, stream=1, number=number)
            simulation.train(client, training_rng)
            number += 1
        pages = simulation.matcher_first_pages(clients)
        share = good_share(clients, [int(page[0]) for page in pages])
        retrained_pages = simulation.matcher_first_pages(clients, simulation.retrained())
        retrained_share = good_share(clients, [int(page[0]) for page in retrained_pages])
        curve.append((checkpoint, share, retrained_share))
        if checkpoint == TARGET_CHECKPOINT:
            matcher_pages = pages
        progress(f"after {checkpoint:>5,} check-ins: matcher {share:.3f}, retrained "
                 f"{retrained_share:.3f}  ({time.perf_counter() - started:.0f} s)")  # fmt: skip

    return Report(
        therapists=index.size,
        clients=len(clients),
        without_results=without_results,
        median_candidates=float(np.median([item.rows.size for item in clients])),
        random_share=random_share,
        filter_share=filter_share,
        curve=curve,
        gini_matcher=exposure_gini(clients, matcher_pages, index.size),
        gini_filter=exposure_gini(
            clients, [item.filter_first_page for item in clients], index.size
        ),
        gini_random=exposure_gini(
            clients, random_first_pages(clients, seed=arguments.seed), index.size
        ),
        distinct_matcher=len({int(page[0]) for page in matcher_pages}),
        distinct_filter=len({int(item.filter_first_page[0]) for item in clients}),
        training_good_share=float(np.mean(simulation.training_good)),
        mean_alliance=float(np.mean(simulation.alliances)),
        seconds=time.perf_counter() - started,
    )


def print_report(report: Report, arguments: argparse.Namespace) -> bool:
    at_target = {check_ins: share for check_ins, share, _ in report.curve}[TARGET_CHECKPOINT]
    ratio = at_target / report.filter_share if report.filter_share else float("inf")
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
    print()
    print("(a) good-fit share of first consultations")
    print(f"    random among the hard constraints   {report.random_share:.3f}")
    print(f"    filter-only (search's first result) {report.filter_share:.3f}")
    print(f"    matcher after {TARGET_CHECKPOINT:,} check-ins        {at_target:.3f}")
    print()
    print("(b) learning curve: the matcher's good-fit share")
    print(f"    {'check-ins':>9}  {'share':>6}  {'× filter-only':>13}  {'× random':>8}  "
          f"{'retrained':>9}")  # fmt: skip
    for check_ins, share, retrained in report.curve:
        print(f"    {check_ins:>9,}  {share:>6.3f}  {share / report.filter_share:>13.2f}  "
              f"{share / report.random_share:>8.2f}  {retrained:>9.3f}")  # fmt: skip
    print(f"    (training clients' own first choices: {report.training_good_share:.3f} good "
          f"fits; mean early alliance {report.mean_alliance:.3f})")  # fmt: skip
    print()
    print("(c) exposure: Gini of first-page appearances (0 = even)")
    print(f"    matcher ({TARGET_CHECKPOINT:,} check-ins) {report.gini_matcher:.3f}")
    print(f"    filter-only            {report.gini_filter:.3f}")
    print(f"    random                 {report.gini_random:.3f}")
    print(f"    different therapists chosen first: matcher {report.distinct_matcher:,}, "
          f"filter-only {report.distinct_filter:,}")  # fmt: skip
    print()
    verdict = "met" if met else "MISSED"
    print(f"target: matcher ≥ {TARGET_RATIO} × filter-only after {TARGET_CHECKPOINT:,} check-ins: "
          f"{ratio:.2f} ({verdict})")  # fmt: skip
    print(f"ran in {report.seconds:.0f} s (after seeding)")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2000, help="evaluation clients")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--folder",
        help="reuse a folder whose SQLite database is already seeded with --therapists and "
        "--seed (for repeated runs); a temporary one by default",
    )
    arguments = parser.parse_args()

    def progress(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as temporary:
        folder = arguments.folder or temporary
        environment = prepared_environment(
            folder=folder, database_url=None, seed=arguments.seed, LOG_LEVEL="WARNING"
        )
        progress(f"seeding {arguments.therapists:,} therapists …")
        subprocess.run(
            [*RAPPORT, "seed", "-v0", f"--therapists={arguments.therapists}",
             f"--seed={arguments.seed}"],
            env=environment, check=True, cwd=ROOT,
        )  # fmt: skip
        os.environ.clear()
        os.environ.update(environment)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        report = simulate(arguments, progress=progress)
    print_report(report, arguments)


if __name__ == "__main__":
    main()
