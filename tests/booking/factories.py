"""Booking data for tests: therapists with availability, appointments written straight through
the ORM, and consultations booked through the service (with its e-mails and checks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from rapport.booking import services
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingPolicy,
    Party,
    WeeklyWindow,
)
from rapport.directory.models import TherapistProfile
from tests.directory.factories import make_therapist

WEEKDAYS = (0, 1, 2, 3, 4)
# Every day, so there are free times whatever day the suite runs on.
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def give_availability(
    therapist: TherapistProfile,
    *,
    weekdays: tuple[int, ...] = WEEKDAYS,
    starts_at: dt.time = dt.time(9, 0),
    ends_at: dt.time = dt.time(17, 0),
    **policy: Any,
) -> BookingPolicy:
    """Weekly windows on ``weekdays`` (0 = Monday) and a policy with ``policy`` overrides.

    Defaults of the policy are the model's; tests that need "bookable right now" pass
    ``minimum_notice_hours=0``.
    """
    WeeklyWindow.objects.bulk_create(
        WeeklyWindow(therapist=therapist, weekday=day, starts_at=starts_at, ends_at=ends_at)
        for day in weekdays
    )
    booking_policy, _ = BookingPolicy.objects.update_or_create(therapist=therapist, defaults=policy)
    return booking_policy


def make_bookable_therapist(
    *,
    weekdays: tuple[int, ...] = EVERY_DAY,
    policy: dict[str, Any] | None = None,
    **profile: Any,
) -> TherapistProfile:
    """``make_therapist(**profile)`` open 9:00–17:00 on ``weekdays`` with no notice and no
    buffer, so any time from now on is free; ``policy`` overrides those or other policy
    fields."""
    therapist = make_therapist(**profile)
    give_availability(
        therapist,
        weekdays=weekdays,
        **{"minimum_notice_hours": 0, "buffer_minutes": 0, **(policy or {})},
    )
    return therapist


def make_appointment(
    therapist: TherapistProfile,
    starts_at: dt.datetime | None = None,
    *,
    minutes: int = 15,
    **overrides: Any,
) -> Appointment:
    """A confirmed consultation for "Sam Client" (Toronto), written straight to the database:
    no service, no e-mail, no free-time check. It starts three days from now unless told
    otherwise; one in a status that is over has ended a day before it started, by the client,
    unless told otherwise."""
    if starts_at is None:
        starts_at = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    fields: dict[str, Any] = {
        "therapist": therapist,
        "status": AppointmentStatus.CONFIRMED,
        "starts_at": starts_at,
        "ends_at": starts_at + dt.timedelta(minutes=minutes),
        "client_name": "Sam Client",
        "client_email": "sam@example.org",
        "client_time_zone": "America/Toronto",
    }
    fields.update(overrides)
    if fields["status"] not in ACTIVE_STATUSES:
        fields.setdefault("ended_at", starts_at - dt.timedelta(days=1))
        fields.setdefault("ended_by", Party.CLIENT)
    return Appointment.objects.create(**fields)


def book_consultation(
    therapist: TherapistProfile, starts_at: dt.datetime, **overrides: Any
) -> Appointment:
    """A consultation booked through ``services.consultation_book`` (free-time check, outbox
    e-mails) for "Sam Client" in London unless told otherwise."""
    fields: dict[str, Any] = {
        "client_name": "Sam Client",
        "client_email": "sam@example.org",
        "client_time_zone": "Europe/London",
    }
    fields.update(overrides)
    return services.consultation_book(therapist=therapist, starts_at=starts_at, **fields)


def make_maya_appointment(
    therapist: TherapistProfile, starts_at: dt.datetime | None = None, **overrides: Any
) -> Appointment:
    """``make_appointment`` for Maya Lindqvist in Vancouver, a zone unlike the therapist's, so
    an e-mail or calendar entry shows whose clock it was written for."""
    fields: dict[str, Any] = {
        "client_name": "Maya Lindqvist",
        "client_email": "maya@example.org",
        "client_time_zone": "America/Vancouver",
    }
    fields.update(overrides)
    return make_appointment(therapist, starts_at, **fields)
