"""`rapport housekeeping [--every SECONDS]`: the periodic work that no request triggers.

Run once from cron or a systemd timer, or keep it running with ``--every 60`` (as
``scripts/serve-demo`` does). Every step is idempotent and safe to run from several machines at
once: outbox rows are claimed, expiries and listing notices are conditional updates.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from rapport.booking import outbox, services
from rapport.booking.errors import InvalidTransition
from rapport.booking.models import Appointment, AppointmentStatus
from rapport.directory.services import stale_listings_warn
from rapport.videos.services import abandoned_uploads_clear, stuck_videos_requeue

logger = logging.getLogger(__name__)


def expire_unanswered_requests(*, now: dt.datetime) -> int:
    """Decline requests left unanswered for BOOKING_REQUEST_EXPIRY_HOURS, or whose time came;
    returns how many expired."""
    floor = now - dt.timedelta(hours=settings.BOOKING_REQUEST_EXPIRY_HOURS)
    waiting = Appointment.objects.filter(
        Q(created_at__lte=floor) | Q(starts_at__lte=now), status=AppointmentStatus.REQUESTED
    )
    expired = 0
    for appointment in waiting.select_related("therapist").order_by("pk"):
        try:
            services.consultation_expire(appointment=appointment, now=now)
        except InvalidTransition:
            # The therapist answered (or the client cancelled) since the query: nothing to do.
            continue
        expired += 1
    return expired


def refresh_passed_booking_facts(*, now: dt.datetime) -> int:
    """Recompute the booking facts of therapists whose "next free consultation" is out of date
    (free times pass, fall inside the minimum notice, or enter the horizon on their own, without
    any booking change), at most ``facts.REFRESH_BATCH`` per round; returns how many."""
    from rapport.booking.facts import therapist_booking_facts_refresh_due

    return therapist_booking_facts_refresh_due(now=now)


STEPS: tuple[tuple[str, Callable[..., int]], ...] = (
    ("e-mails sent", lambda now: outbox.outbox_deliver_due(now=now)),
    ("requests expired", lambda now: expire_unanswered_requests(now=now)),
    # After expiring: an expiry queues an e-mail that the next round delivers, and frees time
    # that the facts refresh below may pick up.
    ("listing notices queued", lambda now: stale_listings_warn(now=now)),
    ("booking facts refreshed", lambda now: refresh_passed_booking_facts(now=now)),
    ("abandoned video uploads removed", lambda now: abandoned_uploads_clear(now=now)),
    ("stuck videos queued again", lambda now: stuck_videos_requeue(now=now)),
)


def housekeeping_run(*, now: dt.datetime) -> tuple[dict[str, int], list[str]]:
    """Run every step once. A failing step is logged and does not stop the others (a broken
    mail server must not stop requests from expiring). Returns counts and failed steps."""
    counts: dict[str, int] = {}
    failed: list[str] = []
    for label, step in STEPS:
        try:
            counts[label] = step(now)
        except Exception:
            logger.exception("Housekeeping step failed: %s", label)
            failed.append(label)
    return counts, failed


class Command(BaseCommand):
    help = (
        "Deliver due e-mails and reminders, expire unanswered consultation requests, warn "
        "listings that will pause, refresh passed booking facts, remove abandoned video "
        "uploads and re-queue videos whose worker died. Runs once, or every "
        "SECONDS with --every."
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
        counts, failed = housekeeping_run(now=timezone.now())
        summary = ", ".join(f"{count} {label}" for label, count in counts.items())
        if self.verbosity >= 1 and (any(counts.values()) or self.verbosity >= 2):
            self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} housekeeping: {summary}")
        return failed
