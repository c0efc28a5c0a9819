"""The therapist's private calendar feed."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from rapport.booking import services
from rapport.booking.models import AppointmentStatus, BookingPolicy, Party
from rapport.directory.models import TherapistProfile
from tests.booking.factories import make_maya_appointment
from tests.factories import make_therapist, make_therapist_with_account


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_therapist_with_account(display_name="Ada Okafor")


@pytest.fixture
def policy(therapist: TherapistProfile) -> BookingPolicy:
    return BookingPolicy.objects.create(therapist=therapist)


def feed_url(policy: BookingPolicy) -> str:
    return reverse("booking:calendar_feed", args=[policy.feed_token])


@pytest.mark.django_db
def test_the_feed_lists_active_appointments_from_30_days_ago_on(client, therapist, policy):
    now = timezone.now().replace(microsecond=0)
    upcoming = make_maya_appointment(therapist, starts_at=now + dt.timedelta(days=2))
    requested = make_maya_appointment(
        therapist,
        starts_at=now + dt.timedelta(days=3),
        status=AppointmentStatus.REQUESTED,
        client_name="Jo Brennan",
    )
    recent = make_maya_appointment(therapist, starts_at=now - dt.timedelta(days=29))
    make_maya_appointment(therapist, starts_at=now - dt.timedelta(days=31))
    make_maya_appointment(
        therapist,
        starts_at=now + dt.timedelta(days=4),
        status=AppointmentStatus.CANCELLED,
        ended_by=Party.CLIENT,
        ended_at=now,
    )
    make_maya_appointment(make_therapist(), starts_at=now + dt.timedelta(days=2))

    response = client.get(feed_url(policy))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = icalendar.Calendar.from_ical(response.content)
    assert "METHOD" not in parsed
    assert parsed["X-WR-CALNAME"] == "Rapport consultations"
    assert [event["UID"] for event in parsed.events] == [
        recent.calendar_uid,
        upcoming.calendar_uid,
        requested.calendar_uid,
    ]
    assert [event["STATUS"] for event in parsed.events] == ["CONFIRMED", "CONFIRMED", "TENTATIVE"]
    assert [event["SUMMARY"] for event in parsed.events] == [
        "Rapport consultation: Maya",
        "Rapport consultation: Maya",
        "Rapport consultation: Jo",
    ]
    assert {event["DTSTART"].params["TZID"] for event in parsed.events} == {"America/Toronto"}
    assert [zone["TZID"] for zone in parsed.timezones] == ["America/Toronto"]


@pytest.mark.django_db
def test_the_feed_is_private_and_never_cached_or_indexed(client, policy):
    response = client.get(feed_url(policy))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert not response.cookies


@pytest.mark.django_db
def test_an_empty_feed_is_still_a_valid_calendar(client, policy):
    response = client.get(feed_url(policy))

    parsed = icalendar.Calendar.from_ical(response.content)
    assert parsed.events == []
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 65])
def test_an_unknown_token_is_not_found(client, policy, token):
    response = client.get(reverse("booking:calendar_feed", args=[token]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_rotated_token_stops_working_at_once(client, therapist, policy):
    old_url = feed_url(policy)

    rotated = services.calendar_feed_rotate(therapist=therapist)

    assert client.get(old_url).status_code == 404
    assert client.get(feed_url(rotated)).status_code == 200


@pytest.mark.django_db
def test_the_feed_refuses_writes(client, policy):
    assert client.post(feed_url(policy)).status_code == 405
