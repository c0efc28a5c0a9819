"""Apps' own errors become problem documents through handlers they register once, not through
per-endpoint try/except."""

from __future__ import annotations

import datetime as dt
import json

from django.test import RequestFactory

from rapport.booking.api import slot_taken_problem
from rapport.booking.errors import FreeTime, InvalidTransition, SlotTaken, SlotUnavailable
from rapport.core.problems import problem_handlers


def test_booking_registers_a_problem_for_each_of_its_errors():
    handlers = problem_handlers()
    assert {SlotTaken, SlotUnavailable, InvalidTransition} <= set(handlers)


def test_a_taken_slot_offers_the_next_times_in_the_askers_zone_or_utc():
    start = dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC)
    free = [FreeTime(starts_at=start, ends_at=start + dt.timedelta(minutes=15))]
    request = RequestFactory().get("/api/v1/consultations")

    toronto = json.loads(
        slot_taken_problem(
            request, SlotTaken("Taken.", next_free=free, time_zone="America/Toronto")
        ).content
    )
    unknown = json.loads(slot_taken_problem(request, SlotTaken("Taken.", next_free=free)).content)

    assert toronto["status"] == 409
    assert toronto["next_free"] == [
        {
            "starts_at": "2027-03-01T15:00:00Z",
            "ends_at": "2027-03-01T15:15:00Z",
            "local_starts_at": "2027-03-01T10:00:00-05:00",
            "local_ends_at": "2027-03-01T10:15:00-05:00",
        }
    ]
    assert unknown["next_free"][0]["local_starts_at"] == "2027-03-01T15:00:00+00:00"
