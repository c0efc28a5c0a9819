"""Calendar files (RFC 5545) for appointment e-mails and the therapist's subscription feed.

What goes into a calendar leaves our hands: it syncs to phones, shared family calendars and
assistants. So an event says only who meets whom and when — never notes, reasons or anything
about why someone seeks therapy — and the therapist's copy names the client by first name only.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone

from rapport.booking.how import how_it_happens
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    Party,
)
from rapport.core.timezones import ZoneState, zone_changes, zone_state
from rapport.directory.models import TherapistProfile

METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"
METHODS = (METHOD_REQUEST, METHOD_CANCEL)

PRODUCT_ID = "-//Rapport//Consultations//EN"
# How far back the feed reaches: recent history helps a therapist write notes and invoices.
FEED_PAST_DAYS = 30
# VTIMEZONE definitions cover this margin around the events (not 1970–2038), which keeps a
# file small while covering any edit a calendar app makes to the event's date.
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


def _is_ambiguous(local: dt.datetime) -> bool:
    # The wall time occurs twice (clocks went back) when its two readings differ.
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def event_times(
    starts_at: dt.datetime, ends_at: dt.datetime, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """DTSTART and DTEND as written: local time in ``zone`` (with its TZID), or UTC.

    RFC 5545 reads a local time that occurs twice as its first occurrence, so a time in the
    hour repeated when clocks go back cannot be written as local time without moving the event
    (the second 01:30 would become the first, and an event could end before it starts). Such an
    event is written in UTC — both ends, so that a calendar shows its two times consistently;
    so is every event in UTC's own zone, which needs no definition.
    """
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if zone.key == "UTC" or _is_ambiguous(local_start) or _is_ambiguous(local_end):
        return starts_at.astimezone(dt.UTC), ends_at.astimezone(dt.UTC)
    return local_start, local_end


def _offset_stamp(moment: dt.datetime, offset: dt.timedelta) -> dt.datetime:
    # A naive local time: the instant read on clocks that are ``offset`` from UTC.
    return (moment.astimezone(dt.UTC) + offset).replace(tzinfo=None)


def _observance(
    *, onset: dt.datetime, before: ZoneState, after: ZoneState
) -> icalendar.TimezoneStandard | icalendar.TimezoneDaylight:
    observance = icalendar.TimezoneDaylight() if after.dst else icalendar.TimezoneStandard()
    # RFC 5545 §3.6.5: an onset is a local time on the clocks of before it (TZOFFSETFROM).
    observance.add("dtstart", _offset_stamp(onset, before.offset))
    if after.name:
        observance.add("tzname", after.name)
    observance.add("tzoffsetfrom", before.offset)
    observance.add("tzoffsetto", after.offset)
    return observance


def time_zone_component(
    zone: ZoneInfo, *, start: dt.datetime, end: dt.datetime
) -> icalendar.Timezone:
    """A VTIMEZONE for ``zone`` that is right from ``start`` to ``end``, made from the tz
    database's own changes in that time rather than from rules.

    The first observance, at ``start``, states the offset then in force; each change after it
    is an observance of its own with its exact onset, so a reader needs no RRULE or RDATE and
    no guess about other years.
    """
    component = icalendar.Timezone()
    component.add("tzid", zone.key)
    initial = zone_state(zone, start)
    component.add_component(_observance(onset=start, before=initial, after=initial))
    for change in zone_changes(zone, start=start, end=end):
        component.add_component(
            _observance(onset=change.at, before=change.before, after=change.after)
        )
    return component


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
    policy: BookingPolicy | None = None,
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", appointment.calendar_uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    start, end = event_times(appointment.starts_at, appointment.ends_at, zone)
    event.add("dtstart", start)
    event.add("dtend", end)
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
    # How it happens: where (an address, "Phone call: … calls you" or the meeting link), in
    # words, and the link itself for calendars that offer a "join" button. Never the client's
    # phone number: calendar files sync to other services.
    # A cancellation only removes the event, so it says nothing more.
    how = (
        how_it_happens(appointment, recipient=recipient, policy=policy)
        if status != "CANCELLED"
        else None
    )
    if how is not None:
        if how.location:
            event.add("location", how.location)
        description = how.text
        if how.url:
            description = f"{description}\nLink: {how.url}"
        if how.access_note:
            description = f"{description}\nGetting in: {how.access_note}"
        event.add("description", description)
        if how.url:
            event.add("url", how.url)
    return event


def _calendar(
    *,
    events: list[tuple[Appointment, icalendar.Event]],
    zone: ZoneInfo,
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
    if any("TZID" in event["DTSTART"].params for _appointment, event in events):
        # Before the events that name it: some calendar apps read a file in one pass.
        first = min(appointment.starts_at for appointment, _event in events)
        last = max(appointment.ends_at for appointment, _event in events)
        start = dt.datetime.combine((first - _TIMEZONE_MARGIN).date(), dt.time(0), tzinfo=dt.UTC)
        calendar.add_component(time_zone_component(zone, start=start, end=last + _TIMEZONE_MARGIN))
    for _appointment, event in events:
        calendar.add_component(event)
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

    Times carry ``zone`` (the recipient's IANA zone) with its VTIMEZONE, or are UTC where local
    time cannot say them (see ``event_times``); the UID stays the same
    for the appointment's whole life and SEQUENCE is the appointment's, so a calendar that got
    the first invitation updates or removes that event instead of adding another.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    time_zone = ZoneInfo(zone)
    event = _event(
        appointment=appointment,
        recipient=recipient,
        method=method,
        zone=time_zone,
        stamp=now or timezone.now(),
    )
    return _calendar(events=[(appointment, event)], zone=time_zone, method=method)


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
    # Read once for the whole feed, not once per event.
    policy = (
        BookingPolicy.objects.filter(therapist=therapist)
        .select_related("office__jurisdiction")
        .first()
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
                policy=policy,
            ),
        )
        for appointment in appointments
    ]
    return _calendar(events=events, zone=zone, method=None, name="Rapport consultations")
