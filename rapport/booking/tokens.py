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

# A manage link works for as long as its appointment needs it, however far ahead that was
# booked: until the appointment has been over for MANAGE_LINK_GRACE (the page then says it took
# place and still offers the calendar file). After that it opens nothing, so a link forwarded
# or left in a browser's history stops showing the appointment. Its own age does not matter:
# every e-mail carries the same appointment, and a moved appointment takes its links along.
MANAGE_LINK_GRACE = dt.timedelta(days=7)
# Links that expire by their own age: a confirm-address link is short-lived like allauth's own
# confirmation links.
MAX_AGE: dict[str, dt.timedelta] = {
    PURPOSE_CONFIRM_EMAIL: dt.timedelta(days=7),
}

_EXPIRED = (
    "This link has expired. Use the link in the most recent e-mail about your consultation, or "
    "book again."
)

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
    """The appointment's public id; BadToken when tampered with, for another purpose, or too
    old for a purpose that expires by age (see also ``appointment_link_check``)."""
    salt = _salt(purpose)
    try:
        payload = signing.loads(token, salt=salt, max_age=MAX_AGE.get(purpose))
    except signing.SignatureExpired as error:
        raise BadToken(_EXPIRED) from error
    except signing.BadSignature as error:
        raise BadToken(
            "This link is not valid. Check that it was copied completely from the e-mail."
        ) from error
    try:
        return uuid.UUID(hex=str(payload["a"]))
    except (KeyError, TypeError, ValueError) as error:
        # Only a token signed with our key gets here, so this means an old or foreign format.
        raise BadToken("This link is not valid.") from error


def manage_link_expires_at(appointment: Appointment) -> dt.datetime:
    """When the appointment's manage links stop working."""
    return appointment.ends_at + MANAGE_LINK_GRACE


def appointment_link_check(*, appointment: Appointment, purpose: str, now: dt.datetime) -> None:
    """BadToken when a valid token for ``appointment`` no longer works because of the
    appointment itself: a manage link once the appointment is long over."""
    _salt(purpose)
    if purpose == PURPOSE_MANAGE and now > manage_link_expires_at(appointment):
        raise BadToken(_EXPIRED)
