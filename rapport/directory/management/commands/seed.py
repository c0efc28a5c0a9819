"""`rapport seed --therapists N --seed S`: a deterministic, realistic demo directory."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.directory.seeding.demo import demo_directory_clear, demo_directory_seed

MAX_THERAPISTS = 2_000_000


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {number}")
    if number > MAX_THERAPISTS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_THERAPISTS:,}, got {number:,}")
    return number


def _seed(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if not 0 <= number <= 2**31:
        raise argparse.ArgumentTypeError("must be between 0 and 2147483648")
    return number


class Command(BaseCommand):
    help = (
        "Fill the directory with generated therapists (taxonomies and credentials included). "
        "Deterministic for a given --seed, and idempotent: a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--therapists", type=_count, default=300, help="how many (≥ 0)")
        parser.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="delete the generated therapists of this seed instead",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed: int = options["seed"]
        if options["clear"]:
            deleted = demo_directory_clear(seed=seed)
            self.stdout.write(f"Deleted {deleted:,} generated therapists (seed {seed}).")
            return
        if settings.PRODUCTION:
            raise CommandError("Refusing to add demo therapists to a production database.")
        verbosity: int = options["verbosity"]

        def report(done: int, total: int) -> None:
            if verbosity >= 1 and total >= 10_000:
                self.stdout.write(f"  {done:,} / {total:,}")

        result = demo_directory_seed(therapists=options["therapists"], seed=seed, progress=report)
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Seeded {result.created:,} therapists "
                    f"({result.already_present:,} were already there) in {result.seconds:.1f} s."
                )
            )
