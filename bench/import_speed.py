"""How long `rapport import_therapists` takes for a large file, on a fresh throwaway database.

    .venv/bin/python bench/import_speed.py [--rows 10000] [--format csv|jsonl] [--use-database-url]

Generates a file of distinct therapists in the documented format (docs/import-format.md: every
profile field, a licence or two, offices for most, weekly availability), imports it into a fresh
SQLite file in a temporary folder (or the database DATABASE_URL names, with --use-database-url),
then imports the same file again (every row an update, nothing added). Prints rows per second
and total seconds for both (with the command's CPU seconds: on a shared machine the wall clock
also counts time spent waiting for a core), and the time to write the file, for comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from throwaway import RAPPORT, ROOT, database_url_option, prepared_environment

# Places whose postal codes and regulators the reference data knows.
_PLACES = (
    ("Toronto", "CA-ON", "M5H 2N2", "America/Toronto", "CAD", "CRPO", "RP", "{:05d}"),
    ("Ottawa", "CA-ON", "K1P 5G4", "America/Toronto", "CAD", "OCSWSSW", "RSW", "8{:05d}"),
    ("Vancouver", "CA-BC", "V6B 1A1", "America/Vancouver", "CAD", "BCACC", "RCC", "{:05d}"),
    ("New York", "US-NY", "10001", "America/New_York", "USD", "NYSED", "LCSW", "0{:05d}"),
)
_CONCERNS = ("anxiety", "depression", "trauma", "grief", "relationships", "stress", "adhd", "ocd")
_MODALITIES = ("cbt", "dbt", "act", "emdr", "eft", "psychodynamic", "narrative", "mindfulness")
_POPULATIONS = ("individuals", "couples", "families", "teens", "older-adults")
_LANGUAGES = ("en", "fr", "es", "pa", "hi", "ar", "zh-cmn")
_STYLE_FIELDS = (
    "style_structure",
    "style_direction",
    "style_challenge",
    "style_time_focus",
    "style_humour",
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat")
_FIRST = ("Amara", "Jonah", "Maya", "Louis", "Priya", "Sam", "Noor", "Elena", "Kenji", "Aisha")
_LAST = ("Okafor", "Levi", "Chen", "Tremblay", "Singh", "Morales", "Haddad", "Kowalski", "Ito")

CSV_HEADER = [
    "external_id", "email", "display_name", "pronouns", "gender_category", "languages",
    "lgbtq2s_affirming", "practice_start_year", "headline", "about", "approach", "designation",
    "concerns", "modalities", "populations", "style_structure", "style_direction",
    "style_challenge", "style_time_focus", "style_humour", "fee", "currency",
    "sliding_scale_min", "accepts_insurance", "session_minutes", "consultation_minutes",
    "offers_in_person", "offers_video", "offers_phone", "time_zone", "accepting_new_clients",
    "between_session_contact", "reply_within_hours", "licence_1_jurisdiction",
    "licence_1_regulator", "licence_1_designation", "licence_1_number", "office_1_street_address",
    "office_1_city", "office_1_jurisdiction", "office_1_postal_code",
    "office_1_accessibility_features", "availability",
]  # fmt: skip


def therapist_row(index: int, chance: random.Random) -> dict[str, str]:
    city, jurisdiction, postal, zone, currency, regulator, designation, number = chance.choice(
        _PLACES
    )
    in_person = chance.random() < 0.7
    fee = chance.randrange(90, 260)
    days = chance.sample(_DAYS, chance.randint(1, 4))
    name = f"{chance.choice(_FIRST)} {chance.choice(_LAST)}"
    return {
        "external_id": f"bench-{index:07d}",
        "email": f"therapist{index}@practice.example",
        "display_name": f"{name} {index}",
        "pronouns": chance.choice(("she/her", "he/him", "they/them", "")),
        "gender_category": chance.choice(("woman", "man", "non_binary", "undisclosed")),
        "languages": ";".join(chance.sample(_LANGUAGES, chance.randint(1, 2))),
        "lgbtq2s_affirming": chance.choice(("yes", "no")),
        "practice_start_year": str(chance.randint(1990, 2024)),
        "headline": "Practical, warm help with what matters to you now",
        "about": "I work with adults and couples. " * chance.randint(3, 12),
        "approach": "Evidence-based and collaborative.",
        "designation": designation,
        "concerns": ";".join(chance.sample(_CONCERNS, 3)),
        "modalities": ";".join(chance.sample(_MODALITIES, 2)),
        "populations": ";".join(chance.sample(_POPULATIONS, 2)),
        **{field: str(chance.randint(1, 5)) for field in _STYLE_FIELDS},
        "fee": f"{fee}.00",
        "currency": currency,
        "sliding_scale_min": f"{fee - 30}.00" if chance.random() < 0.3 else "",
        "accepts_insurance": chance.choice(("yes", "no")),
        "session_minutes": chance.choice(("50", "60")),
        "consultation_minutes": chance.choice(("0", "15", "20")),
        "offers_in_person": "yes" if in_person else "no",
        "offers_video": "yes",
        "offers_phone": chance.choice(("yes", "no")),
        "time_zone": zone,
        "accepting_new_clients": "yes",
        "between_session_contact": chance.choice(("none", "scheduling", "brief_check_ins")),
        "reply_within_hours": chance.choice(("24", "48")),
        "licence_1_jurisdiction": jurisdiction,
        "licence_1_regulator": regulator,
        "licence_1_designation": designation,
        "licence_1_number": number.format(index % 100_000),
        "office_1_street_address": f"{chance.randint(1, 999)} Main St" if in_person else "",
        "office_1_city": city if in_person else "",
        "office_1_jurisdiction": jurisdiction if in_person else "",
        "office_1_postal_code": postal if in_person else "",
        "office_1_accessibility_features": "step-free;elevator" if in_person else "",
        "availability": "; ".join(f"{day} 09:00-12:00; {day} 13:00-17:00" for day in days),
    }


def write_file(path: Path, *, rows: int, file_format: str, seed: int) -> None:
    chance = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        if file_format == "csv":
            writer = csv.DictWriter(handle, fieldnames=CSV_HEADER, lineterminator="\n")
            writer.writeheader()
            for index in range(rows):
                writer.writerow(therapist_row(index, chance))
            return
        for index in range(rows):
            row = therapist_row(index, chance)
            record: dict[str, object] = {
                key: value
                for key, value in row.items()
                if value and not key.startswith(("licence_", "office_"))
            }
            record["licences"] = [
                {key: row[f"licence_1_{key}"] for key in ("jurisdiction", "regulator", "number")}
            ]
            if row["office_1_city"]:
                record["offices"] = [
                    {
                        key: row[f"office_1_{key}"]
                        for key in ("street_address", "city", "jurisdiction", "postal_code")
                    }
                ]
            handle.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--use-database-url", action="store_true")
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as folder:
        # DEBUG off, as on a server: Django's debug cursor would time and keep every query.
        environment = prepared_environment(
            folder=folder, database_url=database_url, seed=arguments.seed, DEBUG="false"
        )
        subprocess.run(
            [*RAPPORT, "loaddata", "-v0", "taxonomies", "credentials"],
            env=environment, check=True, cwd=ROOT,
        )  # fmt: skip
        path = Path(folder) / f"therapists.{arguments.format}"
        started = time.perf_counter()
        write_file(path, rows=arguments.rows, file_format=arguments.format, seed=arguments.seed)
        generate_seconds = time.perf_counter() - started

        def timed_import() -> tuple[float, float]:
            """Wall-clock seconds, and the CPU seconds of the command (which do not grow when
            other work shares the machine)."""
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(
                [*RAPPORT, "import_therapists", str(path), "-v0"],
                env=environment, check=True, cwd=ROOT,
            )  # fmt: skip
            wall = time.perf_counter() - started
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
                cpu_after.ru_stime - cpu_before.ru_stime
            )
            return wall, cpu

        (first, first_cpu), (again, again_cpu) = timed_import(), timed_import()
        size = path.stat().st_size

    database = "PostgreSQL" if database_url else "SQLite"
    rows = arguments.rows
    print(f"database                  {database}")
    print(f"rows                      {rows:,} ({arguments.format}, {size / 2**20:.1f} MB)")
    print(
        f"import (all new)          {first:8.1f} s   {rows / first:10,.0f} rows/s"
        f"   (CPU {first_cpu:.1f} s)"
    )
    print(
        f"import again (updates)    {again:8.1f} s   {rows / again:10,.0f} rows/s"
        f"   (CPU {again_cpu:.1f} s)"
    )
    print(f"floor: write the file     {generate_seconds:8.1f} s")
    print(f"target                    < 60 s on SQLite: {'met' if first < 60 else 'MISSED'}")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    main()
