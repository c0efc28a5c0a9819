"""Booking's periodic steps (registered with rapport.core.housekeeping in
``BookingConfig.ready()``)."""

from __future__ import annotations

import datetime as dt

from rapport.booking import outbox, selectors, services
from rapport.booking.errors import InvalidTransition
from rapport.core.housekeeping import register_housekeeping_step


def expire_unanswered_requests(*, now: dt.datetime) -> int:
    """Decline requests left unanswered for BOOKING_REQUEST_EXPIRY_HOURS, or whose time came;
    returns how many expired."""
    expired = 0
    for appointment in selectors.consultations_due_to_expire(now=now):
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


def register_booking_housekeeping() -> None:
    register_housekeeping_step("e-mails sent", lambda now: outbox.outbox_deliver_due(now=now))
    register_housekeeping_step("requests expired", lambda now: expire_unanswered_requests(now=now))
    # After expiring: an expiry queues an e-mail that the next round delivers, and frees time
    # that the facts refresh picks up.
    register_housekeeping_step(
        "booking facts refreshed", lambda now: refresh_passed_booking_facts(now=now)
    )
