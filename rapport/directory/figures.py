"""Platform figures for staff (and who counts as staff for them): how many listings wait, show
or pause, how long verification takes, and what the booking facts say across therapists.

Reply time and the consultation-to-first-session rate are read from the facts the booking app
stores on each profile (the directory never imports booking), so the platform figure is the
median therapist's figure: "the typical therapist answers within …". Therapists without enough
data have no fact yet and are left out, and the page says how many were counted.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from rapport.accounts.models import Role, User
from rapport.directory.access import can_review_licences
from rapport.directory.models import TherapistProfile, VerificationDecision, VerificationStatus

# Verification times of this recent past only: what a therapist who signs up today can expect.
VERIFICATION_WINDOW = dt.timedelta(days=180)


@dataclass(frozen=True)
class Median:
    value: float | None
    counted: int


@dataclass(frozen=True)
class PlatformFigures:
    pending: int  # sent for review, not yet decided
    drafts: int  # pending, never sent for review: the therapist is still filling it in
    live: int
    paused: int
    paused_not_accepting: int
    paused_hidden: int
    paused_unconfirmed: int
    rejected: int
    suspended: int
    days_to_verification: Median
    reply_minutes: Median
    first_session_rate_percent: Median


def _median_of(queryset: QuerySet[TherapistProfile], field: str) -> Median:
    """The median of a nullable column over the rows that have it, sorted by the database
    (two rows read at most, whatever the number of therapists)."""
    present = queryset.filter(**{f"{field}__isnull": False})
    counted = present.count()
    if counted == 0:
        return Median(value=None, counted=0)
    ordered = present.order_by(field).values_list(field, flat=True)
    middle = [ordered[(counted - 1) // 2], ordered[counted // 2]]
    return Median(value=statistics.fmean(middle), counted=counted)


def _days_to_verification(*, now: dt.datetime) -> Median:
    """Days from asking for review to the first "verified" decision, for therapists verified
    in the window (a later re-verification after a suspension is not a new sign-up). The wait
    starts when the therapist sent their profile for review; for a profile that never did (one
    from before onboarding, or made by staff), when it was created."""
    decisions = (
        VerificationDecision.objects.filter(
            status=VerificationStatus.VERIFIED,
            previous_status=VerificationStatus.PENDING,
            decided_at__gte=now - VERIFICATION_WINDOW,
        )
        .order_by("therapist_id", "decided_at")
        .values_list(
            "therapist_id",
            "decided_at",
            "therapist__created_at",
            "therapist__submitted_for_review_at",
        )
    )
    first_by_therapist: dict[int, float] = {}
    for therapist_id, decided_at, created_at, submitted_at in decisions:
        if therapist_id not in first_by_therapist:
            # A later submission (a licence edit sent it back) is not this wait's start.
            started = submitted_at if submitted_at and submitted_at <= decided_at else created_at
            waited = max(decided_at - started, dt.timedelta())
            first_by_therapist[therapist_id] = waited.total_seconds() / 86400
    days = list(first_by_therapist.values())
    if not days:
        return Median(value=None, counted=0)
    return Median(value=statistics.median(days), counted=len(days))


def platform_figures(*, now: dt.datetime) -> PlatformFigures:
    """Every figure of the staff page, in a handful of queries whatever the number of
    therapists. "Live" is ``selectors.therapist_listing``'s rule; "paused" is verified but not
    live, by the first reason that applies (hidden by the therapist, not accepting, or
    "accepting" not confirmed within LISTING_FRESHNESS_DAYS)."""
    freshness_floor = now - dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
    verified = Q(verification_status=VerificationStatus.VERIFIED)
    fresh = Q(accepting_confirmed_at__gte=freshness_floor)
    live = verified & Q(is_listed=True, accepting_new_clients=True) & fresh
    counts = TherapistProfile.objects.aggregate(
        pending=Count(
            "pk",
            filter=Q(verification_status=VerificationStatus.PENDING)
            & Q(submitted_for_review_at__isnull=False),
        ),
        drafts=Count(
            "pk",
            filter=Q(verification_status=VerificationStatus.PENDING, submitted_for_review_at=None),
        ),
        live=Count("pk", filter=live),
        paused=Count("pk", filter=verified & ~live),
        paused_hidden=Count("pk", filter=verified & Q(is_listed=False)),
        paused_not_accepting=Count(
            "pk", filter=verified & Q(is_listed=True, accepting_new_clients=False)
        ),
        paused_unconfirmed=Count(
            "pk",
            filter=verified & Q(is_listed=True, accepting_new_clients=True) & ~fresh,
        ),
        rejected=Count("pk", filter=Q(verification_status=VerificationStatus.REJECTED)),
        suspended=Count("pk", filter=Q(verification_status=VerificationStatus.SUSPENDED)),
    )
    profiles = TherapistProfile.objects.all()
    return PlatformFigures(
        **counts,
        days_to_verification=_days_to_verification(now=now),
        reply_minutes=_median_of(profiles, "median_reply_minutes"),
        first_session_rate_percent=_median_of(profiles, "first_session_rate_percent"),
    )


def can_see_platform_figures(user: User | AnonymousUser) -> bool:
    """Staff: accounts marked staff (by flag or role) and licence reviewers. Everyone else gets
    the same 404 as for a page that does not exist."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_staff or user.is_superuser or getattr(user, "role", None) == Role.STAFF:
        return True
    return can_review_licences(user)
