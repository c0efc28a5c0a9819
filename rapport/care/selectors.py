"""Reads of engagements for pages, the API and the export."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from rapport.accounts.models import User
from rapport.booking.models import ACTIVE_STATUSES, Appointment, AppointmentKind
from rapport.care.models import CLOSED_STATUSES, Engagement, Invitation, InvitationStatus
from rapport.directory.models import TherapistProfile

# Open engagements (no end yet) first, then the newest. NULLs are placed explicitly: SQLite sorts
# them first and PostgreSQL last.
_OPEN_FIRST = (F("ended_at").asc(nulls_first=True), F("started_at").desc(), "id")


def client_engagements(*, user: User) -> QuerySet[Engagement]:
    """The person's engagements as a client, open ones first, newest first."""
    return Engagement.objects.filter(client=user).select_related("therapist").order_by(*_OPEN_FIRST)


def therapist_engagements(*, therapist: TherapistProfile) -> QuerySet[Engagement]:
    """The therapist's engagements, open ones first."""
    return (
        Engagement.objects.filter(therapist=therapist)
        .select_related("client")
        .order_by(*_OPEN_FIRST)
    )


def user_engagements(*, user: User) -> QuerySet[Engagement]:
    """Every engagement the person is in, on either side (for the API's list)."""
    return (
        Engagement.objects.filter(Q(client=user) | Q(therapist__user=user))
        .select_related("therapist", "client")
        .order_by(*_OPEN_FIRST)
    )


def client_pending_invitations(*, user: User) -> QuerySet[Invitation]:
    return Invitation.objects.filter(client=user, status=InvitationStatus.PENDING).select_related(
        "therapist"
    )


def therapist_pending_invitations(*, therapist: TherapistProfile) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        therapist=therapist, status=InvitationStatus.PENDING
    ).select_related("client")


def therapist_first_sessions_waiting(*, therapist: TherapistProfile) -> QuerySet[Appointment]:
    """Booked first sessions with no engagement yet: the client had no account when it was
    booked (erased clients, whose address is gone, are not waited for)."""
    return (
        Appointment.objects.filter(
            therapist=therapist,
            kind=AppointmentKind.SESSION,
            follows__isnull=False,
            status__in=ACTIVE_STATUSES,
            care_session__isnull=True,
        )
        .exclude(client_email="")
        .select_related("client", "follows")
        .order_by("starts_at")
    )


def engagement_is_open_between(*, client: User, therapist: TherapistProfile) -> bool:
    return (
        Engagement.objects.filter(client=client, therapist=therapist)
        .exclude(status__in=CLOSED_STATUSES)
        .exists()
    )
