"""Shared by the booking pages: how times are keyed in URLs, labelled and grouped by day in
the viewer's zone, and the week-at-a-time paging of free times.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from rapport.booking import selectors, services, slots
from rapport.booking.errors import (
    FreeTime,
    InvalidTransition,
    SlotTaken,
    SlotUnavailable,
)
from rapport.booking.forms import (
    RescheduleForm,
    time_zone_problem,
)
from rapport.booking.models import (
    Appointment,
    BookingPolicy,
    Party,
)
from rapport.core.timezones import (
    clock_label,
    day_label,
    moment_label,
    repeated_hour_words,
    time_zone_label,
)
from rapport.directory.models import TherapistProfile

DAYS_PER_PAGE = 7
SLOT_KEY_FORMAT = "%Y%m%dT%H%MZ"
# Years a slot key may name: showing a time near datetime's limits in another zone overflows,
# and nothing that far off is ever free.
SLOT_KEY_YEARS = range(1971, 9000)


# --- showing times -----------------------------------------------------------------------------


def slot_key(moment: dt.datetime) -> str:
    """A free time's start as it appears in URLs and forms: UTC, to the minute."""
    return moment.astimezone(dt.UTC).strftime(SLOT_KEY_FORMAT)


def slot_key_parse(raw: str) -> dt.datetime | None:
    """The instant a slot key names, or None for anything that is not one (including years
    outside SLOT_KEY_YEARS)."""
    try:
        moment = dt.datetime.strptime(raw, SLOT_KEY_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return moment if moment.year in SLOT_KEY_YEARS else None


@dataclass(frozen=True)
class TimeChoice:
    starts_at: dt.datetime
    key: str
    label: str  # in the viewer's zone
    other_label: str  # in the therapist's zone, when it differs


@dataclass
class DayGroup:
    day: dt.date
    heading: str
    times: list[TimeChoice] = field(default_factory=list)


def group_by_day(
    free_times: list[FreeTime], *, zone: zoneinfo.ZoneInfo, other_zone: zoneinfo.ZoneInfo
) -> list[DayGroup]:
    """Free times under the viewer's local dates, earliest first.

    On the night clocks move back one wall time shows twice; those times then say which
    (1:30 a.m., before the clocks go back; 1:30 a.m., after the clocks go back), as
    ``moment_label`` does. A time that reads differently in ``other_zone`` carries that
    reading in words (12:30 p.m. Eastern Time (Toronto)), with its day when that differs.
    """
    groups: list[DayGroup] = []
    other_words = time_zone_label(other_zone.key)
    for day, times in slots.free_times_by_local_date(free_times, zone):
        group = DayGroup(day=day, heading=day_label(day))
        for free, local in times:
            label = f"{clock_label(local)}{repeated_hour_words(local)}"
            other = free.starts_at.astimezone(other_zone)
            other_label = ""
            if other.utcoffset() != local.utcoffset():
                other_label = f"{clock_label(other)} {other_words}"
                if other.date() != local.date():
                    other_label = moment_label(free.starts_at, other_zone)
            group.times.append(
                TimeChoice(
                    starts_at=free.starts_at,
                    key=slot_key(free.starts_at),
                    label=label,
                    other_label=other_label,
                )
            )
        groups.append(group)
    return groups


def zone_from_query(request: HttpRequest, fallback: str) -> tuple[str, str | None, bool]:
    """The zone to show times in: (name, problem with the asked one, whether one was asked)."""
    raw = request.GET.get("tz", "").strip()
    if not raw:
        return fallback, None, False
    problem = time_zone_problem(raw)
    if problem:
        return fallback, f"{problem} Times are shown in {time_zone_label(fallback)} instead.", True
    return raw, None, True


def _week_param(request: HttpRequest, weeks: int) -> int:
    try:
        week = int(request.GET.get("week", "0"))
    except ValueError:
        return 0
    return min(max(week, 0), max(weeks - 1, 0))


@dataclass
class WeekPage:
    """One week of free times in the viewer's zone, within the therapist's horizon."""

    days: list[DayGroup]
    week: int
    weeks: int
    first_day: dt.date
    last_day: dt.date
    horizon_days: int
    next_free: FreeTime | None  # when this week is empty: the earliest free time at all
    next_free_week: int | None


def week_page(
    *,
    therapist: TherapistProfile,
    policy: BookingPolicy,
    zone: zoneinfo.ZoneInfo,
    week: int | None,
    request: HttpRequest | None = None,
    now: dt.datetime,
    ignoring: Appointment | None = None,
) -> WeekPage:
    horizon_end = now + dt.timedelta(days=policy.horizon_days)
    today = now.astimezone(zone).date()
    weeks = (horizon_end.astimezone(zone).date() - today).days // DAYS_PER_PAGE + 1
    if week is None:
        week = _week_param(request, weeks) if request is not None else 0
    first_day = today + dt.timedelta(days=week * DAYS_PER_PAGE)
    last_day = first_day + dt.timedelta(days=DAYS_PER_PAGE - 1)
    start = max(now, dt.datetime.combine(first_day, dt.time(0), tzinfo=zone))
    end = min(
        horizon_end, dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    )
    free_times = (
        slots.therapist_free_times(
            therapist=therapist, start=start, end=end, now=now, ignoring=ignoring
        )
        if end > start
        else []
    )
    next_free: FreeTime | None = None
    next_free_week: int | None = None
    if not free_times:
        later = slots.therapist_free_times(
            therapist=therapist, start=now, end=horizon_end, now=now, ignoring=ignoring
        )
        next_free = later[0] if later else None
        if next_free is not None:
            next_free_week = (next_free.starts_at.astimezone(zone).date() - today).days // 7
    return WeekPage(
        days=group_by_day(free_times, zone=zone, other_zone=zoneinfo.ZoneInfo(therapist.time_zone)),
        week=week,
        weeks=weeks,
        first_day=first_day,
        last_day=min(last_day, horizon_end.astimezone(zone).date()),
        horizon_days=policy.horizon_days,
        next_free=next_free,
        next_free_week=next_free_week,
    )


def is_partial(request: HttpRequest) -> bool:
    """A htmx swap of one region (not a boosted whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


# --- shared by the client's and the therapist's pages ----------------------------------------


def add_service_errors(form: Form, error: ValidationError, *, renames: dict[str, str]) -> None:
    """Put a service's ValidationError beside the fields it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            target = renames.get(name, name)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
    if hasattr(form, "describe_fields"):
        form.describe_fields()


def render_reschedule(
    request: HttpRequest,
    *,
    appointment: Appointment,
    zone_name: str,
    form: RescheduleForm,
    action_url: str,
    back_url: str,
    template: str,
    extra: dict[str, Any],
    problem: str | None = None,
    next_free: list[FreeTime] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    therapist = appointment.therapist
    policy = selectors.booking_policy_of(therapist=therapist)
    zone = zoneinfo.ZoneInfo(zone_name)
    page = week_page(
        therapist=therapist,
        policy=policy,
        zone=zone,
        week=None,
        request=request,
        now=now,
        ignoring=appointment,
    )
    # The current time is still "free" for itself; offering it as a new time would be a no-op.
    for day in page.days:
        day.times = [time for time in day.times if time.starts_at != appointment.starts_at]
    page.days = [day for day in page.days if day.times]
    therapist_zone = zoneinfo.ZoneInfo(therapist.time_zone)

    def week_url(week: int) -> str:
        return f"{action_url}?{urlencode({'week': week})}"

    context = {
        "appointment": appointment,
        "therapist": therapist,
        "form": form,
        "page": page,
        "zone_label": time_zone_label(zone_name),
        "same_zone": zone_name == therapist.time_zone,
        "therapist_zone_label": time_zone_label(therapist.time_zone),
        "current_label": moment_label(appointment.starts_at, zone),
        "selected": form["starts_at"].value() or "",
        "problem": problem,
        "suggestions": group_by_day(
            [free for free in next_free or [] if free.starts_at != appointment.starts_at],
            zone=zone,
            other_zone=therapist_zone,
        ),
        "action_url": action_url,
        "back_url": back_url,
        "previous_url": week_url(page.week - 1) if page.week else "",
        "next_url": week_url(page.week + 1) if page.week + 1 < page.weeks else "",
        "next_free_url": week_url(page.next_free_week) if page.next_free_week is not None else "",
        **extra,
    }
    return render(request, template, context, status=status)


def reschedule_flow(
    request: HttpRequest,
    *,
    appointment: Appointment,
    by: Party,
    zone_name: str,
    action_url: str,
    back_url: str,
    template: str,
    extra: dict[str, Any],
) -> HttpResponse | Appointment:
    """The shared reschedule flow: the page, or the moved appointment after a good POST."""
    render_args: dict[str, Any] = {
        "appointment": appointment,
        "zone_name": zone_name,
        "action_url": action_url,
        "back_url": back_url,
        "template": template,
        "extra": extra,
    }
    if request.method != "POST":
        return render_reschedule(request, form=RescheduleForm(), **render_args)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return render_reschedule(request, form=form, status=400, **render_args)
    moment = slot_key_parse(form.cleaned_data["starts_at"])
    if moment is None:
        form.add_error("starts_at", "Choose one of the free times.")
        form.describe_fields()
        return render_reschedule(request, form=form, status=400, **render_args)
    try:
        return services.appointment_reschedule(
            appointment=appointment,
            starts_at=moment,
            by=by,
            reason=form.cleaned_data["reason"],
        )
    except SlotTaken as error:
        return render_reschedule(
            request,
            form=RescheduleForm(),
            problem="That time was just taken by someone else. Please choose another.",
            next_free=error.next_free,
            status=409,
            **render_args,
        )
    except (SlotUnavailable, InvalidTransition) as error:
        form.add_error("starts_at", error.message)
    except ValidationError as error:
        add_service_errors(form, error, renames={})
    form.describe_fields()
    return render_reschedule(request, form=form, status=400, **render_args)
