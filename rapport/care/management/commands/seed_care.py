"""`rapport seed_care --seed S`: demo engagements with check-in histories (rapport.care.seeding)."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.care.seeding import DEMO_PASSWORD, STORIES, CareSeedError, seed_care


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
        "Give a demo therapist (a generated one, from `rapport seed`) a sign-in and seven demo "
        "clients whose engagements show each state of the check-in loop: on track, a low "
        "alliance, a crisis item, one just started with its check-in open, an alert repaired, "
        "one ended as not the right fit, and one graduated. Deterministic "
        "for a given --seed (relative to now), and idempotent: existing demo engagements are "
        "left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # The demo accounts share a published password.
            raise CommandError("Refusing to add demo care data to a production database.")
        try:
            result = seed_care(seed=options["seed"])
        except CareSeedError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] >= 1:
            made = ", ".join(result.created) or "nothing new"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Care demo: {made} ({len(result.already_present)} already present) in "
                    f"{result.seconds:.1f} s."
                )
            )
            self.stdout.write(
                f"Sign in as the therapist ({result.therapist_name}) with "
                f"{result.therapist_email}, or as a client with "
                + ", ".join(story.email for story in STORIES)
                + f"; the password of each is {DEMO_PASSWORD}."
            )
