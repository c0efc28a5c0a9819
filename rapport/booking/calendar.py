"""Calendar files (RFC 5545) for appointment e-mails and the therapist's subscription feed.

What goes into a calendar leaves our hands: it syncs to phones, shared family calendars and
assistants. So an event says only who meets whom and when — never notes, reasons or anything
about why someone seeks therapy — and the therapist's copy names the client by first name only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone

from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Party,
)
from rapport.directory.models import TherapistProfile

METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"
METHODS = (METHOD_REQUEST, METHOD_CANCEL)

PRODUCT_ID = "-//Rapport//Consultations//EN"
# How far back the feed reaches: recent history helps a therapist write notes and invoices.
FEED_PAST_DAYS = 30
# VTIMEZONE rules are written for this margin around the events (not 1970–2038), which keeps
# a file small while covering any edit a calendar app makes to the event's date.
_TIMEZONE_MARGIN = dt.timedelta(days=366)


def client_summary(appointment: Appointment) -> str:
    name = appointment.therapist.display_name
    if appointment.kind == AppointmentKind.SESSION:
        return f"Session with {name}"
    return f"Free consultation with {name}"


def therapist_summary(appointment: Appointment) -> str:
    names = appointment.client_name.split()
    label = "session" if appointment.kind == AppointmentKind.SESSION else "consultation"
    return f"Rapport {label}: {names[0]}" if names else f"Rapport {label}"


def _status(appointment: Appointment, method: str) -> str:
    if method == METHOD_CANCEL or appointment.status not in ACTIVE_STATUSES:
        return "CANCELLED"
    if appointment.status == AppointmentStatus.REQUESTED:
        return "TENTATIVE"
    return "CONFIRMED"


def _address(email: str, name: str, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


def _organizer() -> icalendar.vCalAddress:
    # Rapport sends the invitation, so it is the organiser: replies go to a mailbox we own
    # rather than to a therapist's private address.
    name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return _address(email or "no-reply@localhost", name or "Rapport")


def _event(
    *,
    appointment: Appointment,
    recipient: Party,
    method: str,
    zone: ZoneInfo,
    stamp: dt.datetime,
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", appointment.calendar_uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    status = _status(appointment, method)
    event.add("status", status)
    # Busy while it holds the time; a cancelled event must not block the person's calendar.
    event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    event.add("organizer", _organizer())
    partstat = "NEEDS-ACTION" if status == "TENTATIVE" else "ACCEPTED"
    if recipient == Party.CLIENT:
        event.add("summary", client_summary(appointment))
        event.add(
            "attendee",
            _address(
                appointment.client_email,
                appointment.client_name,
                ROLE="REQ-PARTICIPANT",
                PARTSTAT=partstat,
                RSVP="FALSE",
            ),
        )
    else:
        event.add("summary", therapist_summary(appointment))
        user = appointment.therapist.user
        if user is not None:
            event.add(
                "attendee",
                _address(
                    user.email,
                    appointment.therapist.display_name,
                    ROLE="CHAIR",
                    PARTSTAT=partstat,
                    RSVP="FALSE",
                ),
            )
    return event


def _calendar(
    *,
    events: Iterable[tuple[Appointment, icalendar.Event]],
    method: str | None,
    name: str | None = None,
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    if name is not None:
        # Read by Apple and Google calendars as the subscribed calendar's name.
        calendar.add("x-wr-calname", name)
    starts: list[dt.datetime] = []
    for appointment, event in events:
        calendar.add_component(event)
        starts += [appointment.starts_at, appointment.ends_at]
    if starts:
        calendar.add_missing_timezones(
            first_date=(min(starts) - _TIMEZONE_MARGIN).date(),
            last_date=(max(starts) + _TIMEZONE_MARGIN).date(),
        )
    return calendar.to_ical()


def appointment_calendar(
    *,
    appointment: Appointment,
    method: str,
    zone: str,
    recipient: Party = Party.CLIENT,
    now: dt.datetime | None = None,
) -> bytes:
    """One appointment as an iTIP message (``REQUEST`` or ``CANCEL``) for an e-mail attachment.

    Times carry ``zone`` (the recipient's IANA zone) with its VTIMEZONE; the UID stays the same
    for the appointment's whole life and SEQUENCE is the appointment's, so a calendar that got
    the first invitation updates or removes that event instead of adding another.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    event = _event(
        appointment=appointment,
        recipient=recipient,
        method=method,
        zone=ZoneInfo(zone),
        stamp=now or timezone.now(),
    )
    return _calendar(events=[(appointment, event)], method=method)


def therapist_feed(*, therapist: TherapistProfile, now: dt.datetime) -> bytes:
    """The therapist's active appointments from ``FEED_PAST_DAYS`` ago onward, in their zone.

    A subscription feed is a published snapshot, not an invitation, so it has no METHOD;
    cancelled appointments simply drop out of it.
    """
    zone = ZoneInfo(therapist.time_zone)
    appointments = (
        Appointment.objects.filter(
            therapist=therapist,
            status__in=ACTIVE_STATUSES,
            ends_at__gte=now - dt.timedelta(days=FEED_PAST_DAYS),
        )
        .select_related("therapist__user")
        .order_by("starts_at", "id")
    )
    events = [
        (
            appointment,
            _event(
                appointment=appointment,
                recipient=Party.THERAPIST,
                method=METHOD_REQUEST,
                zone=zone,
                stamp=now,
            ),
        )
        for appointment in appointments
    ]
    return _calendar(events=events, method=None, name="Rapport consultations")
