"""Reads of booking data for the therapist's practice pages, the API and tasks.

Lists select their related rows up front, so a page makes the same few queries whatever its
length.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from rapport.accounts.models import User
from rapport.accounts.selectors import verified_addresses_of
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    DateException,
    Party,
    WeeklyWindow,
)
from rapport.directory.models import Office, TherapistProfile

_RELATED = ("therapist", "client", "follows")


def therapist_upcoming_appointments(
    *, therapist: TherapistProfile, now: dt.datetime
) -> QuerySet[Appointment]:
    """Active consultations and sessions not yet over, earliest first (a request waiting for an
    answer is included: it holds its time)."""
    return (
        Appointment.objects.filter(therapist=therapist, status__in=ACTIVE_STATUSES, ends_at__gt=now)
        .select_related(*_RELATED)
        .order_by("starts_at", "id")
    )


def therapist_upcoming_confirmed(
    *, therapist: TherapistProfile, now: dt.datetime
) -> QuerySet[Appointment]:
    """Confirmed consultations and sessions not yet over, earliest first: the practice
    dashboard's "upcoming" list (requests are listed on their own, with their clock)."""
    return therapist_upcoming_appointments(therapist=therapist, now=now).filter(
        status=AppointmentStatus.CONFIRMED
    )


def therapist_upcoming_counts(
    *, therapist: TherapistProfile, now: dt.datetime, days: int
) -> dict[str, int]:
    """How many confirmed consultations and sessions start in the next ``days`` days, in one
    query: ``{"consultations": n, "sessions": m}``."""
    return Appointment.objects.filter(
        therapist=therapist,
        status=AppointmentStatus.CONFIRMED,
        starts_at__gte=now,
        starts_at__lt=now + dt.timedelta(days=days),
    ).aggregate(
        consultations=Count("pk", filter=Q(kind=AppointmentKind.CONSULTATION)),
        sessions=Count("pk", filter=Q(kind=AppointmentKind.SESSION)),
    )


def therapist_pending_requests(*, therapist: TherapistProfile) -> QuerySet[Appointment]:
    """Consultation requests waiting for the therapist, oldest request first (it expires
    first)."""
    return (
        Appointment.objects.filter(
            therapist=therapist,
            kind=AppointmentKind.CONSULTATION,
            status=AppointmentStatus.REQUESTED,
        )
        .select_related(*_RELATED)
        .order_by("created_at", "id")
    )


def therapist_past_appointments(
    *, therapist: TherapistProfile, now: dt.datetime, days: int = 90
) -> QuerySet[Appointment]:
    """Appointments that ended (held, cancelled, declined or expired) in the last ``days``
    days, latest first: where a therapist books the first session after a consultation."""
    since = now - dt.timedelta(days=days)
    return (
        Appointment.objects.filter(therapist=therapist, starts_at__gte=since)
        .filter(Q(ends_at__lte=now) | ~Q(status__in=ACTIVE_STATUSES))
        .select_related(*_RELATED)
        .order_by("-starts_at", "-id")
    )


def consultations_due_to_expire(*, now: dt.datetime) -> QuerySet[Appointment]:
    """Requests left unanswered past ``BOOKING_REQUEST_EXPIRY_HOURS`` or whose time has come:
    what the expiry task passes to ``services.consultation_expire``."""
    waited_since = now - dt.timedelta(hours=settings.BOOKING_REQUEST_EXPIRY_HOURS)
    return (
        Appointment.objects.filter(
            kind=AppointmentKind.CONSULTATION, status=AppointmentStatus.REQUESTED
        )
        .filter(Q(created_at__lte=waited_since) | Q(starts_at__lte=now))
        .select_related("therapist")
        .order_by("created_at", "id")
    )


def therapist_weekly_windows(*, therapist: TherapistProfile) -> QuerySet[WeeklyWindow]:
    return WeeklyWindow.objects.filter(therapist=therapist).order_by("weekday", "starts_at")


def therapist_date_exceptions(
    *, therapist: TherapistProfile, today: dt.date
) -> QuerySet[DateException]:
    """Exceptions from ``today`` (the therapist's date) on; past ones no longer matter."""
    return DateException.objects.filter(therapist=therapist, date__gte=today).order_by(
        "date", "starts_at", "id"
    )


def booking_policy_of(*, therapist: TherapistProfile) -> BookingPolicy:
    """The therapist's policy for reading; the model's defaults when they never saved one
    (as slots.py reads it), so showing a page writes nothing."""
    return BookingPolicy.objects.filter(therapist=therapist).first() or BookingPolicy(
        therapist=therapist
    )


def therapist_offices(*, therapist: TherapistProfile) -> QuerySet[Office]:
    """The therapist's offices with their jurisdiction, for choosing where consultations are."""
    return Office.objects.filter(therapist=therapist).select_related("jurisdiction")


def therapist_held_consultations_without_session(
    *, therapist: TherapistProfile, now: dt.datetime, days: int
) -> QuerySet[Appointment]:
    """Confirmed consultations of the last ``days`` days, already over, with no active session
    booked after them: the ones a therapist may book a first session for."""
    with_active_session = Appointment.objects.filter(
        follow_ups__kind=AppointmentKind.SESSION, follow_ups__status__in=ACTIVE_STATUSES
    ).values("pk")
    return (
        therapist_past_appointments(therapist=therapist, now=now, days=days)
        .filter(
            kind=AppointmentKind.CONSULTATION,
            status=AppointmentStatus.CONFIRMED,
            ends_at__lte=now,
        )
        .exclude(pk__in=with_active_session)
    )


def therapist_recent_client_cancellations(
    *, therapist: TherapistProfile, since: dt.datetime, limit: int
) -> QuerySet[Appointment]:
    """Appointments clients cancelled since ``since``, newest first, at most ``limit``."""
    return Appointment.objects.filter(
        therapist=therapist,
        status=AppointmentStatus.CANCELLED,
        ended_by=Party.CLIENT,
        ended_at__gte=since,
    ).order_by("-ended_at")[:limit]


def client_appointments(*, user: User) -> QuerySet[Appointment]:
    """Every appointment that is the person's: linked to their account, or not linked to any
    account and booked with an e-mail address they have proved is theirs (a booking made before
    they had an account, or whose confirmation link they never clicked). Earliest first.

    An appointment linked to another account stays that account's even when its address is
    one this person has since verified: addresses change hands (a person moves to a new address
    and someone else later registers the old one), and the old bookings must not follow it.
    """
    condition = Q(client=user)
    for address in verified_addresses_of(user=user):
        condition |= Q(client__isnull=True, client_email__iexact=address)
    return (
        Appointment.objects.filter(condition)
        .select_related("therapist")
        .order_by("starts_at", "id")
    )
