"""Calendar files: parsed back with icalendar, and checked as text (RFC 5545 line rules)."""

from __future__ import annotations

import datetime as dt
import email
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone

from rapport.booking import calendar, services
from rapport.booking.models import Appointment, AppointmentKind, AppointmentStatus, Party
from rapport.directory.models import TherapistProfile
from tests.booking.factories import make_maya_appointment
from tests.factories import make_therapist_with_account

STAMP = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_therapist_with_account(display_name="Ada Okafor", email="ada@example.org")


def parse(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical(ics)
    [event] = parsed.events
    return parsed, event


def unfold(ics: bytes) -> list[str]:
    return ics.decode().replace("\r\n ", "").split("\r\n")


@pytest.mark.django_db
def test_a_client_invitation_has_every_field_a_calendar_needs(therapist):
    starts_at = dt.datetime(2026, 7, 15, 16, 0, tzinfo=dt.UTC)
    appointment = make_maya_appointment(therapist, starts_at=starts_at, sequence=2)

    ics = calendar.appointment_calendar(
        appointment=appointment,
        method=calendar.METHOD_REQUEST,
        zone="America/Vancouver",
        now=STAMP,
    )

    parsed, event = parse(ics)
    assert parsed["METHOD"] == "REQUEST"
    assert parsed["VERSION"] == "2.0"
    assert parsed["PRODID"] == calendar.PRODUCT_ID
    assert [zone["TZID"] for zone in parsed.timezones] == ["America/Vancouver"]
    assert event["UID"] == f"{appointment.public_id}@rapport"
    assert event["SEQUENCE"] == 2
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "Free consultation with Ada Okafor"
    assert event.DTSTAMP == STAMP
    assert event.start == dt.datetime(2026, 7, 15, 9, 0, tzinfo=ZoneInfo("America/Vancouver"))
    assert event.end == dt.datetime(2026, 7, 15, 9, 15, tzinfo=ZoneInfo("America/Vancouver"))
    assert event["DTSTART"].params["TZID"] == "America/Vancouver"
    assert str(event["ORGANIZER"]) == "mailto:no-reply@localhost"
    assert event["ORGANIZER"].params["CN"] == "Rapport"
    assert str(event["ATTENDEE"]) == "mailto:maya@example.org"
    assert event["ATTENDEE"].params["CN"] == "Maya Lindqvist"
    lines = unfold(ics)
    assert "DTSTART;TZID=America/Vancouver:20260715T090000" in lines
    assert "DTEND;TZID=America/Vancouver:20260715T091500" in lines
    assert "DTSTAMP:20260105T120000Z" in lines


@pytest.mark.django_db
def test_a_request_waiting_for_the_therapist_is_tentative(therapist):
    appointment = make_maya_appointment(therapist, status=AppointmentStatus.REQUESTED)

    ics = calendar.appointment_calendar(
        appointment=appointment, method=calendar.METHOD_REQUEST, zone="America/Toronto"
    )

    assert parse(ics)[1]["STATUS"] == "TENTATIVE"


@pytest.mark.django_db
def test_a_cancellation_is_a_cancel_message_with_the_same_uid(therapist):
    appointment = make_maya_appointment(
        therapist,
        status=AppointmentStatus.DECLINED,
        ended_by=Party.THERAPIST,
        ended_at=timezone.now(),
        sequence=1,
    )

    parsed, event = parse(
        calendar.appointment_calendar(
            appointment=appointment, method=calendar.METHOD_CANCEL, zone="America/Toronto"
        )
    )

    assert parsed["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == appointment.calendar_uid
    assert event["SEQUENCE"] == 1


@pytest.mark.django_db
def test_the_therapist_copy_names_the_client_by_first_name_in_the_therapist_zone(therapist):
    starts_at = dt.datetime(2026, 7, 15, 16, 0, tzinfo=dt.UTC)
    appointment = make_maya_appointment(therapist, starts_at=starts_at)

    ics = calendar.appointment_calendar(
        appointment=appointment,
        method=calendar.METHOD_REQUEST,
        zone=therapist.time_zone,
        recipient=Party.THERAPIST,
    )

    _, event = parse(ics)
    assert event["SUMMARY"] == "Rapport consultation: Maya"
    assert str(event["ATTENDEE"]) == "mailto:ada@example.org"
    assert "DTSTART;TZID=America/Toronto:20260715T120000" in unfold(ics)
    assert b"Lindqvist" not in ics
    assert b"maya@example.org" not in ics


@pytest.mark.django_db
def test_no_reason_or_note_ever_reaches_a_calendar(therapist):
    appointment = make_maya_appointment(
        therapist,
        status=AppointmentStatus.CANCELLED,
        ended_by=Party.CLIENT,
        ended_at=timezone.now(),
        end_reason="I relapsed and feel unsafe",
    )

    for recipient in (Party.CLIENT, Party.THERAPIST):
        ics = calendar.appointment_calendar(
            appointment=appointment,
            method=calendar.METHOD_CANCEL,
            zone="America/Toronto",
            recipient=recipient,
        )
        assert b"relapsed" not in ics
        assert b"DESCRIPTION" not in ics


@pytest.mark.django_db
def test_the_text_uses_crlf_and_folds_long_lines_at_75_octets(therapist):
    long_name = "Dr. Évangéline Marie-Thérèse Okonkwo-Szczepańska de la Fontaine-Beaumont"
    TherapistProfile.objects.filter(pk=therapist.pk).update(display_name=long_name)
    appointment = Appointment.objects.select_related("therapist").get(
        pk=make_maya_appointment(therapist).pk
    )

    ics = calendar.appointment_calendar(
        appointment=appointment, method=calendar.METHOD_REQUEST, zone="America/Toronto"
    )

    assert ics.endswith(b"\r\n")
    assert b"\n" not in ics.replace(b"\r\n", b"")
    physical_lines = ics.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical_lines)
    summary_lines = [line for line in physical_lines if line.startswith(b"SUMMARY:")]
    [summary_start] = summary_lines
    assert len(summary_start) > 60  # long enough that it had to be folded
    assert f"SUMMARY:Free consultation with {long_name}" in unfold(ics)
    assert parse(ics)[1]["SUMMARY"] == f"Free consultation with {long_name}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("utc", "written", "zones"),
    [
        # The Sunday clocks go forward (02:00 EST → 03:00 EDT): 10:00 is EDT, UTC−4.
        (
            dt.datetime(2026, 3, 8, 14, 0, tzinfo=dt.UTC),
            "DTSTART;TZID=America/Toronto:20260308T100000",
            {"America/Toronto"},
        ),
        # The Sunday clocks go back (02:00 EDT → 01:00 EST): 10:00 is EST, UTC−5.
        (
            dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC),
            "DTSTART;TZID=America/Toronto:20261101T100000",
            {"America/Toronto"},
        ),
        # In the repeated hour, local time cannot say which 01:30 (RFC 5545 would read the
        # first): both of them are written in UTC, and no VTIMEZONE is needed.
        (dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC), "DTSTART:20261101T053000Z", set()),
        (dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC), "DTSTART:20261101T063000Z", set()),
    ],
)
def test_an_appointment_on_a_dst_change_date_is_written_at_its_instant(
    therapist, utc, written, zones
):
    appointment = make_maya_appointment(therapist, starts_at=utc)

    ics = calendar.appointment_calendar(
        appointment=appointment, method=calendar.METHOD_REQUEST, zone="America/Toronto"
    )

    assert written in unfold(ics)
    parsed, event = parse(ics)
    assert isinstance(event.start, dt.datetime)
    assert event.start.astimezone(dt.UTC) == utc
    assert {zone["TZID"] for zone in parsed.timezones} == zones


@pytest.mark.django_db
def test_an_event_that_ends_in_the_repeated_hour_is_written_in_utc_at_both_ends(therapist):
    # 01:50 EDT to the second 01:05 (EST): as local times it would end before it starts.
    starts_at = dt.datetime(2027, 11, 7, 5, 50, tzinfo=dt.UTC)
    appointment = make_maya_appointment(therapist, starts_at=starts_at)

    ics = calendar.appointment_calendar(
        appointment=appointment, method=calendar.METHOD_REQUEST, zone="America/Toronto"
    )

    lines = unfold(ics)
    assert [line for line in lines if line.startswith(("DTSTART", "DTEND"))] == [
        "DTSTART:20271107T055000Z",
        "DTEND:20271107T060500Z",
    ]


@pytest.mark.django_db
def test_an_event_in_utc_is_written_in_utc_without_a_vtimezone(therapist):
    appointment = make_maya_appointment(
        therapist, starts_at=dt.datetime(2027, 6, 1, 16, 0, tzinfo=dt.UTC)
    )

    ics = calendar.appointment_calendar(
        appointment=appointment, method=calendar.METHOD_REQUEST, zone="UTC"
    )

    lines = unfold(ics)
    assert "DTSTART:20270601T160000Z" in lines
    assert "DTEND:20270601T161500Z" in lines
    assert "BEGIN:VTIMEZONE" not in lines


@pytest.mark.django_db
def test_an_unknown_method_is_refused(therapist):
    with pytest.raises(ValueError, match="method"):
        calendar.appointment_calendar(
            appointment=make_maya_appointment(therapist), method="PUBLISH", zone="UTC"
        )


def _attached_event(message) -> icalendar.Event:
    parsed = email.message_from_bytes(message.message().as_bytes())
    [part] = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return parse(payload)[1]


@pytest.mark.django_db
def test_a_reschedule_raises_the_sequence_and_keeps_the_uid(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    starts_at = (now + dt.timedelta(days=5)).replace(microsecond=0)
    session = make_maya_appointment(therapist, starts_at=starts_at, kind=AppointmentKind.SESSION)
    first = calendar.appointment_calendar(
        appointment=session, method=calendar.METHOD_REQUEST, zone=session.client_time_zone
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(
            appointment=session,
            starts_at=starts_at + dt.timedelta(days=1),
            by=Party.THERAPIST,
            reason="",
            now=now,
        )

    to_client = next(message for message in mailoutbox if message.to == ["maya@example.org"])
    moved = _attached_event(to_client)
    before = parse(first)[1]
    assert moved["UID"] == before["UID"] == session.calendar_uid
    assert (before["SEQUENCE"], moved["SEQUENCE"]) == (0, 1)
    assert isinstance(moved.start, dt.datetime)
    assert moved.start.astimezone(dt.UTC) == starts_at + dt.timedelta(days=1)
