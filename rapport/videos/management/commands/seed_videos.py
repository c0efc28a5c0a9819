"""`rapport seed_videos [--therapists N] [--seed S] [--clear]`: demo video introductions.

The slowest step of `make demo` (about 40 s for the default 12 therapists on an idle 2-core
machine): it says so before starting and prints a line after each therapist.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.videos.seeding import demo_videos_clear, demo_videos_seed

# Measured (`time rapport seed_videos` after `rapport seed`): each therapist's two 6-second
# clips take about 3.3 s of processor time to synthesise, probe and transcode, so the default 12
# take about 40 s on an idle 2-core machine, and over a minute and a half on a busy one.
SECONDS_PER_THERAPIST = 3.3


class Command(BaseCommand):
    help = (
        "Make short, real video introductions (synthesised locally, with caption tracks for "
        "half of them) for some generated therapists, through the full upload, probe, "
        "transcode and approval pipeline. Therapists with videos are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--therapists", type=int, default=12, help="how many therapists get videos"
        )
        parser.add_argument(
            "--clear", action="store_true", help="delete generated therapists' videos instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clear"]:
            self.stdout.write(f"Deleted {demo_videos_clear():,} demo videos.")
            return
        if settings.PRODUCTION:
            raise CommandError("Refusing to add demo videos to a production database.")
        if not 0 <= options["therapists"] <= 1000:
            raise CommandError("--therapists must be between 0 and 1000.")
        verbose = options["verbosity"] >= 1
        if verbose:
            estimate = round(options["therapists"] * SECONDS_PER_THERAPIST)
            self.stdout.write(
                f"Making demo videos for up to {options['therapists']} therapists: about "
                f"{estimate} s on an idle 2-core machine, longer on a busy one."
            )

        def progress(done: int, total: int, seconds: float) -> None:
            if verbose:
                self.stdout.write(f"  {done}/{total} therapists done ({seconds:.0f} s)")
                self.stdout.flush()

        result = demo_videos_seed(
            seed=options["seed"], therapists=options["therapists"], progress=progress
        )
        if verbose:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Made {result.videos} demo videos for {result.therapists} therapists in "
                    f"{result.seconds:.1f} s."
                )
            )
