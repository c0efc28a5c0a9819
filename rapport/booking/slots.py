"""Free consultation times: weekly windows and date exceptions, in the therapist's zone, minus
appointments, buffers, minimum notice, the horizon and the daily cap.

How a free time is found
------------------------
Availability is wall-clock time in the therapist's IANA zone (``TherapistProfile.time_zone``).
For each local date, the bookable windows are that weekday's ``WeeklyWindow`` rows plus the
date's extra hours. Candidate starts are every ``SLOT_STEP_MINUTES`` of wall-clock time from each
window's start; a candidate is offered when

* the whole consultation (``consultation_minutes`` of real, elapsed time) fits inside the window's
  real span (below);
* it starts at or after ``now`` + minimum notice and before ``now`` + horizon (and inside the
  ``start``/``end`` the caller asked about);
* it does not overlap a time-off stretch, nor any active appointment (a consultation or a
  session, requested or confirmed) widened by the buffer on both sides;
* its local date is not a whole day off, and that date does not already hold
  ``max_consultations_per_day`` active consultations (sessions do not count toward the cap).

The grid stays anchored to each window's start: a time-off stretch or an appointment removes the
candidates it overlaps without shifting the others. ``ignoring`` leaves one appointment out
entirely (its time is free and it does not count toward the cap), for rescheduling it.

Whole-day time off wins over extra hours on the same date: saying "I am off" is the safer reading.
A therapist with no ``BookingPolicy`` row gets the model's defaults; reading never creates a row.
Free times are returned in UTC, earliest first; showing them in the client's zone is display
(``free_times_by_local_date``).

Daylight-saving time
--------------------
* **Gaps** (clocks move forward): a wall time that never shows on the clock is never offered.
  Asking ``free_time_check`` for a time whose own zone skips it (``2:30`` in America/Toronto on
  9 March 2025) raises ``SlotUnavailable`` saying the time does not exist and why;
  ``instant_of_wall_time`` does the same for a date and time typed in a zone.
* **Folds** (clocks move back): a wall time that shows twice is two real instants, and each is
  offered when it fits the window. A window covering the repeated hour is therefore an hour longer
  in real time that night, and every real quarter hour of it is bookable once.
* **A window's real span** runs from the first moment its start time shows on the clock to the
  last moment its end time shows; when either falls in a gap, the span begins or ends at the
  moment clocks jump. Time-off stretches are turned into real spans the same way.
* Lengths, buffers, notice and horizon are real elapsed time, never wall-clock arithmetic.
* A date whose UTC offset is the same at its first and last moment is taken to have no clock
  change inside it (no zone changes its clocks twice within one day), which lets ordinary days
  skip the per-candidate checks.

Performance
-----------
``availability_load`` reads everything with at most four small indexed queries (policy, weekly
windows, the date exceptions of the dates concerned, and the active appointments overlapping those
dates widened by the buffer), none of them ordered: the rows are few, their order does not
matter, and building ORDER BY clauses was a measurable share of these small queries.
``free_times_from_availability`` is pure Python over that snapshot, on integer POSIX seconds, so
it can be timed and property-tested without a database.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, models

from rapport.booking.errors import FreeTime, SlotTaken, SlotUnavailable
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    BookingPolicy,
    DateException,
    ExceptionKind,
    WeeklyWindow,
)
from rapport.core.rawsql import as_date, as_utc, fetch_rows, placeholders
from rapport.core.timezones import clock_label, day_label, time_zone_label
from rapport.directory.models import TherapistProfile

SLOT_STEP_MINUTES = 15

# Internally an instant is whole seconds since the POSIX epoch (UTC), and a wall time is whole
# seconds since 1970-01-01 00:00 on a clock with no zone: integers compare and add cheaply, and
# every zone's offsets and transitions fall on whole seconds.
Instant = int
WallTime = int

_STEP_SECONDS = SLOT_STEP_MINUTES * 60
_DAY_SECONDS = 86_400
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_WALL = dt.datetime(1970, 1, 1)
# Every UTC offset in use lies between these, so a local date's instants lie within these
# distances of its wall-clock midnight.
_MOST_BEHIND_UTC = 12 * 3600
_MOST_AHEAD_OF_UTC = 14 * 3600
# Appointments are fetched by start (the index is on therapist and start), looking this far back
# for ones still running; consultations and sessions are hours long at most, and the database's
# overlap guard stays the final word on booking anyway.
_LONGEST_APPOINTMENT = dt.timedelta(days=1)


# --- the snapshot that generation reads ----------------------------------------------------


@dataclass(frozen=True)
class PolicyRules:
    """The numbers of a ``BookingPolicy`` that shape free times."""

    buffer_minutes: int
    minimum_notice_hours: int
    horizon_days: int
    max_consultations_per_day: int

    @classmethod
    def defaults(cls) -> PolicyRules:
        """The model's defaults, for a therapist who never saved a policy."""
        fields = BookingPolicy._meta

        def default(name: str) -> int:
            field = fields.get_field(name)
            assert isinstance(field, models.Field)
            return int(field.default)

        return cls(
            buffer_minutes=default("buffer_minutes"),
            minimum_notice_hours=default("minimum_notice_hours"),
            horizon_days=default("horizon_days"),
            max_consultations_per_day=default("max_consultations_per_day"),
        )


@dataclass(frozen=True)
class BusyTime:
    """An active appointment's real time; consultations also count toward the daily cap."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    is_consultation: bool


LocalStretch = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Availability:
    """Everything free-time generation needs, read from the database at once.

    ``first_date``..``last_date`` (the therapist's local dates, inclusive) are the dates whose
    exceptions and appointments were loaded; asking about times outside them is a programming
    error and raises ``ValueError``.
    """

    zone: ZoneInfo
    consultation_minutes: int
    policy: PolicyRules
    weekly_windows: Mapping[int, Sequence[LocalStretch]]
    extra_hours: Mapping[dt.date, Sequence[LocalStretch]]
    days_off: frozenset[dt.date]
    time_off: Mapping[dt.date, Sequence[LocalStretch]]
    appointments: Sequence[BusyTime]
    first_date: dt.date
    last_date: dt.date

    def windows_on(self, day: dt.date) -> list[LocalStretch]:
        return [*self.weekly_windows.get(day.weekday(), ()), *self.extra_hours.get(day, ())]


# --- public reads ------------------------------------------------------------------------------


def therapist_free_times(
    *,
    therapist: TherapistProfile,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    ignoring: Appointment | None = None,
) -> list[FreeTime]:
    """Bookable consultation times starting in [start, end), in UTC, earliest first.

    ``ignoring`` leaves one appointment's own time free (for rescheduling it).
    """
    return _free_times(
        therapist=therapist, start=start, end=end, now=now, ignoring=ignoring, limit=None
    )


def therapist_next_free_time(*, therapist: TherapistProfile, now: dt.datetime) -> FreeTime | None:
    """The earliest bookable consultation within the therapist's horizon, if any."""
    if therapist.consultation_minutes <= 0:
        return None
    policy = _policy_rules_load(therapist=therapist)
    found = _free_times(
        therapist=therapist,
        start=now,
        end=now + dt.timedelta(days=policy.horizon_days),
        now=now,
        ignoring=None,
        limit=1,
        policy=policy,
    )
    return found[0] if found else None


def free_time_check(
    *,
    therapist: TherapistProfile,
    starts_at: dt.datetime,
    now: dt.datetime,
    ignoring: Appointment | None = None,
) -> FreeTime:
    """The free time starting exactly at ``starts_at``, or SlotUnavailable / SlotTaken saying
    why not (SlotTaken when an appointment holds it, with the next free times).

    ``starts_at`` may carry any zone; a wall time its zone skips is refused as not existing.
    Reasons are checked in this order: the time does not exist, no consultations offered, past,
    minimum notice, horizon, day off, outside the windows or off the slot grid, time off, daily
    cap; then an active appointment (with buffer) makes it SlotTaken.
    """
    _require_aware(starts_at, "starts_at")
    _require_aware(now, "now")
    _refuse_wall_time_in_gap(starts_at)
    name = therapist.display_name
    if therapist.consultation_minutes <= 0:
        raise SlotUnavailable(f"{name} does not offer a free consultation.")
    instant = starts_at.astimezone(dt.UTC)
    if instant < now:
        raise SlotUnavailable("That time has already passed.")
    policy = _policy_rules_load(therapist=therapist)
    if instant < now + dt.timedelta(hours=policy.minimum_notice_hours):
        notice = _plural(policy.minimum_notice_hours, "hour")
        raise SlotUnavailable(f"Consultations with {name} need at least {notice} of notice.")
    if instant >= now + dt.timedelta(days=policy.horizon_days):
        raise SlotUnavailable(
            f"Consultations with {name} can be booked at most "
            f"{_plural(policy.horizon_days, 'day')} ahead."
        )
    availability = _availability_load(
        therapist=therapist,
        policy=policy,
        lower=instant,
        upper=instant + dt.timedelta(seconds=1),
        ignoring=ignoring,
    )
    refusal = _rule_refusal(availability=availability, instant=instant, name=name)
    if refusal:
        raise SlotUnavailable(refusal)
    length = dt.timedelta(minutes=therapist.consultation_minutes)
    if _overlaps_appointment(availability=availability, instant=instant):
        later = _free_times(
            therapist=therapist,
            start=instant + dt.timedelta(seconds=1),
            end=now + dt.timedelta(days=policy.horizon_days),
            now=now,
            ignoring=ignoring,
            limit=3,
            policy=policy,
        )
        raise SlotTaken("That time is no longer free.", next_free=later)
    return FreeTime(starts_at=instant, ends_at=instant + length)


def availability_load(
    *,
    therapist: TherapistProfile,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    ignoring: Appointment | None = None,
) -> Availability:
    """Read what ``free_times_from_availability`` needs for [start, end) as seen at ``now``.

    At most four queries; none when the therapist offers no consultation. ``ignoring`` is left
    out of the appointments (its time is free again, and it does not count toward the cap).
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    _require_aware(now, "now")
    if therapist.consultation_minutes <= 0:
        return _empty_availability(therapist=therapist, policy=PolicyRules.defaults())
    policy = _policy_rules_load(therapist=therapist)
    lower, upper = _bounds(policy=policy, start=start, end=end, now=now)
    return _availability_load(
        therapist=therapist, policy=policy, lower=lower, upper=upper, ignoring=ignoring
    )


def free_times_from_availability(
    *,
    availability: Availability,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    limit: int | None = None,
) -> list[FreeTime]:
    """The pure part of ``therapist_free_times``: no database, same rules (see the module
    docstring). ``limit`` stops after that many (the earliest ones)."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    _require_aware(now, "now")
    if availability.consultation_minutes <= 0:
        return []
    lower, upper = _bounds(policy=availability.policy, start=start, end=end, now=now)
    if lower >= upper:
        return []
    zone = availability.zone
    days = _local_dates_covering(zone=zone, lower=lower, upper=upper)
    if days[0] < availability.first_date or days[-1] > availability.last_date:
        raise ValueError(
            f"free times for {days[0]}..{days[-1]} need availability loaded for those dates, "
            f"not {availability.first_date}..{availability.last_date}"
        )
    lower_seconds = lower.timestamp()
    upper_seconds = upper.timestamp()
    length = availability.consultation_minutes * 60
    blocked_starts, blocked_ends = _merged(
        [*_time_off_spans(availability), *_appointment_spans(availability)]
    )
    consultations_on = _consultations_per_local_date(availability)
    cap = availability.policy.max_consultations_per_day

    found: list[Instant] = []
    for day in days:
        if day in availability.days_off or consultations_on[day] >= cap:
            continue
        on_this_day = set()
        for instant in _window_candidates(availability=availability, day=day, length=length):
            if not lower_seconds <= instant < upper_seconds:
                continue
            index = bisect.bisect_right(blocked_ends, instant)
            if index < len(blocked_ends) and blocked_starts[index] < instant + length:
                continue
            on_this_day.add(instant)
        found.extend(sorted(on_this_day))
        if limit is not None and len(found) >= limit:
            break
    # Dates follow each other in real time too, but sorting the whole is cheap insurance.
    found.sort()
    if limit is not None:
        found = found[:limit]
    length_delta = dt.timedelta(seconds=length)
    free_times = []
    for instant in found:
        starts_at = _EPOCH_UTC + dt.timedelta(seconds=instant)
        free_times.append(FreeTime(starts_at=starts_at, ends_at=starts_at + length_delta))
    return free_times


def free_times_by_local_date(
    free_times: Iterable[FreeTime], zone: ZoneInfo
) -> list[tuple[dt.date, list[tuple[FreeTime, dt.datetime]]]]:
    """Free times grouped by the viewer's local date, for pages and the API.

    Each free time comes with its start in ``zone`` (an aware datetime, so formatting with
    ``%Z`` tells the two 1:30s of a fall-back night apart). Dates come in the order of the
    input, which is earliest first for ``therapist_free_times``.
    """
    grouped: list[tuple[dt.date, list[tuple[FreeTime, dt.datetime]]]] = []
    for free_time in free_times:
        local_start = free_time.starts_at.astimezone(zone)
        if not grouped or grouped[-1][0] != local_start.date():
            grouped.append((local_start.date(), []))
        grouped[-1][1].append((free_time, local_start))
    return grouped


def instant_of_wall_time(*, day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant a clock in ``zone`` shows ``time`` on ``day`` (the first one, when clocks
    move back and it shows twice); SlotUnavailable when clocks skip that time."""
    wall = _wall_time(day, _seconds_into_day(time))
    shown = _instants_showing(zone, wall)
    if not shown:
        raise SlotUnavailable(_gap_message(zone, wall))
    return _EPOCH_UTC + dt.timedelta(seconds=shown[0])


# --- loading -----------------------------------------------------------------------------------


def _free_times(
    *,
    therapist: TherapistProfile,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    ignoring: Appointment | None,
    limit: int | None,
    policy: PolicyRules | None = None,
) -> list[FreeTime]:
    _require_aware(start, "start")
    _require_aware(end, "end")
    _require_aware(now, "now")
    if therapist.consultation_minutes <= 0:
        return []
    if policy is None:
        policy = _policy_rules_load(therapist=therapist)
    lower, upper = _bounds(policy=policy, start=start, end=end, now=now)
    if lower >= upper:
        return []
    availability = _availability_load(
        therapist=therapist, policy=policy, lower=lower, upper=upper, ignoring=ignoring
    )
    if not availability.weekly_windows and not availability.extra_hours:
        return []
    return free_times_from_availability(
        availability=availability, start=start, end=end, now=now, limit=limit
    )


def _policy_rules_load(*, therapist: TherapistProfile) -> PolicyRules:
    # Plain SQL here and in _availability_load (rapport.core.rawsql): these reads run for every
    # profile page and booking form, and compiling them through the ORM cost more than running
    # them (about 1.5 ms of 4 on PostgreSQL for 21 days of free times).
    rows = fetch_rows(
        "SELECT buffer_minutes, minimum_notice_hours, horizon_days, max_consultations_per_day"  # noqa: S608
        f" FROM {BookingPolicy._meta.db_table} WHERE therapist_id = %s",
        [therapist.pk],
    )
    if not rows:
        return PolicyRules.defaults()
    buffer_minutes, notice_hours, horizon_days, daily_cap = rows[0]
    return PolicyRules(
        buffer_minutes=buffer_minutes,
        minimum_notice_hours=notice_hours,
        horizon_days=horizon_days,
        max_consultations_per_day=daily_cap,
    )


def _availability_load(
    *,
    therapist: TherapistProfile,
    policy: PolicyRules,
    lower: dt.datetime,
    upper: dt.datetime,
    ignoring: Appointment | None,
) -> Availability:
    """Windows, the exceptions of the local dates [lower, upper) touches, and the active
    appointments that could block a consultation on those dates or count toward their cap."""
    zone = ZoneInfo(therapist.time_zone)
    if therapist.consultation_minutes <= 0 or lower >= upper:
        return _empty_availability(therapist=therapist, policy=policy)
    days = _local_dates_covering(zone=zone, lower=lower, upper=upper)
    first_date, last_date = days[0], days[-1]

    weekly: dict[int, list[LocalStretch]] = {}
    for weekday, window_start, window_end in fetch_rows(
        f"SELECT weekday, starts_at, ends_at FROM {WeeklyWindow._meta.db_table}"  # noqa: S608
        " WHERE therapist_id = %s",
        [therapist.pk],
    ):
        weekly.setdefault(weekday, []).append((window_start, window_end))

    extra_hours: dict[dt.date, list[LocalStretch]] = {}
    time_off: dict[dt.date, list[LocalStretch]] = {}
    days_off: set[dt.date] = set()
    for date, kind, exception_start, exception_end in fetch_rows(
        f"SELECT date, kind, starts_at, ends_at FROM {DateException._meta.db_table}"  # noqa: S608
        " WHERE therapist_id = %s AND date >= %s AND date <= %s",
        [therapist.pk, first_date, last_date],
    ):
        date = as_date(date)
        assert date is not None
        if exception_start is None or exception_end is None:
            if kind == ExceptionKind.TIME_OFF:
                days_off.add(date)
        elif kind == ExceptionKind.EXTRA_HOURS:
            extra_hours.setdefault(date, []).append((exception_start, exception_end))
        else:
            time_off.setdefault(date, []).append((exception_start, exception_end))

    appointments: list[BusyTime] = []
    if weekly or extra_hours:
        # Whole local dates (for the daily cap), widened by the largest offsets and the buffer
        # (for appointments next to a candidate).
        buffer = dt.timedelta(minutes=policy.buffer_minutes)
        earliest = (
            _EPOCH_UTC
            + dt.timedelta(seconds=_wall_time(first_date, 0) - _MOST_AHEAD_OF_UTC)
            - buffer
        )
        latest = (
            _EPOCH_UTC
            + dt.timedelta(
                seconds=_wall_time(last_date + dt.timedelta(days=1), 0) + _MOST_BEHIND_UTC
            )
            + buffer
        )
        statuses = [str(status) for status in ACTIVE_STATUSES]
        rows = fetch_rows(
            f"SELECT starts_at, ends_at, kind FROM {Appointment._meta.db_table}"  # noqa: S608
            f" WHERE therapist_id = %s AND status IN ({placeholders(len(statuses))})"
            " AND starts_at >= %s AND starts_at < %s AND ends_at > %s AND id <> %s",
            [
                therapist.pk,
                *statuses,
                *(
                    _database_moment(moment)
                    for moment in (earliest - _LONGEST_APPOINTMENT, latest, earliest)
                ),
                ignoring.pk if ignoring is not None and ignoring.pk is not None else -1,
            ],
        )
        appointments = [
            BusyTime(
                starts_at=_utc(appointment_start),
                ends_at=_utc(appointment_end),
                is_consultation=kind == AppointmentKind.CONSULTATION,
            )
            for appointment_start, appointment_end, kind in rows
        ]
    return Availability(
        zone=zone,
        consultation_minutes=therapist.consultation_minutes,
        policy=policy,
        weekly_windows=weekly,
        extra_hours=extra_hours,
        days_off=frozenset(days_off),
        time_off=time_off,
        appointments=appointments,
        first_date=first_date,
        last_date=last_date,
    )


def _database_moment(moment: dt.datetime) -> Any:
    """An aware moment as this database compares it with stored ones (SQLite keeps UTC text)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _utc(value: Any) -> dt.datetime:
    moment = as_utc(value)
    assert moment is not None
    return moment


def _empty_availability(*, therapist: TherapistProfile, policy: PolicyRules) -> Availability:
    # Covers no date at all: asking it about any time is the caller's mistake.
    return Availability(
        zone=ZoneInfo(therapist.time_zone),
        consultation_minutes=therapist.consultation_minutes,
        policy=policy,
        weekly_windows={},
        extra_hours={},
        days_off=frozenset(),
        time_off={},
        appointments=(),
        first_date=dt.date.max,
        last_date=dt.date.min,
    )


# --- pure helpers ------------------------------------------------------------------------------


def _require_aware(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {moment!r}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _bounds(
    *, policy: PolicyRules, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """[lower, upper) for starts: the caller's range within notice and horizon."""
    lower = max(start, now + dt.timedelta(hours=policy.minimum_notice_hours))
    upper = min(end, now + dt.timedelta(days=policy.horizon_days))
    return lower.astimezone(dt.UTC), upper.astimezone(dt.UTC)


def _local_dates_covering(
    *, zone: ZoneInfo, lower: dt.datetime, upper: dt.datetime
) -> list[dt.date]:
    """The therapist's local dates on which a start in [lower, upper) can fall."""
    first = lower.astimezone(zone).date()
    last = upper.astimezone(zone).date()
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def _seconds_into_day(time: dt.time) -> int:
    return time.hour * 3600 + time.minute * 60 + time.second


def _wall_time(day: dt.date, seconds_into_day: int) -> WallTime:
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_SECONDS + seconds_into_day


def _offset_at_wall(zone: ZoneInfo, wall: WallTime, fold: int) -> int:
    """The UTC offset (seconds) ``zone`` applies to ``wall``; in a gap or fold, ``fold`` picks
    the offset from before (0) or after (1) the change, as PEP 495 defines."""
    offset = zone.utcoffset((_EPOCH_WALL + dt.timedelta(seconds=wall)).replace(fold=fold))
    if offset is None:  # pragma: no cover - a ZoneInfo always has an offset
        raise ValueError(f"{zone} gave no UTC offset")
    return int(offset.total_seconds())


def _wall_at(zone: ZoneInfo, instant: Instant) -> WallTime:
    """What a clock in ``zone`` shows at ``instant``."""
    offset = dt.datetime.fromtimestamp(instant, zone).utcoffset()
    if offset is None:  # pragma: no cover - a ZoneInfo always has an offset
        raise ValueError(f"{zone} gave no UTC offset")
    return instant + int(offset.total_seconds())


def _instants_showing(zone: ZoneInfo, wall: WallTime) -> tuple[Instant, ...]:
    """Every instant a clock in ``zone`` shows ``wall``: none in a gap, two in a fold."""
    found: list[Instant] = []
    for fold in (0, 1):
        instant = wall - _offset_at_wall(zone, wall, fold)
        if instant not in found and _wall_at(zone, instant) == wall:
            found.append(instant)
    return tuple(sorted(found))


def _clock_jump(zone: ZoneInfo, wall: WallTime) -> Instant:
    """The instant clocks in ``zone`` jump over ``wall``, a wall time inside a gap."""
    offsets = (_offset_at_wall(zone, wall, 0), _offset_at_wall(zone, wall, 1))
    # Before the jump the clock shows less than ``wall``, from the jump on more: search for the
    # first instant showing more, between the two readings of ``wall``.
    before, after = wall - max(offsets), wall - min(offsets)
    while after - before > 1:
        middle = (before + after) // 2
        if _wall_at(zone, middle) > wall:
            after = middle
        else:
            before = middle
    return after


def _span_start(zone: ZoneInfo, wall: WallTime) -> Instant:
    """The first moment a clock shows ``wall``, or the moment it jumps past it."""
    shown = _instants_showing(zone, wall)
    return shown[0] if shown else _clock_jump(zone, wall)


def _span_end(zone: ZoneInfo, wall: WallTime) -> Instant:
    """The last moment a clock shows ``wall``, or the moment it jumps past it."""
    shown = _instants_showing(zone, wall)
    return shown[-1] if shown else _clock_jump(zone, wall)


def _steady_offset(zone: ZoneInfo, day: dt.date) -> int | None:
    """The day's single UTC offset, or None when clocks change during (or at either end of) it."""
    midnight = _wall_time(day, 0)
    next_midnight = midnight + _DAY_SECONDS
    offsets = {
        _offset_at_wall(zone, midnight, 0),
        _offset_at_wall(zone, midnight, 1),
        _offset_at_wall(zone, next_midnight, 0),
        _offset_at_wall(zone, next_midnight, 1),
    }
    return offsets.pop() if len(offsets) == 1 else None


def _window_candidates(*, availability: Availability, day: dt.date, length: int) -> list[Instant]:
    """Starts on the window grids of ``day`` whose whole consultation fits its window's real
    span; a start shared by two overlapping windows appears twice."""
    zone = availability.zone
    offset = _steady_offset(zone, day)
    candidates: list[Instant] = []
    for window_start, window_end in availability.windows_on(day):
        start_wall = _wall_time(day, _seconds_into_day(window_start))
        end_wall = _wall_time(day, _seconds_into_day(window_end))
        if offset is not None:
            # An ordinary day: wall-clock and real time advance together.
            candidates.extend(
                range(start_wall - offset, end_wall - offset - length + 1, _STEP_SECONDS)
            )
            continue
        span_start = _span_start(zone, start_wall)
        span_end = _span_end(zone, end_wall)
        for wall in range(start_wall, end_wall, _STEP_SECONDS):
            for instant in _instants_showing(zone, wall):
                if span_start <= instant and instant + length <= span_end:
                    candidates.append(instant)
    return candidates


def _time_off_spans(availability: Availability) -> list[tuple[Instant, Instant]]:
    zone = availability.zone
    return [
        (
            _span_start(zone, _wall_time(day, _seconds_into_day(stretch_start))),
            _span_end(zone, _wall_time(day, _seconds_into_day(stretch_end))),
        )
        for day, stretches in availability.time_off.items()
        for stretch_start, stretch_end in stretches
    ]


def _appointment_spans(availability: Availability) -> list[tuple[Instant, Instant]]:
    buffer = availability.policy.buffer_minutes * 60
    return [
        (
            math.floor(busy.starts_at.timestamp()) - buffer,
            math.ceil(busy.ends_at.timestamp()) + buffer,
        )
        for busy in availability.appointments
    ]


def _merged(spans: list[tuple[Instant, Instant]]) -> tuple[list[Instant], list[Instant]]:
    """Overlapping spans joined, as sorted starts and ends (so both can be bisected)."""
    starts: list[Instant] = []
    ends: list[Instant] = []
    for span_start, span_end in sorted(spans):
        if ends and span_start <= ends[-1]:
            ends[-1] = max(ends[-1], span_end)
        else:
            starts.append(span_start)
            ends.append(span_end)
    return starts, ends


def _consultations_per_local_date(availability: Availability) -> Counter[dt.date]:
    return Counter(
        busy.starts_at.astimezone(availability.zone).date()
        for busy in availability.appointments
        if busy.is_consultation
    )


def _overlaps(spans: Iterable[tuple[Instant, Instant]], instant: Instant, length: int) -> bool:
    return any(
        span_start < instant + length and instant < span_end for span_start, span_end in spans
    )


def _overlaps_appointment(*, availability: Availability, instant: dt.datetime) -> bool:
    return _overlaps(
        _appointment_spans(availability),
        math.floor(instant.timestamp()),
        availability.consultation_minutes * 60,
    )


def _rule_refusal(*, availability: Availability, instant: dt.datetime, name: str) -> str | None:
    """Why the availability rules (not appointments) refuse a start, or None if they allow it.

    Notice and horizon are checked by the caller, which can say so before loading anything.
    """
    zone = availability.zone
    day = instant.astimezone(zone).date()
    seconds = math.floor(instant.timestamp())
    length = availability.consultation_minutes * 60
    off_grid = (
        f"Consultations with {name} start every {SLOT_STEP_MINUTES} minutes from the start of "
        "their available hours; that time is not one of them."
    )
    if seconds != instant.timestamp():
        return off_grid
    if day in availability.days_off:
        return f"{name} is not taking consultations that day."
    if seconds not in _window_candidates(availability=availability, day=day, length=length):
        wall = _wall_at(zone, seconds)
        for window_start, window_end in availability.windows_on(day):
            start_wall = _wall_time(day, _seconds_into_day(window_start))
            end_wall = _wall_time(day, _seconds_into_day(window_end))
            if start_wall <= wall < end_wall:
                if (wall - start_wall) % _STEP_SECONDS:
                    return off_grid
                return (
                    f"A consultation at that time would run past the end of {name}'s "
                    "available hours."
                )
        return f"{name} is not available for a consultation at that time."
    if _overlaps(_time_off_spans(availability), seconds, length):
        return f"{name} is away at that time."
    cap = availability.policy.max_consultations_per_day
    if _consultations_per_local_date(availability)[day] >= cap:
        return (
            f"{name} already has as many consultations that day as they take "
            f"({cap}); please choose another day."
        )
    return None


def _refuse_wall_time_in_gap(moment: dt.datetime) -> None:
    """SlotUnavailable when ``moment``'s wall time never shows on its own zone's clocks."""
    zone = moment.tzinfo
    if not isinstance(zone, ZoneInfo):
        return  # fixed offsets (UTC included) have no gaps
    round_trip = moment.astimezone(dt.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None, fold=0) != moment.replace(tzinfo=None, fold=0):
        wall = _wall_time(moment.date(), _seconds_into_day(moment.time()))
        raise SlotUnavailable(_gap_message(zone, wall))


def _gap_message(zone: ZoneInfo, wall: WallTime) -> str:
    jump = _clock_jump(zone, wall)
    before = _EPOCH_WALL + dt.timedelta(seconds=_wall_at(zone, jump - 1) + 1)
    after = _EPOCH_WALL + dt.timedelta(seconds=_wall_at(zone, jump))
    day = (_EPOCH_WALL + dt.timedelta(seconds=wall)).date()
    return (
        f"That time does not exist in {time_zone_label(zone.key)} because clocks move forward "
        f"from {clock_label(before)} to {clock_label(after)} on {day_label(day)}."
    )
