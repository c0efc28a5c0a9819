"""Fetching booking objects: what a person may not see is a 404 (or a bad link), exactly like
what does not exist."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from rapport.booking import access, tokens
from rapport.booking.errors import BadToken
from rapport.directory.models import VerificationStatus
from tests.booking.factories import make_appointment
from tests.factories import make_therapist, make_therapist_with_account, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(reference_data):
    therapist = make_therapist_with_account()
    return therapist.user, therapist


# --- bookable therapists -------------------------------------------------------------------


def test_listed_therapist_offering_consultations_is_bookable(reference_data):
    therapist = make_therapist()
    assert access.get_bookable_therapist(therapist.public_id) == therapist


@pytest.mark.parametrize(
    "change",
    [
        {"is_listed": False},
        {"verification_status": VerificationStatus.PENDING},
        {"accepting_new_clients": False},
        {"accepting_confirmed_at": timezone.now() - dt.timedelta(days=400)},
        {"consultation_minutes": 0},
    ],
)
def test_therapist_not_listed_or_without_consultations_is_not_bookable(reference_data, change):
    therapist = make_therapist(**change)
    with pytest.raises(Http404):
        access.get_bookable_therapist(therapist.public_id)


def test_unknown_therapist_is_not_bookable(reference_data):
    with pytest.raises(Http404):
        access.get_bookable_therapist(uuid.uuid4())


# --- the therapist's own practice ----------------------------------------------------------


def test_therapist_gets_their_own_practice(practice):
    user, therapist = practice
    assert access.get_practice_therapist(user) == therapist


@pytest.mark.parametrize("who", ["anonymous", "client", "staff", "inactive"])
def test_anyone_without_a_practice_gets_404(practice, who):
    user, _ = practice
    if who == "anonymous":
        person = AnonymousUser()
    elif who == "inactive":
        user.is_active = False
        person = user
    else:
        person = make_user(role=who)
    with pytest.raises(Http404):
        access.get_practice_therapist(person)


def test_therapist_gets_their_own_appointment(practice):
    user, therapist = practice
    appointment = make_appointment(therapist)
    assert access.get_appointment_for_therapist(user, appointment.public_id) == appointment


def test_another_therapists_appointment_is_404(practice):
    user, _ = practice
    theirs = make_appointment(make_therapist_with_account())
    with pytest.raises(Http404):
        access.get_appointment_for_therapist(user, theirs.public_id)
    with pytest.raises(Http404):
        access.get_appointment_for_therapist(AnonymousUser(), theirs.public_id)
    with pytest.raises(Http404):
        access.get_appointment_for_therapist(user, uuid.uuid4())


# --- signed links --------------------------------------------------------------------------


def test_token_fetches_its_appointment(practice):
    _, therapist = practice
    appointment = make_appointment(therapist)
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)
    assert access.get_appointment_for_token(token=token, purpose=tokens.PURPOSE_MANAGE) == (
        appointment
    )


def test_bad_or_mismatched_token_is_refused(practice):
    _, therapist = practice
    appointment = make_appointment(therapist)
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)
    with pytest.raises(BadToken):
        access.get_appointment_for_token(token=token, purpose=tokens.PURPOSE_CONFIRM_EMAIL)
    with pytest.raises(BadToken):
        access.get_appointment_for_token(token=token + "x", purpose=tokens.PURPOSE_MANAGE)


def test_token_for_a_deleted_appointment_is_refused(practice):
    _, therapist = practice
    appointment = make_appointment(therapist)
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)
    appointment.delete()
    with pytest.raises(BadToken, match="no longer exists"):
        access.get_appointment_for_token(token=token, purpose=tokens.PURPOSE_MANAGE)
