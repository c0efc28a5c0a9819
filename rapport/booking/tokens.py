"""Signed links in appointment e-mails: they work without signing in, so each is bound to one
appointment and one purpose, and expires.

A token is Django's signed, timestamped payload of the appointment's public id only: e-mails are
forwarded and links end up in browser histories and server logs, so a token must never carry the
client's name or address. The purpose is bound through the signing salt, so a link made for one
purpose fails signature checks for any other.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core import signing

from rapport.booking.errors import BadToken
from rapport.booking.models import Appointment

# The client's own link: see, cancel or reschedule the consultation.
PURPOSE_MANAGE = "manage"
# Proves the client owns the address; links (or creates) their account.
PURPOSE_CONFIRM_EMAIL = "confirm_email"
PURPOSES = (PURPOSE_MANAGE, PURPOSE_CONFIRM_EMAIL)

# How long a link works after it was made. A manage link outlives the longest booking horizon
# (90 days would be needed only for an e-mail sent at booking time; every later e-mail carries a
# fresh link). A confirm-address link is short-lived like allauth's own confirmation links.
MAX_AGE: dict[str, dt.timedelta] = {
    PURPOSE_MANAGE: dt.timedelta(days=30),
    PURPOSE_CONFIRM_EMAIL: dt.timedelta(days=7),
}

_SALT_PREFIX = "rapport.booking.appointment-link"


def _salt(purpose: str) -> str:
    if purpose not in PURPOSES:
        # A programming error, not a bad link: the caller named a purpose that does not exist.
        raise ValueError(f"Unknown appointment link purpose {purpose!r}.")
    return f"{_SALT_PREFIX}.{purpose}"


def appointment_token_make(*, appointment: Appointment, purpose: str) -> str:
    """A URL-safe token naming ``appointment`` for ``purpose``; it carries nothing but the
    appointment's public id and the time it was made."""
    return signing.dumps({"a": appointment.public_id.hex}, salt=_salt(purpose), compress=False)


def appointment_token_read(*, token: str, purpose: str) -> uuid.UUID:
    """The appointment's public id; BadToken when tampered with, expired or for another
    purpose."""
    salt = _salt(purpose)
    try:
        payload = signing.loads(token, salt=salt, max_age=MAX_AGE[purpose])
    except signing.SignatureExpired as error:
        raise BadToken(
            "This link has expired. Use the link in the most recent e-mail about your "
            "consultation, or book again."
        ) from error
    except signing.BadSignature as error:
        raise BadToken(
            "This link is not valid. Check that it was copied completely from the e-mail."
        ) from error
    try:
        return uuid.UUID(hex=str(payload["a"]))
    except (KeyError, TypeError, ValueError) as error:
        # Only a token signed with our key gets here, so this means an old or foreign format.
        raise BadToken("This link is not valid.") from error
