"""The fit profile shared at booking: the therapist's page for one appointment, and the
client's page listing their consultations with who sees the profile.

The therapist's page lives under /practice/ like every page that shows a therapist someone
else's information, so the second factor is required before it opens
(``MfaRequiredMiddleware`` and its path prefixes); its reads are audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from rapport.accounts.models import User
from rapport.booking import access as booking_access
from rapport.booking import selectors as booking_selectors
from rapport.booking.errors import InvalidTransition
from rapport.booking.models import ACTIVE_STATUSES, Appointment, AppointmentKind
from rapport.core.audit import audit_read
from rapport.core.middleware import health_data
from rapport.core.timezones import moment_label
from rapport.matching import sharing
from rapport.matching.models import FitProfile
from rapport.matching.selectors import fit_profile_answers


@health_data
@require_safe
def shared_profile(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    # Like the other pages of one appointment, anyone but its therapist (signed out included)
    # gets the same 404: the page says nothing about whether the id exists.
    appointment, profile = sharing.get_shared_fit_profile_for_therapist(request.user, public_id)
    # Before the answers are decrypted into the page: a read that cannot be recorded fails.
    audit_read(request=request, instance=profile, reason=sharing.AUDIT_REASON)
    therapist = appointment.therapist
    answers = fit_profile_answers(profile)
    return render(
        request,
        "matching/shared_profile.html",
        {
            "appointment": appointment,
            "client_name": appointment.client_name or "Your client",
            "starts_at_label": moment_label(
                appointment.starts_at, zoneinfo.ZoneInfo(therapist.time_zone)
            ),
            "updated_at": profile.updated_at,
            "parts": sharing.shared_profile_in_words(answers, currency=therapist.currency),
        },
    )


@dataclass(frozen=True)
class SharingRow:
    appointment: Appointment
    starts_at_label: str
    status_label: str
    state_label: str
    # The button's value and words: "0" stops sharing, "1" shares (again); "" offers none.
    action: str
    action_label: str


def _status_label(appointment: Appointment, now: dt.datetime) -> str:
    if appointment.status in ACTIVE_STATUSES and appointment.ends_at <= now:
        return "Took place"
    return appointment.get_status_display()


def _sharing_rows(user: User, *, has_profile: bool) -> list[SharingRow]:
    now = timezone.now()
    consultations = (
        booking_selectors.client_appointments(user=user)
        .filter(kind=AppointmentKind.CONSULTATION)
        .order_by("-starts_at", "-id")
    )
    rows = []
    for appointment in consultations:
        name = appointment.therapist.display_name
        if appointment.share_fit_profile:
            state = f"Shared with {name}"
            action, action_label = "0", "Stop sharing"
        else:
            state = "Not shared"
            can_share = (
                has_profile
                and appointment.client_id == user.pk
                and appointment.status in ACTIVE_STATUSES
            )
            action, action_label = ("1", "Share again") if can_share else ("", "")
        rows.append(
            SharingRow(
                appointment=appointment,
                starts_at_label=moment_label(
                    appointment.starts_at, zoneinfo.ZoneInfo(appointment.client_time_zone)
                ),
                status_label=_status_label(appointment, now),
                state_label=state,
                action=action,
                action_label=action_label,
            )
        )
    return rows


def _render_sharing(
    request: HttpRequest, user: User, *, problem: str = "", status: int = 200
) -> HttpResponse:
    has_profile = FitProfile.objects.filter(owner=user).exists()
    return render(
        request,
        "matching/sharing_list.html",
        {
            "has_profile": has_profile,
            "rows": _sharing_rows(user, has_profile=has_profile),
            "problem": problem,
        },
        status=status,
    )


@health_data
@login_required
@require_safe
def sharing_list(request: HttpRequest) -> HttpResponse:
    """The person's consultations and, for each, whether the therapist sees the fit profile.
    Their own data: no audited read."""
    assert isinstance(request.user, User)  # login_required
    return _render_sharing(request, request.user)


@health_data
@login_required
@require_POST
def sharing_set(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required
    # Someone else's consultation is the same 404 as one that does not exist.
    appointment = booking_access.get_appointment_for_client(user, public_id)
    choice = request.POST.get("shared", "")
    if choice not in ("0", "1"):
        return _render_sharing(
            request, user, problem="Choose to share your fit profile or to stop.", status=400
        )
    name = appointment.therapist.display_name
    try:
        sharing.fit_profile_sharing_set(appointment=appointment, client=user, shared=choice == "1")
    except InvalidTransition as error:
        return _render_sharing(request, user, problem=error.message, status=409)
    except sharing.NothingToShare as error:
        return _render_sharing(request, user, problem=str(error), status=409)
    if choice == "1":
        messages.success(request, f"{name} can see your fit profile with this consultation.")
    else:
        messages.success(
            request, f"You stopped sharing your fit profile with {name}: they no longer see it."
        )
    return redirect("matching:sharing")
