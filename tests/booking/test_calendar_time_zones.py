"""Calendar files put every event at its booked instant, even around clock changes.

Each file is read back by tests/booking/rfc5545.py (RFC 5545's rules, written for the tests),
and the zone changes are checked against the tz database found by scanning zoneinfo here, not
against anything the production code computes.
"""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.booking import calendar, outbox, tokens
from rapport.booking.models import Appointment, BookingPolicy, Party
from rapport.directory.models import TherapistProfile
from tests.booking import rfc5545
from tests.booking.factories import make_maya_appointment
from tests.factories import make_therapist_with_account

UTC = dt.UTC


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- the tz database, found independently ------------------------------------------------------


def tz_database_changes(
    zone_name: str, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.timedelta, dt.timedelta]]:
    """(instant, offset before, offset after) of every offset change in [start, end): zoneinfo
    asked hour by hour, each change then narrowed down to the minute."""
    zone = ZoneInfo(zone_name)

    def offset(moment: dt.datetime) -> dt.timedelta:
        value = moment.astimezone(zone).utcoffset()
        assert value is not None
        return value

    changes = []
    hour = start
    while hour < end:
        later = hour + dt.timedelta(hours=1)
        if offset(hour) != offset(later):
            low, high = hour, later  # offset(low) is the old one, offset(high) the new one
            while high - low > dt.timedelta(minutes=1):
                middle = low + dt.timedelta(minutes=(high - low) // dt.timedelta(minutes=2))
                if offset(middle) == offset(low):
                    low = middle
                else:
                    high = middle
            changes.append((high, offset(low), offset(high)))
        hour = later
    return changes


def test_the_oracle_finds_the_known_toronto_changes_of_2027():
    assert tz_database_changes("America/Toronto", _utc(2027, 1, 1), _utc(2028, 1, 1)) == [
        (_utc(2027, 3, 14, 7), dt.timedelta(hours=-5), dt.timedelta(hours=-4)),
        (_utc(2027, 11, 7, 6), dt.timedelta(hours=-4), dt.timedelta(hours=-5)),
    ]


# --- VTIMEZONE definitions -----------------------------------------------------------------

ZONES = (
    "America/Toronto",
    "Europe/London",
    "Australia/Sydney",
    "Pacific/Chatham",
    "America/St_Johns",
    "Australia/Lord_Howe",
)
YEARS_START, YEARS_END = _utc(2027, 1, 1), _utc(2029, 1, 1)


@pytest.fixture
def therapist_in(reference_data: None) -> Callable[[str], TherapistProfile]:
    def make(zone_name: str) -> TherapistProfile:
        return make_therapist_with_account(
            display_name="Ada Okafor",
            email=f"{zone_name.replace('/', '.')}@example.org",
            time_zone=zone_name,
        )

    return make


def _feed(client: Client, therapist: TherapistProfile) -> bytes:
    policy, _ = BookingPolicy.objects.get_or_create(therapist=therapist)
    response = client.get(reverse("booking:calendar_feed", args=[policy.feed_token]))
    assert response.status_code == 200
    return bytes(response.content)


def _assert_defines_the_zone_for_2027_and_2028(ics: bytes, zone_name: str) -> None:
    definitions = rfc5545.zone_definitions(rfc5545.parse(ics))
    assert list(definitions) == [zone_name]
    definition = definitions[zone_name]
    naive_start, naive_end = YEARS_START.replace(tzinfo=None), YEARS_END.replace(tzinfo=None)
    written = [
        (onset.at.replace(tzinfo=UTC), onset.offset_from, onset.offset_to)
        for onset in definition.onsets
        if onset.offset_from != onset.offset_to and naive_start <= onset.at < naive_end
    ]
    assert written == tz_database_changes(zone_name, YEARS_START, YEARS_END)
    # The offset in force when the two years begin is defined too, and is the real one.
    assert (
        definition.offset_at(naive_start) == YEARS_START.astimezone(ZoneInfo(zone_name)).utcoffset()
    )
    # Each onset's kind follows whether daylight time starts there.
    for onset in definition.onsets:
        moment = onset.at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone_name))
        assert onset.kind == ("DAYLIGHT" if moment.dst() else "STANDARD"), onset


@pytest.mark.django_db
@pytest.mark.parametrize("zone_name", ZONES)
def test_the_feeds_vtimezone_has_every_change_of_2027_and_2028_at_its_real_instant(
    client, therapist_in, zone_name
):
    therapist = therapist_in(zone_name)
    make_maya_appointment(therapist, starts_at=_utc(2027, 2, 1, 3))
    make_maya_appointment(therapist, starts_at=_utc(2028, 11, 30, 3))

    _assert_defines_the_zone_for_2027_and_2028(_feed(client, therapist), zone_name)


@pytest.mark.django_db
@pytest.mark.parametrize("zone_name", ZONES)
def test_an_invitations_vtimezone_has_every_change_of_the_year_around_it(therapist_in, zone_name):
    therapist = therapist_in(zone_name)
    # A year either side of New Year 2028 is all of 2027 and 2028.
    appointment = make_maya_appointment(
        therapist, starts_at=_utc(2028, 1, 1, 0, 30), client_time_zone=zone_name
    )

    ics = calendar.appointment_calendar(
        appointment=appointment, method=calendar.METHOD_REQUEST, zone=zone_name
    )

    _assert_defines_the_zone_for_2027_and_2028(ics, zone_name)


@pytest.mark.django_db
def test_the_toronto_spring_change_is_written_in_the_offset_before_it(therapist_in):
    therapist = therapist_in("America/Toronto")
    appointment = make_maya_appointment(therapist, starts_at=_utc(2027, 6, 1, 16))

    ics = calendar.appointment_calendar(
        appointment=appointment, method=calendar.METHOD_REQUEST, zone="America/Toronto"
    )

    # 02:00 EST is 07:00Z, when the clocks jump to 03:00 EDT.
    lines = rfc5545.unfold(ics.decode())
    spring = lines.index("DTSTART:20270314T020000")
    assert lines[spring - 1 : spring + 4] == [
        "BEGIN:DAYLIGHT",
        "DTSTART:20270314T020000",
        "TZNAME:EDT",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400",
    ]


# --- events at their booked instants, from every writer ------------------------------------

# Around each zone's 2027 changes: the repeated hour's first and second occurrence, an event
# that starts in the first and ends in the second, one just after clocks went forward, and an
# ordinary time. (start in UTC, wall time there)
CLOCK_CHANGE_TIMES: dict[str, list[tuple[dt.datetime, str]]] = {
    "America/Toronto": [
        (_utc(2027, 11, 7, 5, 30), "first 01:30 EDT"),
        (_utc(2027, 11, 7, 5, 50), "01:50 EDT to the second 01:05, EST"),
        (_utc(2027, 11, 7, 6, 30), "second 01:30, EST"),
        (_utc(2027, 11, 7, 17, 0), "12:00 EST"),
        (_utc(2027, 3, 14, 7, 30), "03:30 EDT, just after clocks went forward"),
    ],
    "Europe/London": [
        (_utc(2027, 10, 31, 0, 30), "first 01:30 BST"),
        (_utc(2027, 10, 31, 0, 50), "01:50 BST to the second 01:05, GMT"),
        (_utc(2027, 10, 31, 1, 30), "second 01:30, GMT"),
        (_utc(2027, 10, 31, 12, 0), "12:00 GMT"),
        (_utc(2027, 3, 28, 1, 10), "02:10 BST, just after clocks went forward"),
    ],
    "Pacific/Chatham": [
        (_utc(2027, 4, 3, 13, 15), "first 03:00 +1345"),
        (_utc(2027, 4, 3, 13, 50), "03:35 +1345 to the second 02:50, +1245"),
        (_utc(2027, 4, 3, 14, 15), "second 03:00, +1245"),
        (_utc(2027, 4, 3, 23, 15), "12:00 +1245"),
        (_utc(2027, 9, 25, 14, 5), "03:50 +1345, just after clocks went forward"),
    ],
}
ORDINARY = 3  # the index of the ordinary time in each list


def _calendar_of_message(message) -> bytes:
    parsed = email.message_from_bytes(message.message().as_bytes())
    [part] = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def _mail(recipient: Party) -> Callable[[Client, list[Appointment]], list[bytes]]:
    def write(client: Client, appointments: list[Appointment]) -> list[bytes]:
        files = []
        for appointment in appointments:
            row = outbox.outbox_write(
                appointment=appointment,
                purpose=outbox.PURPOSE_BOOKED,
                recipient=recipient,
                due_at=timezone.now() + dt.timedelta(hours=1),
            )
            assert row is not None
            message = outbox.build_message(row, now=timezone.now())
            files.append(_calendar_of_message(message))
        return files

    return write


def _download(client: Client, appointments: list[Appointment]) -> list[bytes]:
    files = []
    for appointment in appointments:
        token = tokens.appointment_token_make(
            appointment=appointment, purpose=tokens.PURPOSE_MANAGE
        )
        response = client.get(reverse("booking:consultation_calendar", args=[token]))
        assert response.status_code == 200
        files.append(bytes(response.content))
    return files


def _feed_of(client: Client, appointments: list[Appointment]) -> list[bytes]:
    return [_feed(client, appointments[0].therapist)]


WRITERS = {
    "client e-mail": _mail(Party.CLIENT),
    "therapist e-mail": _mail(Party.THERAPIST),
    "download": _download,
    "feed": _feed_of,
}


@pytest.mark.django_db
@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("zone_name", list(CLOCK_CHANGE_TIMES))
def test_every_calendar_file_puts_each_event_at_its_booked_instant(
    client, therapist_in, writer, zone_name
):
    therapist = therapist_in(zone_name)
    appointments = [
        make_maya_appointment(therapist, starts_at=starts_at, client_time_zone=zone_name)
        for starts_at, _label in CLOCK_CHANGE_TIMES[zone_name]
    ]

    files = WRITERS[writer](client, appointments)

    read = {times.uid: times for ics in files for times in rfc5545.event_times(ics)}
    assert {
        label: (read[appointment.calendar_uid].start, read[appointment.calendar_uid].end)
        for appointment, (_start, label) in zip(
            appointments, CLOCK_CHANGE_TIMES[zone_name], strict=True
        )
    } == {
        label: (appointment.starts_at, appointment.ends_at)
        for appointment, (_start, label) in zip(
            appointments, CLOCK_CHANGE_TIMES[zone_name], strict=True
        )
    }
    # An ordinary time stays in the person's zone, resolved through the file's VTIMEZONE.
    ordinary = read[appointments[ORDINARY].calendar_uid]
    assert ordinary.start_line.startswith(f"DTSTART;TZID={zone_name}:")
