"""Every change to booking data goes through a function here (see docs/architecture.md).

Each function runs in a transaction, writes its e-mails to the outbox in that same transaction
(``outbox.outbox_write``), and refreshes the therapist's booking facts on commit. On any error
(ValidationError, SlotUnavailable, SlotTaken, InvalidTransition) nothing is written.

Overlap is guaranteed by the database (migration 0002), never by checking first: the free-time
checks here give people a clear reason, but two requests racing for one slot are settled by the
exclusion constraint (PostgreSQL) or trigger (SQLite), whose IntegrityError becomes SlotTaken.

The functions live in one module per concept and are all importable from here:

- ``availability``: the therapist's own settings (policy, weekly windows, date exceptions,
  calendar feed);
- ``consultations``: an appointment's life (booking, confirm, decline, expire, cancel,
  reschedule, the first session);
- ``clients``: the client's side (address confirmation, sharing the fit profile, erasure with
  the account).
"""

from rapport.booking.services.availability import (
    booking_policy_for,
    booking_policy_update,
    calendar_feed_rotate,
    consultation_method_update,
    date_exception_add,
    date_exception_remove,
    weekly_windows_check,
    weekly_windows_replace,
)
from rapport.booking.services.clients import (
    ACCOUNT_CLOSED_REASON,
    appointment_fit_profile_sharing_set,
    client_appointments_erase,
    client_email_confirm,
)
from rapport.booking.services.consultations import (
    EARLIEST,
    LATEST,
    MAX_REASON_LENGTH,
    NEXT_FREE_COUNT,
    OVERLAP_GUARD,
    SESSION_MAX_AHEAD,
    appointment_cancel,
    appointment_reschedule,
    consultation_book,
    consultation_confirm,
    consultation_decline,
    consultation_expire,
    consultation_expiry_due,
    first_session_book,
)

__all__ = [
    "ACCOUNT_CLOSED_REASON",
    "EARLIEST",
    "LATEST",
    "MAX_REASON_LENGTH",
    "NEXT_FREE_COUNT",
    "OVERLAP_GUARD",
    "SESSION_MAX_AHEAD",
    "appointment_cancel",
    "appointment_fit_profile_sharing_set",
    "appointment_reschedule",
    "booking_policy_for",
    "booking_policy_update",
    "calendar_feed_rotate",
    "client_appointments_erase",
    "client_email_confirm",
    "consultation_book",
    "consultation_confirm",
    "consultation_decline",
    "consultation_expire",
    "consultation_expiry_due",
    "consultation_method_update",
    "date_exception_add",
    "date_exception_remove",
    "first_session_book",
    "weekly_windows_check",
    "weekly_windows_replace",
]
