"""Booking pages: the client's picker, booking form and e-mailed links, and the therapist's
practice pages (requests, availability, calendar feed, listing).

Views parse input, fetch through ``access``, call a service or ``slots``, and render. Times are
stored in UTC and shown in the viewer's zone: the client's (``?tz=``, else the one they booked
in) on client pages, the therapist's own on practice pages.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts.models import User
from rapport.booking import access, selectors, services, slots, tokens
from rapport.booking.calendar import appointment_calendar
from rapport.booking.errors import (
    BadToken,
    BookingError,
    FreeTime,
    InvalidTransition,
    SlotTaken,
    SlotUnavailable,
)
from rapport.booking.forms import (
    AcceptingForm,
    BaseWeeklyWindowFormSet,
    BookingPolicyForm,
    ConsultationBookForm,
    DateExceptionForm,
    FirstSessionForm,
    ReasonForm,
    RescheduleForm,
    WeeklyWindowFormSet,
    time_zone_choices,
    time_zone_label,
    time_zone_problem,
)
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    Party,
)
from rapport.core.middleware import health_data
from rapport.directory.models import TherapistProfile
from rapport.directory.services import therapist_accepting_confirm

DAYS_PER_PAGE = 7
# Held consultations stay on the practice page this long for "book the first session".
FIRST_SESSION_WINDOW = dt.timedelta(days=30)
# Clients' cancellations stay on the practice page this long, with their reason.
CLIENT_CANCELLED_WINDOW = dt.timedelta(days=14)
CLIENT_CANCELLED_LIMIT = 20
PREVIEW_DAYS = 14
PREVIEW_LIMIT = 12
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


def clock_label(moment: dt.datetime) -> str:
    """``9:00 a.m.``: Canadian English, with the period written out."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'a.m.' if moment.hour < 12 else 'p.m.'}"


def day_label(day: dt.date) -> str:
    return f"{day:%A}, {day:%B} {day.day}"


def moment_label(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``Monday, November 30, 2026 at 9:00 a.m. EST``."""
    local = moment.astimezone(zone)
    return f"{day_label(local.date())}, {local.year} at {clock_label(local)} {local.tzname()}"


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

    On the night clocks move back one wall time shows twice; that day's times then carry
    their zone abbreviation (1:30 a.m. EDT, 1:30 a.m. EST) so the two can be told apart.
    """
    groups: list[DayGroup] = []
    for day, times in slots.free_times_by_local_date(free_times, zone):
        offsets = {local.utcoffset() for _free, local in times}
        group = DayGroup(day=day, heading=day_label(day))
        for free, local in times:
            label = clock_label(local)
            if len(offsets) > 1:
                label = f"{label} {local.tzname()}"
            other = free.starts_at.astimezone(other_zone)
            other_label = ""
            if other.utcoffset() != local.utcoffset():
                other_label = f"{clock_label(other)} {other.tzname()}"
                if other.date() != local.date():
                    other_label = f"{other:%a} {other_label}"
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


def _policy_of(therapist: TherapistProfile) -> BookingPolicy:
    """The therapist's policy for reading; the model's defaults when they never saved one
    (as slots.py reads it), so showing a page writes nothing."""
    return BookingPolicy.objects.filter(therapist=therapist).first() or BookingPolicy(
        therapist=therapist
    )


def _zone_from_query(request: HttpRequest, fallback: str) -> tuple[str, str | None, bool]:
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


def _is_partial(request: HttpRequest) -> bool:
    """A htmx swap of one region (not a boosted whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


# --- the client's picker and booking form ----------------------------------------------------


def _picker_url(therapist: TherapistProfile, zone: str, week: int = 0) -> str:
    query: dict[str, str | int] = {"tz": zone}
    if week:
        query["week"] = week
    return f"{reverse('booking:consultation_book', args=[therapist.public_id])}?{urlencode(query)}"


def _render_picker(
    request: HttpRequest,
    *,
    therapist: TherapistProfile,
    zone_name: str,
    zone_problem: str | None = None,
    zone_given: bool = True,
    problem: str | None = None,
    next_free: list[FreeTime] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    policy = _policy_of(therapist)
    zone = zoneinfo.ZoneInfo(zone_name)
    therapist_zone = zoneinfo.ZoneInfo(therapist.time_zone)
    page = week_page(
        therapist=therapist, policy=policy, zone=zone, week=None, request=request, now=now
    )
    suggestions = group_by_day(next_free or [], zone=zone, other_zone=therapist_zone)
    context: dict[str, Any] = {
        "therapist": therapist,
        "page": page,
        "zone_name": zone_name,
        "zone_label": time_zone_label(zone_name),
        "zone_abbreviation": now.astimezone(zone).tzname(),
        "therapist_zone_label": time_zone_label(therapist.time_zone),
        "same_zone": zone_name == therapist.time_zone,
        "zone_choices": time_zone_choices(zone_name),
        "zone_problem": zone_problem,
        # The script sets the browser's zone only when the person has not chosen one.
        "detect_zone": not zone_given,
        "problem": problem,
        "suggestions": suggestions,
        "previous_url": _picker_url(therapist, zone_name, page.week - 1) if page.week else "",
        "next_url": _picker_url(therapist, zone_name, page.week + 1)
        if page.week + 1 < page.weeks
        else "",
        "next_free_url": _picker_url(therapist, zone_name, page.next_free_week)
        if page.next_free_week is not None
        else "",
        "next_free_label": moment_label(page.next_free.starts_at, zone)
        if page.next_free is not None
        else "",
        "book_url_base": reverse("booking:consultation_book", args=[therapist.public_id]),
        "partial": _is_partial(request),
    }
    template = "booking/_picker_times.html" if context["partial"] else "booking/picker.html"
    # htmx leaves 4xx answers out of the page; the fragment says itself what went wrong.
    response = render(request, template, context, status=200 if context["partial"] else status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_safe
def consultation_book(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    therapist = access.get_bookable_therapist(public_id)
    zone_name, zone_problem, zone_given = _zone_from_query(request, therapist.time_zone)
    return _render_picker(
        request,
        therapist=therapist,
        zone_name=zone_name,
        zone_problem=zone_problem,
        zone_given=zone_given,
        status=400 if zone_problem else 200,
    )


def _add_service_errors(form: Form, error: ValidationError, *, renames: dict[str, str]) -> None:
    """Put a service's ValidationError beside the fields it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            target = renames.get(name, name)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
    if hasattr(form, "describe_fields"):
        form.describe_fields()


def _account_owning(request: HttpRequest, address: str) -> User | None:
    """The signed-in person, when the address they booked with is their own verified primary
    one; otherwise nobody (typing someone else's address must not link their booking, and
    later the confirm-address page, to this account)."""
    user = request.user
    if not isinstance(user, User):
        return None
    owns = EmailAddress.objects.filter(
        user=user, primary=True, verified=True, email__iexact=address.strip()
    ).exists()
    return user if owns else None


@health_data
@require_http_methods(["GET", "POST"])
def consultation_book_time(
    request: HttpRequest, public_id: uuid.UUID, starts_at: str
) -> HttpResponse:
    therapist = access.get_bookable_therapist(public_id)
    moment = slot_key_parse(starts_at)
    if moment is None:
        raise Http404("That is not a time.")
    source = request.POST if request.method == "POST" else request.GET
    zone_name = source.get("time_zone") or source.get("tz") or therapist.time_zone
    if time_zone_problem(zone_name):
        zone_name = therapist.time_zone
    now = timezone.now()

    def picker_for(error: BookingError) -> HttpResponse:
        if isinstance(error, SlotTaken):
            return _render_picker(
                request,
                therapist=therapist,
                zone_name=zone_name,
                problem="That time was just taken by someone else. Please choose another.",
                next_free=error.next_free,
                status=409,
            )
        return _render_picker(
            request, therapist=therapist, zone_name=zone_name, problem=error.message, status=400
        )

    if request.method == "POST":
        form = ConsultationBookForm(request.POST)
        if form.is_valid():
            user = _account_owning(request, form.cleaned_data["client_email"])
            try:
                appointment = services.consultation_book(
                    therapist=therapist,
                    starts_at=moment,
                    client_name=form.cleaned_data["client_name"],
                    client_email=form.cleaned_data["client_email"],
                    client_time_zone=form.cleaned_data["time_zone"],
                    client=user,
                    now=now,
                )
            except (SlotTaken, SlotUnavailable) as error:
                return picker_for(error)
            except ValidationError as error:
                _add_service_errors(form, error, renames={"client_time_zone": "time_zone"})
            else:
                if appointment.status == AppointmentStatus.REQUESTED:
                    messages.success(
                        request,
                        f"Your request is sent. {therapist.display_name} will confirm or "
                        "decline it; we will e-mail you either way.",
                    )
                else:
                    messages.success(
                        request,
                        "Your consultation is booked. A confirmation with a calendar "
                        "invitation is on its way to your e-mail.",
                    )
                token = tokens.appointment_token_make(
                    appointment=appointment, purpose=tokens.PURPOSE_MANAGE
                )
                return redirect("booking:consultation_manage", token=token)
    else:
        try:
            slots.free_time_check(therapist=therapist, starts_at=moment, now=now)
        except (SlotTaken, SlotUnavailable) as error:
            return picker_for(error)
        form = ConsultationBookForm(initial={"time_zone": zone_name})

    zone = zoneinfo.ZoneInfo(zone_name)
    return render(
        request,
        "booking/book_form.html",
        {
            "therapist": therapist,
            "form": form,
            "starts_at_label": moment_label(moment, zone),
            "therapist_starts_at_label": moment_label(
                moment, zoneinfo.ZoneInfo(therapist.time_zone)
            ),
            "same_zone": zone_name == therapist.time_zone,
            "zone_label": time_zone_label(zone_name),
            "picker_url": _picker_url(therapist, zone_name),
            "requires_confirmation": _policy_of(therapist).requires_confirmation,
        },
        status=400 if form.errors else 200,
    )


# --- the client's e-mailed links -------------------------------------------------------------


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/link_invalid.html", status=404)


def _appointment_for(token: str, purpose: str) -> Appointment | None:
    try:
        return access.get_appointment_for_token(token=token, purpose=purpose)
    except (BadToken, Http404):
        return None


def _status_sentence(appointment: Appointment) -> str:
    name = appointment.therapist.display_name
    if appointment.status == AppointmentStatus.REQUESTED:
        return f"Waiting for {name} to confirm. We will e-mail you when they answer."
    if appointment.status == AppointmentStatus.CONFIRMED:
        if appointment.ends_at <= timezone.now():
            return "This consultation has taken place."
        return f"{name} expects you at this time."
    if appointment.status == AppointmentStatus.DECLINED:
        return f"{name} declined this request."
    if appointment.status == AppointmentStatus.EXPIRED:
        return f"{name} did not answer in time, so this request was closed."
    if appointment.ended_by == Party.CLIENT:
        return "You cancelled it."
    if appointment.ended_by == Party.THERAPIST:
        return f"{name} cancelled it."
    return "It was cancelled."


def _manage_context(appointment: Appointment, token: str) -> dict[str, Any]:
    zone = zoneinfo.ZoneInfo(appointment.client_time_zone)
    therapist_zone = zoneinfo.ZoneInfo(appointment.therapist.time_zone)
    changeable = appointment.is_active and appointment.starts_at > timezone.now()
    return {
        "appointment": appointment,
        "token": token,
        "therapist": appointment.therapist,
        "status_sentence": _status_sentence(appointment),
        "starts_at_label": moment_label(appointment.starts_at, zone),
        "therapist_starts_at_label": moment_label(appointment.starts_at, therapist_zone),
        "same_zone": appointment.client_time_zone == appointment.therapist.time_zone,
        "minutes": int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
        "changeable": changeable,
        "movable": changeable and appointment.kind == AppointmentKind.CONSULTATION,
        "cancel_form": ReasonForm(label="Why are you cancelling?"),
        # The therapist's reason for declining or cancelling, which the client should read.
        "therapist_reason": appointment.end_reason
        if appointment.ended_by == Party.THERAPIST and not appointment.is_active
        else "",
    }


@health_data
@require_safe
def consultation_manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment_for(token, tokens.PURPOSE_MANAGE)
    if appointment is None:
        return _invalid_link(request)
    return render(request, "booking/manage.html", _manage_context(appointment, token))


@health_data
@require_POST
def consultation_cancel(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment_for(token, tokens.PURPOSE_MANAGE)
    if appointment is None:
        return _invalid_link(request)
    form = ReasonForm(request.POST, label="Why are you cancelling?")
    if form.is_valid():
        try:
            services.appointment_cancel(
                appointment=appointment, by=Party.CLIENT, reason=form.cleaned_data["reason"]
            )
        except InvalidTransition as error:
            messages.error(request, error.message)
        except ValidationError as error:
            _add_service_errors(form, error, renames={})
        else:
            messages.success(
                request,
                f"Your consultation is cancelled. {appointment.therapist.display_name} has "
                "been told.",
            )
        if not form.errors:
            return redirect("booking:consultation_manage", token=token)
    context = _manage_context(appointment, token)
    context["cancel_form"] = form
    return render(request, "booking/manage.html", context, status=400)


@health_data
@require_safe
def consultation_calendar(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment_for(token, tokens.PURPOSE_MANAGE)
    if appointment is None:
        return _invalid_link(request)
    method = "REQUEST" if appointment.is_active else "CANCEL"
    body = appointment_calendar(
        appointment=appointment, method=method, zone=appointment.client_time_zone
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rapport-consultation.ics"'
    return response


def _render_reschedule(
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
    policy = _policy_of(therapist)
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


def _reschedule(
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
        return _render_reschedule(request, form=RescheduleForm(), **render_args)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _render_reschedule(request, form=form, status=400, **render_args)
    moment = slot_key_parse(form.cleaned_data["starts_at"])
    if moment is None:
        form.add_error("starts_at", "Choose one of the free times.")
        form.describe_fields()
        return _render_reschedule(request, form=form, status=400, **render_args)
    try:
        return services.appointment_reschedule(appointment=appointment, starts_at=moment, by=by)
    except SlotTaken as error:
        return _render_reschedule(
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
        _add_service_errors(form, error, renames={})
    form.describe_fields()
    return _render_reschedule(request, form=form, status=400, **render_args)


@health_data
@require_http_methods(["GET", "POST"])
def consultation_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment_for(token, tokens.PURPOSE_MANAGE)
    if appointment is None:
        return _invalid_link(request)
    manage_url = reverse("booking:consultation_manage", args=[token])
    if not appointment.is_active or appointment.starts_at <= timezone.now():
        messages.error(request, "This consultation can no longer be moved.")
        return redirect(manage_url)
    if appointment.kind != AppointmentKind.CONSULTATION:
        # Sessions are arranged with the therapist, who moves them from their practice page.
        messages.error(request, "To move a session, ask your therapist; you can cancel it here.")
        return redirect(manage_url)
    outcome = _reschedule(
        request,
        appointment=appointment,
        by=Party.CLIENT,
        zone_name=appointment.client_time_zone,
        action_url=reverse("booking:consultation_reschedule", args=[token]),
        back_url=manage_url,
        template="booking/reschedule.html",
        extra={"for_therapist": False},
    )
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(
        request,
        f"Your consultation is moved. {appointment.therapist.display_name} has been told, and "
        "an updated calendar invitation is on its way.",
    )
    return redirect(manage_url)


@health_data
@require_http_methods(["GET", "POST"])
def client_email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment_for(token, tokens.PURPOSE_CONFIRM_EMAIL)
    if appointment is None:
        return _invalid_link(request)
    if request.method == "GET":
        return render(
            request, "booking/confirm_email.html", {"appointment": appointment, "done": False}
        )
    try:
        user = services.client_email_confirm(appointment=appointment)
    except InvalidTransition as error:
        return render(
            request,
            "booking/confirm_email.html",
            {"appointment": appointment, "done": False, "problem": error.message},
            status=409,
        )
    return render(
        request,
        "booking/confirm_email.html",
        {
            "appointment": appointment,
            "done": True,
            "email": user.email,
            "has_password": user.has_usable_password(),
        },
    )


# --- the therapist's practice ----------------------------------------------------------------


@dataclass
class AppointmentRow:
    appointment: Appointment
    starts_at_label: str
    client_starts_at_label: str
    minutes: int
    decline_form: ReasonForm | None = None
    cancel_form: ReasonForm | None = None
    needs_acknowledging: bool = False


def _row(
    appointment: Appointment, zone: zoneinfo.ZoneInfo, failed: tuple[str, ReasonForm] | None
) -> AppointmentRow:
    """One appointment as the practice page shows it, with its forms (bound when they failed)."""
    prefix = appointment.public_id.hex
    client_zone = zoneinfo.ZoneInfo(appointment.client_time_zone)
    forms = {
        "decline": ReasonForm(prefix=f"decline-{prefix}", label="Reason for declining"),
        "cancel": ReasonForm(prefix=f"cancel-{prefix}", label="Reason for cancelling"),
    }
    if failed is not None:
        forms[failed[0]] = failed[1]
    return AppointmentRow(
        appointment=appointment,
        starts_at_label=moment_label(appointment.starts_at, zone),
        client_starts_at_label=moment_label(appointment.starts_at, client_zone)
        if client_zone.key != zone.key
        else "",
        minutes=int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
        decline_form=forms["decline"],
        cancel_form=forms["cancel"],
        needs_acknowledging=appointment.status == AppointmentStatus.CONFIRMED
        and appointment.kind == AppointmentKind.CONSULTATION
        and appointment.therapist_responded_at is None,
    )


def _practice_home_context(
    therapist: TherapistProfile,
    *,
    failed: tuple[uuid.UUID, str, ReasonForm] | None = None,
) -> dict[str, Any]:
    now = timezone.now()
    zone = zoneinfo.ZoneInfo(therapist.time_zone)

    def rows(queryset: Any) -> list[AppointmentRow]:
        return [
            _row(
                appointment,
                zone,
                (failed[1], failed[2])
                if failed is not None and failed[0] == appointment.public_id
                else None,
            )
            for appointment in queryset
        ]

    active_sessions = Q(follow_ups__kind=AppointmentKind.SESSION) & Q(
        follow_ups__status__in=ACTIVE_STATUSES
    )
    return {
        "therapist": therapist,
        "zone_label": time_zone_label(therapist.time_zone),
        "pending": rows(selectors.therapist_pending_requests(therapist=therapist)),
        "upcoming": rows(
            selectors.therapist_upcoming_appointments(therapist=therapist, now=now).filter(
                status=AppointmentStatus.CONFIRMED
            )
        ),
        # Held consultations with no session booked after them yet.
        "held": rows(
            selectors.therapist_past_appointments(
                therapist=therapist, now=now, days=FIRST_SESSION_WINDOW.days
            )
            .filter(
                kind=AppointmentKind.CONSULTATION,
                status=AppointmentStatus.CONFIRMED,
                ends_at__lte=now,
            )
            .exclude(pk__in=Appointment.objects.filter(active_sessions).values("pk"))
        ),
        "first_session_days": FIRST_SESSION_WINDOW.days,
        # Clients' cancellations of the last days, with the reason they gave.
        "client_cancelled": [
            (appointment, moment_label(appointment.starts_at, zone))
            for appointment in Appointment.objects.filter(
                therapist=therapist,
                status=AppointmentStatus.CANCELLED,
                ended_by=Party.CLIENT,
                ended_at__gte=now - CLIENT_CANCELLED_WINDOW,
            ).order_by("-ended_at")[:CLIENT_CANCELLED_LIMIT]
        ],
        "client_cancelled_days": CLIENT_CANCELLED_WINDOW.days,
    }


def _practice_therapist(request: HttpRequest) -> TherapistProfile:
    return access.get_practice_therapist(request.user)


@login_required
@require_safe
def practice_home(request: HttpRequest) -> HttpResponse:
    therapist = _practice_therapist(request)
    return render(request, "booking/practice_home.html", _practice_home_context(therapist))


@require_POST
def practice_confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Accept a request, or acknowledge a booking that needed no confirmation."""
    appointment = access.get_appointment_for_therapist(request.user, public_id)
    was_requested = appointment.status == AppointmentStatus.REQUESTED
    try:
        services.consultation_confirm(appointment=appointment)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Confirmed: {appointment.client_name} has been told."
            if was_requested
            else f"Noted: you have seen {appointment.client_name}'s booking.",
        )
    return redirect("booking:practice_home")


def _practice_reason_action(
    request: HttpRequest, public_id: uuid.UUID, *, action: str
) -> HttpResponse:
    appointment = access.get_appointment_for_therapist(request.user, public_id)
    label = "Reason for declining" if action == "decline" else "Reason for cancelling"
    form = ReasonForm(request.POST, prefix=f"{action}-{public_id.hex}", label=label)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if action == "decline":
                services.consultation_decline(appointment=appointment, reason=reason)
            else:
                services.appointment_cancel(
                    appointment=appointment, by=Party.THERAPIST, reason=reason
                )
        except BookingError as error:
            messages.error(request, error.message)
            return redirect("booking:practice_home")
        except ValidationError as error:
            _add_service_errors(form, error, renames={})
        else:
            done = "declined" if action == "decline" else "cancelled"
            messages.success(
                request,
                f"{appointment.client_name}'s {appointment.get_kind_display().lower()} "
                f"is {done}, and they have been told.",
            )
            return redirect("booking:practice_home")
    therapist = appointment.therapist
    return render(
        request,
        "booking/practice_home.html",
        _practice_home_context(therapist, failed=(public_id, action, form)),
        status=400,
    )


@require_POST
def practice_decline(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _practice_reason_action(request, public_id, action="decline")


@require_POST
def practice_cancel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _practice_reason_action(request, public_id, action="cancel")


def _session_time_page(
    request: HttpRequest,
    *,
    appointment: Appointment,
    book: Any,
    heading: str,
    intro: str,
    submit_label: str,
    done: str,
) -> HttpResponse:
    """A date and time the therapist types, in their own zone, for a session (sessions are not
    bound to consultation slots); ``book(moment)`` calls the service."""
    therapist = appointment.therapist
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    form = FirstSessionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            # A wall time the clocks skip is refused with the reason, never guessed.
            moment = slots.instant_of_wall_time(
                day=form.cleaned_data["date"], time=form.cleaned_data["time"], zone=zone
            )
        except SlotUnavailable as error:
            form.add_error("time", error.message)
        except (ValueError, OverflowError):
            # 0001-01-01 or 9999-12-31: the instant is outside what can be represented.
            form.add_error("date", "Choose a date within the next year.")
        else:
            try:
                session = book(moment)
            except BookingError as error:
                form.add_error("time", error.message)
            except ValidationError as error:
                _add_service_errors(form, error, renames={"starts_at": "time"})
            else:
                messages.success(request, f"{done} {moment_label(session.starts_at, zone)}.")
                return redirect("booking:practice_home")
        form.describe_fields()
    minutes = (
        therapist.session_minutes
        if appointment.kind == AppointmentKind.CONSULTATION
        else int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    )
    return render(
        request,
        "booking/practice_pick_time.html",
        {
            "appointment": appointment,
            "therapist": therapist,
            "form": form,
            "zone_label": time_zone_label(therapist.time_zone),
            "heading": heading,
            "intro": intro,
            "submit_label": submit_label,
            "minutes": minutes,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def practice_reschedule(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    appointment = access.get_appointment_for_therapist(request.user, public_id)
    if not appointment.is_active or appointment.starts_at <= timezone.now():
        messages.error(request, "This appointment can no longer be moved.")
        return redirect("booking:practice_home")
    zone = zoneinfo.ZoneInfo(appointment.therapist.time_zone)
    if appointment.kind == AppointmentKind.SESSION:
        return _session_time_page(
            request,
            appointment=appointment,
            book=lambda moment: services.appointment_reschedule(
                appointment=appointment, starts_at=moment, by=Party.THERAPIST
            ),
            heading=f"Move the session with {appointment.client_name}",
            intro=f"Now: {moment_label(appointment.starts_at, zone)}.",
            submit_label="Move the session",
            done=f"Moved. {appointment.client_name} has been told; the session is now",
        )
    outcome = _reschedule(
        request,
        appointment=appointment,
        by=Party.THERAPIST,
        zone_name=appointment.therapist.time_zone,
        action_url=reverse("booking:practice_reschedule", args=[public_id]),
        back_url=reverse("booking:practice_home"),
        template="booking/reschedule.html",
        extra={"for_therapist": True},
    )
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(
        request, f"Moved. {appointment.client_name} has been told and sent an updated invitation."
    )
    return redirect("booking:practice_home")


@require_http_methods(["GET", "POST"])
def practice_first_session(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    consultation = access.get_appointment_for_therapist(request.user, public_id)
    zone = zoneinfo.ZoneInfo(consultation.therapist.time_zone)
    return _session_time_page(
        request,
        appointment=consultation,
        book=lambda moment: services.first_session_book(
            consultation=consultation, starts_at=moment
        ),
        heading=f"Book the first session with {consultation.client_name}",
        intro=f"After your consultation on {moment_label(consultation.starts_at, zone)}.",
        submit_label="Book the session",
        done=f"First session booked with {consultation.client_name} for",
    )


# --- availability ------------------------------------------------------------------------------


def _policy_initial(policy: BookingPolicy) -> dict[str, Any]:
    return {
        "buffer_minutes": policy.buffer_minutes,
        "minimum_notice_hours": policy.minimum_notice_hours,
        "horizon_days": policy.horizon_days,
        "max_consultations_per_day": policy.max_consultations_per_day,
        "requires_confirmation": policy.requires_confirmation,
    }


def _windows_initial(therapist: TherapistProfile) -> list[dict[str, Any]]:
    return [
        {"weekday": window.weekday, "starts_at": window.starts_at, "ends_at": window.ends_at}
        for window in selectors.therapist_weekly_windows(therapist=therapist)
    ]


def _render_availability(
    request: HttpRequest,
    therapist: TherapistProfile,
    *,
    policy_form: BookingPolicyForm | None = None,
    windows_formset: Any = None,
    exception_form: DateExceptionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    policy = _policy_of(therapist)
    today = now.astimezone(zone).date()
    preview = slots.therapist_free_times(
        therapist=therapist,
        start=now,
        end=now + dt.timedelta(days=min(PREVIEW_DAYS, policy.horizon_days)),
        now=now,
    )[:PREVIEW_LIMIT]
    return render(
        request,
        "booking/practice_availability.html",
        {
            "therapist": therapist,
            "zone_label": time_zone_label(therapist.time_zone),
            "policy_form": policy_form or BookingPolicyForm(initial=_policy_initial(policy)),
            "windows_formset": windows_formset
            or WeeklyWindowFormSet(initial=_windows_initial(therapist), prefix="windows"),
            "exception_form": exception_form or DateExceptionForm(prefix="exception"),
            "exceptions": selectors.therapist_date_exceptions(therapist=therapist, today=today),
            "preview": group_by_day(preview, zone=zone, other_zone=zone),
            "preview_days": min(PREVIEW_DAYS, policy.horizon_days),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def practice_availability(request: HttpRequest) -> HttpResponse:
    """The page, and the booking policy form on it (the other forms post to their own URLs)."""
    therapist = _practice_therapist(request)
    if request.method == "GET":
        return _render_availability(request, therapist)
    form = BookingPolicyForm(request.POST)
    if form.is_valid():
        try:
            services.booking_policy_update(therapist=therapist, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error, renames={})
        else:
            messages.success(request, "Your booking rules are saved.")
            return redirect("booking:practice_availability")
    return _render_availability(request, therapist, policy_form=form, status=400)


@login_required
@require_POST
def practice_windows(request: HttpRequest) -> HttpResponse:
    therapist = _practice_therapist(request)
    formset = cast(BaseWeeklyWindowFormSet, WeeklyWindowFormSet(request.POST, prefix="windows"))
    if formset.is_valid():
        try:
            services.weekly_windows_replace(therapist=therapist, windows=formset.windows())
        except ValidationError as error:
            formset.add_service_errors(error.messages)
        else:
            messages.success(request, "Your weekly hours are saved.")
            return redirect("booking:practice_availability")
    return _render_availability(request, therapist, windows_formset=formset, status=400)


@login_required
@require_POST
def practice_exception_add(request: HttpRequest) -> HttpResponse:
    therapist = _practice_therapist(request)
    form = DateExceptionForm(request.POST, prefix="exception")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.date_exception_add(
                therapist=therapist,
                date=data["date"],
                kind=data["kind"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
            )
        except ValidationError as error:
            _add_service_errors(form, error, renames={})
        else:
            messages.success(request, f"Saved the change for {day_label(data['date'])}.")
            return redirect("booking:practice_availability")
    return _render_availability(request, therapist, exception_form=form, status=400)


@login_required
@require_POST
def practice_exception_remove(request: HttpRequest) -> HttpResponse:
    therapist = _practice_therapist(request)
    try:
        exception_id = int(request.POST.get("exception_id", ""))
    except ValueError:
        raise Http404("No such date change.") from None
    # Someone else's (or a vanished) row is the same 404 as a made-up one.
    if not therapist.date_exceptions.filter(pk=exception_id).exists():
        raise Http404("No such date change.")
    services.date_exception_remove(therapist=therapist, exception_id=exception_id)
    messages.success(request, "Removed the date change.")
    return redirect("booking:practice_availability")


# --- calendar feed and listing -----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def practice_calendar(request: HttpRequest) -> HttpResponse:
    therapist = _practice_therapist(request)
    if request.method == "POST":
        services.calendar_feed_rotate(therapist=therapist)
        messages.success(
            request,
            "Your calendar link is new. The old one has stopped working: add the new one to "
            "your calendar app.",
        )
        return redirect("booking:practice_calendar")
    policy = services.booking_policy_for(therapist=therapist)
    path = reverse("booking:calendar_feed", args=[policy.feed_token])
    return render(
        request,
        "booking/practice_calendar.html",
        {
            "therapist": therapist,
            "feed_url": f"{settings.SITE_URL}{path}",
            "webcal_url": f"webcal://{settings.SITE_URL.split('://', 1)[-1]}{path}",
            "created_label": moment_label(
                policy.feed_token_created_at, zoneinfo.ZoneInfo(therapist.time_zone)
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def practice_listing(request: HttpRequest) -> HttpResponse:
    therapist = _practice_therapist(request)
    now = timezone.now()
    form = AcceptingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        accepting = form.cleaned_data["accepting"]
        therapist_accepting_confirm(therapist=therapist, accepting=accepting, now=now)
        messages.success(
            request,
            f"Thank you. Your listing shows you as accepting new clients for the next "
            f"{settings.LISTING_FRESHNESS_DAYS} days."
            if accepting
            else "Your listing is hidden from search until you say you are accepting again.",
        )
        return redirect("booking:practice_listing")
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    confirmed_at = therapist.accepting_confirmed_at
    pauses_at = (
        confirmed_at + dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
        if confirmed_at and therapist.accepting_new_clients
        else None
    )
    return render(
        request,
        "booking/practice_listing.html",
        {
            "therapist": therapist,
            "form": form,
            "confirmed_label": moment_label(confirmed_at, zone) if confirmed_at else "",
            "pauses_label": moment_label(pauses_at, zone) if pauses_at else "",
            "paused": pauses_at is not None and pauses_at <= now,
            "freshness_days": settings.LISTING_FRESHNESS_DAYS,
        },
        status=400 if form.errors else 200,
    )
