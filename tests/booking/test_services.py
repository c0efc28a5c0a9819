"""Booking services: availability settings, booking, every state change, and the database's
refusal of overlapping appointments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.booking import outbox, selectors, services, slots
from rapport.booking.errors import FreeTime, InvalidTransition, SlotTaken, SlotUnavailable
from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    DateException,
    OutboxEmail,
    Party,
    WeeklyWindow,
)
from rapport.directory.models import TherapistProfile
from tests.booking.factories import (
    WEEKDAYS,
    book_consultation,
    make_appointment,
    make_bookable_therapist,
)
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db


TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    # With an account, so e-mails to the therapist are written too.
    return make_bookable_therapist(weekdays=WEEKDAYS, user=make_therapist_user())


def free_times(therapist: TherapistProfile, now: dt.datetime, days: int = 14) -> list[FreeTime]:
    return slots.therapist_free_times(
        therapist=therapist, start=now, end=now + dt.timedelta(days=days), now=now
    )


def free_times_on_one_day(therapist: TherapistProfile, now: dt.datetime) -> list[FreeTime]:
    """Free times on the first whole weekday more than two days ahead (in the therapist's
    zone): whole, so that the test does not depend on the time of day it runs at."""
    by_day: dict[dt.date, list[FreeTime]] = {}
    first_day = (now + dt.timedelta(days=2)).astimezone(TORONTO).date() + dt.timedelta(days=1)
    for free in free_times(therapist, now):
        day = free.starts_at.astimezone(TORONTO).date()
        if day >= first_day:
            by_day.setdefault(day, []).append(free)
    return by_day[min(by_day)]


def book(therapist: TherapistProfile, starts_at: dt.datetime, now: dt.datetime, **extra):
    """Booked through the service by Alex in Vancouver, whose name and address tests check."""
    return book_consultation(therapist, starts_at, now=now, **{**ALEX, **extra})


ALEX = {
    "client_name": "Alex Client",
    "client_email": "alex@example.org",
    "client_time_zone": "America/Vancouver",
}


def emails(appointment: Appointment) -> set[tuple[str, str, int]]:
    return set(
        OutboxEmail.objects.filter(appointment=appointment).values_list(
            "purpose", "recipient", "sequence"
        )
    )


def nothing_written() -> bool:
    return not Appointment.objects.exists() and not OutboxEmail.objects.exists()


# --- availability settings -----------------------------------------------------------------


def test_booking_policy_is_created_with_defaults_once(reference_data):
    therapist = make_therapist()
    first = services.booking_policy_for(therapist=therapist)
    second = services.booking_policy_for(therapist=therapist)
    assert first.pk == second.pk
    assert (first.buffer_minutes, first.minimum_notice_hours, first.horizon_days) == (10, 24, 21)
    assert first.max_consultations_per_day == 4
    assert first.requires_confirmation is False


def test_booking_policy_update_saves_every_field(therapist):
    policy = services.booking_policy_update(
        therapist=therapist,
        buffer_minutes=15,
        minimum_notice_hours=48,
        horizon_days=30,
        max_consultations_per_day=2,
        requires_confirmation=True,
    )
    stored = BookingPolicy.objects.get(pk=policy.pk)
    assert (stored.buffer_minutes, stored.minimum_notice_hours, stored.horizon_days) == (15, 48, 30)
    assert stored.max_consultations_per_day == 2
    assert stored.requires_confirmation is True


def test_booking_policy_update_refuses_out_of_range_values_per_field(therapist):
    with pytest.raises(ValidationError) as caught:
        services.booking_policy_update(
            therapist=therapist,
            buffer_minutes=500,
            minimum_notice_hours=0,
            horizon_days=0,
            max_consultations_per_day=25,
            requires_confirmation=False,
        )
    assert set(caught.value.message_dict) == {
        "buffer_minutes",
        "horizon_days",
        "max_consultations_per_day",
    }
    stored = BookingPolicy.objects.get(therapist=therapist)
    assert (stored.buffer_minutes, stored.horizon_days, stored.max_consultations_per_day) == (
        0,
        21,
        4,
    )


def test_weekly_windows_replace_swaps_all_rows(therapist):
    services.weekly_windows_replace(
        therapist=therapist,
        windows=[
            (1, dt.time(13), dt.time(17)),
            (1, dt.time(9), dt.time(13)),
            (5, dt.time(10), dt.time(12)),
        ],
    )
    rows = list(
        WeeklyWindow.objects.filter(therapist=therapist).values_list(
            "weekday", "starts_at", "ends_at"
        )
    )
    assert rows == [
        (1, dt.time(9), dt.time(13)),
        (1, dt.time(13), dt.time(17)),
        (5, dt.time(10), dt.time(12)),
    ]


def test_weekly_windows_overlapping_on_one_day_are_refused_and_old_rows_kept(therapist):
    with pytest.raises(ValidationError) as caught:
        services.weekly_windows_replace(
            therapist=therapist,
            windows=[(0, dt.time(9), dt.time(12)), (0, dt.time(11), dt.time(13))],
        )
    assert caught.value.message_dict == {
        "windows": ["Monday 9:00 a.m. to 12:00 p.m. overlaps Monday 11:00 a.m. to 1:00 p.m."]
    }
    assert WeeklyWindow.objects.filter(therapist=therapist).count() == 5


def test_weekly_window_ending_before_it_starts_is_refused(therapist):
    with pytest.raises(ValidationError) as caught:
        services.weekly_windows_replace(
            therapist=therapist,
            windows=[(2, dt.time(12), dt.time(9)), (7, dt.time(9), dt.time(10))],
        )
    assert caught.value.message_dict == {
        "windows": [
            "Wednesday 12:00 p.m. to 9:00 a.m.: the end must be after the start.",
            "7 is not a weekday (0 is Monday, 6 is Sunday).",
        ]
    }
    assert WeeklyWindow.objects.filter(therapist=therapist).count() == 5


def test_date_exception_add_and_remove_own(therapist, now):
    day = (now + dt.timedelta(days=3)).astimezone(TORONTO).date()
    exception = services.date_exception_add(
        therapist=therapist,
        date=day,
        kind="extra_hours",
        starts_at=dt.time(18),
        ends_at=dt.time(20),
        note=" evening ",
        now=now,
    )
    stored = DateException.objects.get(pk=exception.pk)
    assert (stored.date, stored.kind, stored.starts_at, stored.ends_at, stored.note) == (
        day,
        "extra_hours",
        dt.time(18),
        dt.time(20),
        "evening",
    )
    services.date_exception_remove(therapist=therapist, exception_id=exception.pk)
    assert not DateException.objects.exists()


@pytest.mark.parametrize(
    ("kind", "starts_at", "ends_at", "days", "field"),
    [
        ("extra_hours", None, None, 3, "starts_at"),
        ("time_off", dt.time(9), None, 3, "ends_at"),
        ("time_off", dt.time(12), dt.time(9), 3, "ends_at"),
        ("holiday", None, None, 3, "kind"),
        ("time_off", None, None, -2, "date"),
    ],
)
def test_invalid_date_exception_is_refused(therapist, now, kind, starts_at, ends_at, days, field):
    with pytest.raises(ValidationError) as caught:
        services.date_exception_add(
            therapist=therapist,
            date=(now + dt.timedelta(days=days)).astimezone(TORONTO).date(),
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
        )
    assert list(caught.value.message_dict) == [field]
    assert not DateException.objects.exists()


def test_removing_another_therapists_exception_is_does_not_exist(therapist, now):
    other = make_therapist()
    theirs = services.date_exception_add(
        therapist=other,
        date=(now + dt.timedelta(days=3)).date(),
        kind="time_off",
        starts_at=None,
        ends_at=None,
        now=now,
    )
    with pytest.raises(DateException.DoesNotExist):
        services.date_exception_remove(therapist=therapist, exception_id=theirs.pk)
    assert DateException.objects.filter(pk=theirs.pk).exists()


def test_calendar_feed_rotate_retires_the_old_secret(therapist):
    old = services.booking_policy_for(therapist=therapist).feed_token
    policy = services.calendar_feed_rotate(therapist=therapist)
    assert policy.feed_token != old
    assert len(policy.feed_token) >= 40
    assert not BookingPolicy.objects.filter(feed_token=old).exists()
    assert BookingPolicy.objects.get(feed_token=policy.feed_token).therapist == therapist


# --- booking -------------------------------------------------------------------------------


def test_booking_a_free_time_confirms_it_and_writes_emails_and_reminders(therapist, now):
    free = free_times_on_one_day(therapist, now)[0]
    client = make_user(role="client")
    appointment = book(
        therapist,
        free.starts_at,
        now,
        client_name="  Alex   Client ",
        client_email=" Alex@Example.ORG ",
        share_fit_profile=True,
        client=client,
    )
    stored = Appointment.objects.get()
    assert stored.pk == appointment.pk
    assert stored.kind == AppointmentKind.CONSULTATION
    assert stored.status == AppointmentStatus.CONFIRMED
    assert (stored.starts_at, stored.ends_at) == (free.starts_at, free.ends_at)
    assert stored.ends_at - stored.starts_at == dt.timedelta(minutes=15)
    assert (stored.client_name, stored.client_email) == ("Alex Client", "alex@example.org")
    assert stored.client_time_zone == "America/Vancouver"
    assert stored.client == client
    assert stored.share_fit_profile is True
    assert stored.sequence == 0
    assert stored.therapist_responded_at is None
    assert emails(stored) == {
        (outbox.PURPOSE_BOOKED, Party.CLIENT, 0),
        (outbox.PURPOSE_BOOKED, Party.THERAPIST, 0),
        (outbox.PURPOSE_REMINDER_24H, Party.CLIENT, 0),
        (outbox.PURPOSE_REMINDER_1H, Party.CLIENT, 0),
    }


def test_booking_with_confirmation_required_is_a_request_without_reminders(therapist, now):
    BookingPolicy.objects.filter(therapist=therapist).update(requires_confirmation=True)
    free = free_times_on_one_day(therapist, now)[0]
    appointment = book(therapist, free.starts_at, now)
    assert appointment.status == AppointmentStatus.REQUESTED
    assert emails(appointment) == {
        (outbox.PURPOSE_REQUESTED, Party.CLIENT, 0),
        (outbox.PURPOSE_REQUESTED, Party.THERAPIST, 0),
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_name", "   "),
        ("client_name", "x" * 121),
        ("client_email", "not-an-address"),
        ("client_email", "someone@"),
        ("client_time_zone", "Mars/Olympus"),
        ("client_time_zone", ""),
    ],
)
def test_booking_with_invalid_client_details_writes_nothing(therapist, now, field, value):
    free = free_times_on_one_day(therapist, now)[0]
    with pytest.raises(ValidationError) as caught:
        book(therapist, free.starts_at, now, **{field: value})
    assert list(caught.value.message_dict) == [field]
    assert nothing_written()


def test_booking_a_naive_time_is_refused(therapist, now):
    free = free_times_on_one_day(therapist, now)[0]
    with pytest.raises(ValidationError) as caught:
        book(therapist, free.starts_at.replace(tzinfo=None), now)
    assert list(caught.value.message_dict) == ["starts_at"]
    assert nothing_written()


def test_booking_outside_availability_is_unavailable_and_writes_nothing(therapist, now):
    local = (now + dt.timedelta(days=3)).astimezone(TORONTO)
    three_am = local.replace(hour=3, minute=0, second=0)
    with pytest.raises(SlotUnavailable):
        book(therapist, three_am, now)
    assert nothing_written()


def test_booking_a_therapist_without_consultations_is_unavailable(therapist, now):
    free = free_times_on_one_day(therapist, now)[0]
    TherapistProfile.objects.filter(pk=therapist.pk).update(consultation_minutes=0)
    therapist.refresh_from_db()
    with pytest.raises(SlotUnavailable, match="does not offer free consultations"):
        book(therapist, free.starts_at, now)
    assert nothing_written()


def test_booking_same_slot_twice_is_taken_with_next_free_times(therapist, now):
    free = free_times_on_one_day(therapist, now)[0]
    first = book(therapist, free.starts_at, now)
    before = emails(first)
    with pytest.raises(SlotTaken) as caught:
        book(therapist, free.starts_at, now, client_email="other@example.org")
    assert len(caught.value.next_free) == 3
    assert all(option.starts_at >= first.ends_at for option in caught.value.next_free)
    assert Appointment.objects.count() == 1
    assert OutboxEmail.objects.count() == len(before)


def test_database_refusal_of_a_raced_slot_becomes_slot_taken(therapist, now, monkeypatch):
    """The free-time check passed (the other booking was not visible yet); the database still
    refuses the overlapping insert, and nothing of the second booking is written."""
    free = free_times_on_one_day(therapist, now)[0]
    book(therapist, free.starts_at, now)
    monkeypatch.setattr(slots, "free_time_check", lambda **_: free)
    with pytest.raises(SlotTaken) as caught:
        book(therapist, free.starts_at, now, client_email="racer@example.org")
    assert caught.value.message == "That time was just taken."
    assert len(caught.value.next_free) == 3
    assert free not in caught.value.next_free
    assert Appointment.objects.count() == 1
    assert not OutboxEmail.objects.filter(appointment__client_email="racer@example.org").exists()


def test_daily_cap_refuses_one_more_consultation_that_day(therapist, now):
    BookingPolicy.objects.filter(therapist=therapist).update(max_consultations_per_day=2)
    day_times = free_times_on_one_day(therapist, now)
    book(therapist, day_times[0].starts_at, now)
    book(therapist, day_times[4].starts_at, now, client_email="b@example.org")
    with pytest.raises(SlotUnavailable):
        book(therapist, day_times[8].starts_at, now, client_email="c@example.org")
    assert Appointment.objects.count() == 2
    next_day = next(
        free
        for free in free_times(therapist, now)
        if free.starts_at.astimezone(TORONTO).date()
        > day_times[0].starts_at.astimezone(TORONTO).date()
    )
    assert book(therapist, next_day.starts_at, now, client_email="c@example.org").pk


def test_booking_refreshes_the_listing_facts_on_commit(
    therapist, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        free = free_times(therapist, timezone.now())[0]
        book(therapist, free.starts_at, timezone.now())
    assert len(callbacks) >= 1
    therapist.refresh_from_db()
    expected = slots.therapist_next_free_time(therapist=therapist, now=timezone.now())
    assert expected is not None
    assert therapist.next_consultation_at == expected.starts_at
    assert therapist.next_consultation_at != free.starts_at


# --- the database guard --------------------------------------------------------------------


def test_database_refuses_an_overlapping_insert(therapist, now):
    start = now + dt.timedelta(days=3)
    make_appointment(therapist, start)
    with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
        make_appointment(therapist, start + dt.timedelta(minutes=10))
    assert Appointment.objects.count() == 1


def test_database_refuses_an_overlapping_update(therapist, now):
    start = now + dt.timedelta(days=3)
    make_appointment(therapist, start)
    later = make_appointment(therapist, start + dt.timedelta(hours=1))
    later.starts_at = start + dt.timedelta(minutes=5)
    later.ends_at = start + dt.timedelta(minutes=20)
    with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
        later.save()
    assert Appointment.objects.get(pk=later.pk).starts_at == start + dt.timedelta(hours=1)


def test_database_allows_back_to_back_and_other_therapists(therapist, now):
    start = now + dt.timedelta(days=3)
    make_appointment(therapist, start)
    make_appointment(therapist, start + dt.timedelta(minutes=15))
    make_appointment(make_therapist(), start)
    assert Appointment.objects.count() == 3


def test_cancelled_appointment_frees_its_time(therapist, now):
    free = free_times_on_one_day(therapist, now)[0]
    first = book(therapist, free.starts_at, now)
    services.appointment_cancel(appointment=first, by=Party.CLIENT, reason="Conflict", now=now)
    assert free in free_times(therapist, now)
    second = book(therapist, free.starts_at, now, client_email="next@example.org")
    assert second.status == AppointmentStatus.CONFIRMED
    # Reactivating the cancelled one directly would now overlap: the guard covers updates too.
    with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
        Appointment.objects.filter(pk=first.pk).update(status=AppointmentStatus.CONFIRMED)


# --- therapist answers ---------------------------------------------------------------------


@pytest.fixture
def request_(therapist, now) -> Appointment:
    BookingPolicy.objects.filter(therapist=therapist).update(requires_confirmation=True)
    return book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)


def test_confirming_a_request_confirms_and_records_the_reply(request_, now):
    later = now + dt.timedelta(hours=2)
    appointment = services.consultation_confirm(appointment=request_, now=later)
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.therapist_responded_at == later
    assert emails(appointment) == {
        (outbox.PURPOSE_REQUESTED, Party.CLIENT, 0),
        (outbox.PURPOSE_REQUESTED, Party.THERAPIST, 0),
        (outbox.PURPOSE_CONFIRMED, Party.CLIENT, 0),
        (outbox.PURPOSE_REMINDER_24H, Party.CLIENT, 0),
        (outbox.PURPOSE_REMINDER_1H, Party.CLIENT, 0),
    }


def test_confirming_twice_only_acknowledges(request_, now):
    first = now + dt.timedelta(hours=2)
    services.consultation_confirm(appointment=request_, now=first)
    written = emails(request_)
    appointment = services.consultation_confirm(
        appointment=request_, now=first + dt.timedelta(hours=1)
    )
    assert appointment.therapist_responded_at == first
    assert emails(appointment) == written


def test_acknowledging_a_booked_consultation_records_the_reply_only(therapist, now):
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    written = emails(appointment)
    later = now + dt.timedelta(minutes=30)
    services.consultation_confirm(appointment=appointment, now=later)
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.therapist_responded_at == later
    assert emails(appointment) == written


def test_confirming_a_cancelled_consultation_is_an_invalid_transition(request_, now):
    services.appointment_cancel(appointment=request_, by=Party.CLIENT, reason="Found one", now=now)
    with pytest.raises(InvalidTransition, match="cancelled, so it cannot be confirmed"):
        services.consultation_confirm(appointment=request_, now=now)
    assert Appointment.objects.get().therapist_responded_at is None


def test_declining_needs_a_reason_and_changes_nothing_without(request_, now):
    with pytest.raises(ValidationError) as caught:
        services.consultation_decline(appointment=request_, reason="  ", now=now)
    assert list(caught.value.message_dict) == ["reason"]
    stored = Appointment.objects.get()
    assert stored.status == AppointmentStatus.REQUESTED
    assert stored.therapist_responded_at is None


def test_declining_a_request_ends_it_and_frees_the_time(request_, therapist, now):
    later = now + dt.timedelta(hours=5)
    appointment = services.consultation_decline(
        appointment=request_, reason=" Not a fit for my practice ", now=later
    )
    assert appointment.status == AppointmentStatus.DECLINED
    assert (appointment.ended_by, appointment.end_reason) == (
        Party.THERAPIST,
        "Not a fit for my practice",
    )
    assert appointment.ended_at == later
    assert appointment.therapist_responded_at == later
    assert appointment.sequence == 1
    assert {row for row in emails(appointment) if row[2] == 1} == {
        (outbox.PURPOSE_DECLINED, Party.CLIENT, 1)
    }
    assert FreeTime(appointment.starts_at, appointment.ends_at) in free_times(therapist, now)


def test_declining_a_confirmed_consultation_says_cancel_instead(therapist, now):
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    with pytest.raises(InvalidTransition, match="cancel it instead"):
        services.consultation_decline(appointment=appointment, reason="Busy", now=now)


def test_expiring_a_request_before_it_is_due_is_refused(request_, now):
    with pytest.raises(InvalidTransition, match="still waiting"):
        services.consultation_expire(appointment=request_, now=now + dt.timedelta(hours=47))
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED


def test_expiring_an_unanswered_request_tells_the_client(request_, now):
    later = request_.created_at + dt.timedelta(hours=48)
    appointment = services.consultation_expire(appointment=request_, now=later)
    assert appointment.status == AppointmentStatus.EXPIRED
    assert (appointment.ended_by, appointment.ended_at) == (Party.SYSTEM, later)
    assert appointment.end_reason == "The therapist did not answer within 48 hours."
    assert appointment.therapist_responded_at is None
    assert {row for row in emails(appointment) if row[2] == 1} == {
        (outbox.PURPOSE_EXPIRED, Party.CLIENT, 1)
    }


def test_expiring_an_answered_request_is_refused(request_, now):
    services.consultation_confirm(appointment=request_, now=now)
    with pytest.raises(InvalidTransition, match="confirmed, so it cannot expire"):
        services.consultation_expire(appointment=request_, now=now + dt.timedelta(days=3))


def test_requests_due_to_expire_are_selected(request_, now, therapist):
    assert list(selectors.consultations_due_to_expire(now=now)) == []
    due = now + dt.timedelta(hours=49)
    assert list(selectors.consultations_due_to_expire(now=due)) == [request_]


# --- cancel and reschedule -----------------------------------------------------------------


def test_client_cancelling_tells_both_and_raises_the_sequence(therapist, now):
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="Sick", now=now)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert (appointment.ended_by, appointment.end_reason, appointment.ended_at) == (
        Party.CLIENT,
        "Sick",
        now,
    )
    assert appointment.sequence == 1
    assert appointment.therapist_responded_at is None
    new = {row for row in emails(appointment) if row[2] == 1}
    assert new == {
        (outbox.PURPOSE_CANCELLED, Party.CLIENT, 1),
        (outbox.PURPOSE_CANCELLED, Party.THERAPIST, 1),
    }


def test_therapist_cancelling_counts_as_their_reply(therapist, now):
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    services.appointment_cancel(appointment=appointment, by=Party.THERAPIST, reason="Ill", now=now)
    assert (appointment.ended_by, appointment.therapist_responded_at) == (Party.THERAPIST, now)


def test_cancelling_needs_a_reason(therapist, now):
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    with pytest.raises(ValidationError):
        services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="", now=now)
    assert Appointment.objects.get().status == AppointmentStatus.CONFIRMED


def test_cancelling_twice_is_an_invalid_transition(therapist, now):
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="x", now=now)
    with pytest.raises(InvalidTransition, match="cancelled, so it cannot be cancelled"):
        services.appointment_cancel(
            appointment=appointment, by=Party.THERAPIST, reason="y", now=now
        )
    assert Appointment.objects.get().ended_by == Party.CLIENT


def test_cancelling_a_started_appointment_is_refused(therapist, now):
    appointment = make_appointment(therapist, now - dt.timedelta(minutes=5))
    with pytest.raises(InvalidTransition, match="already started"):
        services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="x", now=now)


def test_rescheduling_moves_the_same_row_and_raises_the_sequence(therapist, now):
    day = free_times_on_one_day(therapist, now)
    appointment = book(therapist, day[0].starts_at, now)
    public_id = appointment.public_id
    moved = services.appointment_reschedule(
        appointment=appointment, starts_at=day[6].starts_at, by=Party.CLIENT, reason="", now=now
    )
    assert (moved.pk, moved.public_id) == (appointment.pk, public_id)
    assert (moved.starts_at, moved.ends_at) == (day[6].starts_at, day[6].ends_at)
    assert moved.sequence == 1
    assert moved.status == AppointmentStatus.CONFIRMED
    assert moved.therapist_responded_at is None
    assert {row for row in emails(moved) if row[2] == 1} == {
        (outbox.PURPOSE_RESCHEDULED, Party.CLIENT, 1),
        (outbox.PURPOSE_RESCHEDULED, Party.THERAPIST, 1),
        (outbox.PURPOSE_REMINDER_24H, Party.CLIENT, 1),
        (outbox.PURPOSE_REMINDER_1H, Party.CLIENT, 1),
    }
    assert day[0] in free_times(therapist, now)


def test_rescheduling_into_a_taken_time_is_refused_and_changes_nothing(therapist, now):
    day = free_times_on_one_day(therapist, now)
    mine = book(therapist, day[0].starts_at, now)
    book(therapist, day[6].starts_at, now, client_email="other@example.org")
    written = emails(mine)
    with pytest.raises((SlotTaken, SlotUnavailable)):
        services.appointment_reschedule(
            appointment=mine, starts_at=day[6].starts_at, by=Party.CLIENT, reason="", now=now
        )
    stored = Appointment.objects.get(pk=mine.pk)
    assert (stored.starts_at, stored.sequence) == (day[0].starts_at, 0)
    assert emails(stored) == written


def test_database_refusal_on_reschedule_becomes_slot_taken(therapist, now, monkeypatch):
    day = free_times_on_one_day(therapist, now)
    mine = book(therapist, day[0].starts_at, now)
    book(therapist, day[6].starts_at, now, client_email="other@example.org")
    monkeypatch.setattr(slots, "free_time_check", lambda **_: day[6])
    with pytest.raises(SlotTaken, match="just taken"):
        services.appointment_reschedule(
            appointment=mine, starts_at=day[6].starts_at, by=Party.CLIENT, reason="", now=now
        )
    stored = Appointment.objects.get(pk=mine.pk)
    assert (stored.starts_at, stored.sequence) == (day[0].starts_at, 0)
    assert not OutboxEmail.objects.filter(appointment=mine, sequence=1).exists()


def test_therapist_moving_a_request_accepts_it(request_, therapist, now):
    day = free_times_on_one_day(therapist, now)
    target = next(
        free for free in day if free.starts_at >= request_.ends_at + dt.timedelta(hours=1)
    )
    moved = services.appointment_reschedule(
        appointment=request_, starts_at=target.starts_at, by=Party.THERAPIST, reason="", now=now
    )
    assert moved.status == AppointmentStatus.CONFIRMED
    assert moved.therapist_responded_at == now


def test_rescheduling_a_cancelled_appointment_is_refused(therapist, now):
    day = free_times_on_one_day(therapist, now)
    appointment = book(therapist, day[0].starts_at, now)
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="x", now=now)
    with pytest.raises(InvalidTransition, match="cannot be moved"):
        services.appointment_reschedule(
            appointment=appointment, starts_at=day[3].starts_at, by=Party.CLIENT, reason="", now=now
        )


# --- client account ------------------------------------------------------------------------


def test_confirming_the_address_creates_a_client_account_once(therapist, now):
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    user = services.client_email_confirm(appointment=appointment, now=now)
    assert (user.email, user.role, user.name) == ("alex@example.org", "client", "Alex Client")
    assert not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("alex@example.org", True, True)
    assert appointment.client == user
    assert appointment.client_email_confirmed_at == now
    again = services.client_email_confirm(appointment=appointment, now=now + dt.timedelta(hours=1))
    assert again == user
    assert User.objects.filter(email__iexact="alex@example.org").count() == 1
    assert Appointment.objects.get().client_email_confirmed_at == now


def test_confirming_the_address_links_an_existing_verified_account(therapist, now):
    existing = make_user(role="client", email="alex@example.org")
    appointment = book(
        therapist,
        free_times_on_one_day(therapist, now)[0].starts_at,
        now,
        client_email="ALEX@example.org",
    )
    assert services.client_email_confirm(appointment=appointment, now=now) == existing
    assert Appointment.objects.get().client == existing
    assert User.objects.filter(email__iexact="alex@example.org").count() == 1


def test_confirming_the_address_does_not_link_an_unverified_account(therapist, now):
    make_user(role="client", email="alex@example.org", verified_email=False)
    appointment = book(therapist, free_times_on_one_day(therapist, now)[0].starts_at, now)
    with pytest.raises(InvalidTransition, match="has not confirmed it yet"):
        services.client_email_confirm(appointment=appointment, now=now)
    stored = Appointment.objects.get()
    assert (stored.client, stored.client_email_confirmed_at) == (None, None)


# --- first session -------------------------------------------------------------------------


@pytest.fixture
def held(therapist, now) -> Appointment:
    return make_appointment(therapist, now - dt.timedelta(days=1))


def test_first_session_follows_a_held_consultation(therapist, held, now):
    starts_at = now + dt.timedelta(days=5)
    session = services.first_session_book(consultation=held, starts_at=starts_at, now=now)
    stored = Appointment.objects.get(pk=session.pk)
    assert (stored.kind, stored.status, stored.follows) == (
        AppointmentKind.SESSION,
        AppointmentStatus.CONFIRMED,
        held,
    )
    assert (stored.starts_at, stored.ends_at) == (starts_at, starts_at + dt.timedelta(minutes=50))
    assert (stored.client_email, stored.client_name) == (held.client_email, held.client_name)
    assert emails(stored) == {
        (outbox.PURPOSE_BOOKED, Party.CLIENT, 0),
        (outbox.PURPOSE_BOOKED, Party.THERAPIST, 0),
        (outbox.PURPOSE_REMINDER_24H, Party.CLIENT, 0),
        (outbox.PURPOSE_REMINDER_1H, Party.CLIENT, 0),
    }


def test_second_first_session_is_refused(held, now):
    services.first_session_book(consultation=held, starts_at=now + dt.timedelta(days=5), now=now)
    with pytest.raises(InvalidTransition, match="already booked"):
        services.first_session_book(
            consultation=held, starts_at=now + dt.timedelta(days=9), now=now
        )
    assert Appointment.objects.filter(kind=AppointmentKind.SESSION).count() == 1


def test_first_session_overlapping_another_appointment_is_taken(therapist, held, now):
    starts_at = now + dt.timedelta(days=5)
    make_appointment(therapist, starts_at + dt.timedelta(minutes=30))
    with pytest.raises(SlotTaken, match="overlaps"):
        services.first_session_book(consultation=held, starts_at=starts_at, now=now)
    assert not Appointment.objects.filter(kind=AppointmentKind.SESSION).exists()
    assert not OutboxEmail.objects.exists()


def test_first_session_before_the_consultation_was_held_is_refused(therapist, now):
    upcoming = make_appointment(therapist, now + dt.timedelta(days=1))
    with pytest.raises(InvalidTransition, match="once the consultation has taken place"):
        services.first_session_book(
            consultation=upcoming, starts_at=now + dt.timedelta(days=5), now=now
        )


def test_first_session_in_the_past_is_unavailable(held, now):
    with pytest.raises(SlotUnavailable, match="future"):
        services.first_session_book(
            consultation=held, starts_at=now - dt.timedelta(hours=1), now=now
        )


def test_rescheduling_a_session_keeps_its_length(therapist, held, now):
    session = services.first_session_book(
        consultation=held, starts_at=now + dt.timedelta(days=5), now=now
    )
    target = now + dt.timedelta(days=6, hours=3)
    services.appointment_reschedule(
        appointment=session, starts_at=target, by=Party.THERAPIST, reason="", now=now
    )
    assert (session.starts_at, session.ends_at) == (target, target + dt.timedelta(minutes=50))
    assert session.sequence == 1


# --- selectors -----------------------------------------------------------------------------


def test_upcoming_and_pending_lists_in_a_fixed_number_of_queries(
    therapist, now, django_assert_num_queries
):
    BookingPolicy.objects.filter(therapist=therapist).update(requires_confirmation=True)
    for index, free in enumerate(free_times_on_one_day(therapist, now)[:8:2]):
        book(therapist, free.starts_at, now, client_email=f"c{index}@example.org")
    make_appointment(therapist, now - dt.timedelta(days=2))
    with django_assert_num_queries(1):
        upcoming = list(selectors.therapist_upcoming_appointments(therapist=therapist, now=now))
        names = [appointment.therapist.display_name for appointment in upcoming]
        clients = [appointment.client for appointment in upcoming]
    assert len(upcoming) == 4
    assert names == [therapist.display_name] * 4
    assert clients == [None] * 4
    with django_assert_num_queries(1):
        pending = list(selectors.therapist_pending_requests(therapist=therapist))
        assert [appointment.therapist.pk for appointment in pending] == [therapist.pk] * 4
    assert [appointment.pk for appointment in pending] == sorted(a.pk for a in pending)
    past = list(selectors.therapist_past_appointments(therapist=therapist, now=now))
    assert len(past) == 1


def test_a_client_cannot_move_a_session(therapist, held, now):
    starts_at = now + dt.timedelta(days=5)
    session = services.first_session_book(consultation=held, starts_at=starts_at, now=now)
    written = emails(session)
    with pytest.raises(InvalidTransition, match="Only your therapist can move a session"):
        services.appointment_reschedule(
            appointment=session,
            starts_at=now + dt.timedelta(days=200),
            by=Party.CLIENT,
            reason="",
            now=now,
        )
    stored = Appointment.objects.get(pk=session.pk)
    assert (stored.starts_at, stored.sequence) == (starts_at, 0)
    assert emails(stored) == written


def test_a_reschedule_note_is_kept_with_who_wrote_it(therapist, now):
    day = free_times_on_one_day(therapist, now)
    appointment = book(therapist, day[0].starts_at, now)
    moved = services.appointment_reschedule(
        appointment=appointment,
        starts_at=day[6].starts_at,
        by=Party.CLIENT,
        reason="  Work moved my shift.  ",
        now=now,
    )
    stored = Appointment.objects.get(pk=moved.pk)
    assert (stored.starts_at, stored.change_reason, stored.changed_by) == (
        day[6].starts_at,
        "Work moved my shift.",
        Party.CLIENT,
    )
    assert (stored.end_reason, stored.ended_by) == ("", "")


@pytest.mark.parametrize(
    "starts_at",
    [
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-1))),
    ],
)
def test_times_at_the_calendars_ends_are_refused_on_starts_at(therapist, now, starts_at):
    with pytest.raises(ValidationError) as caught:
        book(therapist, starts_at, now)
    assert caught.value.message_dict == {
        "starts_at": ["Choose a time between the years 1970 and 8999."]
    }
    assert nothing_written()


def test_confirming_the_address_does_not_keep_an_account_with_another_address(therapist, now):
    signed_in = make_user(role="client", email="signed@example.org")
    appointment = book(
        therapist, free_times_on_one_day(therapist, now)[0].starts_at, now, client=signed_in
    )
    user = services.client_email_confirm(appointment=appointment, now=now)
    assert user != signed_in
    assert user.email == "alex@example.org"
    stored = Appointment.objects.get()
    assert (stored.client, stored.client_email_confirmed_at) == (user, now)


def test_confirming_the_address_keeps_the_account_it_was_booked_with(therapist, now):
    signed_in = make_user(role="client", email="Alex@Example.org")
    appointment = book(
        therapist, free_times_on_one_day(therapist, now)[0].starts_at, now, client=signed_in
    )
    assert services.client_email_confirm(appointment=appointment, now=now) == signed_in
    assert User.objects.count() == 2  # the therapist and the client
