"""10,000 booking attempts across 1,000 therapists, racing on purpose: zero overlaps, checked by
one query.

    .venv/bin/python bench/booking_overlaps.py [--therapists 1000] [--attempts 10000]
    scripts/with-postgres .venv/bin/python bench/booking_overlaps.py --use-database-url

Seeds a throwaway database (a fresh SQLite file in a temporary folder by default;
--use-database-url uses the database DATABASE_URL names) with generated therapists and their
demo availability in their own zones (``rapport seed`` and the booking demo seeding), then makes
--attempts calls of ``services.consultation_book`` from --threads threads. Attempts collide on
purpose: each picks a random therapist and one of that therapist's first few free times, so
many ask for a time another thread is booking or has booked, or for a neighbour within the
buffer. Each attempt ends as a booking, SlotTaken or SlotUnavailable (the day's cap was
reached); anything else is a failure.

Then ONE SQL self-join counts the pairs of active appointments of one therapist whose times
overlap: it must be 0 (the database's exclusion constraint or triggers guarantee it). Prints
the outcome counts, bookings/s and attempts/s, p50/p95 latency per booking and per attempt, and
the time the overlap query took.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from throwaway import (
    database_url_option,
    prepared_environment,
    seed_therapists,
    start_django,
)

FREE_TIMES_PER_THERAPIST = 6

OVERLAP_QUERY = """
    SELECT COUNT(*), COUNT(DISTINCT a.therapist_id)
    FROM booking_appointment AS a
    JOIN booking_appointment AS b
      ON a.therapist_id = b.therapist_id AND a.id < b.id
     AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
    WHERE a.status IN ('requested', 'confirmed') AND b.status IN ('requested', 'confirmed')
"""


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    booking_seconds: list[float] = field(default_factory=list)
    attempt_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _exit_on_terminate(signal_number: int, frame: object) -> None:
    sys.exit(f"stopped by signal {signal_number}")


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=1000)
    parser.add_argument("--attempts", type=int, default=10_000)
    # 4: on SQLite, 8 threads in one process on a busy 2-core machine starved some writers past
    # the 20 s busy timeout (their on-commit hooks failed with "database is locked").
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--use-database-url", action="store_true")
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as folder:
        environment = prepared_environment(
            folder=folder,
            database_url=database_url,
            seed=arguments.seed,
            DEBUG="0",
            LOG_LEVEL="WARNING",
        )
        print(f"seeding {arguments.therapists:,} therapists …", flush=True)
        seed_therapists(environment, therapists=arguments.therapists, seed=arguments.seed)
        start_django(environment)
        _run(arguments, database="PostgreSQL" if database_url else "SQLite")


def _run(arguments: argparse.Namespace, *, database: str) -> None:
    import datetime as dt

    from django.db import connection, connections
    from django.utils import timezone

    from rapport.booking import services, slots
    from rapport.booking.errors import SlotTaken, SlotUnavailable
    from rapport.booking.models import ACTIVE_STATUSES, Appointment
    from rapport.booking.seeding import demo_bookings_seed
    from rapport.directory.models import TherapistProfile

    started = time.perf_counter()
    seeded = demo_bookings_seed(seed=arguments.seed, refresh_facts=False)
    print(f"availability for {seeded.seeded:,} therapists in "
          f"{time.perf_counter() - started:.1f} s ({seeded.appointments:,} demo appointments "
          "already in their calendars)", flush=True)  # fmt: skip

    now = timezone.now()
    therapists = list(
        TherapistProfile.objects.filter(seed_key__isnull=False, consultation_minutes__gt=0)
        .select_related("booking_policy")
        .order_by("seed_key")
    )
    zones = Counter(therapist.time_zone for therapist in therapists)
    started = time.perf_counter()
    # A few early free times per therapist: the attempts below fight over these.
    targets: list[tuple[TherapistProfile, list[dt.datetime]]] = []
    for therapist in therapists:
        free = slots.therapist_free_times(
            therapist=therapist,
            start=now,
            end=now + dt.timedelta(days=therapist.booking_policy.horizon_days),
            now=now,
        )[:FREE_TIMES_PER_THERAPIST]
        if free:
            targets.append((therapist, [item.starts_at for item in free]))
    print(f"free times of {len(targets):,} bookable therapists in "
          f"{time.perf_counter() - started:.1f} s ({len(zones)} time zones)",
          flush=True)  # fmt: skip

    rng = random.Random(arguments.seed)
    plan = []
    for number in range(arguments.attempts):
        therapist, starts = rng.choice(targets)
        plan.append((number, therapist, rng.choice(starts)))
    active_before = Appointment.objects.filter(status__in=ACTIVE_STATUSES).count()
    connection.close()  # each thread opens its own

    tally = Tally()
    queue = iter(plan)
    queue_lock = threading.Lock()

    def worker() -> None:
        outcomes: Counter[str] = Counter()
        booking_seconds: list[float] = []
        attempt_seconds: list[float] = []
        failures: list[str] = []
        while True:
            with queue_lock:
                item = next(queue, None)
            if item is None:
                break
            number, therapist, starts_at = item
            began = time.perf_counter()
            try:
                services.consultation_book(
                    therapist=therapist,
                    starts_at=starts_at,
                    client_name=f"Bench Client {number}",
                    client_email=f"bench.{number}@example.org",
                    client_time_zone="America/Toronto",
                )
                outcome = "booked"
            except SlotTaken:
                outcome = "taken"
            except SlotUnavailable:
                outcome = "unavailable"
            except Exception as error:  # counted and shown: the bench must see every kind
                outcome = "failed"
                failures.append(f"{type(error).__name__}: {error}")
            seconds = time.perf_counter() - began
            outcomes[outcome] += 1
            attempt_seconds.append(seconds)
            if outcome == "booked":
                booking_seconds.append(seconds)
        connections.close_all()
        with tally.lock:
            tally.outcomes.update(outcomes)
            tally.booking_seconds += booking_seconds
            tally.attempt_seconds += attempt_seconds
            tally.failures += failures

    threads = [threading.Thread(target=worker) for _ in range(arguments.threads)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started

    query_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(OVERLAP_QUERY)
        overlapping_pairs, therapists_with_overlaps = cursor.fetchone()
    query_ms = (time.perf_counter() - query_started) * 1000
    active_after = Appointment.objects.filter(status__in=ACTIVE_STATUSES).count()

    booked = tally.outcomes["booked"]
    print()
    print(f"database             {database}")
    print(f"therapists           {len(targets):,} bookable, {len(zones)} time zones")
    print(f"attempts             {arguments.attempts:,} from {arguments.threads} threads, "
          f"each at one of a therapist's first {FREE_TIMES_PER_THERAPIST} free times")  # fmt: skip
    print(f"  booked             {booked:,}")
    print(f"  SlotTaken          {tally.outcomes['taken']:,}")
    print(f"  SlotUnavailable    {tally.outcomes['unavailable']:,}  (daily cap reached)")
    print(f"  failed             {tally.outcomes['failed']:,}")
    print(f"active appointments  {active_before:,} before, {active_after:,} after "
          f"(+{active_after - active_before:,})")  # fmt: skip
    print(f"time                 {seconds:.1f} s: {booked / seconds:.0f} bookings/s, "
          f"{arguments.attempts / seconds:.0f} attempts/s")  # fmt: skip
    if tally.booking_seconds:
        print(f"per booking          p50 {statistics.median(tally.booking_seconds) * 1000:.1f} ms, "
              f"p95 {_percentile(tally.booking_seconds, 0.95) * 1000:.1f} ms")  # fmt: skip
    print(f"per attempt          p50 {statistics.median(tally.attempt_seconds) * 1000:.1f} ms, "
          f"p95 {_percentile(tally.attempt_seconds, 0.95) * 1000:.1f} ms")  # fmt: skip
    print(f"overlapping pairs    {overlapping_pairs} (therapists affected: "
          f"{therapists_with_overlaps}); query took {query_ms:.1f} ms")  # fmt: skip
    if tally.failures:
        for message, count in Counter(tally.failures).most_common(5):
            print(f"  failure x{count}: {message[:200]}")
    if overlapping_pairs or tally.failures or active_after - active_before != booked:
        sys.exit("FAILED: overlaps, failures, or bookings that are not in the database")


if __name__ == "__main__":
    main()
