"""How long `rapport seed` takes for a large directory, against floors measured in the same run.

    .venv/bin/python bench/seed_speed.py [--therapists 100000] [--use-database-url]
    scripts/with-postgres .venv/bin/python bench/seed_speed.py --use-database-url

By default it uses a fresh SQLite file in a temporary folder (the default set-up);
--use-database-url seeds the database that DATABASE_URL names instead.
Prints: the seed time and rate; the generation-only floor (building the same therapists in
memory without writing); and the write share of the total.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from throwaway import RAPPORT, ROOT, database_url_option, prepared_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--use-database-url", action="store_true")
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as folder:
        environment = prepared_environment(
            folder=folder, database_url=database_url, seed=arguments.seed
        )
        rapport = RAPPORT

        def timed_seed() -> float:
            started = time.perf_counter()
            subprocess.run(
                [*rapport, "seed", "-v0", f"--therapists={arguments.therapists}",
                 f"--seed={arguments.seed}"],
                env=environment, check=True, cwd=ROOT,
            )  # fmt: skip
            return time.perf_counter() - started

        seed_seconds = timed_seed()
        rerun_seconds = timed_seed()  # everything is there already: measures the idempotence check

        floor = subprocess.run(
            [sys.executable, "-c", _GENERATE_ONLY, str(arguments.therapists), str(arguments.seed)],
            env=environment, check=True, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        generate_seconds = float(floor.stdout.strip())

    database = "PostgreSQL" if database_url else "SQLite"
    count = arguments.therapists
    print(f"database                 {database}")
    print(f"therapists               {count:,}")
    print(f"seed (fresh)             {seed_seconds:8.1f} s   {count / seed_seconds:10,.0f} /s")
    print(f"seed again (idempotent)  {rerun_seconds:8.1f} s   (adds nothing)")
    print(
        f"floor: generate only     {generate_seconds:8.1f} s   {count / generate_seconds:10,.0f} /s"
    )
    print(f"seed / floor             {seed_seconds / generate_seconds:8.2f} x")
    print(
        f"target                   < 180 s on SQLite: {'met' if seed_seconds < 180 else 'MISSED'}"
    )


# Builds the same therapists as the seed, in memory only: the cost no writer can avoid.
_GENERATE_ONLY = """
import sys, time, django
django.setup()
from django.utils import timezone
from rapport.directory.seeding.demo import _reference_data
from rapport.directory.seeding.generate import TherapistGenerator
count, seed = int(sys.argv[1]), int(sys.argv[2])
generator = TherapistGenerator(seed=seed, reference=_reference_data(), now=timezone.now())
started = time.perf_counter()
for index in range(count):
    generator.generate(index)
print(time.perf_counter() - started)
"""

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    main()
