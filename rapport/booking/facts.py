"""The booking facts a client sees on a listing: the next free consultation, how quickly the
therapist usually answers, and how often a consultation leads to a first session.

They are derived from appointments and stored on the profile (the directory never imports
booking), recomputed after every booking change (services schedule it on commit) and
periodically (``therapist_booking_facts_refresh_all``) because free times pass on their own.
"""

from __future__ import annotations

import datetime as dt
import statistics

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from rapport.booking import hooks, slots
from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    DateException,
    ExceptionKind,
    WeeklyWindow,
)
from rapport.directory.models import TherapistProfile
from rapport.directory.services import therapist_booking_facts_set

# A median of a handful is noise that a client would read as a promise; below these counts the
# profile says nothing rather than something misleading.
MINIMUM_REPLIES = 5
MINIMUM_HELD_CONSULTATIONS = 5
# Recent behaviour only: a therapist who became quicker should not be held to last year.
FACTS_WINDOW = dt.timedelta(days=180)
# At most this many therapists per periodic refresh round (``therapist_booking_facts_refresh_due``).
REFRESH_BATCH = 500
# Where the round-robin over therapists without a next free consultation continues.
_WAITING_CURSOR_KEY = "booking:facts-refresh:waiting-cursor"


def _reply_minutes(*, therapist: TherapistProfile, now: dt.datetime) -> list[float]:
    """Minutes to the therapist's first answer, one value per consultation that had one.

    A request left unanswered until it expired counts as answered at the expiry: leaving it out
    would make ignoring requests look like replying quickly.
    """
    expiry = dt.timedelta(hours=settings.BOOKING_REQUEST_EXPIRY_HOURS)
    rows = Appointment.objects.filter(
        therapist=therapist,
        kind=AppointmentKind.CONSULTATION,
        created_at__gte=now - FACTS_WINDOW,
    ).filter(
        Q(therapist_responded_at__isnull=False)
        | Q(status=AppointmentStatus.EXPIRED)
        | Q(status=AppointmentStatus.REQUESTED, created_at__lte=now - expiry)
    )
    minutes: list[float] = []
    for created_at, responded_at in rows.values_list("created_at", "therapist_responded_at"):
        waited = expiry if responded_at is None else max(responded_at - created_at, dt.timedelta())
        minutes.append(waited.total_seconds() / 60)
    return minutes


def therapist_median_reply_minutes(*, therapist: TherapistProfile, now: dt.datetime) -> int | None:
    """Median minutes to the first answer; None until there are MINIMUM_REPLIES data points.

    Consultation requests, and whatever apps above booking count as answers (messaging's
    replies to clients' messages, through ``hooks.register_reply_minutes_source``)."""
    minutes = _reply_minutes(therapist=therapist, now=now)
    minutes += hooks.reply_minutes_from_sources(
        therapist=therapist, since=now - FACTS_WINDOW, now=now
    )
    if len(minutes) < MINIMUM_REPLIES:
        return None
    return round(statistics.median(minutes))


def therapist_first_session_rate_percent(
    *, therapist: TherapistProfile, now: dt.datetime
) -> int | None:
    """Percent of held consultations (confirmed, already over) followed by a confirmed session;
    None until there are MINIMUM_HELD_CONSULTATIONS held consultations."""
    held = Appointment.objects.filter(
        therapist=therapist,
        kind=AppointmentKind.CONSULTATION,
        status=AppointmentStatus.CONFIRMED,
        ends_at__lte=now,
        ends_at__gte=now - FACTS_WINDOW,
    ).annotate(
        followed=Exists(
            Appointment.objects.filter(
                follows=OuterRef("pk"),
                kind=AppointmentKind.SESSION,
                status=AppointmentStatus.CONFIRMED,
            )
        )
    )
    flags = list(held.values_list("followed", flat=True))
    if len(flags) < MINIMUM_HELD_CONSULTATIONS:
        return None
    return round(100 * sum(1 for followed in flags if followed) / len(flags))


def therapist_booking_facts_refresh(*, therapist: TherapistProfile, now: dt.datetime) -> None:
    """Recompute the three facts and store them on the profile.

    Side effects: updates the profile's booking facts; bumps the search index version when the
    next free consultation changed (see ``therapist_booking_facts_set``).
    """
    next_free = (
        slots.therapist_next_free_time(therapist=therapist, now=now)
        if therapist.consultation_minutes > 0
        else None
    )
    therapist_booking_facts_set(
        therapist=therapist,
        next_consultation_at=next_free.starts_at if next_free else None,
        median_reply_minutes=therapist_median_reply_minutes(therapist=therapist, now=now),
        first_session_rate_percent=therapist_first_session_rate_percent(
            therapist=therapist, now=now
        ),
    )


def therapist_booking_facts_refresh_on_commit(*, therapist: TherapistProfile) -> None:
    """Recompute the therapist's booking facts once the current transaction commits (so the
    change that calls for it is visible), from services and the admin alike.

    Robust: the change itself is committed and must be reported as done even if the refresh
    fails; the next change (or the periodic refresh) recomputes the facts anyway.
    """
    transaction.on_commit(
        lambda: therapist_booking_facts_refresh(therapist=therapist, now=timezone.now()),
        robust=True,
    )


def therapist_booking_facts_refresh_all(*, now: dt.datetime | None = None) -> int:
    """Refresh every therapist that has booking settings (a periodic task: free times pass and
    requests expire without any booking change). Returns how many were refreshed."""
    now = now or timezone.now()
    count = 0
    therapists = TherapistProfile.objects.filter(booking_policy__isnull=False).order_by("pk")
    for therapist in therapists.iterator(chunk_size=500):
        therapist_booking_facts_refresh(therapist=therapist, now=now)
        count += 1
    return count


def _unbookable_q(now: dt.datetime) -> Q:
    """Profiles whose stored next free consultation can no longer be booked: it has passed, or
    it is within the therapist's minimum notice (per therapist, so one OR per notice in use;
    there are a handful, and the database compares plain datetimes on every backend)."""
    default_notice = slots.PolicyRules.defaults().minimum_notice_hours
    condition = Q(
        booking_policy__isnull=True,
        next_consultation_at__lt=now + dt.timedelta(hours=default_notice),
    )
    notices = BookingPolicy.objects.order_by().values_list("minimum_notice_hours", flat=True)
    for hours in sorted(set(notices.distinct())):
        condition |= Q(
            booking_policy__minimum_notice_hours=hours,
            next_consultation_at__lt=now + dt.timedelta(hours=hours),
        )
    return condition


def _may_have_free_time_q(now: dt.datetime) -> Q:
    """Profiles with no next free consultation that has availability it could come from: new
    days enter their horizon as time passes, without any booking change."""
    # A day early, so an extra-hours date is still counted wherever the therapist lives.
    since = (now - dt.timedelta(days=1)).date()
    return Q(next_consultation_at__isnull=True, consultation_minutes__gt=0) & (
        Q(Exists(WeeklyWindow.objects.filter(therapist=OuterRef("pk"))))
        | Q(
            Exists(
                DateException.objects.filter(
                    therapist=OuterRef("pk"), kind=ExceptionKind.EXTRA_HOURS, date__gte=since
                )
            )
        )
    )


def therapists_due_for_refresh(
    *, now: dt.datetime, limit: int = REFRESH_BATCH
) -> list[TherapistProfile]:
    """Up to ``limit`` profiles whose "next free consultation" may be out of date.

    First those whose stored time can no longer be booked (passed, or inside the minimum
    notice), oldest first: a refresh moves them on, so none waits behind the others for long.
    Then, with the room left, those without a time who have availability, round-robin by id
    from where the last round stopped (a refresh often leaves them without a time, and without
    the rotation the same ones would take the room every round).
    """
    chosen = list(
        TherapistProfile.objects.filter(_unbookable_q(now)).order_by("next_consultation_at", "pk")[
            :limit
        ]
    )
    room = limit - len(chosen)
    if room <= 0:
        return chosen
    waiting = TherapistProfile.objects.filter(_may_have_free_time_q(now)).order_by("pk")
    cursor = cache.get(_WAITING_CURSOR_KEY, 0)
    rotated = list(waiting.filter(pk__gt=cursor)[:room])
    if len(rotated) < room:
        rotated += list(waiting.filter(pk__lte=cursor)[: room - len(rotated)])
    if rotated:
        cache.set(_WAITING_CURSOR_KEY, rotated[-1].pk, timeout=None)
    return chosen + rotated


def therapist_booking_facts_refresh_due(*, now: dt.datetime, limit: int = REFRESH_BATCH) -> int:
    """Refresh the booking facts of ``therapists_due_for_refresh``; returns how many.

    Side effects: as ``therapist_booking_facts_refresh`` for each; moves the round-robin
    cursor (in the cache).
    """
    therapists = therapists_due_for_refresh(now=now, limit=limit)
    for therapist in therapists:
        therapist_booking_facts_refresh(therapist=therapist, now=now)
    return len(therapists)
