"""How long the client's manage link works: until the appointment is over (plus a short grace),
however far ahead it was booked — on the pages and through the API alike."""

from __future__ import annotations

import datetime as dt
import html
import json
import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.booking import services, tokens
from rapport.booking.errors import FreeTime
from rapport.booking.models import Appointment, AppointmentStatus, Party
from rapport.booking.views.common import slot_key
from rapport.directory.models import TherapistProfile
from tests.accounts.factories import make_therapist_user
from tests.booking.factories import (
    make_bookable_therapist,
    make_maya_appointment,
)
from tests.booking.helpers import free_times_ahead

pytestmark = pytest.mark.django_db

# Booked 80 days ahead (the horizon allows 90); the client comes back on day 79.
DAY_79 = dt.timedelta(days=79)


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(
        display_name="Dana Reyes", user=make_therapist_user(), policy={"horizon_days": 90}
    )


def token_made_ago(monkeypatch, appointment: Appointment, age: dt.timedelta) -> str:
    """The manage token as the booking e-mail made it ``age`` ago (the signer's clock moved
    back; nothing else about the token differs)."""
    with monkeypatch.context() as patch:
        patch.setattr(
            signing.TimestampSigner,
            "timestamp",
            lambda self: signing.b62_encode(int(time.time() - age.total_seconds())),
        )
        return tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)


@pytest.fixture
def on_day_79(monkeypatch, therapist) -> tuple[Appointment, str, FreeTime]:
    """A consultation booked 80 days ahead, its manage token from the booking day, and another
    free time; today is day 79 of the 80."""
    first, second = free_times_ahead(therapist)[:2]
    appointment = services.consultation_book(
        therapist=therapist,
        starts_at=first.starts_at,
        client_name="Sam Client",
        client_email="sam@example.org",
        client_time_zone="Europe/London",
    )
    # Its time is a few days ahead now, as it would be on day 79; the token is as old.
    return appointment, token_made_ago(monkeypatch, appointment, DAY_79), second


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def _post_json(path: str, body: dict) -> Any:
    return Client().post(path, data=json.dumps(body), content_type="application/json")


# --- day 79 of 80 --------------------------------------------------------------------------


def test_on_day_79_the_manage_page_and_calendar_file_still_open(client, on_day_79):
    appointment, token, _ = on_day_79

    page = client.get(reverse("booking:consultation_manage", args=[token]))
    download = client.get(reverse("booking:consultation_calendar", args=[token]))

    assert page.status_code == 200
    assert "Dana Reyes expects you at this time." in page_text(page)
    assert download.status_code == 200
    assert appointment.calendar_uid.encode() in download.content


def test_on_day_79_the_client_can_cancel_on_the_page(client, on_day_79):
    appointment, token, _ = on_day_79

    response = client.post(
        reverse("booking:consultation_cancel", args=[token]), {"reason": "Plans changed"}
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.ended_by, appointment.end_reason) == (
        AppointmentStatus.CANCELLED,
        Party.CLIENT,
        "Plans changed",
    )


def test_on_day_79_the_client_can_move_it_on_the_page(client, on_day_79):
    appointment, token, other = on_day_79

    response = client.post(
        reverse("booking:consultation_reschedule", args=[token]),
        {"starts_at": slot_key(other.starts_at), "reason": ""},
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.sequence) == (other.starts_at, 1)


def test_on_day_79_the_client_can_cancel_through_the_api(on_day_79):
    appointment, token, _ = on_day_79

    response = _post_json(
        f"/api/v1/consultations/{appointment.public_id}/cancel",
        {"token": token, "reason": "Plans changed"},
    )

    assert response.status_code == 200, response.content
    assert json.loads(response.content)["status"] == "cancelled"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_on_day_79_the_client_can_move_it_through_the_api(on_day_79):
    appointment, token, other = on_day_79

    response = _post_json(
        f"/api/v1/consultations/{appointment.public_id}/reschedule",
        {"token": token, "starts_at": other.starts_at.isoformat()},
    )

    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.sequence) == (other.starts_at, 1)


def test_a_cancelled_consultations_old_link_still_shows_it_but_changes_nothing(client, on_day_79):
    appointment, token, other = on_day_79
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="Plans changed")
    appointment.refresh_from_db()
    cancelled = (appointment.status, appointment.starts_at, appointment.sequence)

    page = client.get(reverse("booking:consultation_manage", args=[token]))
    cancel = _post_json(
        f"/api/v1/consultations/{appointment.public_id}/cancel", {"token": token, "reason": "x"}
    )
    move = _post_json(
        f"/api/v1/consultations/{appointment.public_id}/reschedule",
        {"token": token, "starts_at": other.starts_at.isoformat()},
    )
    move_page = client.post(
        reverse("booking:consultation_reschedule", args=[token]),
        {"starts_at": slot_key(other.starts_at), "reason": ""},
        follow=True,
    )

    assert page.status_code == 200
    assert "You cancelled it." in page_text(page)
    assert (cancel.status_code, move.status_code) == (409, 409)
    assert "This consultation can no longer be moved." in page_text(move_page)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.starts_at, appointment.sequence) == cancelled
    assert appointment.status == AppointmentStatus.CANCELLED


# --- after the appointment -----------------------------------------------------------------


def _ended_ago(therapist: TherapistProfile, ago: dt.timedelta) -> Appointment:
    ends_at = timezone.now().replace(microsecond=0) - ago
    return make_maya_appointment(therapist, starts_at=ends_at - dt.timedelta(minutes=15))


def test_a_fresh_link_still_shows_a_consultation_that_ended_within_the_grace(client, therapist):
    appointment = _ended_ago(therapist, tokens.MANAGE_LINK_GRACE - dt.timedelta(minutes=5))
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)

    response = client.get(reverse("booking:consultation_manage", args=[token]))

    assert response.status_code == 200
    assert "This consultation has taken place." in page_text(response)


def test_a_link_stops_working_once_the_grace_after_the_end_has_passed(client, therapist):
    appointment = _ended_ago(therapist, tokens.MANAGE_LINK_GRACE + dt.timedelta(minutes=5))
    # Made just now: the link's own age is not what ends it.
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)

    page = client.get(reverse("booking:consultation_manage", args=[token]))
    download = client.get(reverse("booking:consultation_calendar", args=[token]))
    cancel = _post_json(
        f"/api/v1/consultations/{appointment.public_id}/cancel", {"token": token, "reason": "x"}
    )

    assert page.status_code == 404
    assert "This link is not valid or has expired" in page_text(page)
    assert download.status_code == 404
    assert cancel.status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
