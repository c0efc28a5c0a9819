"""`rapport housekeeping [--every SECONDS]`: the periodic work that no request triggers.

Run once from cron or a systemd timer, or keep it running with ``--every 60`` (as
``scripts/serve-demo`` does). The steps come from each app (rapport.core.housekeeping); every
one is idempotent and safe to run from several machines at once.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from rapport.core import housekeeping


class Command(BaseCommand):
    help = (
        "Run every app's periodic steps (deliver due e-mails and reminders, expire unanswered "
        "consultation requests, warn listings that will pause, refresh passed booking facts, "
        "remove abandoned video uploads, re-queue videos whose worker died). Runs once, or "
        "every SECONDS with --every."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="keep running, starting a round every SECONDS (at least 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity: int = options["verbosity"]
        every: int | None = options["every"]
        if every is not None and every < 1:
            raise CommandError("--every must be at least 1 second.")
        if every is None:
            failed = self._round()
            if failed:
                raise CommandError(f"Housekeeping steps failed: {', '.join(failed)}.")
            return
        try:
            while True:
                started = time.monotonic()
                self._round()
                # A long-lived process must not keep a connection the database has dropped.
                close_old_connections()
                time.sleep(max(every - (time.monotonic() - started), 0))
        except KeyboardInterrupt:
            return

    def _round(self) -> list[str]:
        counts, failed = housekeeping.housekeeping_run(now=timezone.now())
        summary = ", ".join(f"{count} {label}" for label, count in counts.items())
        if self.verbosity >= 1 and (any(counts.values()) or self.verbosity >= 2):
            self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} housekeeping: {summary}")
        return failed
