"""The booking API: free times, booking, cancelling and rescheduling with the manage token."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.booking import services, tokens
from rapport.booking.models import Appointment, AppointmentStatus, OutboxEmail, Party
from rapport.directory.models import TherapistProfile
from tests.booking.factories import book_consultation, give_availability, make_appointment
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db

TORONTO = zoneinfo.ZoneInfo("America/Toronto")
VANCOUVER = zoneinfo.ZoneInfo("America/Vancouver")
PROBLEM = "application/problem+json"
BOOK_PATH = "/api/v1/consultations"


def _next_monday() -> dt.date:
    """A Monday at least three days ahead: inside every horizon, past every notice."""
    day = timezone.now().astimezone(TORONTO).date() + dt.timedelta(days=3)
    while day.weekday() != 0:
        day += dt.timedelta(days=1)
    return day


def _toronto(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TORONTO).astimezone(dt.UTC)


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _free(moment: dt.datetime, zone: zoneinfo.ZoneInfo, minutes: int = 15) -> dict[str, str]:
    end = moment + dt.timedelta(minutes=minutes)
    return {
        "starts_at": _utc_text(moment),
        "ends_at": _utc_text(end),
        "local_starts_at": moment.astimezone(zone).isoformat(),
        "local_ends_at": end.astimezone(zone).isoformat(),
    }


@pytest.fixture
def therapist(reference_data) -> TherapistProfile:
    therapist = make_therapist(display_name="Dana Okafor")
    give_availability(therapist, minimum_notice_hours=0)
    return therapist


def _post(path: str, body: Any, client: Client | None = None) -> Any:
    return (client or Client()).post(path, data=json.dumps(body), content_type="application/json")


def _booking(therapist: TherapistProfile, starts_at: dt.datetime, /, **changes: Any) -> dict:
    body = {
        "therapist_id": str(therapist.public_id),
        "starts_at": starts_at.isoformat(),
        "name": "Sam Rivera",
        "email": "sam.rivera@example.org",
        "time_zone": "America/Vancouver",
    }
    body.update(changes)
    return body


def _problem(response: Any, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    return body


def _book(therapist: TherapistProfile, starts_at: dt.datetime, email: str) -> Appointment:
    return book_consultation(
        therapist,
        starts_at,
        client_name="Someone Else",
        client_email=email,
        client_time_zone="America/Toronto",
    )


# --- free times ------------------------------------------------------------------------------


def test_slots_of_a_day_are_listed_in_utc_and_in_the_zone_asked_for(therapist):
    monday = _next_monday()

    response = Client().get(
        f"/api/v1/therapists/{therapist.public_id}/slots",
        {"start": monday.isoformat(), "end": monday.isoformat(), "tz": "America/Toronto"},
    )

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-cache"
    body = json.loads(response.content)
    day_start = _toronto(monday, 0)
    assert {key: value for key, value in body.items() if key != "slots"} == {
        "therapist_id": str(therapist.public_id),
        "therapist_time_zone": "America/Toronto",
        "time_zone": "America/Toronto",
        "start": _utc_text(day_start),
        "end": _utc_text(_toronto(monday + dt.timedelta(days=1), 0)),
    }
    # 9:00 to 17:00, a 15-minute consultation every 15 minutes.
    assert body["slots"] == [
        _free(_toronto(monday, 9) + dt.timedelta(minutes=15 * step), TORONTO) for step in range(32)
    ]


def test_local_times_follow_tz_while_utc_times_stay_the_same(therapist):
    monday = _next_monday()
    start = _toronto(monday, 9)

    response = Client().get(
        f"/api/v1/therapists/{therapist.public_id}/slots",
        {
            "start": start.isoformat(),
            "end": _toronto(monday, 10).isoformat(),
            "tz": "America/Vancouver",
        },
    )

    body = json.loads(response.content)
    assert body["time_zone"] == "America/Vancouver"
    assert body["therapist_time_zone"] == "America/Toronto"
    assert body["slots"] == [
        _free(start + dt.timedelta(minutes=15 * step), VANCOUVER) for step in range(4)
    ]
    assert body["slots"][0]["local_starts_at"].startswith(f"{monday.isoformat()}T06:00:00-0")


def test_booked_times_are_left_out_of_the_slots(therapist):
    monday = _next_monday()
    _book(therapist, _toronto(monday, 9, 30), "first@example.org")

    response = Client().get(
        f"/api/v1/therapists/{therapist.public_id}/slots",
        {"start": _toronto(monday, 9).isoformat(), "end": _toronto(monday, 11).isoformat()},
    )

    starts = [item["starts_at"] for item in json.loads(response.content)["slots"]]
    # 9:30–9:45 is booked; the 10-minute buffer also blocks 9:15 and 9:45.
    assert starts == [
        _utc_text(_toronto(monday, hour, minute))
        for hour, minute in ((9, 0), (10, 0), (10, 15), (10, 30), (10, 45))
    ]


def test_an_offset_sent_unencoded_in_the_query_string_is_understood(therapist):
    monday = _next_monday()
    start = dt.datetime.combine(monday, dt.time(14), tzinfo=dt.UTC)
    # "+00:00" unencoded arrives as " 00:00".
    query = f"start={start:%Y-%m-%dT%H:%M:%S}+00:00&end={monday.isoformat()}"

    response = Client().get(f"/api/v1/therapists/{therapist.public_id}/slots?{query}")

    assert response.status_code == 200, response.content
    assert json.loads(response.content)["start"] == _utc_text(start)


def test_slots_default_to_now_until_the_horizon_in_the_therapists_zone(therapist):
    response = Client().get(f"/api/v1/therapists/{therapist.public_id}/slots")

    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["time_zone"] == "America/Toronto"
    start = dt.datetime.fromisoformat(body["start"])
    end = dt.datetime.fromisoformat(body["end"])
    assert end - start == dt.timedelta(days=21)
    assert body["slots"]
    assert all(
        start <= dt.datetime.fromisoformat(item["starts_at"]) < end for item in body["slots"]
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "tomorrow"}, "start", "Give start as a date (2026-03-02) or a date and time "
         "with an offset (2026-03-02T09:00:00-05:00)."),
        ({"start": "2030-02-30"}, "start", "Give start as a date (2026-03-02) or a date and time "
         "with an offset (2026-03-02T09:00:00-05:00)."),
        ({"start": "2030-03-04T09:00:00"}, "start",
         "Give start with an offset or Z, e.g. 2026-03-02T14:00:00Z."),
        ({"end": "٢٠٣٠-03-04"}, "end", "Give end as a date (2026-03-02) or a date and time "
         "with an offset (2026-03-02T09:00:00-05:00)."),
        ({"start": "2030-03-04", "end": "2030-03-03"}, "end", "Give an end after the start."),
        ({"start": "2030-03-04T10:00:00Z", "end": "2030-03-04T10:00:00Z"}, "end",
         "Give an end after the start."),
        ({"start": "2030-03-01", "end": "2030-04-01"}, "end", "Ask for at most 31 days at a time."),
        ({"start": "9999-12-31"}, "start", "Give start between the years 1970 and 8999."),
        ({"end": "0001-01-01T00:00:00+01:00"}, "end", "Give end as a date (2026-03-02) or a "
         "date and time with an offset (2026-03-02T09:00:00-05:00)."),
        ({"tz": "Mars/Olympus_Mons"}, "tz",
         "Give tz as an IANA time zone name, e.g. America/Toronto."),
        ({"tz": "../../etc/passwd"}, "tz",
         "Give tz as an IANA time zone name, e.g. America/Toronto."),
    ],
)  # fmt: skip
def test_an_unusable_slots_parameter_is_a_400_problem_naming_it(therapist, query, field, message):
    response = Client().get(f"/api/v1/therapists/{therapist.public_id}/slots", query)

    assert _problem(response, 400) == {
        "type": "about:blank",
        "title": "Invalid request",
        "status": 400,
        "detail": message,
        "errors": [{"field": field, "message": message}],
    }


def test_a_parameter_given_twice_is_a_400_problem(therapist):
    response = Client().get(
        f"/api/v1/therapists/{therapist.public_id}/slots?tz=UTC&tz=America/Toronto"
    )

    assert _problem(response, 400)["errors"] == [{"field": "tz", "message": "Give tz once."}]


def test_the_31_day_limit_allows_exactly_31_days(therapist):
    response = Client().get(
        f"/api/v1/therapists/{therapist.public_id}/slots",
        {"start": "2030-03-01T00:00:00Z", "end": "2030-04-01T00:00:00Z"},
    )

    assert response.status_code == 200
    assert json.loads(response.content)["slots"] == []


@pytest.mark.parametrize(
    "change",
    [
        {"is_listed": False},
        {"consultation_minutes": 0},
        {"verification_status": "suspended"},
    ],
)
def test_slots_of_a_therapist_who_cannot_be_booked_are_a_404(therapist, change):
    TherapistProfile.objects.filter(pk=therapist.pk).update(**change)

    response = Client().get(f"/api/v1/therapists/{therapist.public_id}/slots")

    assert _problem(response, 404) == {"type": "about:blank", "title": "Not found", "status": 404}


@pytest.mark.parametrize("identifier", [str(uuid.UUID(int=7)), "not-a-uuid", "1"])
def test_slots_of_an_unknown_therapist_are_a_404(therapist, identifier):
    response = Client().get(f"/api/v1/therapists/{identifier}/slots")

    assert _problem(response, 404)["title"] == "Not found"


# --- booking ---------------------------------------------------------------------------------


def test_booking_a_free_time_answers_201_with_the_manage_token(therapist):
    starts_at = _toronto(_next_monday(), 10)

    response = _post(BOOK_PATH, _booking(therapist, starts_at))

    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)
    appointment = Appointment.objects.get()
    assert body == {
        "id": str(appointment.public_id),
        "status": "confirmed",
        "starts_at": _utc_text(starts_at),
        "ends_at": _utc_text(starts_at + dt.timedelta(minutes=15)),
        "therapist_id": str(therapist.public_id),
        "manage_token": body["manage_token"],
    }
    assert (
        tokens.appointment_token_read(token=body["manage_token"], purpose=tokens.PURPOSE_MANAGE)
        == appointment.public_id
    )
    assert (appointment.therapist_id, appointment.starts_at, appointment.status) == (
        therapist.pk, starts_at, AppointmentStatus.CONFIRMED,
    )  # fmt: skip
    assert (appointment.client_name, appointment.client_email, appointment.client_time_zone) == (
        "Sam Rivera", "sam.rivera@example.org", "America/Vancouver",
    )  # fmt: skip
    assert appointment.client_id is None


def test_booking_needs_no_csrf_token_and_never_links_the_signed_in_user(
    therapist, django_user_model
):
    user = django_user_model.objects.create_user(email="signed.in@example.org", password="x" * 20)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = _post(BOOK_PATH, _booking(therapist, _toronto(_next_monday(), 10)), client)

    assert response.status_code == 201, response.content
    assert Appointment.objects.get().client_id is None


def test_booking_with_a_therapist_who_confirms_by_hand_is_requested(therapist):
    therapist.booking_policy.requires_confirmation = True
    therapist.booking_policy.save()

    response = _post(BOOK_PATH, _booking(therapist, _toronto(_next_monday(), 10)))

    assert response.status_code == 201
    assert json.loads(response.content)["status"] == "requested"
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED


def test_booking_a_taken_time_is_a_409_with_the_next_free_times(therapist):
    monday = _next_monday()
    starts_at = _toronto(monday, 10)
    _book(therapist, starts_at, "first@example.org")

    response = _post(BOOK_PATH, _booking(therapist, starts_at))

    body = _problem(response, 409)
    assert body["title"] == "That time was just taken"
    assert body["detail"]
    # The 10-minute buffer after 10:00–10:15 keeps 10:15 free of bookings.
    assert body["next_free"] == [
        _free(_toronto(monday, 10, minute), VANCOUVER) for minute in (30, 45)
    ] + [_free(_toronto(monday, 11), VANCOUVER)]
    assert list(Appointment.objects.values_list("client_email", flat=True)) == ["first@example.org"]


@pytest.mark.parametrize(
    ("hour", "minute", "weekday_offset"),
    [(10, 7, 0), (8, 0, 0), (17, 0, 0), (10, 0, 5)],
    ids=["off-the-grid", "before-hours", "after-hours", "saturday"],
)
def test_booking_a_time_that_is_never_bookable_is_a_400_problem(
    therapist, hour, minute, weekday_offset
):
    starts_at = _toronto(_next_monday() + dt.timedelta(days=weekday_offset), hour, minute)

    response = _post(BOOK_PATH, _booking(therapist, starts_at))

    body = _problem(response, 400)
    assert body["title"] == "That time cannot be booked"
    assert body["errors"] == [{"field": "starts_at", "message": body["detail"]}]
    assert not Appointment.objects.exists()


def test_booking_a_past_time_is_a_400_problem(therapist):
    response = _post(BOOK_PATH, _booking(therapist, _toronto(dt.date(2020, 3, 2), 10)))

    assert _problem(response, 400)["detail"] == "That time has already passed."
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"email": "not an address"}, "email"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ],
)
def test_an_invalid_client_detail_is_a_400_problem_naming_the_field(therapist, changes, field):
    response = _post(BOOK_PATH, _booking(therapist, _toronto(_next_monday(), 10), **changes))

    body = _problem(response, 400)
    assert body["title"] == "Invalid request"
    assert [error["field"] for error in body["errors"]] == [field]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": "2030-03-04T10:00:00"}, "starts_at"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"therapist_id": "not-a-uuid"}, "therapist_id"),
        ({"name": "x" * 121}, "name"),
        ({"email": None}, "email"),
    ],
)
def test_a_malformed_body_is_a_400_problem_naming_the_field(therapist, changes, field):
    response = _post(BOOK_PATH, _booking(therapist, _toronto(_next_monday(), 10), **changes))

    body = _problem(response, 400)
    assert body["title"] == "Invalid request"
    assert [error["field"] for error in body["errors"]] == [field]
    assert not Appointment.objects.exists()


def test_a_missing_field_and_a_body_that_is_not_json_are_400_problems(therapist):
    missing = _post(BOOK_PATH, {"therapist_id": str(therapist.public_id)})
    garbage = Client().post(BOOK_PATH, data=b"{not json", content_type="application/json")

    assert {error["field"] for error in _problem(missing, 400)["errors"]} == {
        "starts_at", "name", "email", "time_zone"
    }  # fmt: skip
    assert _problem(garbage, 400)["title"] == "Invalid request"
    assert not Appointment.objects.exists()


def test_booking_an_unknown_or_unlisted_therapist_is_a_404(therapist):
    starts_at = _toronto(_next_monday(), 10)
    unknown = _post(BOOK_PATH, _booking(therapist, starts_at, therapist_id=str(uuid.uuid4())))
    TherapistProfile.objects.filter(pk=therapist.pk).update(is_listed=False)
    unlisted = _post(BOOK_PATH, _booking(therapist, starts_at))

    assert _problem(unknown, 404)["title"] == "Not found"
    assert _problem(unlisted, 404)["title"] == "Not found"
    assert not Appointment.objects.exists()


# --- cancel and reschedule -------------------------------------------------------------------


@pytest.fixture
def booked(therapist) -> dict:
    response = _post(BOOK_PATH, _booking(therapist, _toronto(_next_monday(), 10)))
    assert response.status_code == 201
    return json.loads(response.content)


def test_cancelling_with_the_manage_token_frees_the_time(booked):
    response = _post(
        f"{BOOK_PATH}/{booked['id']}/cancel",
        {"token": booked["manage_token"], "reason": "Found a time elsewhere."},
    )

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)
    assert body == {key: booked[key] for key in body} | {"status": "cancelled"}
    appointment = Appointment.objects.get()
    assert (appointment.status, appointment.ended_by, appointment.end_reason) == (
        AppointmentStatus.CANCELLED, Party.CLIENT, "Found a time elsewhere.",
    )  # fmt: skip


def test_cancelling_twice_is_a_409(booked):
    path = f"{BOOK_PATH}/{booked['id']}/cancel"
    first = _post(path, {"token": booked["manage_token"], "reason": "Sorry."})

    second = _post(path, {"token": booked["manage_token"], "reason": "Sorry."})

    assert first.status_code == 200
    body = _problem(second, 409)
    assert body["title"] == "This consultation cannot be changed that way"
    assert "cancelled" in body["detail"]


def test_cancelling_without_a_reason_is_a_400_naming_reason(booked):
    response = _post(
        f"{BOOK_PATH}/{booked['id']}/cancel", {"token": booked["manage_token"], "reason": " "}
    )

    assert [error["field"] for error in _problem(response, 400)["errors"]] == ["reason"]
    assert Appointment.objects.get().status == AppointmentStatus.CONFIRMED


@pytest.mark.parametrize("action", ["cancel", "reschedule"])
def test_a_token_that_is_bad_or_names_another_consultation_is_a_404(therapist, booked, action):
    other = _book(therapist, _toronto(_next_monday(), 14), "other@example.org")
    other_token = tokens.appointment_token_make(appointment=other, purpose=tokens.PURPOSE_MANAGE)
    confirm_token = tokens.appointment_token_make(
        appointment=Appointment.objects.get(public_id=booked["id"]),
        purpose=tokens.PURPOSE_CONFIRM_EMAIL,
    )
    body = {"reason": "Sorry.", "starts_at": _toronto(_next_monday(), 11).isoformat()}
    attempts = [
        (booked["id"], "tampered" + booked["manage_token"]),
        (booked["id"], other_token),
        (booked["id"], confirm_token),
        (str(uuid.uuid4()), booked["manage_token"]),
        ("not-a-uuid", booked["manage_token"]),
    ]

    for identifier, token in attempts:
        response = _post(f"{BOOK_PATH}/{identifier}/{action}", body | {"token": token})
        assert _problem(response, 404) == {
            "type": "about:blank",
            "title": "Not found",
            "status": 404,
        }, identifier
    assert set(Appointment.objects.values_list("status", flat=True)) == {"confirmed"}
    assert Appointment.objects.get(public_id=booked["id"]).starts_at == _toronto(_next_monday(), 10)


def test_rescheduling_moves_the_same_consultation(booked):
    new_start = _toronto(_next_monday(), 11, 30)

    response = _post(
        f"{BOOK_PATH}/{booked['id']}/reschedule",
        {"token": booked["manage_token"], "starts_at": new_start.isoformat()},
    )

    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {
        "id": booked["id"],
        "status": "confirmed",
        "starts_at": _utc_text(new_start),
        "ends_at": _utc_text(new_start + dt.timedelta(minutes=15)),
        "therapist_id": booked["therapist_id"],
    }
    appointment = Appointment.objects.get()
    assert (appointment.starts_at, appointment.sequence) == (new_start, 1)


def test_rescheduling_onto_a_taken_time_is_a_409_with_the_next_free_times(therapist, booked):
    monday = _next_monday()
    _book(therapist, _toronto(monday, 14), "other@example.org")

    response = _post(
        f"{BOOK_PATH}/{booked['id']}/reschedule",
        {"token": booked["manage_token"], "starts_at": _toronto(monday, 14).isoformat()},
    )

    body = _problem(response, 409)
    assert body["title"] == "That time was just taken"
    assert body["next_free"] == [
        _free(_toronto(monday, 14, minute), VANCOUVER) for minute in (30, 45)
    ] + [_free(_toronto(monday, 15), VANCOUVER)]
    assert Appointment.objects.get(public_id=booked["id"]).starts_at == _toronto(monday, 10)


def test_rescheduling_a_cancelled_consultation_is_a_409(booked):
    _post(f"{BOOK_PATH}/{booked['id']}/cancel", {"token": booked["manage_token"], "reason": "No."})

    response = _post(
        f"{BOOK_PATH}/{booked['id']}/reschedule",
        {"token": booked["manage_token"], "starts_at": _toronto(_next_monday(), 11).isoformat()},
    )

    assert _problem(response, 409)["title"] == "This consultation cannot be changed that way"


def test_rescheduling_to_a_time_that_is_never_bookable_is_a_400(booked):
    response = _post(
        f"{BOOK_PATH}/{booked['id']}/reschedule",
        {"token": booked["manage_token"], "starts_at": _toronto(_next_monday(), 20).isoformat()},
    )

    assert _problem(response, 400)["errors"][0]["field"] == "starts_at"
    assert Appointment.objects.get().starts_at == _toronto(_next_monday(), 10)


def test_a_client_cannot_move_a_session_through_the_api(therapist):
    now = timezone.now().replace(microsecond=0)
    held = make_appointment(
        therapist,
        now - dt.timedelta(days=1),
        client_name="Sam Rivera",
        client_email="sam.rivera@example.org",
        client_time_zone="America/Vancouver",
    )
    session = services.first_session_book(
        consultation=held, starts_at=now + dt.timedelta(days=3), now=now
    )
    token = tokens.appointment_token_make(appointment=session, purpose=tokens.PURPOSE_MANAGE)
    emails = OutboxEmail.objects.count()

    response = _post(
        f"{BOOK_PATH}/{session.public_id}/reschedule",
        {"token": token, "starts_at": _utc_text(now + dt.timedelta(days=40, hours=3))},
    )

    body = _problem(response, 409)
    assert body["title"] == "This consultation cannot be changed that way"
    assert body["detail"] == (
        "Only your therapist can move a session: ask them to move it (you can cancel it)."
    )
    session.refresh_from_db()
    assert (session.starts_at, session.sequence) == (now + dt.timedelta(days=3), 0)
    assert OutboxEmail.objects.count() == emails


@pytest.mark.parametrize(
    "starts_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-01:00", "0001-01-01T00:00:00Z"]
)
def test_booking_a_time_at_the_calendars_ends_is_a_400_naming_starts_at(therapist, starts_at):
    response = _post(
        BOOK_PATH, _booking(therapist, _toronto(_next_monday(), 10)) | {"starts_at": starts_at}
    )

    body = _problem(response, 400)
    assert body["errors"] == [
        {"field": "starts_at", "message": "Choose a time between the years 1970 and 8999."}
    ]
    assert not Appointment.objects.exists()
    assert not OutboxEmail.objects.exists()


@pytest.mark.parametrize(
    "starts_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-01:00", "0001-01-01T00:00:00Z"]
)
def test_rescheduling_to_a_time_at_the_calendars_ends_is_a_400_naming_starts_at(booked, starts_at):
    emails = OutboxEmail.objects.count()

    response = _post(
        f"{BOOK_PATH}/{booked['id']}/reschedule",
        {"token": booked["manage_token"], "starts_at": starts_at},
    )

    body = _problem(response, 400)
    assert body["errors"] == [
        {"field": "starts_at", "message": "Choose a time between the years 1970 and 8999."}
    ]
    appointment = Appointment.objects.get()
    assert (appointment.starts_at, appointment.sequence) == (_toronto(_next_monday(), 10), 0)
    assert OutboxEmail.objects.count() == emails


def test_a_reschedule_note_is_kept_for_the_therapist(booked):
    new_start = _toronto(_next_monday(), 11, 30)

    response = _post(
        f"{BOOK_PATH}/{booked['id']}/reschedule",
        {"token": booked["manage_token"], "starts_at": new_start.isoformat(), "reason": "Work"},
    )

    assert response.status_code == 200, response.content
    appointment = Appointment.objects.get()
    assert (appointment.starts_at, appointment.change_reason, appointment.changed_by) == (
        new_start,
        "Work",
        "client",
    )
    schema = json.loads(Client().get("/api/v1/openapi.json").content)
    reason = schema["components"]["schemas"]["RescheduleIn"]["properties"]["reason"]
    assert reason["description"] == "Optional note for the therapist, shown with the new time."
