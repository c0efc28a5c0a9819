"""Every change to booking data goes through a function here (see DESIGN.md).

INTERFACE (implemented by the booking-core work; pages, API and tasks call exactly these):
each runs in a transaction, writes its e-mails to the outbox in that same transaction
(``outbox.outbox_write``), and refreshes the therapist's booking facts on commit.
"""

from __future__ import annotations

import datetime as dt

from rapport.accounts.models import User
from rapport.booking.models import Appointment, BookingPolicy, Party
from rapport.directory.models import TherapistProfile

# --- availability (the therapist's own settings) -------------------------------------------


def booking_policy_for(*, therapist: TherapistProfile) -> BookingPolicy:
    """The therapist's policy, created with defaults on first use."""
    raise NotImplementedError


def booking_policy_update(
    *,
    therapist: TherapistProfile,
    buffer_minutes: int,
    minimum_notice_hours: int,
    horizon_days: int,
    max_consultations_per_day: int,
    requires_confirmation: bool,
) -> BookingPolicy:
    raise NotImplementedError


def weekly_windows_replace(
    *, therapist: TherapistProfile, windows: list[tuple[int, dt.time, dt.time]]
) -> None:
    """Replace all weekly windows with (weekday, start, end) rows; overlapping rows on one
    weekday are refused with ValidationError."""
    raise NotImplementedError


def date_exception_add(
    *,
    therapist: TherapistProfile,
    date: dt.date,
    kind: str,
    starts_at: dt.time | None,
    ends_at: dt.time | None,
    note: str = "",
) -> None:
    raise NotImplementedError


def date_exception_remove(*, therapist: TherapistProfile, exception_id: int) -> None:
    raise NotImplementedError


def calendar_feed_rotate(*, therapist: TherapistProfile) -> BookingPolicy:
    """Give the feed a new secret URL; the old one stops working at once."""
    raise NotImplementedError


# --- consultations and appointments --------------------------------------------------------


def consultation_book(
    *,
    therapist: TherapistProfile,
    starts_at: dt.datetime,
    client_name: str,
    client_email: str,
    client_time_zone: str,
    share_fit_profile: bool = False,
    client: User | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a free consultation. Raises SlotUnavailable, SlotTaken (with next free times) or
    ValidationError (bad name/e-mail/zone); writes nothing then."""
    raise NotImplementedError


def consultation_confirm(
    *, appointment: Appointment, now: dt.datetime | None = None
) -> Appointment:
    """The therapist accepts a requested consultation (or acknowledges a confirmed one)."""
    raise NotImplementedError


def consultation_decline(
    *, appointment: Appointment, reason: str, now: dt.datetime | None = None
) -> Appointment:
    raise NotImplementedError


def consultation_expire(*, appointment: Appointment, now: dt.datetime | None = None) -> Appointment:
    """Decline a request the therapist left unanswered for 48 hours (system)."""
    raise NotImplementedError


def appointment_cancel(
    *, appointment: Appointment, by: Party, reason: str, now: dt.datetime | None = None
) -> Appointment:
    raise NotImplementedError


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    by: Party,
    reason: str,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move to another free time (same row: the calendar UID stays, SEQUENCE goes up)."""
    raise NotImplementedError


def client_email_confirm(*, appointment: Appointment, now: dt.datetime | None = None) -> User:
    """The client proved the address (link in the confirmation e-mail): link the appointment to
    the account with that address, creating a client account if there is none."""
    raise NotImplementedError


def first_session_book(
    *, consultation: Appointment, starts_at: dt.datetime, now: dt.datetime | None = None
) -> Appointment:
    """The therapist books the first session after a consultation (blocks time, counts toward
    the consultation-to-first-session rate)."""
    raise NotImplementedError
