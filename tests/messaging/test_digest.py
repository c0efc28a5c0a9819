"""The therapist's daily digest: once a day inside their hours, a count and never the
content or who wrote it; idempotent however often housekeeping runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from rapport.core.housekeeping import housekeeping_run
from rapport.messaging import services
from rapport.messaging.models import DigestSent, Sender, Thread
from tests.messaging.factories import make_engagement_thread, set_hours

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# Monday, March 9, 2026 (EDT in Toronto, UTC-4).
MONDAY_8_59 = dt.datetime(2026, 3, 9, 12, 59, tzinfo=UTC)
MONDAY_9_00 = dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
SECRET = "my panic attacks on the subway"


@pytest.fixture
def digests(django_capture_on_commit_callbacks):
    """Run the digest as if it committed, so its queued e-mails go out; returns the count."""

    def run(now: dt.datetime) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return services.message_digests_send(now=now)

    return run


def _digest_mails() -> list:
    return [email for email in mail.outbox if "new message" in email.subject]


@pytest.fixture
def thread(reference_data) -> Thread:
    thread = make_engagement_thread()
    therapist = thread.therapist
    therapist.time_zone = "America/Toronto"
    therapist.between_session_contact = "brief_check_ins"
    therapist.save()
    set_hours(therapist, days=(0, 1, 2, 3, 4), starts=dt.time(9), ends=dt.time(17))
    return thread


def _send(thread: Thread, at: dt.datetime, body: str = SECRET) -> None:
    services.message_send(thread=thread, sender=Sender.CLIENT, body=body, now=at)


def test_one_digest_when_hours_begin_with_a_count_and_no_content(thread, digests):
    _send(thread, MONDAY_8_59 - dt.timedelta(hours=10))
    _send(thread, MONDAY_8_59 - dt.timedelta(hours=9))
    assert digests(MONDAY_8_59) == 0
    assert _digest_mails() == []

    assert digests(MONDAY_9_00) == 1
    (email,) = _digest_mails()
    assert email.to == [thread.therapist.user.email]
    assert email.subject == "[Rapport] 2 new messages"
    text = email.subject + email.body
    assert "subway" not in text
    assert thread.client.email not in text
    assert (thread.client.name or "(no name)") not in text
    assert "/practice/messages/" in email.body

    # Again the same day, by another run or another server: nothing more.
    assert digests(MONDAY_9_00 + dt.timedelta(hours=3)) == 0
    counts, failed = housekeeping_run(now=MONDAY_9_00 + dt.timedelta(hours=4))
    assert counts["message digests sent"] == 0
    assert not failed
    assert len(_digest_mails()) == 1
    assert DigestSent.objects.get().message_count == 2


def test_the_next_day_counts_only_what_came_since(thread, digests):
    _send(thread, MONDAY_8_59)
    digests(MONDAY_9_00)
    _send(thread, MONDAY_9_00 + dt.timedelta(hours=2), "Is Wednesday fine?")
    digests(MONDAY_9_00 + dt.timedelta(days=1))
    assert [email.subject for email in _digest_mails()] == [
        "[Rapport] 1 new message",
        "[Rapport] 1 new message",
    ]


def test_no_digest_on_a_day_off_or_when_everything_was_read(thread, digests):
    saturday_10 = dt.datetime(2026, 3, 14, 14, 0, tzinfo=UTC)
    _send(thread, saturday_10 - dt.timedelta(hours=5))
    assert digests(saturday_10) == 0
    services.thread_mark_read(thread=thread, reader=Sender.THERAPIST, now=saturday_10)
    assert digests(saturday_10 + dt.timedelta(days=2)) == 0
    assert _digest_mails() == []


def test_the_therapists_own_messages_never_count(thread, digests):
    services.message_send(
        thread=thread, sender=Sender.THERAPIST, body="See you then.", now=MONDAY_8_59
    )
    assert digests(MONDAY_9_00) == 0


# --- only inside the hours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_hour", "local_minute", "due"),
    [
        # Toronto wall clock on Monday March 9, 2026 (EDT, UTC-4); hours 9:00 to 17:00.
        (8, 59, False),
        (9, 0, True),
        (16, 59, True),
        (17, 0, False),  # the end is not inside the hours
        (20, 5, False),
    ],
)
def test_the_digest_goes_only_inside_the_days_hours(thread, digests, local_hour, local_minute, due):
    _send(thread, dt.datetime(2026, 3, 9, 12, 0, tzinfo=UTC))  # 8:00 EDT
    midnight = dt.datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # Monday 0:00 EDT
    at = midnight + dt.timedelta(hours=local_hour, minutes=local_minute)
    assert digests(at) == int(due)
    assert len(_digest_mails()) == int(due)


def test_a_message_after_hours_waits_for_the_next_mornings_window(thread, digests):
    # Monday 20:00 EDT = Tuesday 00:00 UTC.
    _send(thread, dt.datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    assert digests(dt.datetime(2026, 3, 10, 0, 5, tzinfo=UTC)) == 0  # Monday 20:05
    assert digests(dt.datetime(2026, 3, 10, 12, 30, tzinfo=UTC)) == 0  # Tuesday 8:30
    assert digests(dt.datetime(2026, 3, 10, 13, 5, tzinfo=UTC)) == 1  # Tuesday 9:05
    assert [email.subject for email in _digest_mails()] == ["[Rapport] 1 new message"]


@pytest.mark.parametrize(
    ("at", "due"),
    [
        # Without set hours: weekdays 9:00 to 17:00 in the therapist's zone (Toronto, EDT).
        (dt.datetime(2026, 3, 9, 12, 59, tzinfo=UTC), False),  # Monday 8:59
        (dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC), True),  # Monday 9:00
        (dt.datetime(2026, 3, 9, 21, 0, tzinfo=UTC), False),  # Monday 17:00
        (dt.datetime(2026, 3, 10, 2, 0, tzinfo=UTC), False),  # Monday 22:00
        (dt.datetime(2026, 3, 14, 15, 0, tzinfo=UTC), False),  # Saturday 11:00
    ],
)
def test_without_set_hours_a_weekday_daytime_window(thread, digests, at, due):
    from rapport.messaging.models import MessagingSettings

    MessagingSettings.objects.filter(therapist=thread.therapist).delete()
    _send(thread, dt.datetime(2026, 3, 9, 4, 0, tzinfo=UTC))  # Monday 0:00 EDT
    assert digests(at) == int(due)
