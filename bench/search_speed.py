"""How fast a real server answers a directory search, against a floor measured in the same run.

    .venv/bin/python bench/search_speed.py [--therapists 100000] [--requests 2000]
    .venv/bin/python bench/search_speed.py --folder var/bench-100k   # keep and reuse the seeding
    scripts/with-postgres .venv/bin/python bench/search_speed.py --use-database-url

Seeds a throwaway database (a fresh SQLite file in a temporary folder by default;
--use-database-url uses the database DATABASE_URL names instead), starts gunicorn from the venv
on 127.0.0.1 only (2 workers), warms both workers up, then sends a bounded number of requests
per scenario (concurrency 4), in five rounds of every scenario in turn so that the floor and the
searches meet the same conditions when the machine's speed drifts, and stops by itself:

  api    GET /api/v1/therapists near Toronto, radius 25 km, three filters, sort=distance,
         facet counts included
  html   GET /therapists/ with the same query string: the full page
  api_new  the same API search with a different budget on every request, so the server's
         per-minute answer cache never helps: the cost of a search nobody ran before
  profile  GET /api/v1/therapists/{id}: one public profile (the first result of the api search)
  floor  GET /healthz: a trivial JSON endpoint served the same way (one SELECT 1)

Free times are measured in-process by bench/slot_speed.py (it writes the availability they need).

Prints p50/p95/p99 latency and throughput for each, the api/floor throughput ratios (goal ≥ 0.5)
and whether the server-side p95 stays within the targets (a search, fresh or repeated, 10 ms; the
results page 30 ms; a profile 5 ms). Server-side latency is what the server reports in its
``Server-Timing`` header (SERVER_TIMING=1): the time Django spent on the request. Client-side
latency is measured on loopback, so it also includes connecting (gunicorn's sync workers close the
connection after every response) and waiting in the listen queue. The client is plain Python
(threads and http.client), sending exactly --requests requests per scenario. (wrk was tried:
against sync workers, which close every connection, wrk 4.1 stalls with unread responses, so the
bench does not use it.) The Python client shares the machine's CPUs with the server, which lowers
every scenario's throughput alike; the ratio to the floor is the figure to compare between runs and
machines.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from throwaway import RAPPORT, ROOT, database_url_option, prepared_environment

HOST = "127.0.0.1"

SEARCH_QUERY = "near=Toronto&radius_km=25&concern=anxiety&language=en&max_fee=200&sort=distance"
SCENARIOS = {
    "api": f"/api/v1/therapists?{SEARCH_QUERY}",
    "html": f"/therapists/?{SEARCH_QUERY}",
    # A different budget on every request ({n} is the request's number), so no answer is ever
    # reused from the server's per-minute answer cache: the cost of a search nobody ran before.
    "api_new": "/api/v1/therapists?near=Toronto&radius_km=25&concern=anxiety&language=en"
    "&max_fee={n}&sliding_scale=1&sort=distance",
    # {id} is the public id of the api search's first result.
    "profile": "/api/v1/therapists/{id}",
    "floor": "/healthz",
}
# The targets, server-side: a fresh search (api_new) within 10 ms, the results page
# within 30 ms, a profile within 5 ms; a repeated search (api) is held to the fresh one's.
P95_TARGETS_MS = {"api": 10.0, "api_new": 10.0, "html": 30.0, "profile": 5.0}
THROUGHPUT_RATIO_GOAL = 0.5


@dataclass(frozen=True)
class Measurement:
    requests: int
    failures: int  # non-200 answers and connection errors
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # What the server says it spent (its Server-Timing header): the "server-side".
    server_p50_ms: float
    server_p95_ms: float
    server_p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


# --- clients ---------------------------------------------------------------------------------


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


@dataclass
class Samples:
    """What the requests of one scenario gave, gathered over one or more rounds."""

    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0

    def measurement(self) -> Measurement:
        ordered = sorted(self.latencies_ms)
        on_server = sorted(self.server_ms) or [0.0]
        return Measurement(
            requests=len(ordered),
            failures=self.failures,
            seconds=self.seconds,
            p50_ms=statistics.median(ordered),
            p95_ms=_percentile(ordered, 0.95),
            p99_ms=_percentile(ordered, 0.99),
            server_p50_ms=statistics.median(on_server),
            server_p95_ms=_percentile(on_server, 0.95),
            server_p99_ms=_percentile(on_server, 0.99),
        )


def measure_with_python(
    port: int,
    path: str,
    *,
    requests: int,
    concurrency: int,
    first_number: int = 100,
    into: Samples | None = None,
) -> Measurement:
    """Exactly ``requests`` GETs of ``path`` (its {n} replaced by each request's number)."""

    def get(number: int) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            connection.request("GET", path.replace("{n}", str(number)))
            response = connection.getresponse()
            response.read()
            return response
        finally:
            connection.close()

    return measure_requests(
        get, requests=requests, concurrency=concurrency, first_number=first_number, into=into
    )


def measure_requests(
    send: Callable[[int], http.client.HTTPResponse],
    *,
    requests: int,
    concurrency: int,
    first_number: int = 100,
    into: Samples | None = None,
) -> Measurement:
    """Exactly ``requests`` calls of ``send`` (one request on a new connection, as the server
    closes it, read to the last byte) from ``concurrency`` threads, each timed. Request k gets
    the number ``first_number`` + k, so a scenario with a number in it (a budget) stays
    plausible and, over several rounds, never repeats. Added to ``into`` when given: the
    answer is then what every round so far gave."""
    samples = into if into is not None else Samples()
    lock = threading.Lock()
    numbers = iter(range(first_number, first_number + requests))

    def worker() -> None:
        mine: list[float] = []
        mine_on_server: list[float] = []
        failed = 0
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                break
            started = time.perf_counter()
            try:
                response = send(number)
                if response.status != 200:
                    failed += 1
                mine_on_server.append(_server_milliseconds(response))
            except OSError:
                failed += 1
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            samples.latencies_ms.extend(mine)
            samples.server_ms.extend(mine_on_server)
            samples.failures += failed

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    samples.seconds += time.perf_counter() - started
    return samples.measurement()


def _server_milliseconds(response: http.client.HTTPResponse) -> float:
    """``Server-Timing: app;dur=12.34`` → 12.34 (SERVER_TIMING is on for the bench's server)."""
    header = response.getheader("Server-Timing") or ""
    for metric in header.split(","):
        name, _, parameters = metric.strip().partition(";")
        if name == "app" and parameters.startswith("dur="):
            return float(parameters.removeprefix("dur="))
    sys.exit(f"no Server-Timing header in the answer (got {header!r})")


# --- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_until_up(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start-up:\n{log.read_text()[-3000:]}")
        try:
            if _get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the gunicorn master this script started (by its PID); it stops its workers."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _exit_on_terminate(signal_number: int, frame: object) -> None:
    # Turn SIGTERM (Ctrl-C's cousin, and what `timeout` sends) into SystemExit, so the
    # server is stopped and the temporary folder removed on the way out.
    sys.exit(f"stopped by signal {signal_number}")


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="measure the scenarios in turn this many times, --requests in all per scenario",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--use-database-url", action="store_true")
    parser.add_argument(
        "--folder",
        help="keep the SQLite database in this folder, and reuse it when it is already seeded "
        "with --therapists and --seed (seeding adds nothing a second time); a temporary one "
        "by default",
    )
    arguments = parser.parse_args()
    if not 1 <= arguments.rounds <= arguments.requests:
        parser.error("--rounds must be between 1 and --requests")
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
        rapport = RAPPORT
        print(f"seeding {arguments.therapists:,} therapists …", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [*rapport, "seed", "-v0", f"--therapists={arguments.therapists}",
             f"--seed={arguments.seed}"],
            env=environment, check=True, cwd=ROOT,
        )  # fmt: skip
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
            results, total = _run_scenarios(port, arguments)
        finally:
            _stop(server)

    _report(arguments, results, total=total, seed_seconds=seed_seconds,
            database="PostgreSQL" if database_url else "SQLite")  # fmt: skip


def _run_scenarios(port: int, arguments: argparse.Namespace) -> tuple[dict[str, Measurement], int]:
    status, body = _get(port, SCENARIOS["api"])
    if status != 200:
        sys.exit(f"the search API answered {status}: {body[:500]!r}")
    answer = json.loads(body)
    total = int(answer["total"])
    profile_id = str(answer["results"][0]["id"])
    scenarios = {name: path.replace("{id}", profile_id) for name, path in SCENARIOS.items()}
    # The checks and the warm-up use numbers (budgets) past the measured ones, 100 to
    # 100 + --requests, so that no measured "new" search was asked before.
    unmeasured = 100 + arguments.requests
    for name, path in scenarios.items():
        status, body = _get(port, path.replace("{n}", str(unmeasured)))
        if status != 200:
            sys.exit(f"{name} ({path}) answered {status}: {body[:300]!r}")
    # Warm-up: every worker builds its search index and fills its caches before timing. The
    # requests are spread over the workers by the kernel, so send plenty, concurrently.
    for path in scenarios.values():
        measure_with_python(
            port,
            path,
            requests=25 * arguments.workers,
            concurrency=max(arguments.workers, arguments.concurrency),
            first_number=unmeasured + 1,
        )

    # In rounds, every scenario in turn: the machine's speed drifts over a run (other work on
    # the host, CPU frequency), and a floor measured only at the end would see other
    # conditions than the searches it is the floor of.
    samples = {name: Samples() for name in scenarios}
    for round_number in range(arguments.rounds):
        first = round_number * arguments.requests // arguments.rounds
        last = (round_number + 1) * arguments.requests // arguments.rounds
        for name, path in scenarios.items():
            measure_with_python(
                port,
                path,
                requests=last - first,
                concurrency=arguments.concurrency,
                first_number=100 + first,
                into=samples[name],
            )
    return {name: gathered.measurement() for name, gathered in samples.items()}, total


def _report(
    arguments: argparse.Namespace,
    results: dict[str, Measurement],
    *,
    total: int,
    seed_seconds: float,
    database: str,
) -> None:
    client = "python (threads + http.client)"
    print(f"database        {database}")
    print(f"therapists      {arguments.therapists:,} (seeded in {seed_seconds:.0f} s)")
    print(f"server          gunicorn, {arguments.workers} sync workers, {HOST} only")
    print(f"client          {client}, concurrency {arguments.concurrency}, loopback")
    print(f"query           {SEARCH_QUERY}  ({total:,} matches)")
    print()
    print("                             client-side (loopback)      server-side (Server-Timing)")
    print(f"{'scenario':<8} {'requests':>9} {'failed':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'p50 ms':>9} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")  # fmt: skip
    for name, result in results.items():
        print(
            f"{name:<8} {result.requests:>9,} {result.failures:>7} {result.p50_ms:>8.1f} "
            f"{result.p95_ms:>8.1f} {result.p99_ms:>8.1f} {result.server_p50_ms:>9.1f} "
            f"{result.server_p95_ms:>8.1f} {result.server_p99_ms:>8.1f} "
            f"{result.per_second:>8.0f}"
        )
    print()
    for name in ("api", "api_new"):
        ratio = results[name].per_second / results["floor"].per_second
        verdict = "met" if ratio >= THROUGHPUT_RATIO_GOAL else "MISSED"
        print(
            f"{name} / floor throughput {ratio:5.2f}   (goal ≥ {THROUGHPUT_RATIO_GOAL}: {verdict})"
        )
    for name, target in P95_TARGETS_MS.items():
        p95 = results[name].server_p95_ms
        verdict = "met" if p95 <= target else "MISSED"
        print(f"{name} server-side p95 ≤ {target:.0f} ms   {p95:5.1f}   ({verdict})")
    if any(result.failures for result in results.values()):
        sys.exit("some requests failed (see the 'failed' column)")


if __name__ == "__main__":
    main()
