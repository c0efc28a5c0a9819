"""How fast a real server ranks therapists for a fit profile, next to the search API in one run.

    .venv/bin/python bench/matching_speed.py [--therapists 100000] [--requests 1000]
    scripts/with-postgres .venv/bin/python bench/matching_speed.py --use-database-url
    .venv/bin/python bench/matching_speed.py --folder var/bench-100k   # keep and reuse the seeding

Seeds a throwaway database (a fresh SQLite file in a temporary folder by default;
--use-database-url uses the database DATABASE_URL names instead) as bench/search_speed.py does,
starts gunicorn from the venv on 127.0.0.1 only (2 workers, SERVER_TIMING=1), warms both workers
up, then sends a bounded number of requests per scenario (concurrency 4) and stops by itself:

  match      POST /api/v1/match with a fit profile near Toronto (a concern, a budget, a
             language preference, a style placement): the hard constraints through the
             search's filters, every therapist past them scored (preferences, style, the
             learned part with its Thompson draws), reasons and unmet preferences for the
             first page, and the first page's exposure counted (one small write)
  match_new  the same with a different budget on every request, so nothing computed for an
             earlier request can help
  api_new    GET /api/v1/therapists near Toronto with a different budget on every request:
             the search API, the floor the matcher is compared with
  floor      GET /healthz: a trivial JSON endpoint served the same way (one SELECT 1)

Prints p50/p95/p99 latency (client-side on loopback, and server-side from the Server-Timing
header: the time Django spent), throughput, the ratio of each to the search API, and whether
the matcher's server-side p95 stays within 50 ms (issue 16).

Then, in this process against the same database, ranks without HTTP for reference:
``ranking.rank`` alone (what the endpoint calls: constraints, scores, the first page's cards and
reasons), and ``ranking.scored`` alone (constraints and scores, no cards) with the model's prior
and with a learned model holding effects for half the therapists (the cost of the learned part
with data). The model update per check-in has its own bench, bench/matching_update_speed.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from search_speed import (
    HOST,
    Measurement,
    _exit_on_terminate,
    _free_port,
    _percentile,
    _stop,
    _wait_until_up,
    measure_requests,
)
from throwaway import (
    ROOT,
    database_url_option,
    prepared_environment,
    seed_therapists,
    start_django,
)

P95_TARGET_MS = 50.0
# The example fit profile, with a language and a style placement; {n} is the budget.
MATCH_BODY = (
    '{"place": "Toronto, ON", "concerns": ["anxiety"], "budget_per_session": {n}, '
    '"preferences": {"language": {"weight": 2, "values": ["en"]}}, '
    '"style": {"style_structure": 2}}'
)
FIXED_BUDGET = "150"


@dataclass(frozen=True)
class Scenario:
    method: str
    path: str
    body: str | None = None  # {n}: a number of its own for every request


SCENARIOS = {
    "match": Scenario("POST", "/api/v1/match", MATCH_BODY.replace("{n}", FIXED_BUDGET)),
    "match_new": Scenario("POST", "/api/v1/match", MATCH_BODY),
    "api_new": Scenario(
        "GET",
        "/api/v1/therapists?near=Toronto&radius_km=25&concern=anxiety&language=en"
        "&max_fee={n}&sliding_scale=1&sort=distance",
    ),
    "floor": Scenario("GET", "/healthz"),
}
MATCH_SCENARIOS = ("match", "match_new")
FLOOR = "api_new"


def _send(port: int, scenario: Scenario, number: int) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        number_text = str(number)
        path = scenario.path.replace("{n}", number_text)
        if scenario.body is None:
            connection.request("GET", path)
        else:
            body = scenario.body.replace("{n}", number_text).encode()
            connection.request(
                scenario.method, path, body=body, headers={"Content-Type": "application/json"}
            )
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def measure(port: int, scenario: Scenario, *, requests: int, concurrency: int) -> Measurement:
    """search_speed's load loop with this scenario's request (a POST body where it has one)."""
    return measure_requests(
        lambda number: _send(port, scenario, number), requests=requests, concurrency=concurrency
    )


def _check_answers(port: int) -> tuple[int, int]:
    """Every scenario answers 200 once; (therapists meeting the match's constraints, search
    matches) at the fixed budget."""
    totals = {}
    for name, scenario in SCENARIOS.items():
        response = _send(port, scenario, int(FIXED_BUDGET))
        if response.status != 200:
            sys.exit(f"{name} answered {response.status}")
    for name in ("match", "api_new"):
        scenario = SCENARIOS[name]
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            path = scenario.path.replace("{n}", FIXED_BUDGET)
            body = scenario.body.encode() if scenario.body else None
            headers = {"Content-Type": "application/json"} if body else {}
            connection.request(scenario.method, path, body=body, headers=headers)
            answer = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        totals[name] = int(answer["total"])
        if name == "match" and not answer["results"]:
            sys.exit("the match answered no results")
        if name == "match" and not answer["results"][0]["reasons"]:
            sys.exit("the match's first result has no reasons")
    return totals["match"], totals["api_new"]


# --- in process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InProcess:
    rank_p50_ms: float
    rank_p95_ms: float
    scored_prior_p50_ms: float
    scored_prior_p95_ms: float
    scored_learned_p50_ms: float
    scored_learned_p95_ms: float
    candidates: int
    learned_effects: int


def _timed(call: Callable[[int], object], runs: int) -> tuple[float, float]:
    samples = []
    for number in range(runs):
        started = time.perf_counter()
        call(number)
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return statistics.median(ordered), _percentile(ordered, 0.95)


def in_process(runs: int, *, seed: int) -> InProcess:
    """rank() and scored() without HTTP, after a warm-up, budgets varying as over HTTP."""
    import numpy as np

    from rapport.directory.search.engine import current_index
    from rapport.matching import features, learning, ranking, terms
    from rapport.matching.answers import FitAnswers, answers_from_data

    index = current_index()
    slugs = terms.active_slugs(index)
    now = dt.datetime.now(dt.UTC)

    def answers(number: int) -> FitAnswers:
        return answers_from_data(
            json.loads(MATCH_BODY.replace("{n}", str(100 + number))), term_slugs=slugs
        )

    prepared = [answers(number) for number in range(runs)]

    def rank(number: int) -> None:
        ranking.rank(answers=prepared[number], now=now, seed=number, index=index)

    # A learned model: one outcome each for half the therapists, so every draw looks one up.
    rng = np.random.default_rng(seed)
    sums = learning.ModelSums()
    chosen = rng.choice(index.ids, size=index.size // 2, replace=False)
    width = len(features.FEATURES)
    for therapist_id in chosen.tolist():
        inputs = rng.uniform(-1, 1, width)
        sums.add(inputs=inputs, alliance=float(rng.uniform(0.3, 1.0)), therapist_id=therapist_id)
    learned = sums.state(version=1)
    prior = learning.prior_state()

    def scored_with(state: learning.ModelState) -> Callable[[int], None]:
        def call(number: int) -> None:
            ranking.scored(
                answers=prepared[number],
                index=index,
                now=now,
                seed=number,
                model=state,
            )

        return call

    for number in range(min(runs, 20)):  # warm-up: geocoder, term lookups, caches
        rank(number)
    rank_p50, rank_p95 = _timed(rank, runs)
    prior_p50, prior_p95 = _timed(scored_with(prior), runs)
    learned_p50, learned_p95 = _timed(scored_with(learned), runs)
    candidates = int(
        ranking.scored(
            answers=answers(int(FIXED_BUDGET) - 100),
            index=index,
            now=now,
            seed=0,
            model=prior,
        ).rows.size
    )
    return InProcess(
        rank_p50_ms=rank_p50,
        rank_p95_ms=rank_p95,
        scored_prior_p50_ms=prior_p50,
        scored_prior_p95_ms=prior_p95,
        scored_learned_p50_ms=learned_p50,
        scored_learned_p95_ms=learned_p95,
        candidates=candidates,
        learned_effects=int(chosen.size),
    )


# --- the run -------------------------------------------------------------------------------


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=1000, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--runs", type=int, default=300, help="in-process calls of each")
    parser.add_argument("--use-database-url", action="store_true")
    parser.add_argument(
        "--folder",
        help="keep the SQLite database in this folder, and reuse it when it is already seeded "
        "with --therapists and --seed (for repeated runs); a temporary one by default",
    )
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as temporary:
        folder_name = arguments.folder or temporary
        folder = Path(folder_name)
        environment = prepared_environment(
            folder=folder_name,
            database_url=database_url,
            seed=arguments.seed,
            DEBUG="0",
            ALLOWED_HOSTS=HOST,
            LOG_LEVEL="WARNING",
            SERVER_TIMING="1",
        )
        print(f"seeding {arguments.therapists:,} therapists …", flush=True)
        started = time.perf_counter()
        seed_therapists(environment, therapists=arguments.therapists, seed=arguments.seed)
        seed_seconds = time.perf_counter() - started

        port = _free_port()
        log = folder / "gunicorn.log"
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "rapport.wsgi",
                 "-b", f"{HOST}:{port}", "-w", str(arguments.workers), "--timeout", "120"],
                env=environment, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_until_up(port, server, log)
            match_total, search_total = _check_answers(port)
            # Warm-up: every worker builds its search index and reads the model first.
            for scenario in SCENARIOS.values():
                measure(
                    port,
                    scenario,
                    requests=25 * arguments.workers,
                    concurrency=max(arguments.workers, arguments.concurrency),
                )
            results = {
                name: measure(
                    port, scenario, requests=arguments.requests, concurrency=arguments.concurrency
                )
                for name, scenario in SCENARIOS.items()
            }
        finally:
            _stop(server)

        start_django(environment)
        local = in_process(arguments.runs, seed=arguments.seed)

    database = "PostgreSQL" if database_url else "SQLite"
    _report(
        arguments,
        results,
        local,
        database=database,
        seed_seconds=seed_seconds,
        match_total=match_total,
        search_total=search_total,
    )


def _report(
    arguments: argparse.Namespace,
    results: dict[str, Measurement],
    local: InProcess,
    *,
    database: str,
    seed_seconds: float,
    match_total: int,
    search_total: int,
) -> None:
    print(f"database        {database}")
    print(f"therapists      {arguments.therapists:,} (seeded in {seed_seconds:.0f} s)")
    print(f"server          gunicorn, {arguments.workers} sync workers, {HOST} only")
    print(f"client          python (threads + http.client), concurrency "
          f"{arguments.concurrency}, loopback")  # fmt: skip
    print(f"match           {MATCH_BODY.replace('{n}', FIXED_BUDGET)}")
    print(f"                {match_total:,} therapists meet its hard constraints "
          f"(the search near Toronto: {search_total:,})")  # fmt: skip
    print()
    print("                              client-side (loopback)      server-side (Server-Timing)")
    print(f"{'scenario':<9} {'requests':>9} {'failed':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'p50 ms':>9} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")  # fmt: skip
    for name, result in results.items():
        print(
            f"{name:<9} {result.requests:>9,} {result.failures:>7} {result.p50_ms:>8.1f} "
            f"{result.p95_ms:>8.1f} {result.p99_ms:>8.1f} {result.server_p50_ms:>9.1f} "
            f"{result.server_p95_ms:>8.1f} {result.server_p99_ms:>8.1f} "
            f"{result.per_second:>8.0f}"
        )
    print()
    floor = results[FLOOR]
    for name in MATCH_SCENARIOS:
        result = results[name]
        p95_ratio = result.server_p95_ms / floor.server_p95_ms
        throughput_ratio = result.per_second / floor.per_second
        print(
            f"{name} / search API: server-side p95 {p95_ratio:4.1f}x, "
            f"throughput {throughput_ratio:4.2f}"
        )
    print()
    print(f"in process, {arguments.runs} calls each (no HTTP), {local.candidates:,} candidates "
          "at the fixed budget")  # fmt: skip
    print(f"  rank()                          p50 {local.rank_p50_ms:6.1f} ms   "
          f"p95 {local.rank_p95_ms:6.1f} ms")  # fmt: skip
    print(f"  scored(), the prior model       p50 {local.scored_prior_p50_ms:6.1f} ms   "
          f"p95 {local.scored_prior_p95_ms:6.1f} ms")  # fmt: skip
    learned = f"scored(), {local.learned_effects:,} learned effects"
    print(f"  {learned:<31} p50 {local.scored_learned_p50_ms:6.1f} ms   "
          f"p95 {local.scored_learned_p95_ms:6.1f} ms")  # fmt: skip
    update_bench = ROOT / "bench" / "matching_update_speed.py"
    if update_bench.exists():
        print("  model update per check-in: .venv/bin/python bench/matching_update_speed.py")
    print()
    for name in MATCH_SCENARIOS:
        p95 = results[name].server_p95_ms
        verdict = "met" if p95 <= P95_TARGET_MS else "MISSED"
        print(f"{name} server-side p95 ≤ {P95_TARGET_MS:.0f} ms   {p95:5.1f}   ({verdict})")
    if any(result.failures for result in results.values()):
        sys.exit("some requests failed (see the 'failed' column)")


if __name__ == "__main__":
    main()
