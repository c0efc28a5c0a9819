"""The only way views and API handlers fetch booking objects (see DESIGN.md).

INTERFACE (implemented by the booking-core work). Anything a person may not see is the same
404 as something that does not exist.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser

from rapport.accounts.models import User
from rapport.booking.models import Appointment
from rapport.directory.models import TherapistProfile


def get_bookable_therapist(public_id: uuid.UUID) -> TherapistProfile:
    """A therapist clients may book now (listed by the directory's rule and offering a
    consultation); Http404 otherwise."""
    raise NotImplementedError


def get_practice_therapist(user: User | AnonymousUser) -> TherapistProfile:
    """The signed-in therapist's own profile; Http404 for anyone without one."""
    raise NotImplementedError


def get_appointment_for_therapist(user: User | AnonymousUser, public_id: uuid.UUID) -> Appointment:
    """One of the signed-in therapist's appointments; Http404 for anyone else's."""
    raise NotImplementedError


def get_appointment_for_token(*, token: str, purpose: str) -> Appointment:
    """The appointment a signed e-mail link names; BadToken if the link is not valid."""
    raise NotImplementedError
