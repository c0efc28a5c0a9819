"""Demo booking data for the generated therapists: policies, weekly hours, date exceptions, and
a believable history of consultations (with reply times, some followed by first sessions) plus a
few upcoming ones.

Deterministic: each therapist's data comes from its own random generator, seeded from the run's
seed and the therapist's seed key, with every time placed relative to ``now``, so the same seed
and ``now`` give the same rows. Idempotent: a therapist who already has weekly hours, date
exceptions or appointments is left alone, so a second run adds nothing and changes made in the
demo are never overwritten.

Rows are written in bulk, not through the services: the demo must not send e-mails or queue
reminders for people who do not exist, and the history lies in the past, where no service would
book. The database's overlap guard still applies to every row; the generator never proposes an
overlap in the first place.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import random
import time
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    ConsultationMethod,
    DateException,
    ExceptionKind,
    Party,
    WeeklyWindow,
)
from rapport.booking.slots import SLOT_STEP_MINUTES
from rapport.directory.models import TherapistProfile

DEMO_EMAIL_DOMAIN = "example.org"
BATCH_SIZE = 100
# The slot grid (slots.SLOT_STEP_MINUTES): demo times are times a client could have booked.
GRID = dt.timedelta(minutes=SLOT_STEP_MINUTES)
HISTORY_DAYS = 84

_FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Priya", "Mateo", "Amara", "Noah", "Chloé", "Wei", "Fatima",
    "Liam", "Aisha", "Diego", "Hana", "Owen", "Zoe", "Kwame", "Ingrid", "Ravi", "Maya",
    "Elijah", "Sofia", "Tariq", "Nina", "Luca", "Grace", "Yusuf", "Leah", "Kenji", "Ana",
)  # fmt: skip
_LAST_NAMES = (
    "Tremblay", "Nguyen", "Patel", "García", "Smith", "Okafor", "Kim", "Roy", "Cohen",
    "Martin", "Singh", "Lee", "Brown", "Haddad", "Johnson", "Wilson", "Chen", "Gagnon",
    "Lopez", "Müller", "Ahmed", "Davis", "Bouchard", "Sato", "Silva",
)  # fmt: skip
_CANCEL_REASONS = (
    "Something came up at work, sorry.",
    "I found a time with another therapist.",
    "I'm feeling unwell today.",
    "Childcare fell through.",
)
_DECLINE_REASONS = (
    "I don't think I'm the right fit for this; please see the suggestions below.",
    "My caseload is full this month.",
)
# Typical first-reply delay of a therapist, in hours: some answer within the hour, some take a
# day or more, so "usually replies within …" differs visibly across the demo.
_REPLY_HOURS = (0.5, 1.5, 3.0, 6.0, 12.0, 20.0, 30.0)
# Blocks of a working day, in local time; a day gets one or two of them.
_DAY_BLOCKS = (
    ((9, 0), (12, 0)),
    ((9, 30), (12, 30)),
    ((10, 0), (13, 0)),
    ((13, 0), (17, 0)),
    ((13, 30), (16, 30)),
    ((14, 0), (18, 0)),
)
_EVENING_BLOCKS = (((17, 30), (20, 30)), ((18, 0), (21, 0)))
_SATURDAY_BLOCKS = (((9, 0), (12, 0)), ((10, 0), (14, 0)))


@dataclass(frozen=True)
class BookingSeedResult:
    seeded: int  # therapists given booking data by this run
    already_present: int  # therapists that had booking data already
    appointments: int
    seconds: float


@dataclass
class _Plan:
    """One therapist's generated rows, before they have database ids."""

    therapist: TherapistProfile
    policy: BookingPolicy
    windows: list[WeeklyWindow] = field(default_factory=list)
    exceptions: list[DateException] = field(default_factory=list)
    consultations: list[Appointment] = field(default_factory=list)
    # (the consultation it follows, the session)
    sessions: list[tuple[Appointment, Appointment]] = field(default_factory=list)


def _time(hour_minute: tuple[int, int]) -> dt.time:
    return dt.time(*hour_minute)


def _instant(day: dt.date, moment: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """The UTC instant of a wall-clock time, or None when it does not exist (a DST gap)."""
    local = dt.datetime.combine(day, moment, tzinfo=zone)
    round_trip = local.astimezone(dt.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local.astimezone(dt.UTC)


class _Calendar:
    """Busy times of one therapist (with the buffer around each), to never propose an
    overlap, and consultations per local day, to respect the daily cap."""

    def __init__(self, buffer: dt.timedelta, daily_cap: int) -> None:
        self.buffer = buffer
        self.daily_cap = daily_cap
        self.busy: list[tuple[dt.datetime, dt.datetime]] = []
        self.per_day: dict[dt.date, int] = {}

    def free(self, start: dt.datetime, end: dt.datetime) -> bool:
        return all(
            not (start < other_end + self.buffer and other_start - self.buffer < end)
            for other_start, other_end in self.busy
        )

    def take(self, start: dt.datetime, end: dt.datetime, day: dt.date, *, counts: bool) -> None:
        self.busy.append((start, end))
        if counts:
            self.per_day[day] = self.per_day.get(day, 0) + 1

    def day_full(self, day: dt.date) -> bool:
        return self.per_day.get(day, 0) >= self.daily_cap


class _TherapistGenerator:
    def __init__(self, *, seed: int, therapist: TherapistProfile, now: dt.datetime) -> None:
        self.rng = random.Random(f"bookings:{seed}:{therapist.seed_key}")
        self.therapist = therapist
        self.zone = zoneinfo.ZoneInfo(therapist.time_zone)
        self.now = now
        self.today = now.astimezone(self.zone).date()
        self.client_number = 0

    # --- availability ---------------------------------------------------------------------

    def policy(self) -> BookingPolicy:
        rng = self.rng
        return BookingPolicy(
            therapist=self.therapist,
            buffer_minutes=rng.choice((0, 5, 10, 10, 15)),
            minimum_notice_hours=rng.choice((12, 24, 24, 48)),
            horizon_days=rng.choice((14, 21, 21, 28)),
            max_consultations_per_day=rng.choice((2, 3, 4, 4, 6)),
            requires_confirmation=rng.random() < 0.3,
            # How consultations happen, from the id rather than the random stream, so the rest of
            # the demo stays as it was: half by video (a made-up meeting address on a domain
            # reserved for examples), half by phone.
            **(
                {
                    "consultation_method": ConsultationMethod.VIDEO,
                    "meeting_link": f"https://meet.example.org/{self.therapist.public_id}",
                }
                if self.therapist.pk % 2 == 0
                else {"consultation_method": ConsultationMethod.PHONE}
            ),
        )

    def windows(self) -> list[WeeklyWindow]:
        rng = self.rng
        days = sorted(rng.sample(range(5), rng.randint(2, 4)))
        windows = []
        for day in days:
            blocks = [rng.choice(_DAY_BLOCKS[:3]), rng.choice(_DAY_BLOCKS[3:])]
            chosen = blocks if rng.random() < 0.45 else [rng.choice(blocks)]
            if rng.random() < 0.25:
                chosen.append(rng.choice(_EVENING_BLOCKS))
            windows += [
                WeeklyWindow(
                    therapist=self.therapist,
                    weekday=day,
                    starts_at=_time(start),
                    ends_at=_time(end),
                )
                for start, end in sorted(chosen)
            ]
        if rng.random() < 0.15:
            start, end = rng.choice(_SATURDAY_BLOCKS)
            windows.append(
                WeeklyWindow(
                    therapist=self.therapist, weekday=5, starts_at=_time(start), ends_at=_time(end)
                )
            )
        return windows

    def exceptions(self, windows: list[WeeklyWindow]) -> list[DateException]:
        """A day off on a working day within three weeks, and often some extra hours."""
        rng = self.rng
        working = {window.weekday for window in windows}
        exceptions = []
        candidates = [
            self.today + dt.timedelta(days=offset)
            for offset in range(3, 22)
            if (self.today + dt.timedelta(days=offset)).weekday() in working
        ]
        if candidates:
            exceptions.append(
                DateException(
                    therapist=self.therapist,
                    date=rng.choice(candidates),
                    kind=ExceptionKind.TIME_OFF,
                    note=rng.choice(("Conference", "Holiday", "Personal day", "")),
                )
            )
        if rng.random() < 0.6:
            off_days = [
                self.today + dt.timedelta(days=offset)
                for offset in range(2, 15)
                if (self.today + dt.timedelta(days=offset)).weekday() not in working
            ]
            if off_days:
                exceptions.append(
                    DateException(
                        therapist=self.therapist,
                        date=rng.choice(off_days),
                        kind=ExceptionKind.EXTRA_HOURS,
                        starts_at=dt.time(10, 0),
                        ends_at=dt.time(13, 0),
                        note="Extra consultation hours",
                    )
                )
        return exceptions

    # --- appointments ---------------------------------------------------------------------

    def _client(self) -> tuple[str, str]:
        self.client_number += 1
        first = self.rng.choice(_FIRST_NAMES)
        last = self.rng.choice(_LAST_NAMES)
        # The seed key makes the address unique to this demo therapist's made-up client.
        local = f"demo.{self.therapist.seed_key}.{self.client_number}".lower()
        return f"{first} {last}", f"{local}@{DEMO_EMAIL_DOMAIN}"

    def _opening(
        self,
        day: dt.date,
        windows_by_day: dict[int, list[tuple[dt.time, dt.time]]],
        length: dt.timedelta,
        calendar: _Calendar,
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """A random free start on the 15-minute grid of one of the day's windows."""
        blocks = windows_by_day.get(day.weekday(), [])
        if not blocks:
            return None
        block_start, block_end = self.rng.choice(blocks)
        first = dt.datetime.combine(day, block_start)
        last = dt.datetime.combine(day, block_end) - length
        if last < first:
            return None
        steps = int((last - first) / GRID)
        local_start = first + GRID * self.rng.randint(0, steps)
        start = _instant(day, local_start.time(), self.zone)
        if start is None:
            return None
        end = start + length
        if not calendar.free(start, end):
            return None
        return start, end

    def appointments(self, plan: _Plan) -> None:
        therapist = self.therapist
        rng = self.rng
        if therapist.consultation_minutes <= 0:
            return
        policy = plan.policy
        calendar = _Calendar(policy.buffer, policy.max_consultations_per_day)
        windows_by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for window in plan.windows:
            windows_by_day.setdefault(window.weekday, []).append((window.starts_at, window.ends_at))
        consultation = dt.timedelta(minutes=therapist.consultation_minutes)
        session = dt.timedelta(minutes=therapist.session_minutes)
        reply_hours = rng.choice(_REPLY_HOURS)

        # A few quiet therapists have little history; most have plenty of replies to measure.
        wanted = rng.randint(1, 4) if rng.random() < 0.1 else rng.randint(6, 14)
        past_days = [self.today - dt.timedelta(days=offset) for offset in range(1, HISTORY_DAYS)]
        attempts = 0
        while len(plan.consultations) < wanted and attempts < wanted * 8:
            attempts += 1
            day = rng.choice(past_days)
            if calendar.day_full(day):
                continue
            opening = self._opening(day, windows_by_day, consultation, calendar)
            if opening is None:
                continue
            start, end = opening
            appointment = self._past_consultation(start, end, policy, reply_hours)
            calendar.take(start, end, day, counts=True)
            plan.consultations.append(appointment)
            if appointment.status == AppointmentStatus.CONFIRMED and rng.random() < 0.45:
                self._first_session(plan, appointment, windows_by_day, session, calendar)

        earliest = self.now + dt.timedelta(hours=policy.minimum_notice_hours)
        time_off = {
            exception.date
            for exception in plan.exceptions
            if exception.kind == ExceptionKind.TIME_OFF
        }
        upcoming_days = [
            self.today + dt.timedelta(days=offset)
            for offset in range(1, policy.horizon_days)
            if self.today + dt.timedelta(days=offset) not in time_off
        ]
        wanted_upcoming = rng.randint(1, 3)
        booked = 0
        attempts = 0
        while booked < wanted_upcoming and attempts < 30 and upcoming_days:
            attempts += 1
            day = rng.choice(upcoming_days)
            if calendar.day_full(day):
                continue
            opening = self._opening(day, windows_by_day, consultation, calendar)
            if opening is None or opening[0] < earliest:
                continue
            start, end = opening
            calendar.take(start, end, day, counts=True)
            plan.consultations.append(self._upcoming_consultation(start, end, policy))
            booked += 1

    def _base(self, start: dt.datetime, end: dt.datetime, created: dt.datetime) -> Appointment:
        name, email = self._client()
        return Appointment(
            therapist=self.therapist,
            kind=AppointmentKind.CONSULTATION,
            starts_at=start,
            ends_at=end,
            client_name=name,
            client_email=email,
            client_time_zone=self.therapist.time_zone,
            share_fit_profile=self.rng.random() < 0.4,
            created_at=created,
            updated_at=created,
        )

    def _past_consultation(
        self, start: dt.datetime, end: dt.datetime, policy: BookingPolicy, reply_hours: float
    ) -> Appointment:
        rng = self.rng
        created = start - dt.timedelta(hours=rng.uniform(policy.minimum_notice_hours + 2, 240))
        appointment = self._base(start, end, created)
        # Replies vary around the therapist's habit; never after the consultation's start.
        delay = dt.timedelta(hours=reply_hours * rng.lognormvariate(0, 0.6))
        replied = min(created + delay, start - dt.timedelta(minutes=5))
        roll = rng.random()
        if policy.requires_confirmation and roll < 0.07:
            appointment.status = AppointmentStatus.EXPIRED
            appointment.ended_by = Party.SYSTEM
            appointment.ended_at = min(created + dt.timedelta(hours=48), start)
            appointment.end_reason = "Not answered in time."
        elif policy.requires_confirmation and roll < 0.15:
            appointment.status = AppointmentStatus.DECLINED
            appointment.therapist_responded_at = replied
            appointment.ended_by = Party.THERAPIST
            appointment.ended_at = replied
            appointment.end_reason = rng.choice(_DECLINE_REASONS)
        elif roll > 0.88:
            appointment.status = AppointmentStatus.CANCELLED
            appointment.ended_by = Party.CLIENT
            appointment.ended_at = created + (start - created) * rng.uniform(0.3, 0.95)
            appointment.end_reason = rng.choice(_CANCEL_REASONS)
            if replied < appointment.ended_at:
                appointment.therapist_responded_at = replied
        else:
            appointment.status = AppointmentStatus.CONFIRMED
            # Auto-confirmed bookings still get an acknowledgement from most therapists.
            if policy.requires_confirmation or rng.random() < 0.9:
                appointment.therapist_responded_at = replied
        appointment.updated_at = (
            appointment.ended_at or appointment.therapist_responded_at or created
        )
        return appointment

    def _first_session(
        self,
        plan: _Plan,
        consultation: Appointment,
        windows_by_day: dict[int, list[tuple[dt.time, dt.time]]],
        length: dt.timedelta,
        calendar: _Calendar,
    ) -> None:
        consultation_day = consultation.starts_at.astimezone(self.zone).date()
        for _ in range(6):
            day = consultation_day + dt.timedelta(days=self.rng.randint(3, 12))
            opening = self._opening(day, windows_by_day, length, calendar)
            if opening is None:
                continue
            start, end = opening
            if start < self.now + dt.timedelta(hours=2) and end > self.now:
                continue  # nothing is happening right now in the demo
            calendar.take(start, end, day, counts=False)
            booked_at = consultation.ends_at + dt.timedelta(minutes=self.rng.randint(5, 90))
            plan.sessions.append(
                (
                    consultation,
                    Appointment(
                        therapist=self.therapist,
                        kind=AppointmentKind.SESSION,
                        status=AppointmentStatus.CONFIRMED,
                        starts_at=start,
                        ends_at=end,
                        client_name=consultation.client_name,
                        client_email=consultation.client_email,
                        client_time_zone=consultation.client_time_zone,
                        created_at=booked_at,
                        updated_at=booked_at,
                    ),
                )
            )
            return

    def _upcoming_consultation(
        self, start: dt.datetime, end: dt.datetime, policy: BookingPolicy
    ) -> Appointment:
        rng = self.rng
        # Recent enough that a waiting request is not yet due to expire (48 hours).
        created = self.now - dt.timedelta(hours=rng.uniform(1, 36))
        appointment = self._base(start, end, created)
        if policy.requires_confirmation and rng.random() < 0.5:
            appointment.status = AppointmentStatus.REQUESTED
        else:
            appointment.status = AppointmentStatus.CONFIRMED
            if policy.requires_confirmation or rng.random() < 0.7:
                replied = created + (self.now - created) * rng.uniform(0.1, 0.9)
                appointment.therapist_responded_at = replied
                appointment.updated_at = replied
        return appointment

    def plan(self) -> _Plan:
        plan = _Plan(therapist=self.therapist, policy=self.policy())
        plan.windows = self.windows()
        plan.exceptions = self.exceptions(plan.windows)
        self.appointments(plan)
        return plan


def _untouched(therapists: Iterable[TherapistProfile]) -> list[TherapistProfile]:
    return [
        therapist
        for therapist in therapists
        if not therapist.has_windows  # type: ignore[attr-defined]
        and not therapist.has_exceptions  # type: ignore[attr-defined]
        and not therapist.has_appointments  # type: ignore[attr-defined]
    ]


def _write(plans: list[_Plan]) -> int:
    """One batch of therapists in one transaction: whole therapists or none."""
    with transaction.atomic():
        therapist_ids = [plan.therapist.pk for plan in plans]
        # A policy may exist already (created with defaults on a first visit): replace it.
        BookingPolicy.objects.filter(therapist_id__in=therapist_ids).delete()
        BookingPolicy.objects.bulk_create([plan.policy for plan in plans])
        WeeklyWindow.objects.bulk_create([row for plan in plans for row in plan.windows])
        DateException.objects.bulk_create([row for plan in plans for row in plan.exceptions])
        consultations = [row for plan in plans for row in plan.consultations]
        created_at = {id(row): (row.created_at, row.updated_at) for row in consultations}
        Appointment.objects.bulk_create(consultations)
        sessions = []
        for plan in plans:
            for consultation, session in plan.sessions:
                session.follows_id = consultation.pk
                sessions.append(session)
                created_at[id(session)] = (session.created_at, session.updated_at)
        Appointment.objects.bulk_create(sessions)
        # bulk_create stamps auto_now(_add) fields with the present, but the history needs its
        # own times (replies are measured from created_at). One parameterised UPDATE per row
        # through executemany is far cheaper than bulk_update's CASE over thousands of rows.
        written = consultations + sessions
        adapt = connection.ops.adapt_datetimefield_value
        table = connection.ops.quote_name(Appointment._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET created_at = %s, updated_at = %s WHERE id = %s",  # noqa: S608
                [
                    (adapt(created_at[id(row)][0]), adapt(created_at[id(row)][1]), row.pk)
                    for row in written
                ],
            )
    return len(written)


def _facts_refresh(therapists: list[TherapistProfile], now: dt.datetime) -> None:
    """Recompute the public booking facts ("usually replies within …"), when the module that
    keeps them is installed."""
    if importlib.util.find_spec("rapport.booking.facts") is None:
        return
    facts = importlib.import_module("rapport.booking.facts")
    refresh = getattr(facts, "therapist_booking_facts_refresh", None)
    if refresh is None:
        return
    # Whole rows: the refresh reads and writes more of the profile than seeding loaded.
    ids = [therapist.pk for therapist in therapists]
    # One transaction: on SQLite a commit per therapist would cost more than the refreshes.
    with transaction.atomic():
        for therapist in TherapistProfile.objects.filter(pk__in=ids).order_by("pk"):
            refresh(therapist=therapist, now=now)


def _seeded_therapists() -> Iterable[TherapistProfile]:
    return (
        TherapistProfile.objects.filter(seed_key__isnull=False)
        .annotate(
            has_windows=Exists(WeeklyWindow.objects.filter(therapist=OuterRef("pk"))),
            has_exceptions=Exists(DateException.objects.filter(therapist=OuterRef("pk"))),
            has_appointments=Exists(Appointment.objects.filter(therapist=OuterRef("pk"))),
        )
        .order_by("seed_key")
        .only("id", "seed_key", "time_zone", "consultation_minutes", "session_minutes")
    )


def demo_bookings_seed(
    *, seed: int, now: dt.datetime | None = None, refresh_facts: bool = True
) -> BookingSeedResult:
    """Give every generated therapist (``seed_key`` set) demo booking data, unless they have
    weekly hours, date exceptions or appointments already.

    Side effects: writes booking policies, weekly windows, date exceptions and appointments
    (consultations in the past and the next weeks, first sessions), in batches of whole
    therapists, each batch in its own transaction; then refreshes the booking facts of the
    therapists it seeded (unless ``refresh_facts`` is false: a benchmark that only needs the
    availability). Sends no e-mail and queues nothing.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    therapists = list(_seeded_therapists())
    todo = _untouched(therapists)
    appointments = 0
    for start in range(0, len(todo), BATCH_SIZE):
        batch = todo[start : start + BATCH_SIZE]
        plans = [
            _TherapistGenerator(seed=seed, therapist=therapist, now=now).plan()
            for therapist in batch
        ]
        appointments += _write(plans)
    if refresh_facts:
        _facts_refresh(todo, now)
    return BookingSeedResult(
        seeded=len(todo),
        already_present=len(therapists) - len(todo),
        appointments=appointments,
        seconds=time.perf_counter() - started,
    )


def demo_bookings_clear() -> int:
    """Delete all booking data of generated therapists (hand-made profiles are never touched);
    returns how many appointments were deleted. Their booking facts are refreshed."""
    generated = Q(therapist__seed_key__isnull=False)
    with transaction.atomic():
        _, by_model = Appointment.objects.filter(generated).delete()
        WeeklyWindow.objects.filter(generated).delete()
        DateException.objects.filter(generated).delete()
        BookingPolicy.objects.filter(generated).delete()
    _facts_refresh(list(TherapistProfile.objects.filter(seed_key__isnull=False)), timezone.now())
    return by_model.get(Appointment._meta.label, 0)
