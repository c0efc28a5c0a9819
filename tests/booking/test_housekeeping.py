"""`rapport housekeeping`: one round of periodic work, once or in a loop."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from rapport.booking import facts, housekeeping, outbox
from rapport.booking.models import (
    Appointment,
    AppointmentStatus,
    BookingPolicy,
    DateException,
    ExceptionKind,
    OutboxEmail,
    OutboxStatus,
)
from rapport.core import housekeeping as core_housekeeping
from rapport.core.management.commands import housekeeping as housekeeping_command
from rapport.directory.models import TherapistProfile
from tests.booking.factories import give_availability, make_maya_appointment
from tests.factories import make_therapist, make_therapist_with_account


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_therapist_with_account(display_name="Ada Okafor")


def run(*args: str) -> str:
    out = StringIO()
    call_command("housekeeping", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_one_round_delivers_due_e_mails(therapist, mailoutbox):
    appointment = make_maya_appointment(therapist, starts_at=timezone.now() + dt.timedelta(hours=3))
    outbox.outbox_reminders_write(
        appointment=appointment, now=appointment.starts_at - dt.timedelta(hours=30)
    )
    # The 24-hour reminder is due (late: the worker was down); the 1-hour one is not yet.

    output = run()

    assert [message.subject.split(":")[0] for message in mailoutbox] == ["[Rapport] Tomorrow"]
    assert "1 e-mails sent" in output
    assert OutboxEmail.objects.get(purpose="reminder_1h").status == OutboxStatus.PENDING


@pytest.mark.django_db
def test_one_round_expires_requests_left_unanswered(
    therapist, mailoutbox, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    stale = make_maya_appointment(therapist, status=AppointmentStatus.REQUESTED)
    fresh = make_maya_appointment(
        therapist,
        status=AppointmentStatus.REQUESTED,
        starts_at=stale.starts_at + dt.timedelta(hours=2),
    )
    Appointment.objects.filter(pk=stale.pk).update(
        created_at=now - dt.timedelta(hours=settings.BOOKING_REQUEST_EXPIRY_HOURS, minutes=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        output = run()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == (AppointmentStatus.EXPIRED, AppointmentStatus.REQUESTED)
    assert "1 requests expired" in output
    assert [message.to for message in mailoutbox] == [["maya@example.org"]]
    assert "not answered" in mailoutbox[0].subject


@pytest.mark.django_db
def test_one_round_refreshes_booking_facts_that_have_passed(therapist):
    now = timezone.now()
    passed = now - dt.timedelta(hours=1)
    TherapistProfile.objects.filter(pk=therapist.pk).update(next_consultation_at=passed)
    other = make_therapist(next_consultation_at=now + dt.timedelta(days=2))

    output = run()

    therapist.refresh_from_db()
    other.refresh_from_db()
    # Without availability there is no next consultation any more.
    assert therapist.next_consultation_at is None
    assert other.next_consultation_at == now + dt.timedelta(days=2)
    assert "1 booking facts refreshed" in output


@pytest.fixture
def fresh_cursor() -> None:
    # The round-robin cursor lives in the cache, which outlives a test's database.
    cache.clear()


@pytest.mark.django_db
def test_a_therapist_without_a_next_consultation_but_with_weekly_hours_is_refreshed(
    therapist, fresh_cursor
):
    give_availability(therapist, weekdays=(0, 1, 2, 3, 4, 5, 6), minimum_notice_hours=0)
    assert TherapistProfile.objects.get(pk=therapist.pk).next_consultation_at is None
    # Without hours a therapist stays without a next consultation: nothing to refresh.
    make_therapist()

    output = run()

    therapist.refresh_from_db()
    assert therapist.next_consultation_at is not None
    assert "1 booking facts refreshed" in output


@pytest.mark.django_db
def test_a_therapist_with_only_extra_hours_coming_is_refreshed(therapist, fresh_cursor):
    now = timezone.now()
    BookingPolicy.objects.create(therapist=therapist, minimum_notice_hours=0)
    DateException.objects.create(
        therapist=therapist,
        date=(now + dt.timedelta(days=3)).date(),
        kind=ExceptionKind.EXTRA_HOURS,
        starts_at=dt.time(9, 0),
        ends_at=dt.time(12, 0),
    )
    # Extra hours in the past make no time free.
    past = make_therapist()
    DateException.objects.create(
        therapist=past,
        date=(now - dt.timedelta(days=5)).date(),
        kind=ExceptionKind.EXTRA_HOURS,
        starts_at=dt.time(9, 0),
        ends_at=dt.time(12, 0),
    )

    assert housekeeping.refresh_passed_booking_facts(now=now) == 1

    therapist.refresh_from_db()
    assert therapist.next_consultation_at is not None
    assert therapist.next_consultation_at.date() >= (now + dt.timedelta(days=2)).date()


@pytest.mark.django_db
def test_a_next_consultation_inside_the_minimum_notice_is_refreshed(therapist, fresh_cursor):
    now = timezone.now()
    give_availability(therapist, weekdays=(0, 1, 2, 3, 4, 5, 6), minimum_notice_hours=48)
    inside_notice = now + dt.timedelta(hours=47)
    TherapistProfile.objects.filter(pk=therapist.pk).update(next_consultation_at=inside_notice)
    # Another therapist with a short notice: the same time is still bookable for them.
    short = make_therapist(next_consultation_at=inside_notice)
    give_availability(short, minimum_notice_hours=2)

    assert housekeeping.refresh_passed_booking_facts(now=now) == 1

    therapist.refresh_from_db()
    short.refresh_from_db()
    assert therapist.next_consultation_at is not None
    assert therapist.next_consultation_at >= now + dt.timedelta(hours=48)
    assert short.next_consultation_at == inside_notice


@pytest.mark.django_db
def test_a_round_refreshes_a_bounded_batch_oldest_first_then_takes_turns(
    therapist, fresh_cursor, monkeypatch
):
    now = timezone.now()
    refreshed: list[int] = []
    monkeypatch.setattr(
        facts,
        "therapist_booking_facts_refresh",
        lambda *, therapist, now: refreshed.append(therapist.pk),
    )
    newer = make_therapist(next_consultation_at=now - dt.timedelta(hours=1))
    older = make_therapist(next_consultation_at=now - dt.timedelta(hours=5))
    waiting = [make_therapist() for _ in range(3)]
    for profile in waiting:
        give_availability(profile, weekdays=(0,))

    assert facts.therapist_booking_facts_refresh_due(now=now, limit=3) == 3
    # Passed times first, oldest first; then one of those waiting for free time.
    assert refreshed == [older.pk, newer.pk, waiting[0].pk]

    # (The stub changed nothing, so the passed ones are picked again.) With room for the
    # waiting ones only, they take turns from where the last round stopped, wrapping around.
    refreshed.clear()
    TherapistProfile.objects.filter(pk__in=[older.pk, newer.pk]).update(next_consultation_at=None)
    assert facts.therapist_booking_facts_refresh_due(now=now, limit=2) == 2
    assert facts.therapist_booking_facts_refresh_due(now=now, limit=2) == 2
    assert refreshed == [waiting[1].pk, waiting[2].pk, waiting[0].pk, waiting[1].pk]
    assert facts.REFRESH_BATCH == 500


@pytest.mark.django_db
def test_a_quiet_round_prints_nothing(therapist):
    assert run() == ""


@pytest.mark.django_db
def test_a_failing_step_does_not_stop_the_others_and_fails_the_command(
    therapist, monkeypatch, mailoutbox
):
    appointment = make_maya_appointment(therapist)
    outbox.outbox_reminders_write(
        appointment=appointment, now=appointment.starts_at - dt.timedelta(days=2)
    )
    OutboxEmail.objects.update(due_at=timezone.now() - dt.timedelta(minutes=1))

    def broken(*, now: dt.datetime) -> int:
        raise RuntimeError("expiry is broken")

    monkeypatch.setattr(housekeeping, "expire_unanswered_requests", broken)

    with pytest.raises(CommandError, match="requests expired"):
        run()

    # Both reminders were due; the e-mail step ran although the expiry step failed.
    assert len(mailoutbox) == 2


@pytest.mark.django_db
def test_every_keeps_running_rounds_until_stopped(therapist, monkeypatch):
    rounds: list[dt.datetime] = []
    real_run = core_housekeeping.housekeeping_run

    def counting_run(*, now: dt.datetime):
        rounds.append(now)
        return real_run(now=now)

    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(core_housekeeping, "housekeeping_run", counting_run)
    monkeypatch.setattr(housekeeping_command.time, "sleep", sleep)

    run("--every", "60")

    assert len(rounds) == 3
    assert all(0 <= seconds <= 60 for seconds in sleeps)


def test_every_must_be_positive():
    with pytest.raises(CommandError, match="at least 1"):
        run("--every", "0")


def test_every_apps_steps_are_registered_in_order():
    assert [label for label, _step in core_housekeeping.housekeeping_steps()] == [
        "listing notices queued",
        "e-mails sent",
        "requests expired",
        "booking facts refreshed",
        "abandoned video uploads removed",
        "stuck videos queued again",
        "check-in requests expired",
        "matching models retrained",
        "exposure records of past days deleted",
        "message digests sent",
    ]
