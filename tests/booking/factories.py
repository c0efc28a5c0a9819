"""Booking rows for tests, written straight through the ORM with overridable defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.booking.models import Appointment, AppointmentStatus
from rapport.directory.models import TherapistProfile


def make_appointment(
    therapist: TherapistProfile, starts_at: dt.datetime, **overrides: Any
) -> Appointment:
    """A confirmed 15-minute consultation for "Sam Client" unless told otherwise."""
    fields: dict[str, Any] = {
        "therapist": therapist,
        "status": AppointmentStatus.CONFIRMED,
        "starts_at": starts_at,
        "ends_at": starts_at + dt.timedelta(minutes=15),
        "client_name": "Sam Client",
        "client_email": "sam@example.org",
        "client_time_zone": "America/Toronto",
    }
    fields.update(overrides)
    return Appointment.objects.create(**fields)
