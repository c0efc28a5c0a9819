"""The only way views and API handlers fetch booking objects (see docs/architecture.md).

Anything a person may not see is the same 404 as something that does not exist, so ids of other
people's appointments cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from rapport.accounts.models import User
from rapport.booking.errors import BadToken
from rapport.booking.models import Appointment, BookingPolicy
from rapport.booking.selectors import client_appointments
from rapport.booking.tokens import appointment_link_check, appointment_token_read
from rapport.directory.access import get_practice_therapist
from rapport.directory.models import TherapistProfile
from rapport.directory.selectors import therapist_listing


def get_bookable_therapist(public_id: uuid.UUID) -> TherapistProfile:
    """A therapist clients may book now (listed by the directory's rule and offering a
    consultation); Http404 otherwise."""
    therapist = (
        therapist_listing(now=timezone.now())
        .filter(public_id=public_id, consultation_minutes__gt=0)
        .first()
    )
    if therapist is None:
        raise Http404("No bookable therapist here.")
    return therapist


def get_appointment_for_therapist(user: User | AnonymousUser, public_id: uuid.UUID) -> Appointment:
    """One of the signed-in therapist's appointments; Http404 for anyone else's."""
    therapist = get_practice_therapist(user)
    appointment = (
        Appointment.objects.filter(therapist=therapist, public_id=public_id)
        .select_related("therapist", "client", "follows")
        .first()
    )
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def get_appointment_for_client(user: User | AnonymousUser, public_id: uuid.UUID) -> Appointment:
    """One of the signed-in person's own appointments (linked to their account, or booked with
    an address they proved is theirs: ``selectors.client_appointments``); Http404 for anyone
    else's."""
    if not isinstance(user, User) or not user.is_active:
        raise Http404("No such appointment.")
    appointment = client_appointments(user=user).filter(public_id=public_id).first()
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def get_appointment_for_token(
    *, token: str, purpose: str, now: dt.datetime | None = None
) -> Appointment:
    """The appointment a signed e-mail link names; BadToken if the link is not valid or no
    longer works for it (a manage link once the appointment is long over), and also when its
    appointment no longer exists (a deleted account's data), so the person gets the same clear
    "this link no longer works" either way."""
    public_id = appointment_token_read(token=token, purpose=purpose)
    appointment = (
        Appointment.objects.filter(public_id=public_id)
        .select_related("therapist", "client", "follows")
        .first()
    )
    if appointment is None:
        raise BadToken("This link no longer works: the consultation it was for no longer exists.")
    appointment_link_check(appointment=appointment, purpose=purpose, now=now or timezone.now())
    return appointment


# Longer than any feed token Rapport issues (see models.new_feed_token): refused without a query.
_MAX_FEED_TOKEN_LENGTH = 64


def get_therapist_for_feed(token: str) -> TherapistProfile:
    """The therapist whose private calendar feed URL carries ``token``; Http404 for a wrong,
    rotated or malformed one (the URL itself is the credential: calendar apps cannot sign in)."""
    if not token or len(token) > _MAX_FEED_TOKEN_LENGTH:
        raise Http404("No such calendar feed.")
    policy = BookingPolicy.objects.select_related("therapist").filter(feed_token=token).first()
    if policy is None:
        raise Http404("No such calendar feed.")
    return policy.therapist
