"""`rapport seed_bookings --seed S [--clear]`: demo booking data for the generated therapists."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.booking.seeding import demo_bookings_clear, demo_bookings_seed


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
        "Give every generated therapist (from `rapport seed`) booking policies, weekly hours, "
        "date exceptions and a history of consultations. Deterministic for a given --seed "
        "(relative to now), and idempotent: therapists with booking data are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="delete the booking data of all generated therapists instead",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clear"]:
            deleted = demo_bookings_clear()
            self.stdout.write(f"Deleted {deleted:,} demo appointments and their therapists' hours.")
            return
        if settings.PRODUCTION:
            raise CommandError("Refusing to add demo bookings to a production database.")
        result = demo_bookings_seed(seed=options["seed"])
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Gave {result.seeded:,} therapists booking data with "
                    f"{result.appointments:,} appointments ({result.already_present:,} had "
                    f"some already) in {result.seconds:.1f} s."
                )
            )
