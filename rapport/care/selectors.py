"""Reads of engagements for pages, the API and the export."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, Q, QuerySet, Value, When

from rapport.accounts.models import User
from rapport.booking.models import ACTIVE_STATUSES, Appointment, AppointmentKind
from rapport.care import instruments
from rapport.care.models import (
    CLOSED_STATUSES,
    SCORE_ALERT_KINDS,
    Alert,
    AlertKind,
    CheckIn,
    CheckInStatus,
    Engagement,
    InstrumentVersion,
    Invitation,
    InvitationStatus,
    Sharing,
)
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


# --- instruments --------------------------------------------------------------------------

# Parsed definitions by content hash: a stored definition never changes, and parsing one runs
# the schema and every semantic rule again, far slower than scoring with it.
_parsed: dict[tuple[str, str, str], instruments.Instrument] = {}


def instrument_of(row: InstrumentVersion) -> instruments.Instrument:
    """The checked instrument a stored version holds (parsed once per process)."""
    key = (row.slug, row.version, row.content_hash)
    found = _parsed.get(key)
    if found is None:
        found = instruments.load_definition(row.definition)
        _parsed[key] = found
    return found


def instrument_current(*, slug: str) -> InstrumentVersion | None:
    """The version of ``slug`` loaded most recently, which new check-ins ask."""
    return InstrumentVersion.objects.filter(slug=slug).order_by("-loaded_at", "-id").first()


def instruments_current() -> list[InstrumentVersion]:
    """The newest version of every loaded instrument, by slug."""
    newest: dict[str, InstrumentVersion] = {}
    for row in InstrumentVersion.objects.order_by("slug", "-loaded_at", "-id"):
        newest.setdefault(row.slug, row)
    return list(newest.values())


# --- check-ins ----------------------------------------------------------------------------


def client_check_ins_due(*, user: User, now: dt.datetime) -> QuerySet[CheckIn]:
    """The person's check-ins waiting for an answer (at most one per engagement)."""
    return (
        CheckIn.objects.filter(
            engagement__client=user, status=CheckInStatus.OPEN, expires_at__gt=now
        )
        .select_related("engagement__therapist")
        .prefetch_related("parts__instrument")
        .order_by("expires_at", "id")
    )


def engagement_check_ins_answered(*, engagement: Engagement) -> QuerySet[CheckIn]:
    """The engagement's answered check-ins, oldest first, with their parts."""
    return (
        CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.COMPLETED)
        .prefetch_related("parts__instrument")
        .order_by("completed_at", "id")
    )


def engagement_open_check_in(*, engagement: Engagement, now: dt.datetime) -> CheckIn | None:
    return (
        CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN, expires_at__gt=now)
        .prefetch_related("parts__instrument")
        .first()
    )


def alerts_visible_to_therapist(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """``alerts`` without those the client's sharing hides: alerts raised from scores say
    something about the scores, so they are hidden while the client shares nothing. The crisis
    alert always shows."""
    return alerts.exclude(kind__in=SCORE_ALERT_KINDS, engagement__sharing=Sharing.NOTHING)


def engagement_alerts_for_therapist(
    *, engagement: Engagement, open_only: bool = False
) -> QuerySet[Alert]:
    """The engagement's alerts as its therapist may see them, newest first."""
    alerts = alerts_visible_to_therapist(Alert.objects.filter(engagement=engagement))
    if open_only:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return alerts.order_by("-created_at", "-id")


def therapist_open_alerts(*, therapist: TherapistProfile) -> QuerySet[Alert]:
    """Alerts the therapist has not acknowledged yet, crisis alerts first, then newest first.
    Alerts raised from scores are left out while the client shares nothing."""
    return (
        alerts_visible_to_therapist(
            Alert.objects.filter(engagement__therapist=therapist, acknowledged_at__isnull=True)
        )
        .select_related("engagement__client", "check_in")
        .order_by(
            Case(When(kind=AlertKind.CRISIS, then=Value(0)), default=Value(1)),
            "-created_at",
            "-id",
        )
    )
