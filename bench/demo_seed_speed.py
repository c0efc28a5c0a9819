"""How long each seeding step of `make demo` takes, against a floor measured in the same run.

    .venv/bin/python bench/demo_seed_speed.py [--therapists 300] [--use-database-url]
    scripts/with-postgres .venv/bin/python bench/demo_seed_speed.py --use-database-url

The steps run as `make demo` runs them, each a `rapport` command on a fresh database (a SQLite
file in a temporary folder unless --use-database-url): the directory, bookings, videos (which
draws and encodes the demo clips), care stories and fit profiles. The floor is `rapport check`:
starting Python and Django and doing nothing, the part of every step that is not seeding.
Prints each step's seconds and its ratio to the floor. Tests used to hold limits on some of
this (care stories under 10 s, fit profiles under 5 s, drawing one demo clip under 4 s; the
videos step here draws and converts all of them). Timings do not belong in tests on a shared,
noisy machine, so they are measured here.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time

from throwaway import RAPPORT, ROOT, database_url_option, prepared_environment

ROUNDS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--use-database-url", action="store_true")
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)
    seed = f"--seed={arguments.seed}"
    steps = [
        ("directory", ["seed", "-v0", f"--therapists={arguments.therapists}", seed]),
        ("bookings", ["seed_bookings", seed]),
        ("videos", ["seed_videos", seed]),
        ("care stories", ["seed_care", seed]),
        ("fit profiles", ["seed_matching"]),
    ]

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as folder:
        environment = prepared_environment(
            folder=folder, database_url=database_url, seed=arguments.seed, LOG_LEVEL="WARNING"
        )

        def timed(command: list[str]) -> float:
            started = time.perf_counter()
            subprocess.run(
                [*RAPPORT, *command], env=environment, check=True, cwd=ROOT, capture_output=True
            )
            return time.perf_counter() - started

        # The floor, best of a few: a process that starts Django and does nothing.
        floor = min(timed(["check"]) for _ in range(ROUNDS))
        # Each step once, in order, as on a fresh clone (a second run adds nothing).
        seconds = [(name, timed(command)) for name, command in steps]

    database = "PostgreSQL" if database_url else "SQLite"
    print(f"database                 {database}")
    print(f"floor (rapport check)    {floor:8.2f} s")
    for name, taken in seconds:
        print(f"{name:<24} {taken:8.2f} s   {taken / floor:6.1f}x the floor")


if __name__ == "__main__":
    main()
