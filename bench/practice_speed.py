"""How fast the practice and staff pages render for a full practice, against a floor measured in
the same run.

    .venv/bin/python bench/practice_speed.py [--therapists 2000] [--requests 200]
    scripts/with-postgres .venv/bin/python bench/practice_speed.py --use-database-url

Seeds a throwaway database (a fresh SQLite file in a temporary folder by default;
--use-database-url uses the database DATABASE_URL names instead) with --therapists generated
therapists, then, in this process, gives one therapist a full practice: 200 clients, 2,000
appointments (a year and a half of held, cancelled, declined and expired consultations and
sessions, three months of upcoming ones, a few requests waiting), weekly availability, 10
videos and a second factor; sends 100 of the generated therapists back to licence review, half
of them with an earlier decision and a licence changed since. Then, after a warm-up, it asks
Django's test client (no network: the figure is the server's) for each page --requests times:

  dashboard     GET /practice/              the practice dashboard
  availability  GET /practice/availability/ weekly hours, date changes, a preview of free times
  calendar      GET /practice/calendar/     the calendar feed page
  listing       GET /practice/listing/      "still accepting new clients?"
  profile …     GET /practice/profile/ and each onboarding step (about, licence, topics, style,
                fees, where, contact, preview), as the same therapist
  queue         GET /staff/verification/    the licence queue (50 per page), as a reviewer
  figures       GET /staff/                 the platform figures, as a reviewer
  floor         GET /healthz                a trivial JSON endpoint (one SELECT 1)

Prints p50/p95 of the server-side time (the ``app`` figure of the Server-Timing header: from
the first middleware in to the response out), the database's share and the queries per
request, the ratio of each page's p50 to the floor's, the processor time of each request (which
other processes on the machine hardly change, unlike the wall-clock figures), and whether
every page's p95 stays within the 100 ms budget by either measure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from throwaway import (
    PAGES_IN_PROCESS,
    database_url_option,
    percentile,
    prepared_environment,
    seed_therapists,
    server_timing,
    start_django,
)

BUDGET_MS = 100.0
CLIENTS = 200
APPOINTMENTS = 2000
UPCOMING = 300
VIDEOS = 10
REVIEW_QUEUE = 100

PAGES = {
    "dashboard": "/practice/",
    "availability": "/practice/availability/",
    "calendar": "/practice/calendar/",
    "listing": "/practice/listing/",
    # The onboarding pages, read by a therapist whose listing is live (every step stays
    # editable after going live).
    "profile": "/practice/profile/",
    "about": "/practice/profile/about/",
    "licence": "/practice/profile/licence/",
    "topics": "/practice/profile/topics/",
    "style": "/practice/profile/style/",
    "fees": "/practice/profile/fees/",
    "where": "/practice/profile/where/",
    "contact": "/practice/profile/contact/",
    "preview": "/practice/profile/preview/",
    "queue": "/staff/verification/",
    "figures": "/staff/",
    "floor": "/healthz",
}
STAFF_PAGES = {"queue", "figures"}


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float
    db_p50_ms: float
    queries: int
    # The processor time this thread spent on the request (client included): unlike the
    # wall-clock figures it hardly moves when other processes share the machine's CPUs.
    cpu_p50_ms: float
    cpu_p95_ms: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--use-database-url", action="store_true")
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as folder:
        environment = prepared_environment(
            folder=folder,
            database_url=database_url,
            seed=arguments.seed,
            **PAGES_IN_PROCESS,
        )
        print(f"seeding {arguments.therapists:,} therapists …", flush=True)
        seed_therapists(environment, therapists=arguments.therapists, seed=arguments.seed)
        start_django(environment)
        _run(arguments, database="PostgreSQL" if database_url else "SQLite")


def _run(arguments: argparse.Namespace, *, database: str) -> None:
    from django.test import Client

    started = time.perf_counter()
    therapist_user, reviewer = _full_practice(seed=arguments.seed)
    setup_seconds = time.perf_counter() - started

    browsers = {"therapist": Client(), "reviewer": Client()}
    browsers["therapist"].force_login(therapist_user)
    browsers["reviewer"].force_login(reviewer)

    results: dict[str, Timing] = {}
    for name, path in PAGES.items():
        browser = browsers["reviewer" if name in STAFF_PAGES else "therapist"]
        for _ in range(20):  # warm-up: templates, statement caches, zone files
            _get(browser, path)
        samples = [_get(browser, path) for _ in range(arguments.requests)]
        app = sorted(sample[0] for sample in samples)
        cpu = sorted(sample[3] for sample in samples)
        results[name] = Timing(
            p50_ms=statistics.median(app),
            p95_ms=percentile(app, 0.95),
            db_p50_ms=statistics.median(sample[1] for sample in samples),
            queries=max(sample[2] for sample in samples),
            cpu_p50_ms=statistics.median(cpu),
            cpu_p95_ms=percentile(cpu, 0.95),
        )
    _report(arguments, results, database=database, setup_seconds=setup_seconds)


def _get(browser: Any, path: str) -> tuple[float, float, int, float]:
    """One GET: (server ms, database ms, queries) from its Server-Timing header, and the
    processor milliseconds this thread spent on it."""
    started = time.thread_time()
    response = browser.get(path)
    cpu_ms = (time.thread_time() - started) * 1000
    return (*server_timing(response, path), cpu_ms)


def _report(
    arguments: argparse.Namespace,
    results: dict[str, Timing],
    *,
    database: str,
    setup_seconds: float,
) -> None:
    print(f"database      {database}")
    print(f"therapists    {arguments.therapists:,} generated, one with a full practice:")
    print(
        f"              {CLIENTS} clients, {APPOINTMENTS:,} appointments ({UPCOMING} upcoming), "
        f"{VIDEOS} videos (written in {setup_seconds:.1f} s)"
    )
    print(f"licence queue {REVIEW_QUEUE} pending, half with an earlier decision")
    print(f"requests      {arguments.requests} per page after 20 warm-up, Django's test client")
    print()
    print("              server-side (Server-Timing)               processor time")
    print(
        f"{'page':<13} {'p50 ms':>8} {'p95 ms':>8} {'db p50':>8} {'queries':>8} {'p50/floor':>10}"
        f" {'p50 ms':>8} {'p95 ms':>8}"
    )
    floor = results["floor"].p50_ms
    for name, result in results.items():
        print(
            f"{name:<13} {result.p50_ms:>8.1f} {result.p95_ms:>8.1f} {result.db_p50_ms:>8.1f} "
            f"{result.queries:>8} {result.p50_ms / floor:>9.1f}x"
            f" {result.cpu_p50_ms:>8.1f} {result.cpu_p95_ms:>8.1f}"
        )
    print()
    pages = {name: result for name, result in results.items() if name != "floor"}
    for label, p95 in (
        ("server-side", {name: result.p95_ms for name, result in pages.items()}),
        ("processor", {name: result.cpu_p95_ms for name, result in pages.items()}),
    ):
        missed = [name for name, value in p95.items() if value > BUDGET_MS]
        verdict = "met" if not missed else f"MISSED by {', '.join(missed)}"
        worst = max(p95.values())
        print(f"every page {label} p95 ≤ {BUDGET_MS:.0f} ms   worst {worst:.1f} ms   ({verdict})")
    print(f"load average  {' '.join(f'{value:.2f}' for value in os.getloadavg())} at the end")


def _full_practice(*, seed: int) -> tuple[Any, Any]:
    """The therapist with a full practice and a licence reviewer, both with a second factor."""
    import datetime as dt
    import random
    import uuid

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.models import Permission
    from django.db import transaction
    from django.utils import timezone

    from rapport.accounts.models import Role, User
    from rapport.booking.facts import therapist_booking_facts_refresh
    from rapport.booking.models import (
        Appointment,
        AppointmentKind,
        AppointmentStatus,
        BookingPolicy,
        Party,
        WeeklyWindow,
    )
    from rapport.directory.models import (
        Licence,
        TherapistProfile,
        VerificationDecision,
        VerificationStatus,
    )
    from rapport.directory.services import search_index_version_bump
    from rapport.videos.models import ProcessingState, Prompt, ReviewState, Video

    randomness = random.Random(seed)
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        therapist_user = User.objects.create_user(
            f"full.practice.{uuid.uuid4().hex[:8]}@example.org", None, role=Role.THERAPIST
        )
        TOTP.activate(therapist_user, generate_totp_secret())
        reviewer = User.objects.create_user(
            f"reviewer.{uuid.uuid4().hex[:8]}@example.org", None, role=Role.STAFF, is_staff=True
        )
        reviewer.user_permissions.add(
            Permission.objects.get(content_type__app_label="directory", codename="review_licences")
        )
        TOTP.activate(reviewer, generate_totp_secret())

        therapists = list(TherapistProfile.objects.order_by("pk")[: REVIEW_QUEUE + 1])
        therapist = therapists[0]
        therapist.user = therapist_user
        therapist.verification_status = VerificationStatus.VERIFIED
        therapist.verification_decided_at = now - dt.timedelta(days=400)
        therapist.accepting_new_clients = True
        therapist.accepting_confirmed_at = now - dt.timedelta(days=3)
        therapist.save()

        WeeklyWindow.objects.filter(therapist=therapist).delete()
        WeeklyWindow.objects.bulk_create(
            WeeklyWindow(therapist=therapist, weekday=day, starts_at=start, ends_at=end)
            for day in range(5)
            for start, end in ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17)))
        )
        BookingPolicy.objects.update_or_create(therapist=therapist, defaults={})

        clients = [
            (f"Client {number:03d} Example", f"client{number:03d}@example.org")
            for number in range(CLIENTS)
        ]
        # One appointment every 7 hours, so none overlap: the past ones up to a day ago, the
        # upcoming ones from tomorrow on (the hours between are left for free times).
        past = APPOINTMENTS - UPCOMING
        moments = [now - dt.timedelta(days=1, hours=7 * index) for index in range(past)]
        moments += [now + dt.timedelta(days=1, hours=7 * index) for index in range(UPCOMING)]
        consulted: set[int] = set()
        rows: list[Appointment] = []
        for starts_at in sorted(moments):
            client_number = randomness.randrange(CLIENTS)
            name, email = clients[client_number]
            kind = (
                AppointmentKind.SESSION
                if client_number in consulted
                else AppointmentKind.CONSULTATION
            )
            consulted.add(client_number)
            upcoming = starts_at > now
            roll = randomness.random()
            if upcoming:
                status = AppointmentStatus.CONFIRMED if roll < 0.9 else AppointmentStatus.CANCELLED
            elif roll < 0.8:
                status = AppointmentStatus.CONFIRMED
            elif roll < 0.9:
                status = AppointmentStatus.CANCELLED
            elif kind == AppointmentKind.CONSULTATION:
                status = AppointmentStatus.DECLINED if roll < 0.95 else AppointmentStatus.EXPIRED
            else:
                status = AppointmentStatus.CANCELLED
            minutes = 15 if kind == AppointmentKind.CONSULTATION else 50
            ended = status not in (AppointmentStatus.CONFIRMED, AppointmentStatus.REQUESTED)
            rows.append(
                Appointment(
                    therapist=therapist,
                    kind=kind,
                    status=status,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=minutes),
                    client_name=name,
                    client_email=email,
                    client_time_zone="America/Toronto",
                    therapist_responded_at=starts_at - dt.timedelta(days=2),
                    ended_at=starts_at - dt.timedelta(days=1) if ended else None,
                    ended_by=Party.CLIENT if ended else "",
                    end_reason="Something came up at work" if ended else "",
                )
            )
        # A few requests waiting for an answer, made in the last day.
        for index in range(5):
            starts_at = now + dt.timedelta(days=3, hours=7 * index + 3)
            name, email = clients[index]
            rows.append(
                Appointment(
                    therapist=therapist,
                    kind=AppointmentKind.CONSULTATION,
                    status=AppointmentStatus.REQUESTED,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=15),
                    client_name=name,
                    client_email=email,
                    client_time_zone="America/Vancouver",
                )
            )
        Appointment.objects.bulk_create(rows, batch_size=500)

        Video.objects.bulk_create(
            Video(
                therapist=therapist,
                prompt=list(Prompt)[index % len(Prompt)],
                state=ProcessingState.READY,
                review=ReviewState.APPROVED,
                media_name=f"bench/{uuid.uuid4().hex}.mp4",
                duration_seconds=90.0,
            )
            for index in range(VIDEOS)
        )

        # The licence queue: pending therapists, half decided on before and changed since.
        for position, other in enumerate(therapists[1:]):
            if position % 2 == 0:
                VerificationDecision.objects.create(
                    therapist=other,
                    reviewer=reviewer,
                    previous_status=VerificationStatus.PENDING,
                    status=VerificationStatus.VERIFIED,
                    decided_at=now - dt.timedelta(days=30),
                    licences_reviewed=[
                        {
                            "jurisdiction": licence.jurisdiction_id,
                            "designation": licence.designation.code,
                            "regulator": licence.regulator.name,
                            "number": licence.number,
                            "expires_on": None,
                        }
                        for licence in other.licences.select_related("designation", "regulator")
                    ],
                )
                Licence.objects.filter(therapist=other).update(number="7654321")
        TherapistProfile.objects.filter(pk__in=[other.pk for other in therapists[1:]]).update(
            verification_status=VerificationStatus.PENDING, verification_decided_at=None
        )
        search_index_version_bump()
    therapist_booking_facts_refresh(therapist=therapist, now=timezone.now())
    return therapist_user, reviewer


if __name__ == "__main__":
    main()
