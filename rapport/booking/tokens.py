"""Signed links in appointment e-mails: they work without signing in, so each is bound to one
appointment and one purpose, and expires.

INTERFACE (implemented by the booking-core work):
"""

from __future__ import annotations

import uuid

from rapport.booking.models import Appointment

# The client's own link: see, cancel or reschedule the consultation.
PURPOSE_MANAGE = "manage"
# Proves the client owns the address; links (or creates) their account.
PURPOSE_CONFIRM_EMAIL = "confirm_email"
PURPOSES = (PURPOSE_MANAGE, PURPOSE_CONFIRM_EMAIL)


def appointment_token_make(*, appointment: Appointment, purpose: str) -> str:
    raise NotImplementedError


def appointment_token_read(*, token: str, purpose: str) -> uuid.UUID:
    """The appointment's public id; BadToken when tampered with, expired or for another
    purpose."""
    raise NotImplementedError
