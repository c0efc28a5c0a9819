"""Booking's section of the person's account page: their consultations (an accounts account
section, registered in ``BookingConfig.ready()``).

Which appointments are the person's is ``selectors.client_appointments``: linked to the
account, or booked with an address they have proved is theirs (so a consultation booked before
the account existed is listed too). Upcoming ones come first, soonest first; then the ones that
are over or were called off, latest first.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import User
from rapport.booking import selectors, tokens
from rapport.booking.how import how_it_happens
from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    Party,
)
from rapport.core.audit import audit_reads
from rapport.core.timezones import moment_label


@dataclass(frozen=True)
class ConsultationRow:
    """One line of the list, in the words the person reads."""

    kind: str  # "Free consultation" or "Session"
    therapist_name: str
    therapist_url: str
    when: str  # in the zone the person booked in
    how: str  # "Phone call", "Video call", … ; for sessions, as agreed with the therapist
    state: str  # a short word or two ("Confirmed", "Cancelled by you")
    state_key: str  # the status, for the page's badge style
    manage_url: str  # "" once the manage link no longer works (a week after it ended)
    manage_label: str


def client_state(appointment: Appointment, *, now: dt.datetime) -> str:
    """The state as the client reads it in a list: who ended it, and whether it took place."""
    status = appointment.status
    if status == AppointmentStatus.REQUESTED:
        return "Waiting for the therapist to confirm"
    if status == AppointmentStatus.CONFIRMED:
        return "Took place" if appointment.ends_at <= now else "Confirmed"
    if status == AppointmentStatus.DECLINED:
        return "Declined by the therapist"
    if status == AppointmentStatus.EXPIRED:
        return "Not answered in time"
    if appointment.ended_by == Party.CLIENT:
        return "Cancelled by you"
    if appointment.ended_by == Party.THERAPIST:
        return "Cancelled by the therapist"
    return "Cancelled"


def is_upcoming(appointment: Appointment, *, now: dt.datetime) -> bool:
    return appointment.is_active and appointment.ends_at > now


def client_consultations_split(
    *, user: User, now: dt.datetime
) -> tuple[list[Appointment], list[Appointment]]:
    """The person's appointments as (upcoming, soonest first; the rest, latest first)."""
    appointments = list(selectors.client_appointments(user=user))
    upcoming = [a for a in appointments if is_upcoming(a, now=now)]
    earlier = [a for a in appointments if not is_upcoming(a, now=now)]
    earlier.sort(key=lambda a: (a.starts_at, a.pk), reverse=True)
    return upcoming, earlier


def _policies_of(appointments: list[Appointment]) -> dict[int, BookingPolicy]:
    """Each therapist's booking policy (its link and office say how a consultation happens),
    in one query; a therapist without one gets an empty policy, which says "to be arranged"."""
    therapist_ids = {appointment.therapist_id for appointment in appointments}
    found = {
        policy.therapist_id: policy
        for policy in BookingPolicy.objects.filter(therapist_id__in=therapist_ids).select_related(
            "office__jurisdiction"
        )
    }
    return {tid: found.get(tid) or BookingPolicy(therapist_id=tid) for tid in therapist_ids}


def _row(appointment: Appointment, *, policy: BookingPolicy, now: dt.datetime) -> ConsultationRow:
    therapist = appointment.therapist
    how = how_it_happens(appointment, recipient=Party.CLIENT, policy=policy)
    if how is not None:
        how_words = how.label
    elif appointment.kind == AppointmentKind.SESSION:
        how_words = f"As agreed with {therapist.display_name}"
    else:
        how_words = "To be arranged"
    manage_url = ""
    if tokens.manage_link_expires_at(appointment) > now:
        token = tokens.appointment_token_make(
            appointment=appointment, purpose=tokens.PURPOSE_MANAGE
        )
        manage_url = reverse("booking:consultation_manage", args=[token])
    return ConsultationRow(
        kind=appointment.get_kind_display(),
        therapist_name=therapist.display_name,
        therapist_url=reverse("directory:therapist_detail", args=[therapist.public_id]),
        when=moment_label(appointment.starts_at, zoneinfo.ZoneInfo(appointment.client_time_zone)),
        how=how_words,
        state=client_state(appointment, now=now),
        state_key=appointment.status,
        manage_url=manage_url,
        manage_label="See or change it" if is_upcoming(appointment, now=now) else "See details",
    )


def consultations_account_section(request: HttpRequest, user: User) -> str:
    """The "Your consultations" panel of the account page (always shown, so a person who has
    none learns where they will appear). Each listed appointment's read is audited."""
    now = timezone.now()
    upcoming, earlier = client_consultations_split(user=user, now=now)
    audit_reads(request=request, instances=[*upcoming, *earlier], reason="account page")
    policies = _policies_of([*upcoming, *earlier])
    return render_to_string(
        "booking/_account_consultations.html",
        {
            "upcoming": [_row(a, policy=policies[a.therapist_id], now=now) for a in upcoming],
            "earlier": [_row(a, policy=policies[a.therapist_id], now=now) for a in earlier],
        },
        request=request,
    )
