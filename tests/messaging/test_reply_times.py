"""Replies to clients' messages count in booking's median reply figure, one value per turn."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.booking import facts
from rapport.messaging.models import Message, Sender, Thread
from rapport.messaging.reply_times import message_reply_minutes
from tests.messaging.factories import make_engagement_thread

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def thread(reference_data) -> Thread:
    return make_engagement_thread()


def _write(thread: Thread, sender: str, at: dt.datetime) -> None:
    # Straight to the table: these are past conversations, not sends under today's rules.
    Message.objects.create(thread=thread, sender=sender, body="…", created_at=at)


def test_one_value_per_turn_and_late_unanswered_turns_count(thread):
    minutes = dt.timedelta(minutes=1)
    _write(thread, Sender.CLIENT, T0)
    _write(thread, Sender.CLIENT, T0 + 10 * minutes)  # the same turn
    _write(thread, Sender.THERAPIST, T0 + 60 * minutes)  # 60 from the turn's first
    _write(thread, Sender.THERAPIST, T0 + 70 * minutes)  # a second reply starts nothing
    _write(thread, Sender.CLIENT, T0 + 120 * minutes)
    _write(thread, Sender.THERAPIST, T0 + 150 * minutes)  # 30
    _write(thread, Sender.CLIENT, T0 + dt.timedelta(days=1))  # unanswered
    window = thread.therapist.reply_within_hours  # 48 by default
    since = T0 - dt.timedelta(days=1)
    # Inside the reply window the open turn is not late yet: not counted.
    soon = T0 + dt.timedelta(days=1, hours=window - 1)
    assert list(message_reply_minutes(thread.therapist, since, soon)) == [60, 30]
    # Past it, it counts with its wait so far.
    late = T0 + dt.timedelta(days=1, hours=window + 2)
    assert list(message_reply_minutes(thread.therapist, since, late)) == [
        60,
        30,
        (window + 2) * 60,
    ]


def test_turns_in_two_threads_are_separate(thread):
    other = make_engagement_thread(therapist=thread.therapist)
    _write(thread, Sender.CLIENT, T0)
    _write(other, Sender.THERAPIST, T0 + dt.timedelta(minutes=5))  # not a reply to thread
    _write(thread, Sender.THERAPIST, T0 + dt.timedelta(minutes=45))
    assert list(message_reply_minutes(thread.therapist, T0, T0 + dt.timedelta(hours=1))) == [45]


def test_the_median_reply_figure_includes_message_replies(thread):
    now = T0 + dt.timedelta(days=10)
    assert facts.therapist_median_reply_minutes(therapist=thread.therapist, now=now) is None
    for day, wait in enumerate((10, 20, 30, 40, 50)):
        start = T0 + dt.timedelta(days=day)
        _write(thread, Sender.CLIENT, start)
        _write(thread, Sender.THERAPIST, start + dt.timedelta(minutes=wait))
    assert facts.therapist_median_reply_minutes(therapist=thread.therapist, now=now) == 30
