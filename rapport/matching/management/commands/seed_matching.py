"""`rapport seed_matching`: fit profiles for the care demo's clients (rapport.matching.seeding)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rapport.matching.seeding import MatchingSeedError, seed_matching


class Command(BaseCommand):
    help = (
        "Give each of the care demo's clients (`rapport seed_care`) the fit profile they might "
        "have filled in, and the client who ended as not the right fit the re-match taps. Run "
        "`rapport retrain_matcher` afterwards so their check-in histories feed the learned "
        "component. Idempotent: a client who has a fit profile keeps it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # The demo accounts share a published password.
            raise CommandError("Refusing to add demo fit profiles to a production database.")
        try:
            result = seed_matching()
        except MatchingSeedError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] >= 1:
            made = ", ".join(result.created) or "nothing new"
            where = result.place or "no place (the therapist has no office or licence)"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Matching demo: fit profiles for {made} "
                    f"({len(result.already_present)} already present), around {where}, in "
                    f"{result.seconds:.1f} s."
                )
            )
