"""How fast the therapist's client list with trends renders for a full practice, and how long
scoring one check-in submission takes, against floors measured in the same run.

    .venv/bin/python bench/care_speed.py [--requests 200] [--therapists 20]
    scripts/with-postgres .venv/bin/python bench/care_speed.py --use-database-url

Seeds a throwaway database (a fresh SQLite file in a temporary folder by default;
--use-database-url uses the database DATABASE_URL names instead) with --therapists generated
therapists, then, in this process, gives one of them 200 clients (engagements) and 2,000
answered check-ins in all: five clients answer theirs through the services (sessions recorded,
each request answered as a client would), the other 195 get theirs written in bulk — scored by
the same instrument engine and stored through the same encrypted fields, so the page decrypts
real values. A tenth of the clients share nothing, a third their item answers, the rest scores
only; a few have an open crisis alert.

Then, after a warm-up, Django's test client (no network: the figure is the server's) asks
--requests times for:

  clients             GET /practice/clients/   the client list with a trend per client
  floor               GET /healthz             a trivial JSON endpoint (one SELECT 1)
  clients, no signals the client list again, without the therapist's aggregate alliance
                      signals (rapport.care.signals), to tell their share from the trends'

and prints p50/p95 of the server-side time (the ``app`` figure of the Server-Timing header),
the database's share, the queries per request, the ratio of p50 to the floor's, and the
processor time of each request; then whether the list's p95 stays within 100 ms. Python's
collector now and then runs a full collection during a request, which walks every object of
the process (tens of milliseconds here, whatever the page): the report says how many requests
ran one and the p95 of those that did not, so a slow tail can be told apart from a slow page.

Scoring: --scorings progress-check submissions timed one by one with
``instruments.score`` alone (the ≤ 1 ms target), next to a dict-copy floor, and the full
``services.check_in_answer`` (lock, check, score, encrypt, write; a crisis alert when flagged)
for --answers fresh check-ins.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
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
SCORING_TARGET_MS = 1.0
CLIENTS = 200
CHECK_INS = 2000
THROUGH_SERVICES = 5
# Each client's answered check-ins, by the number of sessions attended before each (the
# schedule of rapport.care.services.checkins: fit + progress at the start, the alliance after
# sessions 1-3 and every 4th, the progress check every 2nd).
AFTER_SESSIONS = (0, 1, 2, 3, 4, 6, 8, 10, 12, 14)
PAGES = {"clients": "/practice/clients/", "floor": "/healthz"}
# The same list without the therapist's aggregate alliance signals (rapport.care.signals), timed
# apart to tell the trends' share of the page from theirs.
WITHOUT_SIGNALS = "clients, no signals"


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float
    db_p50_ms: float
    queries: int
    cpu_p50_ms: float
    cpu_p95_ms: float
    # Requests during which the collector ran a full collection, and the p95 of the others.
    full_gc_requests: int
    p95_without_full_gc_ms: float


# Full (oldest-generation) collections seen so far, counted by a gc callback.
_full_collections = [0]


def _watch_collections(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2:
        _full_collections[0] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--scorings", type=int, default=5000)
    parser.add_argument("--answers", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--use-database-url", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile 30 requests of the client list (cProfile) and print where the time goes",
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
        print(f"seeding {arguments.therapists:,} therapists …", flush=True)
        seed_therapists(environment, therapists=arguments.therapists, seed=arguments.seed)
        start_django(environment)
        _run(arguments, database="PostgreSQL" if database_url else "SQLite")


def _run(arguments: argparse.Namespace, *, database: str) -> None:
    from django.test import Client

    randomness = random.Random(arguments.seed)
    started = time.perf_counter()
    therapist_user, counts = _full_practice(randomness)
    setup_seconds = time.perf_counter() - started
    # As rapport/wsgi.py does in each server process once the app is loaded.
    gc.collect()
    gc.freeze()

    browser = Client()
    browser.force_login(therapist_user)
    gc.callbacks.append(_watch_collections)
    if arguments.profile:
        _profile(browser, PAGES["clients"])
        return
    results: dict[str, Timing] = {}
    pages = {**PAGES, WITHOUT_SIGNALS: PAGES["clients"]}
    for name, path in pages.items():
        if name == WITHOUT_SIGNALS:
            _leave_out_signals()
        for _ in range(20):  # warm-up: templates, parsed instruments, statement caches
            _get(browser, path)
        samples = [_get(browser, path) for _ in range(arguments.requests)]
        app = sorted(sample[0] for sample in samples)
        cpu = sorted(sample[3] for sample in samples)
        calm = sorted(sample[0] for sample in samples if not sample[4]) or [0.0]
        results[name] = Timing(
            p50_ms=statistics.median(app),
            p95_ms=percentile(app, 0.95),
            db_p50_ms=statistics.median(sample[1] for sample in samples),
            queries=max(sample[2] for sample in samples),
            cpu_p50_ms=statistics.median(cpu),
            cpu_p95_ms=percentile(cpu, 0.95),
            full_gc_requests=sum(1 for sample in samples if sample[4]),
            p95_without_full_gc_ms=percentile(calm, 0.95),
        )
    scoring = _scoring(arguments, randomness)

    print(f"database      {database}")
    print(
        f"practice      {counts['engagements']} clients, {counts['answered']:,} answered "
        f"check-ins ({counts['through_services']} through the services), "
        f"{counts['alerts']} open alerts, sharing: {counts['sharing']} "
        f"(written in {setup_seconds:.1f} s)"
    )
    print(f"requests      {arguments.requests} per page after 20 warm-up, Django's test client")
    print()
    print(
        "                    server-side (Server-Timing)                processor time"
        "  full collections"
    )
    print(
        f"{'page':<19} {'p50 ms':>8} {'p95 ms':>8} {'db p50':>8} {'queries':>8} {'p50/floor':>10}"
        f" {'p50 ms':>8} {'p95 ms':>8} {'requests':>9} {'p95 without':>12}"
    )
    floor = results["floor"].p50_ms
    for name, result in results.items():
        print(
            f"{name:<19} {result.p50_ms:>8.1f} {result.p95_ms:>8.1f} {result.db_p50_ms:>8.1f} "
            f"{result.queries:>8} {result.p50_ms / floor:>9.1f}x"
            f" {result.cpu_p50_ms:>8.1f} {result.cpu_p95_ms:>8.1f}"
            f" {result.full_gc_requests:>9} {result.p95_without_full_gc_ms:>12.1f}"
        )
    for page in ("clients", WITHOUT_SIGNALS):
        timing = results[page]
        for label, value in (
            ("server-side p95", timing.p95_ms),
            ("server-side p95 without a full collection", timing.p95_without_full_gc_ms),
            ("processor p95", timing.cpu_p95_ms),
        ):
            verdict = "met" if value <= BUDGET_MS else "MISSED"
            print(f"{page}: {label} ≤ {BUDGET_MS:.0f} ms: {value:.1f} ms ({verdict})")
    print()
    print(f"scoring one progress-check submission ({arguments.scorings:,} runs)")
    print(f"{'what':<28} {'p50 µs':>9} {'p95 µs':>9} {'max µs':>9} {'p50/floor':>10}")
    floor_us = scoring["floor (dict copy)"][0]
    for name, (p50, p95, most) in scoring.items():
        print(f"{name:<28} {p50:>9.1f} {p95:>9.1f} {most:>9.1f} {p50 / floor_us:>9.1f}x")
    score_p95_ms = scoring["score only"][1] / 1000
    verdict = "met" if score_p95_ms <= SCORING_TARGET_MS else "MISSED"
    print(f"scoring p95 ≤ {SCORING_TARGET_MS:.0f} ms: {score_p95_ms:.3f} ms ({verdict})")
    print(f"load average  {' '.join(f'{value:.2f}' for value in os.getloadavg())} at the end")


def _profile(browser: Any, path: str) -> None:
    import cProfile
    import pstats

    for _ in range(20):
        _get(browser, path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(30):
        browser.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def _leave_out_signals() -> None:
    """The client list without the alliance signals, if the page shows them."""
    from rapport.care.views import engagements

    signals = getattr(engagements, "signals", None)
    if signals is not None:
        signals.therapist_alliance_signals_shown = lambda **_: None


def _get(browser: Any, path: str) -> tuple[float, float, int, float, bool]:
    """One GET: (server ms, database ms, queries) from its Server-Timing header, the
    processor milliseconds this thread spent on it, and whether a full collection ran."""
    collections = _full_collections[0]
    started = time.thread_time()
    response = browser.get(path)
    cpu_ms = (time.thread_time() - started) * 1000
    full_collection = _full_collections[0] != collections
    return (*server_timing(response, path), cpu_ms, full_collection)


# --- the practice ------------------------------------------------------------------------------


def _answers_for(instrument: Any, randomness: random.Random, *, crisis: bool) -> dict[str, int]:
    answers = {}
    for item in instrument.items:
        values = [option.value for option in item.options]
        if item.optional:  # the safety item: at its threshold only for a crisis
            answers[item.id] = values[2] if crisis else values[0]
        else:
            answers[item.id] = randomness.choice(values)
    return answers


def _full_practice(randomness: random.Random) -> tuple[Any, dict[str, Any]]:
    import datetime as dt
    import json
    import uuid

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.db import connection, transaction
    from django.utils import timezone

    from rapport.accounts.models import Role, User
    from rapport.care import instruments, selectors, services, trends
    from rapport.care.models import (
        Alert,
        AlertKind,
        CheckIn,
        CheckInPart,
        CheckInStatus,
        Engagement,
        EngagementStatus,
        Purpose,
        Sharing,
    )
    from rapport.directory.models import TherapistProfile

    now = timezone.now()
    versions = {
        purpose: services.instrument_for_purpose(purpose)
        for purpose in (Purpose.FIT, Purpose.ALLIANCE, Purpose.PROGRESS)
    }
    parsed = {purpose: selectors.instrument_of(row) for purpose, row in versions.items()}
    therapist_user = User.objects.create_user(
        f"care.practice.{uuid.uuid4().hex[:8]}@example.org", None, role=Role.THERAPIST
    )
    TOTP.activate(therapist_user, generate_totp_secret())
    therapist = TherapistProfile.objects.order_by("pk").first()
    assert therapist is not None, "the seed made no therapist"
    therapist.user = therapist_user
    therapist.save()

    clients = [
        User.objects.create_user(
            f"care.client{number:03d}.{uuid.uuid4().hex[:6]}@example.org",
            None,
            role=Role.CLIENT,
            name=f"Client {number:03d} Example",
        )
        for number in range(CLIENTS)
    ]
    engagements = [
        services.engagement_start(
            therapist=therapist, client=client, now=now - dt.timedelta(days=200)
        )
        for client in clients
    ]

    # Five clients answer through the services: sessions recorded, each request answered.
    for engagement in engagements[:THROUGH_SERVICES]:
        attended = 0
        answered = 0
        while answered < len(AFTER_SESSIONS):
            open_check_in = selectors.engagement_open_check_in(engagement=engagement, now=now)
            if open_check_in is not None:
                answers = {
                    part.purpose: _answers_for(
                        parsed[Purpose(part.purpose)], randomness, crisis=False
                    )
                    for part in open_check_in.parts.all()
                }
                services.check_in_answer(check_in=open_check_in, answers=answers)
                answered += 1
            attended += 1
            services.session_record(
                engagement=engagement,
                starts_at=now - dt.timedelta(hours=30 - attended),
                status="attended",
                recorded_by=therapist_user,
            )
            engagement.refresh_from_db()

    # The rest in bulk: scored by the engine, stored through the encrypted fields.
    bulk = engagements[THROUGH_SERVICES:]
    with transaction.atomic():
        CheckIn.objects.filter(engagement__in=bulk, status=CheckInStatus.OPEN).delete()
        Engagement.objects.filter(pk__in=[e.pk for e in bulk]).update(
            status=EngagementStatus.ONGOING
        )
        per_engagement = (CHECK_INS - THROUGH_SERVICES * len(AFTER_SESSIONS)) // len(bulk)
        check_ins = []
        for engagement in bulk:
            for index, after in enumerate(AFTER_SESSIONS[:per_engagement]):
                asked = now - dt.timedelta(days=180 - 12 * index)
                check_ins.append(
                    CheckIn(
                        engagement=engagement,
                        status=CheckInStatus.COMPLETED,
                        after_session=after,
                        requested_at=asked,
                        expires_at=asked + dt.timedelta(days=7),
                        completed_at=asked + dt.timedelta(hours=5),
                        closed_at=asked + dt.timedelta(hours=5),
                    )
                )
        CheckIn.objects.bulk_create(check_ins, batch_size=500)
        crisis_engagements = {e.pk for e in randomness.sample(bulk, 8)}
        parts = []
        alerts = []
        for check_in in check_ins:
            due = (
                [Purpose.FIT, Purpose.PROGRESS]
                if check_in.after_session == 0
                else list(services.purposes_due_after(attended=check_in.after_session))
            )
            latest = check_in.after_session == AFTER_SESSIONS[per_engagement - 1]
            crisis = latest and check_in.engagement_id in crisis_engagements
            for position, purpose in enumerate(due, start=1):
                instrument = parsed[purpose]
                given = _answers_for(instrument, randomness, crisis=crisis)
                scores = instruments.score(instrument, given)
                parts.append(
                    CheckInPart(
                        check_in=check_in,
                        position=position,
                        purpose=purpose,
                        instrument=versions[purpose],
                        answers=json.dumps(
                            {item.id: given.get(item.id) for item in instrument.items}
                        ),
                        scores=json.dumps(services.scores_dict(scores)),
                    )
                )
            if crisis and check_in.completed_at is not None:
                alerts.append(
                    Alert(
                        engagement_id=check_in.engagement_id,
                        check_in=check_in,
                        kind=AlertKind.CRISIS,
                        created_at=check_in.completed_at,
                    )
                )
        CheckInPart.objects.bulk_create(parts, batch_size=500)
        Alert.objects.bulk_create(alerts)
        # What answering through the services keeps with each engagement for the list.
        for engagement in engagements:
            engagement.trend_summary = trends.summary_of(engagement_id=engagement.pk)
            engagement.save(update_fields=["trend_summary"])

        # A tenth share nothing, a third their item answers, the rest scores only (default).
        for index, engagement in enumerate(engagements):
            if index % 10 == 9:
                engagement.sharing = Sharing.NOTHING
            elif index % 3 == 0:
                engagement.sharing = Sharing.ITEM_ANSWERS
            else:
                continue
            engagement.save(update_fields=["sharing"])

    if connection.vendor == "postgresql":
        # As autovacuum would soon after such a load: the planner needs the new row counts.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    answered = CheckIn.objects.filter(
        engagement__therapist=therapist, status=CheckInStatus.COMPLETED
    ).count()
    sharing = {
        value: Engagement.objects.filter(therapist=therapist, sharing=value).count()
        for value in Sharing.values
    }
    return therapist_user, {
        "engagements": len(engagements),
        "answered": answered,
        "through_services": THROUGH_SERVICES * len(AFTER_SESSIONS),
        "alerts": Alert.objects.filter(
            engagement__therapist=therapist, acknowledged_at__isnull=True
        ).count(),
        "sharing": ", ".join(f"{count} {value}" for value, count in sharing.items()),
    }


# --- scoring -----------------------------------------------------------------------------------


def _scoring(
    arguments: argparse.Namespace, randomness: random.Random
) -> dict[str, tuple[float, float, float]]:
    """(p50, p95, max) in microseconds of: copying the answers (the floor), scoring them alone,
    and the whole service call for a fresh check-in."""
    import uuid

    from django.utils import timezone

    from rapport.accounts.models import Role, User
    from rapport.care import instruments, selectors, services
    from rapport.care.models import Purpose
    from rapport.directory.models import TherapistProfile

    instrument = selectors.instrument_of(services.instrument_for_purpose(Purpose.PROGRESS))
    submissions = [
        _answers_for(instrument, randomness, crisis=False) for _ in range(arguments.scorings)
    ]
    for answers in submissions[:200]:  # warm-up
        instruments.score(instrument, answers)

    def timed(run: Any, inputs: list[Any]) -> tuple[float, float, float]:
        samples = []
        for value in inputs:
            started = time.perf_counter()
            run(value)
            samples.append((time.perf_counter() - started) * 1_000_000)
        samples.sort()
        return statistics.median(samples), percentile(samples, 0.95), samples[-1]

    results = {
        "floor (dict copy)": timed(dict, submissions),
        "score only": timed(lambda answers: instruments.score(instrument, answers), submissions),
    }

    # The whole service: a fresh engagement's first request (fit check + progress check).
    therapist = TherapistProfile.objects.filter(user__isnull=True).order_by("pk").first()
    assert therapist is not None
    fit = selectors.instrument_of(services.instrument_for_purpose(Purpose.FIT))
    open_check_ins = []
    for number in range(arguments.answers):
        client = User.objects.create_user(
            f"care.answer{number}.{uuid.uuid4().hex[:6]}@example.org", None, role=Role.CLIENT
        )
        engagement = services.engagement_start(therapist=therapist, client=client)
        check_in = selectors.engagement_open_check_in(engagement=engagement, now=timezone.now())
        assert check_in is not None
        open_check_ins.append(check_in)
    given = [
        {
            "fit": _answers_for(fit, randomness, crisis=False),
            "progress": _answers_for(instrument, randomness, crisis=False),
        }
        for _ in open_check_ins
    ]
    pairs = list(zip(open_check_ins, given, strict=True))
    results["check_in_answer (2 parts)"] = timed(
        lambda pair: services.check_in_answer(check_in=pair[0], answers=pair[1]), pairs
    )
    return results


if __name__ == "__main__":
    main()
