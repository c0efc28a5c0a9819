"""The therapist's hours in the client's zone, across daylight-saving changes, and when a
reply is due. Every expected clock reading is worked out by hand from the zones' offsets."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from rapport.messaging import policy
from tests.messaging.factories import make_engagement_thread, set_hours

pytestmark = pytest.mark.django_db

UTC = dt.UTC
LONDON = zoneinfo.ZoneInfo("Europe/London")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture
def toronto_policy(reference_data) -> policy.Policy:
    thread = make_engagement_thread()
    therapist = thread.therapist
    therapist.time_zone = "America/Toronto"
    therapist.reply_within_hours = 48
    therapist.save()
    settings_row = set_hours(therapist, days=(0, 1, 2, 3, 4), starts=dt.time(9), ends=dt.time(17))
    return policy.policy_for(therapist, settings_row)


def test_hours_keep_the_therapists_clock_and_move_on_the_clients(toronto_policy):
    # Friday, March 6, 2026, noon UTC. Toronto changes to EDT on Sunday March 8, London not
    # until March 29: the same 9-to-5 is 2 p.m.-10 p.m. in London on Friday (EST, UTC-5) and
    # 1 p.m.-9 p.m. from Monday (EDT, UTC-4).
    now = dt.datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    labels = policy.upcoming_window_labels(toronto_policy, now, LONDON)
    assert labels[0] == "Friday, March 6, 2026: 2:00 p.m. to 10:00 p.m. UK Time (London)"
    assert labels[1] == "Monday, March 9, 2026: 1:00 p.m. to 9:00 p.m. UK Time (London)"
    assert len(labels) == 5  # Fri, Mon, Tue, Wed, Thu within seven days
    assert policy.therapist_hours_label(toronto_policy) == (
        "Monday to Friday, 9:00 a.m. to 5:00 p.m."
    )


def test_a_window_across_the_clients_midnight_names_both_days(toronto_policy):
    # Monday, March 9, 2026 9:00 EDT = 13:00 UTC = 22:00 JST; 17:00 EDT = 06:00 JST Tuesday.
    now = dt.datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    label = policy.upcoming_window_labels(toronto_policy, now, TOKYO)[0]
    assert label == (
        "Monday, March 9, 2026, 10:00 p.m. to Tuesday, March 10, 2026, 6:00 a.m. Tokyo time"
    )


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC), True),  # Monday 9:00 EDT, the first minute
        (dt.datetime(2026, 3, 9, 12, 59, tzinfo=UTC), False),  # 8:59 EDT
        (dt.datetime(2026, 3, 9, 21, 0, tzinfo=UTC), False),  # 17:00 EDT, the end
        (dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC), True),  # Friday 9:00 EST (UTC-5)
        (dt.datetime(2026, 3, 6, 13, 30, tzinfo=UTC), False),  # Friday 8:30 EST
        (dt.datetime(2026, 3, 7, 16, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_within_hours(toronto_policy, moment, inside):
    assert policy.is_within_hours(toronto_policy, moment) is inside


def test_outside_hours_the_reply_window_starts_when_hours_begin(toronto_policy):
    saturday = dt.datetime(2026, 3, 7, 16, 0, tzinfo=UTC)
    # Next hours: Monday March 9, 9:00 EDT = 13:00 UTC; plus 48 hours.
    assert policy.next_hours_start(toronto_policy, saturday) == dt.datetime(
        2026, 3, 9, 13, 0, tzinfo=UTC
    )
    assert policy.expected_reply_by(toronto_policy, saturday) == dt.datetime(
        2026, 3, 11, 13, 0, tzinfo=UTC
    )
    inside = dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert policy.expected_reply_by(toronto_policy, inside) == inside + dt.timedelta(hours=48)


@pytest.mark.parametrize(
    ("sent", "due"),
    [
        # Hours Monday to Friday 9:00-17:00 in Toronto (EDT, UTC-4, from March 8), 48 hours.
        # Thursday March 12, 15:00 EDT + 48 h = Saturday 15:00: moved to Monday 9:00 EDT.
        (dt.datetime(2026, 3, 12, 19, 0, tzinfo=UTC), dt.datetime(2026, 3, 16, 13, 0, tzinfo=UTC)),
        # Monday 16:00 EDT + 48 h = Wednesday 16:00 EDT: inside, kept.
        (dt.datetime(2026, 3, 9, 20, 0, tzinfo=UTC), dt.datetime(2026, 3, 11, 20, 0, tzinfo=UTC)),
        # Monday 17:00 EDT sent (outside): from Tuesday 9:00 + 48 h = Thursday 9:00 EDT.
        (dt.datetime(2026, 3, 9, 21, 0, tzinfo=UTC), dt.datetime(2026, 3, 12, 13, 0, tzinfo=UTC)),
    ],
)
def test_the_reply_moment_falls_inside_the_hours(toronto_policy, sent, due):
    assert policy.expected_reply_by(toronto_policy, sent) == due


def test_a_reply_moment_at_the_end_of_the_hours_stays(reference_data):
    thread = make_engagement_thread()
    therapist = thread.therapist
    therapist.time_zone = "America/Toronto"
    therapist.reply_within_hours = 4
    therapist.save()
    rules = policy.policy_for(therapist, set_hours(therapist, days=(0, 1, 2, 3, 4)))
    # Monday March 9, 13:00 EDT + 4 h = 17:00 EDT, the last moment of the window: kept.
    sent = dt.datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
    assert policy.expected_reply_by(rules, sent) == dt.datetime(2026, 3, 9, 21, 0, tzinfo=UTC)
    # 13:01 + 4 h = 17:01, outside: Tuesday 9:00 EDT.
    assert policy.expected_reply_by(rules, sent + dt.timedelta(minutes=1)) == dt.datetime(
        2026, 3, 10, 13, 0, tzinfo=UTC
    )


def test_without_set_hours_only_the_reply_window_applies(reference_data):
    thread = make_engagement_thread()
    rules = policy.policy_for(thread.therapist)
    saturday = dt.datetime(2026, 3, 7, 16, 0, tzinfo=UTC)
    assert not rules.has_hours
    assert policy.is_within_hours(rules, saturday)
    assert policy.upcoming_window_labels(rules, saturday, LONDON) == []
    expected = saturday + dt.timedelta(hours=thread.therapist.reply_within_hours)
    assert policy.expected_reply_by(rules, saturday) == expected


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ((0, 1, 2, 3, 4), "Monday to Friday"),
        ((0, 2, 4), "Monday, Wednesday and Friday"),
        ((5,), "Saturday"),
        ((1, 3), "Tuesday and Thursday"),
        (tuple(range(7)), "every day"),
    ],
)
def test_days_in_words(days, words):
    assert policy.days_label(days) == words
