"""How fast a thread of 500 messages renders, and how long the daily digest takes for 10,000
therapists, against a floor measured in the same run.

    .venv/bin/python bench/messaging_speed.py [--requests 200] [--messages 500]
        [--digest-therapists 10000]
    scripts/with-postgres .venv/bin/python bench/messaging_speed.py --use-database-url

Seeds a throwaway database (a fresh SQLite file in a temporary folder by default;
--use-database-url uses the database DATABASE_URL names instead) with 20 generated therapists
for the reference data, then, in this process:

Thread page. One therapist (with an account and an authenticator) and one client in an
ongoing engagement, with --messages messages between them, alternating sides, stored through
the encrypted field. After a warm-up, Django's test client (no network: the figure is the
server's) asks --requests times for:

  therapist thread    GET /practice/messages/<id>/   every message, decrypted, escaped, each
                                                     read recorded in the audit log
  client thread       GET /messages/<id>/            the same, with the policy in the client's
                                                     zone and the sending rules' figures
  floor               GET /healthz                   a trivial JSON endpoint (one SELECT 1)

and prints p50/p95 of the server-side time (the ``app`` figure of the Server-Timing header),
the database's share, the queries per request and the ratio of p50 to the floor's; then
whether both thread pages' p95 stay within 50 ms.

Digest. --digest-therapists more therapists (accounts, engagements, threads, one to three
unread clients' messages each, half with set hours), written in bulk, then one
``message_digests_send`` run at a moment when every one of them is due, timed whole: the
digest records and the queued e-mail tasks included (the worker sends them later). Then a
second run at the same moment, which must send nothing (idempotent per day).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
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

BUDGET_MS = 50.0
DIGEST_BUDGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--digest-therapists", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--use-database-url", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile 30 requests of the therapist's thread page (cProfile) and stop",
    )
    arguments = parser.parse_args()
    database_url = database_url_option(parser, arguments)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as folder:
        environment = prepared_environment(
            folder=folder,
            database_url=database_url,
            seed=arguments.seed,
            **PAGES_IN_PROCESS,
        )
        print("seeding 20 therapists …", flush=True)
        seed_therapists(environment, therapists=20, seed=arguments.seed)
        start_django(environment)
        _run(arguments, database="PostgreSQL" if database_url else "SQLite")


def _get(browser: Any, path: str) -> tuple[float, float, int]:
    """One GET: (server ms, database ms, queries) from its Server-Timing header."""
    return server_timing(browser.get(path), path)


def _run(arguments: argparse.Namespace, *, database: str) -> None:
    from django.test import Client

    thread, therapist_user, client_user = _long_thread(arguments.messages)
    # As rapport/wsgi.py does in each server process once the app is loaded.
    gc.collect()
    gc.freeze()
    therapist_side = Client()
    therapist_side.force_login(therapist_user)
    client_side = Client()
    client_side.force_login(client_user)
    if arguments.profile:
        _profile(therapist_side, f"/practice/messages/{thread.public_id}/")
        return
    pages = {
        "therapist thread": (therapist_side, f"/practice/messages/{thread.public_id}/"),
        "client thread": (client_side, f"/messages/{thread.public_id}/"),
        "floor": (client_side, "/healthz"),
    }
    results = {}
    for name, (browser, path) in pages.items():
        for _ in range(20):  # warm-up: templates, statement caches
            _get(browser, path)
        samples = [_get(browser, path) for _ in range(arguments.requests)]
        app = sorted(sample[0] for sample in samples)
        results[name] = (
            statistics.median(app),
            percentile(app, 0.95),
            statistics.median(sample[1] for sample in samples),
            max(sample[2] for sample in samples),
        )
    digest_seconds, digests, again = _digest(arguments.digest_therapists)

    print(f"database      {database}")
    print(f"thread        {arguments.messages} messages, both sides")
    print(f"requests      {arguments.requests} per page after 20 warm-up, Django's test client")
    print()
    print(
        f"{'page':<18} {'p50 ms':>8} {'p95 ms':>8} {'db p50':>8} {'queries':>8} {'p50/floor':>10}"
    )
    floor = results["floor"][0]
    for name, (p50, p95, db, queries) in results.items():
        print(f"{name:<18} {p50:>8.1f} {p95:>8.1f} {db:>8.1f} {queries:>8} {p50 / floor:>9.1f}x")
    print()
    worst = max(results["therapist thread"][1], results["client thread"][1])
    verdict = "within" if worst <= BUDGET_MS else "OVER"
    print(f"thread pages p95 {worst:.1f} ms: {verdict} the {BUDGET_MS:.0f} ms budget")
    verdict = "within" if digest_seconds <= DIGEST_BUDGET_SECONDS else "OVER"
    print(
        f"digest        {digests:,} therapists told in {digest_seconds:.1f} s: {verdict} the "
        f"{DIGEST_BUDGET_SECONDS:.0f} s budget; a second run at the same moment sent {again}"
    )


def _profile(browser: Any, path: str) -> None:
    import cProfile
    import pstats

    for _ in range(10):
        _get(browser, path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(30):
        _get(browser, path)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(45)


def _long_thread(count: int) -> tuple[Any, Any, Any]:
    import datetime as dt
    import uuid

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.utils import timezone

    from rapport.accounts.models import Role, User
    from rapport.care.models import Engagement, EngagementStatus
    from rapport.directory.models import BetweenSessionContact, TherapistProfile
    from rapport.messaging import services
    from rapport.messaging.models import Message, Sender

    now = timezone.now()
    therapist_user = User.objects.create_user(
        f"messaging.practice.{uuid.uuid4().hex[:8]}@example.org", None, role=Role.THERAPIST
    )
    TOTP.activate(therapist_user, generate_totp_secret())
    therapist = TherapistProfile.objects.order_by("pk").first()
    assert therapist is not None, "the seed made no therapist"
    therapist.user = therapist_user
    therapist.between_session_contact = BetweenSessionContact.BRIEF_CHECK_INS
    therapist.save()
    services.messaging_settings_set(
        therapist=therapist,
        contact_days=0b11111,
        contact_starts_at=dt.time(9),
        contact_ends_at=dt.time(17),
        daily_cap=3,
    )
    client_user = User.objects.create_user(
        f"messaging.client.{uuid.uuid4().hex[:8]}@example.org",
        None,
        role=Role.CLIENT,
        name="Client Example",
    )
    engagement = Engagement.objects.create(
        client=client_user, therapist=therapist, status=EngagementStatus.ONGOING, started_at=now
    )
    thread = services.thread_open(client=client_user, engagement=engagement, now=now)
    start = now - dt.timedelta(days=count)
    Message.objects.bulk_create(
        Message(
            thread=thread,
            sender=Sender.CLIENT if number % 2 == 0 else Sender.THERAPIST,
            body=f"Message {number}: can we talk about Thursday's time? "
            "<b>Not bold</b> & a second line\nwith more words in it.",
            created_at=start + dt.timedelta(hours=number),
            read_at=start + dt.timedelta(hours=number + 1),
        )
        for number in range(count)
    )
    return thread, therapist_user, client_user


def _digest(count: int) -> tuple[float, int, int]:
    import datetime as dt
    import random

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from rapport.accounts.models import Role, User
    from rapport.care.models import Engagement, EngagementStatus
    from rapport.directory.models import TherapistProfile
    from rapport.messaging import services
    from rapport.messaging.models import Message, MessagingSettings, Sender, Thread

    randomness = random.Random(11)
    template = TherapistProfile.objects.order_by("pk").first()
    assert template is not None
    # Tuesday, 15:00 UTC: 10 or 11 a.m. in Toronto whatever the season, so every one is due.
    moment = dt.datetime(2030, 3, 12, 15, 0, tzinfo=dt.UTC)
    password = make_password(None)
    print(f"writing {count:,} therapists with unread messages for the digest …", flush=True)
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(email=f"digest.t{n}@example.org", role=Role.THERAPIST, password=password)
            for n in range(count)
        )
        clients = User.objects.bulk_create(
            User(email=f"digest.c{n}@example.org", role=Role.CLIENT, password=password)
            for n in range(count)
        )
        profiles = TherapistProfile.objects.bulk_create(
            TherapistProfile(
                user=user,
                display_name=f"Digest Therapist {n}",
                designation_id=template.designation_id,
                practice_start_year=template.practice_start_year,
                fee_minor=template.fee_minor,
                currency=template.currency,
                time_zone="America/Toronto",
                is_listed=False,
            )
            for n, user in enumerate(users)
        )
        MessagingSettings.objects.bulk_create(
            MessagingSettings(
                therapist=profile,
                contact_days=0b11111,
                contact_starts_at=dt.time(9),
                contact_ends_at=dt.time(17),
            )
            for profile in profiles[::2]
        )
        engagements = Engagement.objects.bulk_create(
            Engagement(
                client=client,
                therapist=profile,
                status=EngagementStatus.ONGOING,
                started_at=moment - dt.timedelta(days=30),
            )
            for client, profile in zip(clients, profiles, strict=True)
        )
        threads = Thread.objects.bulk_create(
            Thread(
                client_id=engagement.client_id,
                therapist_id=engagement.therapist_id,
                engagement=engagement,
                client_time_zone="America/Toronto",
                created_at=moment - dt.timedelta(days=2),
            )
            for engagement in engagements
        )
        Message.objects.bulk_create(
            (
                Message(
                    thread=thread,
                    sender=Sender.CLIENT,
                    body="Can we move Thursday?",
                    created_at=moment - dt.timedelta(hours=12 + number),
                )
                for thread in threads
                for number in range(randomness.randint(1, 3))
            ),
            batch_size=2000,
        )
    started = time.perf_counter()
    sent = services.message_digests_send(now=moment)
    seconds = time.perf_counter() - started
    again = services.message_digests_send(now=moment + dt.timedelta(minutes=5))
    return seconds, sent, again


if __name__ == "__main__":
    main()
