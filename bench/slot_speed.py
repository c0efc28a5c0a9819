"""How long three weeks of free consultation times take for one therapist, reads included.

    .venv/bin/python bench/slot_speed.py [--therapists 200] [--days 21]
    scripts/with-postgres .venv/bin/python bench/slot_speed.py --use-database-url

Seeds a throwaway database (a fresh SQLite file in a temporary folder by default;
--use-database-url uses the database DATABASE_URL names instead) with --therapists generated
therapists, then gives each, in this process, realistic availability in one of several zones
(those with half-hour offsets and half-hour clock changes included): weekly windows, a booking
policy, a day off, a time-off stretch, Saturday extra hours, a year of past appointments and a
dozen upcoming ones (some cancelled). Then, for every therapist, after one warm-up pass:

  full    therapist_free_times over the next --days days (policy, windows, exceptions and
          appointments read from the database, then computed)
  pure    free_times_from_availability alone, on a snapshot loaded beforehand
  floor   one primary-key query for one column of the therapist's row

Prints p50/p95/max milliseconds of each, the queries per call, the full/floor ratio at the
median, and whether full p95 stays within 5 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from throwaway import (
    database_url_option,
    prepared_environment,
    seed_therapists,
    start_django,
)

FULL_P95_TARGET_MS = 5.0

# Zones the directory serves, plus ones whose offsets or clock changes are unusual.
ZONES = [
    "America/Toronto",
    "America/Vancouver",
    "America/Halifax",
    "America/St_Johns",
    "America/Winnipeg",
    "America/Regina",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
]
WINDOW_SHAPES = [
    [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))],
    [(dt.time(8, 30), dt.time(11, 30))],
    [(dt.time(12), dt.time(15)), (dt.time(18), dt.time(21))],
    [(dt.time(10), dt.time(18))],
]


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float
    max_ms: float


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def _timing(seconds: list[float]) -> Timing:
    ordered = sorted(value * 1000 for value in seconds)
    return Timing(
        p50_ms=statistics.median(ordered), p95_ms=_percentile(ordered, 0.95), max_ms=ordered[-1]
    )


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=200)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--use-database-url", action="store_true")
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as folder:
        environment = prepared_environment(
            folder=folder, database_url=database_url, seed=arguments.seed, LOG_LEVEL="WARNING"
        )
        seed_therapists(environment, therapists=arguments.therapists, seed=arguments.seed)
        start_django(environment)
        _run(arguments, database="PostgreSQL" if database_url else "SQLite")


def _run(arguments: argparse.Namespace, *, database: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from rapport.booking.slots import (
        availability_load,
        free_times_from_availability,
        therapist_free_times,
    )
    from rapport.directory.models import TherapistProfile

    now = timezone.now().replace(second=0, microsecond=0)
    therapists = list(TherapistProfile.objects.order_by("pk")[: arguments.therapists])
    started = time.perf_counter()
    therapists = _give_availability(therapists, now=now, seed=arguments.seed)
    setup_seconds = time.perf_counter() - started
    end = now + dt.timedelta(days=arguments.days)

    def full(therapist: Any) -> list[Any]:
        return therapist_free_times(therapist=therapist, start=now, end=end, now=now)

    def floor(therapist: Any) -> object:
        return TherapistProfile.objects.filter(pk=therapist.pk).values_list("time_zone").get()

    for therapist in therapists:  # warm-up: connections, statement caches, zone files
        full(therapist)
        floor(therapist)
    with CaptureQueriesContext(connection) as queries:
        free_counts = [len(full(therapist)) for therapist in therapists]
    snapshots = [
        availability_load(therapist=therapist, start=now, end=end, now=now)
        for therapist in therapists
    ]

    full_seconds = [_timed(partial(full, therapist)) for therapist in therapists]
    pure_seconds = [
        _timed(
            partial(
                free_times_from_availability, availability=snapshot, start=now, end=end, now=now
            )
        )
        for snapshot in snapshots
    ]
    floor_seconds = [_timed(partial(floor, therapist)) for therapist in therapists]
    results = {
        "full": _timing(full_seconds),
        "pure": _timing(pure_seconds),
        "floor": _timing(floor_seconds),
    }

    print(f"database          {database}")
    print(f"therapists        {len(therapists)} (availability written in {setup_seconds:.1f} s)")
    print(f"range             {arguments.days} days from now, within each therapist's horizon")
    print(
        f"free times        {statistics.mean(free_counts):.0f} per therapist on average "
        f"(min {min(free_counts)}, max {max(free_counts)})"
    )
    print(f"queries per call  {len(queries) / len(therapists):.1f}")
    print()
    print(f"{'part':<8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, result in results.items():
        print(f"{name:<8} {result.p50_ms:>8.2f} {result.p95_ms:>8.2f} {result.max_ms:>8.2f}")
    print()
    ratio = results["full"].p50_ms / results["floor"].p50_ms
    print(f"full / floor at p50   {ratio:6.1f} x")
    print(f"pure share of full    {results['pure'].p50_ms / results['full'].p50_ms:6.0%} at p50")
    p95 = results["full"].p95_ms
    verdict = "met" if p95 <= FULL_P95_TARGET_MS else "MISSED"
    print(f"full p95 ≤ {FULL_P95_TARGET_MS:.0f} ms      {p95:6.2f}   ({verdict})")


def _give_availability(therapists: list[Any], *, now: dt.datetime, seed: int) -> list[Any]:
    """Windows, policy, exceptions and appointments for each therapist, replacing any the seed
    wrote, in one transaction."""
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from rapport.booking.models import (
        Appointment,
        AppointmentKind,
        AppointmentStatus,
        BookingPolicy,
        DateException,
        ExceptionKind,
        Party,
        WeeklyWindow,
    )
    from rapport.booking.slots import SLOT_STEP_MINUTES
    from rapport.directory.models import TherapistProfile

    chooser = random.Random(seed)
    windows: list[WeeklyWindow] = []
    policies: list[BookingPolicy] = []
    exceptions: list[DateException] = []
    appointments: list[Appointment] = []
    for index, therapist in enumerate(therapists):
        therapist.time_zone = ZONES[index % len(ZONES)]
        therapist.consultation_minutes = chooser.choice([15, 15, 20, 30])
        zone = ZoneInfo(therapist.time_zone)
        today = now.astimezone(zone).date()
        weekdays = sorted(chooser.sample(range(6), chooser.randint(3, 5)))
        shape = chooser.choice(WINDOW_SHAPES)
        windows += [
            WeeklyWindow(therapist=therapist, weekday=day, starts_at=start, ends_at=end)
            for day in weekdays
            for start, end in shape
        ]
        policies.append(
            BookingPolicy(
                therapist=therapist,
                buffer_minutes=chooser.choice([0, 5, 10, 15]),
                minimum_notice_hours=chooser.choice([4, 12, 24, 48]),
                horizon_days=chooser.choice([21, 28, 60]),
                max_consultations_per_day=chooser.randint(3, 6),
            )
        )
        exceptions += [
            DateException(
                therapist=therapist,
                date=today + dt.timedelta(days=chooser.randint(2, 20)),
                kind=ExceptionKind.TIME_OFF,
                note="Away",
            ),
            DateException(
                therapist=therapist,
                date=today + dt.timedelta(days=chooser.randint(2, 20)),
                kind=ExceptionKind.TIME_OFF,
                starts_at=dt.time(10),
                ends_at=dt.time(11, 30),
            ),
            DateException(
                therapist=therapist,
                date=today + dt.timedelta(days=(5 - today.weekday()) % 7 + 7),
                kind=ExceptionKind.EXTRA_HOURS,
                starts_at=dt.time(10),
                ends_at=dt.time(13),
            ),
        ]
        # Active appointments never overlap (the database refuses it): one per day at most,
        # at a random grid time inside that day's first window.
        start_wall, end_wall = shape[0]
        first_minute = start_wall.hour * 60 + start_wall.minute
        last_minute = end_wall.hour * 60 + end_wall.minute - 60
        for day_offset in range(-365, 22):
            day = today + dt.timedelta(days=day_offset)
            if day.weekday() not in weekdays or chooser.random() > 0.6:
                continue
            minute = chooser.randrange(first_minute, last_minute + 1, SLOT_STEP_MINUTES)
            starts_at = dt.datetime.combine(
                day, dt.time(minute // 60, minute % 60), tzinfo=zone
            ).astimezone(dt.UTC)
            is_session = chooser.random() < 0.4
            status = chooser.choice(
                [AppointmentStatus.CONFIRMED] * 4
                + [AppointmentStatus.REQUESTED, AppointmentStatus.CANCELLED]
            )
            ended = (
                {"ended_at": starts_at - dt.timedelta(days=1), "ended_by": Party.CLIENT}
                if status == AppointmentStatus.CANCELLED
                else {}
            )
            appointments.append(
                Appointment(
                    therapist=therapist,
                    kind=AppointmentKind.SESSION if is_session else AppointmentKind.CONSULTATION,
                    status=status,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=50 if is_session else 15),
                    client_name="Bench Client",
                    client_email=f"client{index}@example.org",
                    client_time_zone="America/Toronto",
                    **ended,
                )
            )
    with transaction.atomic():
        for model in (Appointment, DateException, WeeklyWindow, BookingPolicy):
            model.objects.filter(therapist__in=therapists).delete()
        TherapistProfile.objects.bulk_update(therapists, ["time_zone", "consultation_minutes"])
        WeeklyWindow.objects.bulk_create(windows)
        BookingPolicy.objects.bulk_create(policies)
        DateException.objects.bulk_create(exceptions)
        Appointment.objects.bulk_create(appointments, batch_size=2000)
    return list(TherapistProfile.objects.filter(pk__in=[t.pk for t in therapists]).order_by("pk"))


if __name__ == "__main__":
    main()
