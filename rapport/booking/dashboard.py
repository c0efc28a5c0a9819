"""What the practice dashboard says in words about each request: how long it has before it
expires. (The listing's state in words is the directory's: ``rapport.directory.completeness.
listing_state``.)

Pure functions over rows the view has already read, so the page's query count does not grow
with what it shows.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings

from rapport.booking.models import Appointment
from rapport.core.timezones import moment_label

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
