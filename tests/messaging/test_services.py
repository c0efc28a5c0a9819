"""message_send and its rules; thread_open; thread_mark_read; the settings. Times are fixed
instants so every clock reading below is worked out by hand, not by the code under test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from rapport.booking.models import Appointment, AppointmentStatus
from rapport.care.models import Engagement, EngagementStatus
from rapport.directory.models import BetweenSessionContact
from rapport.messaging import services
from rapport.messaging.errors import DailyCapReached, MessageInvalid, NoReasonToWrite
from rapport.messaging.models import MAX_BODY_LENGTH, Message, Sender, Thread
from tests.booking.factories import make_appointment
from tests.care.factories import make_engagement
from tests.factories import make_user
from tests.messaging.factories import make_consultation_thread, make_engagement_thread, set_hours

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# Tuesday, March 10, 2026, 15:00 UTC: 11:00 a.m. EDT in Toronto (clocks went forward Mar 8).
TUESDAY = dt.datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _therapist_policy(thread: Thread, contact: str) -> None:
    thread.therapist.between_session_contact = contact
    thread.therapist.save(update_fields=["between_session_contact"])


@pytest.fixture
def thread(reference_data) -> Thread:
    thread = make_consultation_thread(client_time_zone="America/Toronto")
    _therapist_policy(thread, BetweenSessionContact.BRIEF_CHECK_INS)
    return thread


def _send(thread: Thread, body: str = "Can we move Thursday?", **kwargs):
    fields = {"sender": Sender.CLIENT, "now": timezone.now(), **kwargs}
    return services.message_send(thread=thread, body=body, **fields)


# --- who may write ----------------------------------------------------------------------------


def test_a_client_opens_one_thread_per_reason(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    now = timezone.now()
    first = services.thread_open(client=engagement.client, engagement=engagement, now=now)
    again = services.thread_open(client=engagement.client, engagement=engagement, now=now)
    assert first.pk == again.pk
    assert Thread.objects.count() == 1


def test_nobody_opens_a_thread_on_someone_elses_engagement_or_consultation(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    consultation = make_appointment(engagement.therapist, client=engagement.client)
    stranger = make_user(role="client")
    for reason in ({"engagement": engagement}, {"consultation": consultation}):
        with pytest.raises(NoReasonToWrite):
            services.thread_open(client=stranger, now=timezone.now(), **reason)
    assert not Thread.objects.exists()


@pytest.mark.parametrize("status", [EngagementStatus.ENDED, EngagementStatus.GRADUATED])
def test_a_closed_engagement_takes_no_new_thread_and_no_message(reference_data, status):
    thread = make_engagement_thread()
    engagement = make_engagement(status=status)
    with pytest.raises(NoReasonToWrite):
        services.thread_open(client=engagement.client, engagement=engagement, now=timezone.now())
    Engagement.objects.filter(threads=thread).update(status=status, ended_at=timezone.now())
    for sender in Sender.values:
        with pytest.raises(NoReasonToWrite):
            _send(thread, sender=sender)
    assert not Message.objects.exists()


def test_a_consultation_can_be_written_about_until_three_days_after_it(thread):
    ends_at = Appointment.objects.get(pk=thread.consultation_id).ends_at
    _send(thread, now=ends_at + dt.timedelta(days=3) - dt.timedelta(minutes=1))
    with pytest.raises(NoReasonToWrite):
        _send(thread, now=ends_at + dt.timedelta(days=3, minutes=1))
    assert Message.objects.count() == 1


def test_a_cancelled_consultation_takes_no_message(thread):
    Appointment.objects.filter(pk=thread.consultation_id).update(
        status=AppointmentStatus.CANCELLED, ended_at=timezone.now(), ended_by="client"
    )
    with pytest.raises(NoReasonToWrite):
        _send(thread)
    assert not Message.objects.exists()


# --- the therapist's policy ---------------------------------------------------------------------


@pytest.mark.parametrize("contact", [BetweenSessionContact.NONE, BetweenSessionContact.SCHEDULING])
def test_a_scheduling_only_policy_takes_scheduling_messages_only(thread, contact):
    _therapist_policy(thread, contact)
    with pytest.raises(MessageInvalid) as refused:
        _send(thread, "I had a rough week.")
    assert [field for field, _ in refused.value.problems] == ["about_scheduling"]
    assert "scheduling only" in refused.value.message
    assert not Message.objects.exists()
    sent = _send(thread, "Can we move Thursday to 3 p.m.?", about_scheduling=True)
    assert sent.message.about_scheduling is True
    # The therapist's own messages are not held to their policy.
    services.message_send(thread=thread, sender=Sender.THERAPIST, body="Yes.", now=timezone.now())


def test_brief_check_ins_take_any_message(thread):
    assert _send(thread, "I tried the breathing exercise.").message.about_scheduling is False


# --- the daily cap ------------------------------------------------------------------------------


def test_the_cap_counts_a_rolling_24_hours_and_resets_when_the_oldest_turns_24_hours_old(thread):
    Appointment.objects.filter(pk=thread.consultation_id).update(
        starts_at=TUESDAY + dt.timedelta(days=2), ends_at=TUESDAY + dt.timedelta(days=2, hours=1)
    )
    # Monday 23:30 EDT (03:30 UTC Tuesday), then Tuesday 8:00 and 8:10 EDT: three in 24 hours,
    # whatever the calendar day says.
    first = dt.datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
    _send(thread, now=first)
    morning = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    for minutes in (0, 10):
        _send(thread, now=morning + dt.timedelta(minutes=minutes))
    with pytest.raises(DailyCapReached) as refused:
        _send(thread, "One more thing", now=TUESDAY)
    # Free again at 03:30 UTC Wednesday = Tuesday 11:30 p.m. in Toronto (EDT, UTC-4).
    assert refused.value.resets_at == first + dt.timedelta(hours=24)
    assert "Tuesday, March 10, 2026 at 11:30 p.m." in refused.value.message
    assert "sent 3 messages to" in refused.value.message
    assert "in the last 24 hours" in refused.value.message
    assert Message.objects.count() == 3
    # The therapist's own cap is not the client's: they can still answer.
    services.message_send(thread=thread, sender=Sender.THERAPIST, body="Noted.", now=TUESDAY)
    # A second before the reset: still refused; at it, one more (and only one).
    with pytest.raises(DailyCapReached):
        _send(thread, now=first + dt.timedelta(hours=24, seconds=-1))
    _send(thread, now=first + dt.timedelta(hours=24))
    with pytest.raises(DailyCapReached) as again:
        _send(thread, now=first + dt.timedelta(hours=24, minutes=1))
    # Next free when the 8:00 message turns 24 hours old.
    assert again.value.resets_at == morning + dt.timedelta(hours=24)


def test_changing_the_thread_zone_does_not_reset_the_cap(thread):
    set_hours(thread.therapist, days=tuple(range(7)), daily_cap=2)
    # 14:50 UTC is 09:50 in Toronto; Tokyo's next day begins at 15:00 UTC.
    now = dt.datetime(2026, 3, 11, 14, 50, tzinfo=UTC)
    _send(thread, now=now)
    _send(thread, now=now + dt.timedelta(minutes=1))
    services.thread_time_zone_set(thread=thread, time_zone="Asia/Tokyo")
    with pytest.raises(DailyCapReached) as refused:
        _send(thread, now=now + dt.timedelta(minutes=20))
    # The reset is the same instant, only worded in Tokyo's time (next day, 23:50 JST).
    assert refused.value.resets_at == now + dt.timedelta(hours=24)
    assert "Thursday, March 12, 2026 at 11:50 p.m." in refused.value.message


def test_a_lowered_cap_waits_until_enough_have_aged_out(thread):
    set_hours(thread.therapist, days=tuple(range(7)), daily_cap=3)
    start = dt.datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    for hour in range(3):
        _send(thread, now=start + dt.timedelta(hours=hour))
    set_hours(thread.therapist, days=tuple(range(7)), daily_cap=1)
    with pytest.raises(DailyCapReached) as refused:
        _send(thread, now=start + dt.timedelta(hours=5))
    # Three counted, one allowed: free when the third-oldest (14:00) turns 24 hours old.
    assert refused.value.resets_at == start + dt.timedelta(hours=26)


def test_the_cap_counts_every_thread_with_the_same_therapist(thread):
    set_hours(thread.therapist, daily_cap=1)
    other = make_engagement(client=thread.client, therapist=thread.therapist)
    second = services.thread_open(client=thread.client, engagement=other, now=timezone.now())
    _send(thread)
    with pytest.raises(DailyCapReached):
        _send(second)
    assert Message.objects.count() == 1


# --- what is written ----------------------------------------------------------------------------


def test_the_length_cap_is_inclusive_and_nothing_is_stored_beyond_it(thread):
    with pytest.raises(MessageInvalid) as refused:
        _send(thread, "x" * (MAX_BODY_LENGTH + 1))
    assert refused.value.problems[0][0] == "body"
    assert "2,001" in refused.value.message
    for empty in ("", "   \n "):
        with pytest.raises(MessageInvalid):
            _send(thread, empty)
    assert not Message.objects.exists()
    assert len(_send(thread, "x" * MAX_BODY_LENGTH).message.body) == MAX_BODY_LENGTH


def test_html_is_stored_exactly_as_typed(thread):
    body = '<script>alert("hi")</script><b>bold</b>'
    sent = _send(thread, body)
    assert Message.objects.get(pk=sent.message.pk).body == body


def test_crisis_language_is_flagged_and_still_delivered(thread):
    sent = _send(thread, "Honestly I want to die some days.")
    assert sent.crisis is True
    assert Message.objects.filter(pk=sent.message.pk).exists()
    assert _send(thread, "Can we move Thursday?").crisis is False


# --- reading ----------------------------------------------------------------------------------


def test_mark_read_marks_only_the_other_sides_messages(thread):
    mine = _send(thread).message
    theirs = services.message_send(
        thread=thread, sender=Sender.THERAPIST, body="Sure.", now=timezone.now()
    ).message
    assert services.thread_mark_read(thread=thread, reader=Sender.CLIENT, now=timezone.now()) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is None
    assert theirs.read_at is not None


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"contact_days": 0b11111, "contact_starts_at": None}, "contact_starts_at"),
        ({"contact_days": 0}, "contact_days"),
        ({"contact_ends_at": dt.time(8)}, "contact_ends_at"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"daily_cap": 21}, "daily_cap"),
    ],
)
def test_settings_refuse_hours_that_are_not_whole(thread, fields, field):
    values = {
        "contact_days": 0b11111,
        "contact_starts_at": dt.time(9),
        "contact_ends_at": dt.time(17),
        "daily_cap": 3,
        **fields,
    }
    with pytest.raises(ValidationError) as refused:
        services.messaging_settings_set(therapist=thread.therapist, **values)
    assert field in refused.value.message_dict
    assert not type(set_hours(thread.therapist)).objects.exclude(daily_cap=3).exists()
