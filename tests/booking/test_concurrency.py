"""Many people asking for one time at once, over HTTP, against a real multi-process server.

On each database (SQLite by default, PostgreSQL under ``scripts/with-postgres``): exactly one
booking wins, every other request is a clean 409 problem with the next free times, nothing is
a 500, and the database holds exactly one active appointment for the time.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.booking.live_server import Answer, LiveServer, fresh_database, gunicorn

BOOK_PATH = "/api/v1/consultations"
PROBLEM = "application/problem+json"

# Runs inside `rapport shell` against the server's database: a bookable therapist, open every
# day 8:00–20:00 in Toronto, and their free times two days from now.
_SETUP = """
import datetime as dt, json
from django.utils import timezone
from rapport.booking import slots
from tests.booking.factories import give_availability
from tests.factories import load_reference_data, make_therapist

load_reference_data()
therapist = make_therapist(consultation_minutes={minutes})
give_availability(
    therapist, weekdays=tuple(range(7)), starts_at=dt.time(8), ends_at=dt.time(20),
    minimum_notice_hours=0,
)
now = timezone.now()
start = now + dt.timedelta(days=2)
free = slots.therapist_free_times(
    therapist=therapist, start=start, end=start + dt.timedelta(days=1), now=now
)
print(json.dumps({{
    "therapist_id": str(therapist.public_id),
    "free": [[item.starts_at.isoformat(), item.ends_at.isoformat()] for item in free],
}}))
"""

_ACTIVE_ROWS = """
from rapport.booking.models import ACTIVE_STATUSES, Appointment
rows = Appointment.objects.filter(
    therapist__public_id="{therapist_id}", status__in=ACTIVE_STATUSES
).order_by("starts_at")
print(json.dumps([[row.starts_at.isoformat(), row.client_email] for row in rows]))
"""


@pytest.fixture(scope="module")
def booking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("booking-live")
    with fresh_database(folder) as environment, gunicorn(environment, folder) as server:
        yield server


def _bookable_therapist(server: LiveServer, *, minutes: int = 15) -> tuple[str, list[dt.datetime]]:
    found = json.loads(server.run_python(_SETUP.format(minutes=minutes)).strip().splitlines()[-1])
    starts = [dt.datetime.fromisoformat(start) for start, _ in found["free"]]
    assert len(starts) >= 8, found
    return found["therapist_id"], starts


def _active_rows(server: LiveServer, therapist_id: str) -> list[tuple[dt.datetime, str]]:
    code = "import json\n" + _ACTIVE_ROWS.format(therapist_id=therapist_id)
    rows = json.loads(server.run_python(code).strip().splitlines()[-1])
    return [(dt.datetime.fromisoformat(start), email) for start, email in rows]


def _payload(therapist_id: str, starts_at: dt.datetime, number: int) -> dict[str, Any]:
    return {
        "therapist_id": therapist_id,
        "starts_at": starts_at.isoformat(),
        "name": f"Racer {number}",
        "email": f"racer{number}@example.org",
        "time_zone": "America/Vancouver",
    }


def _all_at_once(server: LiveServer, payloads: list[dict[str, Any]]) -> list[Answer]:
    """Every payload POSTed from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(payloads))

    def send(payload: dict[str, Any]) -> Answer:
        barrier.wait(timeout=60)
        return server.post_json(BOOK_PATH, payload)

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(send, payloads))


def _assert_clean_conflict(answer: Answer, *, taken: set[dt.datetime]) -> None:
    assert answer.content_type == PROBLEM, answer
    assert answer.body["status"] == 409
    assert answer.body["title"] == "That time was just taken"
    offered = [dt.datetime.fromisoformat(item["starts_at"]) for item in answer.body["next_free"]]
    assert offered, answer.body
    assert not taken & set(offered), answer.body


def test_64_requests_for_one_slot_make_exactly_one_booking_and_63_conflicts(booking_server):
    therapist_id, starts = _bookable_therapist(booking_server)
    slot = starts[0]

    answers = _all_at_once(
        booking_server, [_payload(therapist_id, slot, number) for number in range(64)]
    )

    assert Counter(answer.status for answer in answers) == {201: 1, 409: 63}, [
        (answer.status, answer.body) for answer in answers if answer.status not in (201, 409)
    ]
    (winner,) = [answer for answer in answers if answer.status == 201]
    assert dt.datetime.fromisoformat(winner.body["starts_at"]) == slot
    assert winner.body["therapist_id"] == therapist_id
    for answer in answers:
        if answer.status == 409:
            _assert_clean_conflict(answer, taken={slot})
    rows = _active_rows(booking_server, therapist_id)
    assert [start for start, _ in rows] == [slot]
    assert rows[0][1] in {f"racer{number}@example.org" for number in range(64)}


def test_two_different_slots_racing_are_both_booked_once(booking_server):
    therapist_id, starts = _bookable_therapist(booking_server)
    # Hours apart, so neither the times nor their buffers touch.
    first = starts[0]
    second = next(start for start in starts if start >= first + dt.timedelta(hours=2))
    payloads = [
        _payload(therapist_id, first if number % 2 == 0 else second, number) for number in range(32)
    ]

    answers = _all_at_once(booking_server, payloads)

    assert Counter(answer.status for answer in answers) == {201: 2, 409: 30}
    booked = sorted(
        dt.datetime.fromisoformat(answer.body["starts_at"])
        for answer in answers
        if answer.status == 201
    )
    assert booked == [first, second]
    # A loser of one time may be offered the other: its next free times are read the moment it
    # lost, possibly before the other time's winner committed. Only its own time is never offered.
    for payload, answer in zip(payloads, answers, strict=True):
        if answer.status == 409:
            _assert_clean_conflict(answer, taken={dt.datetime.fromisoformat(payload["starts_at"])})
    assert [start for start, _ in _active_rows(booking_server, therapist_id)] == [first, second]


def test_32_requests_for_two_overlapping_start_times_make_exactly_one_booking(booking_server):
    # A 30-minute consultation on a finer grid: neighbouring start times overlap.
    therapist_id, starts = _bookable_therapist(booking_server, minutes=30)
    first = starts[0]
    second = next(start for start in starts if first < start < first + dt.timedelta(minutes=30))
    payloads = [
        _payload(therapist_id, first if number % 2 == 0 else second, number) for number in range(32)
    ]

    answers = _all_at_once(booking_server, payloads)

    assert Counter(answer.status for answer in answers) == {201: 1, 409: 31}, [
        (answer.status, answer.body) for answer in answers if answer.status not in (201, 409)
    ]
    (winner,) = [answer for answer in answers if answer.status == 201]
    won = dt.datetime.fromisoformat(winner.body["starts_at"])
    assert won in (first, second)
    for answer in answers:
        if answer.status == 409:
            assert answer.content_type == PROBLEM
            assert answer.body["title"] == "That time was just taken"
    assert [start for start, _ in _active_rows(booking_server, therapist_id)] == [won]
