"""Free consultation times: weekly windows and date exceptions, in the therapist's zone, minus
appointments, buffers, minimum notice, the horizon and the daily cap.

INTERFACE (implemented by the slots work; other modules rely on exactly these names):
"""

from __future__ import annotations

import datetime as dt

from rapport.booking.errors import FreeTime
from rapport.booking.models import Appointment
from rapport.directory.models import TherapistProfile


def therapist_free_times(
    *,
    therapist: TherapistProfile,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    ignoring: Appointment | None = None,
) -> list[FreeTime]:
    """Bookable consultation times starting in [start, end), in UTC, earliest first.

    ``ignoring`` leaves one appointment's own time free (for rescheduling it).
    """
    raise NotImplementedError


def free_time_check(
    *,
    therapist: TherapistProfile,
    starts_at: dt.datetime,
    now: dt.datetime,
    ignoring: Appointment | None = None,
) -> FreeTime:
    """The free time starting exactly at ``starts_at``, or SlotUnavailable / SlotTaken saying
    why not (SlotTaken when an appointment holds it, with the next free times)."""
    raise NotImplementedError


def therapist_next_free_time(*, therapist: TherapistProfile, now: dt.datetime) -> FreeTime | None:
    """The earliest bookable consultation within the therapist's horizon, if any."""
    raise NotImplementedError
