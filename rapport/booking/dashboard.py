"""What the practice dashboard says in words: how long each request has before it expires, and
the state of the therapist's listing with the one action that changes it.

Pure functions over rows the view has already read, so the page's query count does not grow
with what it shows.
"""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from rapport.booking.models import Appointment
from rapport.core.timezones import moment_label
from rapport.directory.models import TherapistProfile, VerificationStatus

# --- the 48-hour clock of a request ------------------------------------------------------------


def time_left_phrase(left: dt.timedelta) -> str:
    """``1 day 6 hours``, ``5 hours 20 minutes``, ``12 minutes``, ``less than a minute``:
    rounded down, so the clock never promises more time than there is."""
    minutes = int(left.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)

    def unit(count: int, name: str) -> str:
        return f"{count} {name}{'' if count == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute")


@dataclass(frozen=True)
class RequestClock:
    """When an unanswered request is declined for the therapist, in their zone and in words."""

    expires_at: dt.datetime
    expires_label: str
    left_phrase: str
    overdue: bool
    # Under a fifth of the answer window left: the page marks it as urgent.
    urgent: bool


def request_expires_at(appointment: Appointment) -> dt.datetime:
    """The expiry task's rule (``selectors.consultations_due_to_expire``) for one request: the
    answer window after it was made, or the consultation's own start if that comes first."""
    window = dt.timedelta(hours=settings.BOOKING_REQUEST_EXPIRY_HOURS)
    return min(appointment.created_at + window, appointment.starts_at)


def request_clock(
    appointment: Appointment, *, now: dt.datetime, zone: zoneinfo.ZoneInfo
) -> RequestClock:
    expires_at = request_expires_at(appointment)
    left = expires_at - now
    window = dt.timedelta(hours=settings.BOOKING_REQUEST_EXPIRY_HOURS)
    return RequestClock(
        expires_at=expires_at,
        expires_label=moment_label(expires_at, zone),
        left_phrase=time_left_phrase(left),
        overdue=left <= dt.timedelta(),
        urgent=left < window / 5,
    )


# --- the listing's state -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListingState:
    """The shape ``rapport.directory.completeness.listing_state`` returns, for this module's
    own reading of the profile's facts when that module is not there."""

    code: str
    sentence: str
    action_label: str = ""
    action_url_name: str = ""


def listing_state_from_facts(*, therapist: TherapistProfile, now: dt.datetime) -> ListingState:
    """The listing's state in words from the profile's own facts (verification, the
    therapist's switch, "accepting" and its freshness), most blocking first.

    Never says the listing shows the therapist as accepting while the licence is not verified:
    a therapist who reads that would wait for clients who cannot find them.
    """
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    status = therapist.verification_status
    if status == VerificationStatus.PENDING:
        return ListingState(
            code="pending_review",
            sentence=(
                "Your licence is being checked. Clients cannot see your listing until it is "
                "verified; you will get an e-mail when that is done."
            ),
        )
    if status == VerificationStatus.REJECTED:
        return ListingState(
            code="rejected",
            sentence=(
                "Your licence could not be verified, so clients cannot see your listing. "
                f"The reviewer wrote: “{therapist.verification_reason}”"
            ),
        )
    if status == VerificationStatus.SUSPENDED:
        return ListingState(
            code="suspended",
            sentence=(
                "Your listing is suspended and hidden from clients. "
                f"The reviewer wrote: “{therapist.verification_reason}”"
            ),
        )
    if not therapist.is_listed:
        return ListingState(
            code="hidden",
            sentence="You have hidden your listing, so clients cannot find you.",
        )
    if not therapist.accepting_new_clients:
        return ListingState(
            code="not_accepting",
            sentence=(
                "You said you are not accepting new clients, so your listing is hidden from "
                "search. Your current clients are not affected."
            ),
            action_label="Say you are accepting again",
            action_url_name="booking:practice_listing",
        )
    confirmed_at = therapist.accepting_confirmed_at
    freshness = dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
    if confirmed_at is None:
        return ListingState(
            code="paused",
            sentence=(
                "Your listing is paused: confirm that you are accepting new clients and it "
                "shows in search."
            ),
            action_label="Confirm you are accepting new clients",
            action_url_name="booking:practice_listing",
        )
    if confirmed_at + freshness <= now:
        return ListingState(
            code="paused",
            sentence=(
                f"Your listing is paused: you last confirmed you are accepting new clients on "
                f"{moment_label(confirmed_at, zone)}, more than "
                f"{settings.LISTING_FRESHNESS_DAYS} days ago."
            ),
            action_label="Confirm you are accepting new clients",
            action_url_name="booking:practice_listing",
        )
    return ListingState(
        code="live",
        sentence="Your listing is live: clients can find you and book a free consultation.",
    )


def listing_state(*, therapist: TherapistProfile, now: dt.datetime) -> Any:
    """The directory's own account of the listing's state when it offers one
    (``rapport.directory.completeness.listing_state``: it also knows how complete the profile
    is), else ``listing_state_from_facts``."""
    try:
        completeness = importlib.import_module("rapport.directory.completeness")
    except ImportError:
        return listing_state_from_facts(therapist=therapist, now=now)
    describe = getattr(completeness, "listing_state", None)
    if describe is None:
        return listing_state_from_facts(therapist=therapist, now=now)
    return describe(therapist=therapist)
