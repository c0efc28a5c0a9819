"""Every place that takes a time zone name from outside refuses names that are not zones a
person lives in (``localtime``, ``Factory``, ``Etc/…``, ``US/Eastern``…), by the one rule in
rapport.core.timezones; and the API reads RFC 3339 times with a lowercase ``t`` or ``z``."""

from __future__ import annotations

import datetime as dt
import html
import json
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.booking import services
from rapport.booking.forms import ConsultationBookForm, time_zone_problem
from rapport.booking.models import Appointment
from rapport.directory.models import TherapistProfile
from tests.booking.factories import give_availability
from tests.factories import make_office, make_therapist

pytestmark = pytest.mark.django_db

TORONTO = zoneinfo.ZoneInfo("America/Toronto")
# Each is in this host's zone list (zoneinfo.available_timezones()), and none is a place.
JUNK_ZONES = ["localtime", "Factory", "Etc/GMT+5", "US/Eastern", "EST5EDT"]
IANA_ADVICE = "Give {field} as an IANA time zone name, e.g. America/Toronto."


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    therapist = make_therapist(display_name="Dana Okafor")
    give_availability(therapist, minimum_notice_hours=0)
    return therapist


def _next_monday_at_10() -> dt.datetime:
    day = timezone.now().astimezone(TORONTO).date() + dt.timedelta(days=3)
    while day.weekday() != 0:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=TORONTO).astimezone(dt.UTC)


def _slots(therapist: TherapistProfile, query: dict[str, str]):
    return Client().get(f"/api/v1/therapists/{therapist.public_id}/slots", query)


def _book(body: dict):
    return Client().post(
        "/api/v1/consultations", data=json.dumps(body), content_type="application/json"
    )


def _booking(therapist: TherapistProfile, **changes: str) -> dict:
    return {
        "therapist_id": str(therapist.public_id),
        "starts_at": _next_monday_at_10().isoformat(),
        "name": "Sam Rivera",
        "email": "sam.rivera@example.org",
        "time_zone": "America/Vancouver",
    } | changes


def test_the_junk_names_are_in_the_hosts_zone_list():
    # Otherwise the tests below would pass for the old reason (an unknown name).
    assert set(JUNK_ZONES) - {"localtime", "Factory"} <= zoneinfo.available_timezones()
    assert {"localtime", "Factory"} & zoneinfo.available_timezones()


# --- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", JUNK_ZONES)
def test_the_slots_api_refuses_a_junk_zone_naming_tz(therapist, name):
    response = _slots(therapist, {"tz": name})

    assert response.status_code == 400
    message = IANA_ADVICE.format(field="tz")
    assert json.loads(response.content)["errors"] == [{"field": "tz", "message": message}]


@pytest.mark.parametrize("name", JUNK_ZONES)
def test_booking_through_the_api_refuses_a_junk_client_zone(therapist, name):
    response = _book(_booking(therapist, time_zone=name))

    assert response.status_code == 400
    assert [error["field"] for error in json.loads(response.content)["errors"]] == ["time_zone"]
    assert not Appointment.objects.exists()


def test_the_slots_api_still_takes_utc_and_area_location_names(therapist):
    for name in ("UTC", "America/Argentina/Buenos_Aires", "Asia/Calcutta"):
        response = _slots(therapist, {"tz": name})
        assert response.status_code == 200, name
        assert json.loads(response.content)["time_zone"] == name


# --- the pages, forms and services ---------------------------------------------------------


@pytest.mark.parametrize("name", JUNK_ZONES)
def test_the_picker_says_a_junk_zone_is_unknown_and_uses_the_therapists(client, therapist, name):
    url = reverse("booking:consultation_book", args=[therapist.public_id])

    response = client.get(url, {"tz": name})

    assert response.status_code == 400
    assert (
        f"“{name}” is not a time zone we know. Times are shown in Eastern Time (Toronto) instead."
    ) in html.unescape(response.content.decode())


@pytest.mark.parametrize("name", JUNK_ZONES)
def test_the_booking_form_refuses_a_junk_zone(name):
    form = ConsultationBookForm(
        {"client_name": "Sam", "client_email": "sam@example.org", "time_zone": name}
    )

    assert time_zone_problem(name) is not None
    assert not form.is_valid()
    assert list(form.errors) == ["time_zone"]


@pytest.mark.parametrize("name", JUNK_ZONES)
def test_the_booking_service_refuses_a_junk_client_zone(therapist, name):
    with pytest.raises(ValidationError) as raised:
        services.consultation_book(
            therapist=therapist,
            starts_at=_next_monday_at_10(),
            client_name="Sam Rivera",
            client_email="sam@example.org",
            client_time_zone=name,
        )

    assert list(raised.value.message_dict) == ["client_time_zone"]
    assert not Appointment.objects.exists()


# --- the therapist's profile and offices (the admin and every model form validate these) ---


@pytest.mark.parametrize("name", ["US/Eastern", "Etc/GMT+5", "Canada/Pacific", "America/"])
def test_a_profile_or_office_zone_must_be_a_geographic_one(therapist, name):
    office = make_office(therapist)
    therapist.time_zone = name
    office.time_zone = name

    for instance in (therapist, office):
        with pytest.raises(ValidationError) as raised:
            instance.full_clean()
        assert list(raised.value.message_dict) == ["time_zone"], instance


# --- RFC 3339 times with lowercase letters --------------------------------------------------


def test_the_slots_api_reads_a_lowercase_t_and_z_like_uppercase_ones(therapist):
    start = _next_monday_at_10()
    upper = {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": "2099-01-01"}
    lower = {"start": start.strftime("%Y-%m-%dt%H:%M:%Sz")}
    end = start + dt.timedelta(hours=2)
    upper["end"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    lower["end"] = end.strftime("%Y-%m-%dt%H:%M:%Sz")

    answer_upper, answer_lower = _slots(therapist, upper), _slots(therapist, lower)

    assert answer_lower.status_code == 200, answer_lower.content
    body = json.loads(answer_lower.content)
    assert (body["start"], body["end"]) == (upper["start"], upper["end"])
    assert body == json.loads(answer_upper.content)
    assert len(body["slots"]) == 8


def test_the_slots_api_reads_a_lowercase_t_with_an_offset(therapist):
    start = _next_monday_at_10().astimezone(TORONTO)
    query = {"start": start.isoformat().replace("T", "t"), "tz": "America/Toronto"}

    response = _slots(therapist, query)

    assert response.status_code == 200, response.content
    assert json.loads(response.content)["start"] == start.astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_booking_through_the_api_reads_a_lowercase_t_and_z(therapist):
    starts_at = _next_monday_at_10()

    response = _book(_booking(therapist, starts_at=starts_at.strftime("%Y-%m-%dt%H:%M:%Sz")))

    assert response.status_code == 201, response.content
    assert Appointment.objects.get().starts_at == starts_at
