"""Demo booking data: deterministic, idempotent, believable, and never overlapping."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    DateException,
    WeeklyWindow,
)
from rapport.booking.seeding import demo_bookings_clear, demo_bookings_seed
from rapport.directory.models import TherapistProfile
from rapport.directory.seeding.demo import demo_directory_seed
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 15, 30, tzinfo=dt.UTC)
THERAPISTS = 24

# The same self-join bench/booking_overlaps.py runs: pairs of active appointments of one
# therapist whose [start, end) ranges meet.
OVERLAPS = """
    SELECT COUNT(*) FROM booking_appointment AS a
    JOIN booking_appointment AS b
      ON a.therapist_id = b.therapist_id AND a.id < b.id
     AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
    WHERE a.status IN ('requested', 'confirmed') AND b.status IN ('requested', 'confirmed')
"""


@pytest.fixture
def directory(reference_data) -> None:
    demo_directory_seed(therapists=THERAPISTS, seed=5, now=NOW)


def _snapshot() -> dict[str, list[tuple]]:
    """Everything seeding decides, keyed by stable values (not database ids or secrets)."""
    return {
        "policies": list(
            BookingPolicy.objects.order_by("therapist__seed_key").values_list(
                "therapist__seed_key", "buffer_minutes", "minimum_notice_hours", "horizon_days",
                "max_consultations_per_day", "requires_confirmation",
            )
        ),
        "windows": list(
            WeeklyWindow.objects.order_by("therapist__seed_key", "weekday", "starts_at")
            .values_list("therapist__seed_key", "weekday", "starts_at", "ends_at")
        ),
        "exceptions": list(
            DateException.objects.order_by("therapist__seed_key", "date", "kind")
            .values_list("therapist__seed_key", "date", "kind", "starts_at", "ends_at", "note")
        ),
        "appointments": list(
            Appointment.objects.order_by("therapist__seed_key", "starts_at").values_list(
                "therapist__seed_key", "kind", "status", "starts_at", "ends_at", "client_name",
                "client_email", "created_at", "therapist_responded_at", "ended_by", "ended_at",
                "follows__starts_at",
            )
        ),
    }  # fmt: skip


def _overlapping_pairs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        return int(cursor.fetchone()[0])


def test_every_generated_therapist_gets_policy_hours_exceptions_and_history(directory):
    result = demo_bookings_seed(seed=3, now=NOW)

    assert (result.seeded, result.already_present) == (THERAPISTS, 0)
    assert result.appointments == Appointment.objects.count()
    for therapist in TherapistProfile.objects.all():
        windows = list(therapist.weekly_windows.all())
        weekdays = {window.weekday for window in windows} - {5}
        assert 2 <= len(weekdays) <= 4, therapist.seed_key
        assert all(window.weekday != 6 for window in windows)
        assert therapist.booking_policy is not None
        assert therapist.date_exceptions.filter(kind="time_off").count() == 1
    policies = BookingPolicy.objects.all()
    assert {policy.requires_confirmation for policy in policies} == {True, False}
    assert len({policy.buffer_minutes for policy in policies}) > 1
    # Every demo therapist says how consultations happen; video ones give an https link.
    assert {policy.consultation_method for policy in policies} == {"phone", "video"}
    for policy in policies:
        if policy.consultation_method == "video":
            assert policy.meeting_link.startswith("https://meet.example.org/")
        else:
            assert policy.meeting_link == ""
    assert WeeklyWindow.objects.filter(weekday=5).exists()
    assert WeeklyWindow.objects.filter(ends_at__gte=dt.time(20)).exists()


def test_history_gives_most_therapists_enough_replies_and_some_first_sessions(directory):
    demo_bookings_seed(seed=3, now=NOW)

    consultations = Appointment.objects.filter(kind=AppointmentKind.CONSULTATION)
    replies = Counter(
        consultations.filter(therapist_responded_at__isnull=False).values_list(
            "therapist__seed_key", flat=True
        )
    )
    assert sum(1 for count in replies.values() if count >= 5) >= THERAPISTS * 0.75
    sessions = Appointment.objects.filter(kind=AppointmentKind.SESSION)
    assert sessions.exists()
    for session in sessions.select_related("follows"):
        assert session.follows is not None
        assert session.follows.kind == AppointmentKind.CONSULTATION
        assert session.follows.status == AppointmentStatus.CONFIRMED
        assert session.starts_at > session.follows.ends_at
        assert session.client_email == session.follows.client_email
    upcoming = consultations.filter(starts_at__gt=NOW)
    assert set(upcoming.values_list("status", flat=True)) <= {"requested", "confirmed"}
    offering = TherapistProfile.objects.filter(consultation_minutes__gt=0).count()
    assert len(set(upcoming.values_list("therapist", flat=True))) >= offering * 0.9
    assert set(consultations.filter(starts_at__lt=NOW).values_list("status", flat=True)) >= {
        "confirmed", "cancelled", "declined"
    }  # fmt: skip
    for appointment in Appointment.objects.all():
        assert appointment.client_email.endswith("@example.org")
        assert appointment.created_at < appointment.starts_at or appointment.starts_at > NOW
        assert appointment.created_at <= NOW
        if appointment.therapist_responded_at is not None:
            assert appointment.created_at <= appointment.therapist_responded_at <= NOW
            assert appointment.therapist_responded_at < appointment.starts_at


def test_no_two_active_appointments_of_a_therapist_overlap(directory):
    demo_bookings_seed(seed=3, now=NOW)

    assert Appointment.objects.filter(status__in=("requested", "confirmed")).count() > 100
    assert _overlapping_pairs() == 0


def test_the_same_seed_gives_the_same_data(directory):
    demo_bookings_seed(seed=3, now=NOW)
    first = _snapshot()
    demo_bookings_clear()
    assert not Appointment.objects.exists()

    demo_bookings_seed(seed=3, now=NOW)

    assert _snapshot() == first
    demo_bookings_clear()
    demo_bookings_seed(seed=4, now=NOW)
    assert _snapshot()["appointments"] != first["appointments"]


def test_a_second_run_adds_nothing(directory):
    demo_bookings_seed(seed=3, now=NOW)
    first = _snapshot()

    again = demo_bookings_seed(seed=3, now=NOW + dt.timedelta(hours=5))

    assert (again.seeded, again.already_present, again.appointments) == (0, THERAPISTS, 0)
    assert _snapshot() == first


def test_therapists_made_by_hand_or_with_their_own_hours_are_left_alone(directory):
    by_hand = make_therapist()
    own_hours = TherapistProfile.objects.filter(seed_key__isnull=False).order_by("seed_key").first()
    assert own_hours is not None
    WeeklyWindow.objects.create(
        therapist=own_hours, weekday=2, starts_at=dt.time(7), ends_at=dt.time(8)
    )

    result = demo_bookings_seed(seed=3, now=NOW)

    assert (result.seeded, result.already_present) == (THERAPISTS - 1, 1)
    assert not Appointment.objects.filter(therapist__in=[by_hand, own_hours]).exists()
    assert list(own_hours.weekly_windows.values_list("weekday", "starts_at")) == [(2, dt.time(7))]
    assert not WeeklyWindow.objects.filter(therapist=by_hand).exists()


def test_seeding_refreshes_the_booking_facts(directory):
    demo_bookings_seed(seed=3, now=NOW)

    with_replies = TherapistProfile.objects.filter(median_reply_minutes__isnull=False)
    assert with_replies.count() >= THERAPISTS * 0.75


def test_the_command_seeds_and_clears(directory):
    output = io.StringIO()

    call_command("seed_bookings", "--seed", "3", stdout=output)
    seeded = Appointment.objects.count()
    call_command("seed_bookings", "--seed", "3", "--clear", stdout=output)

    assert f"Gave {THERAPISTS} therapists booking data with {seeded} appointments" in (
        output.getvalue()
    )
    assert f"Deleted {seeded} demo appointments" in output.getvalue()
    assert not Appointment.objects.exists()
    assert not WeeklyWindow.objects.exists()
    assert not BookingPolicy.objects.exists()
