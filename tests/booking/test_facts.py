"""Booking facts on the listing: next free consultation, median reply time, and the
consultation-to-first-session rate, each said only once there is enough to say it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.booking import facts, slots
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Party,
)
from rapport.directory.models import SearchIndexVersion, TherapistProfile
from rapport.directory.services import therapist_booking_facts_set
from tests.booking.factories import give_availability, make_appointment
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db

_slot_counter = iter(range(1, 10_000))


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def therapist(reference_data) -> TherapistProfile:
    return make_therapist()


def consultation(
    therapist: TherapistProfile,
    *,
    now: dt.datetime,
    created_ago: dt.timedelta = dt.timedelta(days=10),
    starts_in: dt.timedelta | None = None,
    status: str = AppointmentStatus.CONFIRMED,
    replied_after: dt.timedelta | None = None,
    kind: str = AppointmentKind.CONSULTATION,
    follows: Appointment | None = None,
    minutes: int = 15,
) -> Appointment:
    # Each appointment gets its own hour, so the overlap guard never gets in the way.
    offset = dt.timedelta(hours=next(_slot_counter))
    starts_at = now + (starts_in if starts_in is not None else -dt.timedelta(days=9)) + offset
    appointment = make_appointment(
        therapist,
        starts_at,
        minutes=minutes,
        kind=kind,
        status=status,
        client_name="Sam",
        follows=follows,
        # Ended (when its status says so) by the system, now.
        ended_at=None if status in ACTIVE_STATUSES else now,
        ended_by="" if status in ACTIVE_STATUSES else Party.SYSTEM,
    )
    created_at = now - created_ago
    Appointment.objects.filter(pk=appointment.pk).update(
        created_at=created_at,
        therapist_responded_at=created_at + replied_after if replied_after is not None else None,
    )
    return appointment


def minutes(value: int) -> dt.timedelta:
    return dt.timedelta(minutes=value)


# --- median reply time ---------------------------------------------------------------------


def test_median_reply_needs_five_replies(therapist, now):
    for value in (10, 20, 30, 40):
        consultation(therapist, now=now, replied_after=minutes(value))
    assert facts.therapist_median_reply_minutes(therapist=therapist, now=now) is None
    consultation(therapist, now=now, replied_after=minutes(500))
    assert facts.therapist_median_reply_minutes(therapist=therapist, now=now) == 30


def test_median_reply_of_an_even_count_is_the_mean_of_the_middle_two(therapist, now):
    for value in (10, 20, 30, 41, 50, 60):
        consultation(therapist, now=now, replied_after=minutes(value))
    assert facts.therapist_median_reply_minutes(therapist=therapist, now=now) == 36


def test_unanswered_requests_count_as_answered_at_the_expiry(therapist, now):
    consultation(therapist, now=now, replied_after=minutes(10))
    consultation(therapist, now=now, replied_after=minutes(20))
    consultation(therapist, now=now, status=AppointmentStatus.EXPIRED)
    # Still waiting, but past the 48 hours: the expiry task has not run yet.
    consultation(
        therapist,
        now=now,
        status=AppointmentStatus.REQUESTED,
        created_ago=dt.timedelta(hours=50),
        starts_in=dt.timedelta(days=2),
    )
    # Not counted: still within the 48 hours, or never needing an answer.
    consultation(
        therapist,
        now=now,
        status=AppointmentStatus.REQUESTED,
        created_ago=dt.timedelta(hours=3),
        starts_in=dt.timedelta(days=2),
    )
    consultation(therapist, now=now)
    assert facts.therapist_median_reply_minutes(therapist=therapist, now=now) is None
    consultation(therapist, now=now, status=AppointmentStatus.EXPIRED)
    assert facts.therapist_median_reply_minutes(therapist=therapist, now=now) == 48 * 60


def test_replies_older_than_the_window_are_left_out(therapist, now):
    for _ in range(5):
        consultation(
            therapist, now=now, replied_after=minutes(10), created_ago=dt.timedelta(days=200)
        )
    assert facts.therapist_median_reply_minutes(therapist=therapist, now=now) is None


# --- consultation-to-first-session rate ----------------------------------------------------


def test_first_session_rate_needs_five_held_consultations(therapist, now):
    held = [consultation(therapist, now=now) for _ in range(4)]
    consultation(
        therapist, now=now, kind=AppointmentKind.SESSION, follows=held[0], starts_in=minutes(0)
    )
    # Not held: cancelled, or not over yet.
    consultation(therapist, now=now, status=AppointmentStatus.CANCELLED)
    consultation(therapist, now=now, starts_in=dt.timedelta(days=2))
    assert facts.therapist_first_session_rate_percent(therapist=therapist, now=now) is None
    held.append(consultation(therapist, now=now))
    consultation(
        therapist, now=now, kind=AppointmentKind.SESSION, follows=held[4], starts_in=minutes(0)
    )
    # A cancelled first session does not count.
    consultation(
        therapist,
        now=now,
        kind=AppointmentKind.SESSION,
        follows=held[1],
        status=AppointmentStatus.CANCELLED,
    )
    assert facts.therapist_first_session_rate_percent(therapist=therapist, now=now) == 40


# --- storing the facts ---------------------------------------------------------------------


def index_version() -> int:
    row = SearchIndexVersion.objects.filter(pk=SearchIndexVersion.SINGLETON_ID).first()
    return row.version if row else 0


def test_refresh_stores_all_three_facts(therapist, now):
    give_availability(therapist, minimum_notice_hours=0)
    for value in (10, 20, 30, 40, 50):
        consultation(therapist, now=now, replied_after=minutes(value))
    facts.therapist_booking_facts_refresh(therapist=therapist, now=now)
    stored = TherapistProfile.objects.get(pk=therapist.pk)
    expected = slots.therapist_next_free_time(therapist=therapist, now=now)
    assert expected is not None
    assert stored.next_consultation_at == expected.starts_at
    assert stored.median_reply_minutes == 30
    assert stored.first_session_rate_percent == 0
    assert therapist.next_consultation_at == expected.starts_at


def test_refresh_without_consultations_offered_has_no_next_time(reference_data, now):
    therapist = make_therapist(consultation_minutes=0)
    give_availability(therapist, minimum_notice_hours=0)
    facts.therapist_booking_facts_refresh(therapist=therapist, now=now)
    stored = TherapistProfile.objects.get(pk=therapist.pk)
    assert (stored.next_consultation_at, stored.median_reply_minutes) == (None, None)
    assert stored.first_session_rate_percent is None


def test_storing_facts_leaves_the_search_index_version_alone(therapist, now):
    # The engine re-reads next free times on its own (rebuilding every process's index per
    # booking would not scale), so storing them must not force a rebuild.
    before = index_version()
    therapist_booking_facts_set(
        therapist=therapist,
        next_consultation_at=now,
        median_reply_minutes=25,
        first_session_rate_percent=60,
    )
    assert index_version() == before
    stored = TherapistProfile.objects.get(pk=therapist.pk)
    assert (stored.next_consultation_at, stored.median_reply_minutes) == (now, 25)
    assert stored.first_session_rate_percent == 60


def test_refresh_all_covers_therapists_with_booking_settings(therapist, now, reference_data):
    give_availability(therapist, minimum_notice_hours=0)
    make_therapist()
    assert facts.therapist_booking_facts_refresh_all(now=now) == 1
    assert TherapistProfile.objects.get(pk=therapist.pk).next_consultation_at is not None
