"""The transactional outbox for appointment e-mails.

INTERFACE (implemented by the calendar/e-mail work; services call these inside their
transaction):
"""

from __future__ import annotations

import datetime as dt

from rapport.booking.models import Appointment, OutboxEmail, Party

# Purposes of OutboxEmail rows.
PURPOSE_BOOKED = "booked"  # to client (with .ics REQUEST) and to therapist
PURPOSE_REQUESTED = "requested"  # to client: waiting for the therapist; to therapist: please answer
PURPOSE_CONFIRMED = "confirmed"
PURPOSE_DECLINED = "declined"
PURPOSE_EXPIRED = "expired"  # to client, with similar therapists
PURPOSE_CANCELLED = "cancelled"  # .ics CANCEL
PURPOSE_RESCHEDULED = "rescheduled"  # .ics REQUEST with the raised SEQUENCE
PURPOSE_REMINDER_24H = "reminder_24h"
PURPOSE_REMINDER_1H = "reminder_1h"


def outbox_write(
    *,
    appointment: Appointment,
    purpose: str,
    recipient: Party,
    due_at: dt.datetime | None = None,
) -> OutboxEmail | None:
    """Queue one e-mail inside the caller's transaction (idempotent per appointment, purpose,
    recipient and sequence); delivery is enqueued on commit when it is due now."""
    raise NotImplementedError


def outbox_reminders_write(*, appointment: Appointment, now: dt.datetime) -> None:
    """Queue the 24 h and 1 h reminders for the appointment's current time and sequence (those
    already past are skipped); reminders for earlier sequences are skipped at delivery."""
    raise NotImplementedError
