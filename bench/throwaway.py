"""A throwaway Rapport database for a benchmark: shared by every script in bench/."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RAPPORT = [sys.executable, "-m", "rapport.cli"]


def database_url_option(
    parser: argparse.ArgumentParser, arguments: argparse.Namespace
) -> str | None:
    """DATABASE_URL when --use-database-url was given (e.g. under scripts/with-postgres)."""
    database_url = os.environ.get("DATABASE_URL") if arguments.use_database_url else None
    if arguments.use_database_url and not database_url:
        parser.error("--use-database-url needs DATABASE_URL to be set")
    return database_url


# Settings for a bench that requests pages in this process through Django's test client and
# reads the time each took from its Server-Timing header.
PAGES_IN_PROCESS = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "testserver",
    "LOG_LEVEL": "WARNING",
    "SERVER_TIMING": "1",
}


def prepared_environment(
    *, folder: str, database_url: str | None, seed: int, **settings: str
) -> dict[str, str]:
    """Environment for `rapport` commands against a fresh, migrated database: a SQLite file in
    ``folder``, or ``database_url`` emptied of an earlier run's therapists of ``seed``."""
    environment = dict(os.environ, RAPPORT_ENV="development", RAPPORT_VAR_DIR=folder, **settings)
    if "DEBUG" not in settings:
        environment.pop("DEBUG", None)
    if database_url:
        environment["DATABASE_URL"] = database_url
    else:
        environment.pop("DATABASE_URL", None)
    subprocess.run([*RAPPORT, "migrate", "-v0"], env=environment, check=True, cwd=ROOT)
    if database_url:
        subprocess.run(
            [*RAPPORT, "seed", "--clear", "--seed", str(seed)],
            env=environment, check=True, cwd=ROOT, capture_output=True,
        )  # fmt: skip
    return environment


# The Server-Timing header rapport's ServerTimingMiddleware writes (SERVER_TIMING=1): the
# view's milliseconds, and the database's with the number of queries when there were any.
SERVER_TIMING = re.compile(
    r'app;dur=(?P<app>[\d.]+)(?:, db;dur=(?P<db>[\d.]+);desc="(?P<queries>\d+))?'
)


def server_timing(response: Any, path: str) -> tuple[float, float, int]:
    """(server ms, database ms, queries) of a 200 answer; stops the benchmark otherwise."""
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code}")
    match = SERVER_TIMING.match(response.headers.get("Server-Timing", ""))
    if match is None:
        sys.exit(f"no Server-Timing header from {path}: {response.headers!r}")
    return float(match["app"]), float(match["db"] or 0), int(match["queries"] or 0)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of values already sorted."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def seed_therapists(environment: dict[str, str], *, therapists: int, seed: int) -> None:
    """``rapport seed`` against the environment's database (adds nothing already there)."""
    subprocess.run(
        [*RAPPORT, "seed", "-v0", f"--therapists={therapists}", f"--seed={seed}"],
        env=environment, check=True, cwd=ROOT,
    )  # fmt: skip


def start_django(environment: dict[str, str]) -> None:
    """Run the rest of a bench in this process, against the environment's database."""
    os.environ.clear()
    os.environ.update(environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
