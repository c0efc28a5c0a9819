"""The therapist's practice pages: requests and upcoming appointments, availability, the
calendar feed address and the "still accepting new clients?" answer.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.booking import access, dashboard, selectors, services, slots
from rapport.booking.errors import (
    BookingError,
    SlotUnavailable,
)
from rapport.booking.facts import FACTS_WINDOW, MINIMUM_HELD_CONSULTATIONS, MINIMUM_REPLIES
from rapport.booking.forms import (
    AcceptingForm,
    BaseWeeklyWindowFormSet,
    BookingPolicyForm,
    ConsultationMethodForm,
    DateExceptionForm,
    FirstSessionForm,
    ReasonForm,
    WeeklyWindowFormSet,
)
from rapport.booking.hooks import AppointmentLink, appointment_links, dashboard_parts_render
from rapport.booking.how import (
    HowItHappens,
    consultation_policy,
    how_on_practice_page,
    office_address,
)
from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    Party,
)
from rapport.booking.views.common import (
    add_service_errors,
    group_by_day,
    reschedule_flow,
)
from rapport.core.audit import audit_reads
from rapport.core.pagination import paginate
from rapport.core.timezones import day_label, moment_label, time_zone_label
from rapport.directory.access import can_start_practice, get_practice_therapist
from rapport.directory.completeness import ListingState, listing_state
from rapport.directory.display import measured_reply_phrase
from rapport.directory.models import TherapistProfile, VerificationStatus
from rapport.directory.services import therapist_accepting_confirm

# Held consultations stay on the practice page this long for "book the first session".
FIRST_SESSION_WINDOW = dt.timedelta(days=30)
# Clients' cancellations stay on the practice page this long, with their reason.
CLIENT_CANCELLED_WINDOW = dt.timedelta(days=14)
CLIENT_CANCELLED_LIMIT = 20
PREVIEW_DAYS = 14
PREVIEW_LIMIT = 12
# The dashboard's "upcoming" list is paged: a full practice books months ahead.
UPCOMING_PAGE_SIZE = 10
WEEK = dt.timedelta(days=7)


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
    clock: dashboard.RequestClock | None = None
    urls: dict[str, str] | None = None
    # What apps above booking add to the row (matching: the client's shared fit profile).
    links: list[AppointmentLink] = field(default_factory=list)
    # How a consultation happens, in the therapist's words (how.py); None for sessions.
    how: HowItHappens | None = None


# The actions a row offers, by the name of their URL.
ROW_ACTIONS = ("confirm", "decline", "reschedule", "cancel", "first_session")
_ANY_ID = uuid.UUID(int=0)


def _row_url_patterns() -> dict[str, str]:
    """Each row action's address with a stand-in id, reversed once per page: reversing five
    names for each of dozens of rows was a good part of the page's time."""
    return {action: reverse(f"booking:practice_{action}", args=[_ANY_ID]) for action in ROW_ACTIONS}


def _row_urls(patterns: dict[str, str], public_id: uuid.UUID) -> dict[str, str]:
    return {action: url.replace(str(_ANY_ID), str(public_id)) for action, url in patterns.items()}


def _row(
    appointment: Appointment,
    zone: zoneinfo.ZoneInfo,
    failed: tuple[str, ReasonForm] | None,
    *,
    url_patterns: dict[str, str] | None = None,
    actions: tuple[str, ...] = ("decline", "cancel"),
) -> AppointmentRow:
    """One appointment as the practice page shows it, with the forms of ``actions`` (a form
    that failed comes back bound, with its errors)."""
    prefix = appointment.public_id.hex
    client_zone = zoneinfo.ZoneInfo(appointment.client_time_zone)
    labels = {"decline": "Reason for declining", "cancel": "Reason for cancelling"}
    forms: dict[str, ReasonForm | None] = {
        action: ReasonForm(prefix=f"{action}-{prefix}", label=label) if action in actions else None
        for action, label in labels.items()
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
        urls=_row_urls(url_patterns or _row_url_patterns(), appointment.public_id),
    )


def _practice_home_context(
    therapist: TherapistProfile,
    *,
    failed: tuple[uuid.UUID, str, ReasonForm] | None = None,
    raw_page: str | None = None,
) -> dict[str, Any]:
    """Everything the dashboard shows, in a fixed number of queries whatever the number of
    appointments: the lists are bounded (requests expire, "upcoming" is paged, the rest are
    windows of days) and join no other rows (each row gets the therapist in hand)."""
    now = timezone.now()
    zone = zoneinfo.ZoneInfo(therapist.time_zone)

    url_patterns = _row_url_patterns()
    # Read once for every row's "how it happens" (method, link, office).
    policy = consultation_policy(therapist_id=therapist.pk)

    def rows(appointments: Any, *, actions: tuple[str, ...] = ()) -> list[AppointmentRow]:
        shown = []
        for appointment in appointments:
            # Every row is this therapist's: the profile in hand, not one joined per row.
            appointment.therapist = therapist
            row = _row(
                appointment,
                zone,
                (failed[1], failed[2])
                if failed is not None and failed[0] == appointment.public_id
                else None,
                url_patterns=url_patterns,
                actions=actions,
            )
            row.how = how_on_practice_page(appointment, policy=policy)
            shown.append(row)
        return shown

    def own(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
        # The page reads none of the joined rows (client account, earlier consultation), and
        # compiling and loading a profile's sixty columns per row cost more than the query.
        return appointments.select_related(None)

    # Each list builds only the form its rows offer: a page of them was a good part of the time.
    pending = rows(
        own(selectors.therapist_pending_requests(therapist=therapist)), actions=("decline",)
    )
    for row in pending:
        row.clock = dashboard.request_clock(row.appointment, now=now, zone=zone)
    upcoming = paginate(
        own(selectors.therapist_upcoming_confirmed(therapist=therapist, now=now)),
        raw_page=raw_page,
        page_size=UPCOMING_PAGE_SIZE,
    )
    upcoming_page = upcoming.page or upcoming.paginator.page(upcoming.paginator.num_pages)
    upcoming_rows = rows(upcoming_page.object_list, actions=("cancel",))
    # Held consultations with no session booked after them yet.
    held = rows(
        own(
            selectors.therapist_held_consultations_without_session(
                therapist=therapist, now=now, days=FIRST_SESSION_WINDOW.days
            )
        )
    )
    shown = [*pending, *upcoming_rows, *held]
    links = appointment_links(appointments=[row.appointment for row in shown])
    for row in shown:
        row.links = links.get(row.appointment.pk, [])
    state = listing_state(therapist=therapist, now=now)
    return {
        "therapist": therapist,
        "zone_label": time_zone_label(therapist.time_zone),
        "listing_state": state,
        "listing_state_action_url": _action_url(state),
        "accepting": _accepting_context(therapist, now=now, zone=zone),
        "accepting_form": AcceptingForm(),
        "pending": pending,
        "expiry_hours": settings.BOOKING_REQUEST_EXPIRY_HOURS,
        "upcoming": upcoming_rows,
        "page": upcoming_page,
        "page_range": list(upcoming.paginator.get_elided_page_range(upcoming_page.number)),
        "page_message": upcoming.message,
        "week": selectors.therapist_upcoming_counts(therapist=therapist, now=now, days=WEEK.days),
        "reply_phrase": measured_reply_phrase(therapist.median_reply_minutes)
        if therapist.median_reply_minutes is not None
        else "",
        "minimum_replies": MINIMUM_REPLIES,
        "minimum_held": MINIMUM_HELD_CONSULTATIONS,
        "facts_days": FACTS_WINDOW.days,
        "held": held,
        "first_session_days": FIRST_SESSION_WINDOW.days,
        # Clients' cancellations of the last days, with the reason they gave.
        "client_cancelled": [
            (appointment, moment_label(appointment.starts_at, zone))
            for appointment in selectors.therapist_recent_client_cancellations(
                therapist=therapist,
                since=now - CLIENT_CANCELLED_WINDOW,
                limit=CLIENT_CANCELLED_LIMIT,
            )
        ],
        "client_cancelled_days": CLIENT_CANCELLED_WINDOW.days,
    }


def _action_url(state: ListingState) -> str:
    """The address of the listing state's one action ("" when there is nothing to do but wait,
    or the page it names is not there)."""
    if not state.action_url_name:
        return ""
    try:
        return reverse(state.action_url_name)
    except NoReverseMatch:
        return ""


def _accepting_context(
    therapist: TherapistProfile, *, now: dt.datetime, zone: zoneinfo.ZoneInfo
) -> dict[str, Any]:
    """The "still accepting new clients?" answer as the dashboard and the listing page show
    it: when it was last given and when the listing pauses without a new one."""
    confirmed_at = therapist.accepting_confirmed_at
    pauses_at = (
        confirmed_at + dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
        if confirmed_at and therapist.accepting_new_clients
        else None
    )
    return {
        "confirmed_label": moment_label(confirmed_at, zone) if confirmed_at else "",
        "pauses_label": moment_label(pauses_at, zone) if pauses_at else "",
        "paused": pauses_at is not None and pauses_at <= now,
        # Until the licence is verified nobody sees the listing, whatever this answer says.
        "verified": therapist.verification_status == VerificationStatus.VERIFIED,
        "freshness_days": settings.LISTING_FRESHNESS_DAYS,
    }


def _render_practice_home(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The practice page, with one audited read per appointment it shows: each carries what a
    client or therapist wrote about the client (and the page shows cancellation reasons)."""
    shown = [
        row.appointment for section in ("pending", "upcoming", "held") for row in context[section]
    ] + [appointment for appointment, _label in context["client_cancelled"]]
    audit_reads(request=request, instances=shown, reason="practice page")
    # What apps above booking add to "Needs your attention" (care: check-in alerts).
    context["attention_parts"] = dashboard_parts_render(
        request=request, therapist=context["therapist"]
    )
    return render(request, "booking/practice_home.html", context, status=status)


def _practice_therapist(request: HttpRequest) -> TherapistProfile:
    return get_practice_therapist(request.user)


@login_required
@require_safe
def practice_home(request: HttpRequest) -> HttpResponse:
    try:
        therapist = _practice_therapist(request)
    except Http404:
        # A therapist account without a listing yet: its practice starts with one.
        if can_start_practice(request.user):
            return redirect("directory:practice_profile_start")
        raise
    return _render_practice_home(
        request, _practice_home_context(therapist, raw_page=request.GET.get("page"))
    )


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
            add_service_errors(form, error, renames={})
        else:
            done = "declined" if action == "decline" else "cancelled"
            messages.success(
                request,
                f"{appointment.client_name}'s {appointment.get_kind_display().lower()} "
                f"is {done}, and they have been told.",
            )
            return redirect("booking:practice_home")
    therapist = appointment.therapist
    return _render_practice_home(
        request, _practice_home_context(therapist, failed=(public_id, action, form)), status=400
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
                add_service_errors(form, error, renames={"starts_at": "time"})
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
    outcome = reschedule_flow(
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


def _office_choices(therapist: TherapistProfile) -> list[tuple[int, str]]:
    return [
        (office.pk, office_address(office))
        for office in selectors.therapist_offices(therapist=therapist)
    ]


def _method_form(therapist: TherapistProfile, policy: BookingPolicy) -> ConsultationMethodForm:
    return ConsultationMethodForm(
        initial={
            "method": policy.consultation_method or None,
            "meeting_link": policy.meeting_link,
            "office": policy.office_id,
        },
        offices=_office_choices(therapist),
    )


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
    method_form: ConsultationMethodForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    policy = selectors.booking_policy_of(therapist=therapist)
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
            "method_form": method_form or _method_form(therapist, policy),
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
            add_service_errors(form, error, renames={})
        else:
            messages.success(request, "Your booking rules are saved.")
            return redirect("booking:practice_availability")
    return _render_availability(request, therapist, policy_form=form, status=400)


@login_required
@require_POST
def practice_consultation_method(request: HttpRequest) -> HttpResponse:
    therapist = _practice_therapist(request)
    form = ConsultationMethodForm(request.POST, offices=_office_choices(therapist))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.consultation_method_update(
                therapist=therapist,
                method=data["method"],
                meeting_link=data.get("meeting_link") or "",
                office_id=data.get("office"),
            )
        except ValidationError as error:
            add_service_errors(form, error, renames={})
        else:
            messages.success(request, "How your consultations happen is saved.")
            return redirect("booking:practice_availability")
    return _render_availability(request, therapist, method_form=form, status=400)


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
            add_service_errors(form, error, renames={})
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
        messages.success(request, _accepting_saved_message(therapist, accepting=accepting))
        # The dashboard embeds the same form; its answer returns there (a fixed choice of
        # two pages, never an address taken from the request).
        if request.POST.get("return_to") == "home":
            return redirect("booking:practice_home")
        return redirect("booking:practice_listing")
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    return render(
        request,
        "booking/practice_listing.html",
        {
            "therapist": therapist,
            "form": form,
            "accepting": _accepting_context(therapist, now=now, zone=zone),
        },
        status=400 if form.errors else 200,
    )


def _accepting_saved_message(therapist: TherapistProfile, *, accepting: bool) -> str:
    """What the therapist is told after answering. Never "your listing shows you as accepting"
    while the licence is not verified: nobody sees the listing until it is."""
    days = settings.LISTING_FRESHNESS_DAYS
    if not accepting:
        return "Your listing is hidden from search until you say you are accepting again."
    if therapist.verification_status == VerificationStatus.PENDING:
        return (
            f"Thank you. Your listing is not shown yet: your licence is still being checked. "
            f"Once it is verified, your listing shows you as accepting new clients; this answer "
            f"holds for {days} days."
        )
    if therapist.verification_status != VerificationStatus.VERIFIED:
        return (
            "Thank you, your answer is saved. Your listing stays hidden from clients while your "
            "licence is not verified."
        )
    return f"Thank you. Your listing shows you as accepting new clients for the next {days} days."
