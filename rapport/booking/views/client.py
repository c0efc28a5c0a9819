"""The client's pages: the picker and booking form, and the pages behind e-mailed links
(manage, cancel, reschedule, calendar file, address confirmation).
"""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts.models import User
from rapport.accounts.selectors import user_has_verified_primary_address
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
    ReasonForm,
    consultation_book_form,
    time_zone_problem,
)
from rapport.booking.hooks import book_form_parts_render, fit_profile_keep, fit_profile_offer
from rapport.booking.how import how_it_happens
from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    ConsultationMethod,
    Party,
)
from rapport.booking.suggestions import offers_other_therapists, similar_therapist_cards
from rapport.booking.views.common import (
    add_service_errors,
    group_by_day,
    is_partial,
    reschedule_flow,
    slot_key_parse,
    week_page,
    zone_from_query,
)
from rapport.core.audit import audit_read
from rapport.core.middleware import health_data
from rapport.core.timezones import moment_label, time_zone_choices, time_zone_label
from rapport.directory.models import TherapistProfile

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
    policy = selectors.booking_policy_of(therapist=therapist)
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
        "partial": is_partial(request),
    }
    template = "booking/_picker_times.html" if context["partial"] else "booking/picker.html"
    # htmx leaves 4xx answers out of the page; the fragment says itself what went wrong.
    response = render(request, template, context, status=200 if context["partial"] else status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_safe
def consultation_book(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    therapist = access.get_bookable_therapist(public_id)
    zone_name, zone_problem, zone_given = zone_from_query(request, therapist.time_zone)
    return _render_picker(
        request,
        therapist=therapist,
        zone_name=zone_name,
        zone_problem=zone_problem,
        zone_given=zone_given,
        status=400 if zone_problem else 200,
    )


def _account_owning(request: HttpRequest, address: str) -> User | None:
    """The signed-in person, when the address they booked with is their own verified primary
    one; otherwise nobody (typing someone else's address must not link their booking, and
    later the confirm-address page, to this account)."""
    user = request.user
    if not isinstance(user, User):
        return None
    owns = user_has_verified_primary_address(user=user, address=address)
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
    # Whether the visitor chose the zone (the picker's, or the browser's through it).
    zone_given = bool(source.get("time_zone") or source.get("tz"))
    if time_zone_problem(zone_name):
        zone_name, zone_given = therapist.time_zone, False
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

    # Whether this person has a fit profile to share (matching answers; booking only asks).
    fit_profile = fit_profile_offer(request=request)
    policy = selectors.booking_policy_of(therapist=therapist)
    if request.method == "POST":
        form = consultation_book_form(
            request.POST,
            fit_profile=fit_profile,
            therapist_name=therapist.display_name,
            method=policy.consultation_method,
        )
        if form.is_valid():
            user = _account_owning(request, form.cleaned_data["client_email"])
            share = bool(form.cleaned_data.get("share_fit_profile"))
            try:
                if share and user is None:
                    # The therapist reads a shared profile through the account the booking is
                    # linked to; booked with another address it would be linked to none.
                    raise ValidationError(
                        {
                            "share_fit_profile": "Your fit profile can be shared only when you "
                            "book with your account's confirmed e-mail address. Use that "
                            "address, or leave this unticked."
                        }
                    )
                # One transaction: answers kept only in the session are saved to the account
                # with the booking, or neither is written.
                with transaction.atomic():
                    if user is not None:
                        fit_profile_keep(request=request, user=user)
                    appointment = services.consultation_book(
                        therapist=therapist,
                        starts_at=moment,
                        client_name=form.cleaned_data["client_name"],
                        client_email=form.cleaned_data["client_email"],
                        client_time_zone=form.cleaned_data["time_zone"],
                        share_fit_profile=share,
                        client=user,
                        client_phone=form.cleaned_data.get("client_phone", ""),
                        now=now,
                    )
            except (SlotTaken, SlotUnavailable) as error:
                return picker_for(error)
            except ValidationError as error:
                add_service_errors(form, error, renames={"client_time_zone": "time_zone"})
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
        form = consultation_book_form(
            initial={"time_zone": zone_name},
            fit_profile=fit_profile,
            therapist_name=therapist.display_name,
            method=policy.consultation_method,
        )

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
            "requires_confirmation": policy.requires_confirmation,
            "method_phrase": METHOD_BEFORE_BOOKING.get(policy.consultation_method, ""),
            "fit_profile": fit_profile,
            # What apps above booking add before anything is booked (messaging's contact
            # policy, in this page's zone).
            "form_parts": book_form_parts_render(
                request=request, therapist=therapist, zone_name=zone_name, zone_given=zone_given
            ),
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


# What the booking form says before anything is booked (the link and the address follow in
# the confirmation, to the person who booked).
METHOD_BEFORE_BOOKING: dict[str, str] = {
    ConsultationMethod.PHONE: "By phone: the therapist calls you at this time.",
    ConsultationMethod.VIDEO: "By video: you get the therapist's meeting link once you book.",
    ConsultationMethod.IN_PERSON: "In person, at the therapist's office: you get the address "
    "once you book.",
}


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
        "how": how_it_happens(appointment, recipient=Party.CLIENT),
        # A consultation that will not happen offers a way on: others like this therapist,
        # and the search.
        "offer_others": offers_other_therapists(appointment),
        "similar": similar_therapist_cards(appointment=appointment, now=timezone.now())
        if offers_other_therapists(appointment)
        else [],
        # What the therapist wrote when declining, cancelling or moving it, for the client.
        "therapist_reason": (
            appointment.change_reason
            if appointment.is_active and appointment.changed_by == Party.THERAPIST
            else appointment.end_reason
            if appointment.ended_by == Party.THERAPIST
            else ""
        ),
    }


@health_data
@require_safe
def consultation_manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment_for(token, tokens.PURPOSE_MANAGE)
    if appointment is None:
        return _invalid_link(request)
    audit_read(request=request, instance=appointment, reason="manage link")
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
            add_service_errors(form, error, renames={})
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
    audit_read(request=request, instance=appointment, reason="manage link")
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
    outcome = reschedule_flow(
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
    # How this person reaches the list of their consultations (the account page): signed in
    # as that account, a link; an account with a password, signing in; an account made by this
    # confirmation (no password yet), allauth's reset e-mail sets one.
    signed_in = request.user.is_authenticated and request.user.pk == user.pk
    return render(
        request,
        "booking/confirm_email.html",
        {
            "appointment": appointment,
            "done": True,
            "email": user.email,
            "signed_in": signed_in,
            "has_password": user.has_usable_password(),
        },
    )
