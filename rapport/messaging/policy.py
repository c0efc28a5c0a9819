"""A therapist's contact policy as a client reads it, and the clock rules behind it.

The policy's words (none / scheduling questions / brief check-ins, the reply window, the
free-text hours) are the directory's ``TherapistProfile`` fields; the structured hours and the
daily cap are ``MessagingSettings``. Hours are wall-clock times in the therapist's zone, turned
into real instants one date at a time, so "9:00" stays 9:00 for the therapist across
daylight-saving changes while the client sees each window at its true time in their own zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from rapport.core.timezones import clock_label, day_label, time_zone_label
from rapport.directory.models import BetweenSessionContact, TherapistProfile
from rapport.messaging.models import DEFAULT_DAILY_CAP, MessagingSettings

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# How far ahead the page lists the therapist's hours in the client's zone.
SHOWN_DAYS = 7
# Policies that accept scheduling messages only.
SCHEDULING_ONLY = (BetweenSessionContact.NONE, BetweenSessionContact.SCHEDULING)


@dataclass(frozen=True)
class Window:
    starts_at: dt.datetime  # aware, UTC
    ends_at: dt.datetime


@dataclass(frozen=True)
class Policy:
    therapist_name: str
    contact: str  # a BetweenSessionContact value
    contact_label: str
    reply_within_hours: int
    contact_hours_text: str  # the therapist's own free text, may be empty
    therapist_zone: zoneinfo.ZoneInfo
    days: tuple[int, ...]  # weekdays the therapist reads messages; empty: no set hours
    starts: dt.time | None
    ends: dt.time | None
    daily_cap: int

    @property
    def scheduling_only(self) -> bool:
        return self.contact in SCHEDULING_ONLY

    @property
    def has_hours(self) -> bool:
        return bool(self.days) and self.starts is not None and self.ends is not None


def policy_for(
    therapist: TherapistProfile, settings_row: MessagingSettings | None = None
) -> Policy:
    """``settings_row`` saves a query when the caller already has it; otherwise it is read
    (none means no set hours and the default cap)."""
    if settings_row is None:
        settings_row = MessagingSettings.objects.filter(therapist=therapist).first()
    hours = settings_row.hours if settings_row is not None else None
    return Policy(
        therapist_name=therapist.display_name,
        contact=therapist.between_session_contact,
        contact_label=BetweenSessionContact(therapist.between_session_contact).label,
        reply_within_hours=therapist.reply_within_hours,
        contact_hours_text=therapist.contact_hours,
        therapist_zone=zoneinfo.ZoneInfo(therapist.time_zone),
        days=tuple(settings_row.weekdays) if settings_row is not None and hours else (),
        starts=hours[0] if hours else None,
        ends=hours[1] if hours else None,
        daily_cap=settings_row.daily_cap if settings_row is not None else DEFAULT_DAILY_CAP,
    )


def _instant(day: dt.date, clock: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    # Through UTC and back: a wall time inside a spring-forward gap becomes the real instant.
    return dt.datetime.combine(day, clock, tzinfo=zone).astimezone(dt.UTC)


def windows_between(policy: Policy, start: dt.datetime, end: dt.datetime) -> list[Window]:
    """The therapist's hours that overlap [start, end), as instants, oldest first."""
    if not policy.has_hours:
        return []
    assert policy.starts is not None
    assert policy.ends is not None
    zone = policy.therapist_zone
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date()
    windows = []
    while day <= last:
        if day.weekday() in policy.days:
            window = Window(_instant(day, policy.starts, zone), _instant(day, policy.ends, zone))
            if window.ends_at > start and window.starts_at < end:
                windows.append(window)
        day += dt.timedelta(days=1)
    return windows


def is_within_hours(policy: Policy, moment: dt.datetime) -> bool:
    """Without set hours there is no "outside": the reply window alone applies."""
    if not policy.has_hours:
        return True
    return bool(windows_between(policy, moment, moment + dt.timedelta(microseconds=1)))


def next_hours_start(policy: Policy, moment: dt.datetime) -> dt.datetime | None:
    """When the therapist's hours next begin after ``moment`` (None without set hours)."""
    windows = windows_between(policy, moment, moment + dt.timedelta(days=8))
    later = [w.starts_at for w in windows if w.starts_at > moment]
    return later[0] if later else None


def expected_reply_by(policy: Policy, sent_at: dt.datetime) -> dt.datetime:
    """The reply window counts from when the therapist's hours next begin (at once when the
    message arrives during them, or when there are no set hours). A moment that then lands
    outside their hours (a Sunday, 8 p.m.) moves to when their hours next begin: a reply is
    never promised for a time the therapist said they do not read messages. The end of a
    window (5:00 p.m. on a 9-to-5 day) is still inside it."""
    start = sent_at
    if not is_within_hours(policy, sent_at):
        start = next_hours_start(policy, sent_at) or sent_at
    due = start + dt.timedelta(hours=policy.reply_within_hours)
    tick = dt.timedelta(microseconds=1)
    if is_within_hours(policy, due) or is_within_hours(policy, due - tick):
        return due
    return next_hours_start(policy, due) or due


# --- words ------------------------------------------------------------------------------------


def days_label(days: tuple[int, ...]) -> str:
    """``Monday to Friday``, ``Monday, Wednesday and Friday``, ``every day``."""
    if len(days) == 7:
        return "every day"
    if len(days) > 2 and days == tuple(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0]]} to {DAY_NAMES[days[-1]]}"
    names = [DAY_NAMES[day] for day in days]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def therapist_hours_label(policy: Policy) -> str:
    """The hours in the therapist's own terms: ``Monday to Friday, 9:00 a.m. to 5:00 p.m.``."""
    if not policy.has_hours:
        return ""
    assert policy.starts is not None
    assert policy.ends is not None
    base = dt.date(2000, 1, 1)
    starts = clock_label(dt.datetime.combine(base, policy.starts))
    ends = clock_label(dt.datetime.combine(base, policy.ends))
    return f"{days_label(policy.days)}, {starts} to {ends}"


def window_label(window: Window, zone: zoneinfo.ZoneInfo) -> str:
    """One window in the reader's zone, days and zone written as every page writes them
    (``rapport.core.timezones``): ``Monday, March 9, 2026: 2:00 p.m. to 10:00 p.m. UK Time
    (London)``, or with both days when it crosses the reader's midnight."""
    starts = window.starts_at.astimezone(zone)
    ends = window.ends_at.astimezone(zone)
    zone_words = time_zone_label(zone.key)
    if starts.date() == ends.date() or ends.time() == dt.time(0):
        clocks = f"{clock_label(starts)} to {clock_label(ends)} {zone_words}"
        return f"{day_label(starts.date())}: {clocks}"
    return (
        f"{day_label(starts.date())}, {clock_label(starts)} to "
        f"{day_label(ends.date())}, {clock_label(ends)} {zone_words}"
    )


def upcoming_window_labels(policy: Policy, now: dt.datetime, zone: zoneinfo.ZoneInfo) -> list[str]:
    windows = windows_between(policy, now, now + dt.timedelta(days=SHOWN_DAYS))
    return [window_label(window, zone) for window in windows]
