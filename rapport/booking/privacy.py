"""Booking's part of a person's data export (registered in ``BookingConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from rapport.booking.selectors import client_appointments
from rapport.core.privacy import iso_or_none


def consultations_export(user: Any) -> list[dict[str, Any]]:
    """The person's consultations and sessions as a client, with everything either side wrote
    about them (the reasons given for moving, declining or cancelling)."""
    return [
        {
            "id": str(appointment.public_id),
            "kind": appointment.kind,
            "status": appointment.status,
            "starts_at": iso_or_none(appointment.starts_at),
            "ends_at": iso_or_none(appointment.ends_at),
            "therapist": {
                "id": str(appointment.therapist.public_id),
                "name": appointment.therapist.display_name,
            },
            "name_given": appointment.client_name,
            "email_given": appointment.client_email,
            "phone_given": appointment.client_phone,
            "how_it_happened": appointment.consultation_method,
            "time_zone": appointment.client_time_zone,
            "email_confirmed_at": iso_or_none(appointment.client_email_confirmed_at),
            "fit_profile_shared": appointment.share_fit_profile,
            "last_change_note": appointment.change_reason,
            "last_changed_by": appointment.changed_by,
            "ended_by": appointment.ended_by,
            "end_reason": appointment.end_reason,
            "ended_at": iso_or_none(appointment.ended_at),
            "booked_at": iso_or_none(appointment.created_at),
        }
        for appointment in client_appointments(user=user)
    ]
