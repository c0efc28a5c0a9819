"""Booking's part of a person's data export (registered in ``BookingConfig.ready()``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.booking.selectors import client_appointments


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def consultations_export(user: Any) -> list[dict[str, Any]]:
    """The person's consultations and sessions as a client, with everything either side wrote
    about them (the reasons given for moving, declining or cancelling)."""
    return [
        {
            "id": str(appointment.public_id),
            "kind": appointment.kind,
            "status": appointment.status,
            "starts_at": _iso(appointment.starts_at),
            "ends_at": _iso(appointment.ends_at),
            "therapist": {
                "id": str(appointment.therapist.public_id),
                "name": appointment.therapist.display_name,
            },
            "name_given": appointment.client_name,
            "email_given": appointment.client_email,
            "time_zone": appointment.client_time_zone,
            "email_confirmed_at": _iso(appointment.client_email_confirmed_at),
            "fit_profile_shared": appointment.share_fit_profile,
            "last_change_note": appointment.change_reason,
            "last_changed_by": appointment.changed_by,
            "ended_by": appointment.ended_by,
            "end_reason": appointment.end_reason,
            "ended_at": _iso(appointment.ended_at),
            "booked_at": _iso(appointment.created_at),
        }
        for appointment in client_appointments(user=user)
    ]
