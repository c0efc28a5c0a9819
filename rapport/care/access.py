"""The only way views and API handlers fetch engagements (see docs/architecture.md).

Another person's engagement, session, goal or invitation is the same 404 as one that does not
exist, so ids cannot be probed.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http import Http404

from rapport.accounts.models import User
from rapport.booking.models import Appointment, AppointmentKind
from rapport.care.models import (
    Alert,
    CheckIn,
    Engagement,
    Invitation,
    InvitationStatus,
    Session,
    Side,
)
from rapport.care.selectors import alerts_visible_to_therapist
from rapport.care.tokens import BadCheckInToken, check_in_token_read
from rapport.directory.access import get_practice_therapist
from rapport.directory.models import TherapistProfile


def signed_in_person(user: User | AnonymousUser) -> User:
    """The signed-in, active person; anyone else gets the 404 of a page that does not exist
    (messaging's access helpers use it too)."""
    if not user.is_authenticated or not user.is_active or not isinstance(user, User):
        raise Http404("Nothing here.")
    return user


def get_engagement_for_client(user: User | AnonymousUser, public_id: uuid.UUID) -> Engagement:
    """One of the signed-in person's own engagements as a client."""
    client = signed_in_person(user)
    engagement = (
        Engagement.objects.filter(client=client, public_id=public_id)
        .select_related("therapist", "client")
        .first()
    )
    if engagement is None:
        raise Http404("No such engagement.")
    return engagement


def get_engagement_for_therapist(user: User | AnonymousUser, public_id: uuid.UUID) -> Engagement:
    """One of the signed-in therapist's engagements."""
    therapist = get_practice_therapist(user)
    engagement = (
        Engagement.objects.filter(therapist=therapist, public_id=public_id)
        .select_related("therapist", "client")
        .first()
    )
    if engagement is None:
        raise Http404("No such engagement.")
    return engagement


def get_engagement_for_user(
    user: User | AnonymousUser, public_id: uuid.UUID
) -> tuple[Engagement, str]:
    """The engagement and the side the person is on, for the API (which serves both)."""
    person = signed_in_person(user)
    engagement = (
        Engagement.objects.filter(public_id=public_id)
        .filter(Q(client=person) | Q(therapist__user=person))
        .select_related("therapist", "client")
        .first()
    )
    if engagement is None:
        raise Http404("No such engagement.")
    side = Side.CLIENT if engagement.client_id == person.pk else Side.THERAPIST
    return engagement, side


def get_session_for_therapist(engagement: Engagement, public_id: uuid.UUID) -> Session:
    session = engagement.sessions.filter(public_id=public_id).first()
    if session is None:
        raise Http404("No such session.")
    return session


def get_invitation_for_client(user: User | AnonymousUser, public_id: uuid.UUID) -> Invitation:
    """An invitation to the signed-in client that is still waiting for their answer."""
    client = signed_in_person(user)
    invitation = (
        Invitation.objects.filter(
            client=client, public_id=public_id, status=InvitationStatus.PENDING
        )
        .select_related("therapist", "client")
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def get_first_session_for_therapist(
    therapist: TherapistProfile, public_id: uuid.UUID
) -> Appointment:
    """A first session the therapist booked after a consultation (its engagement may wait for
    the client's account)."""
    session = (
        Appointment.objects.filter(
            therapist=therapist,
            public_id=public_id,
            kind=AppointmentKind.SESSION,
            follows__isnull=False,
        )
        .select_related("client", "follows", "follows__client", "follows__therapist")
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    return session


def get_check_in_for_client(user: User | AnonymousUser, public_id: uuid.UUID) -> CheckIn:
    """One of the signed-in person's own check-ins (any status: the page says when one has
    closed or was answered)."""
    client = signed_in_person(user)
    check_in = (
        CheckIn.objects.filter(engagement__client=client, public_id=public_id)
        .select_related("engagement__therapist", "engagement__client")
        .first()
    )
    if check_in is None:
        raise Http404("No such check-in.")
    return check_in


def get_check_in_by_token(token: str) -> CheckIn:
    """The check-in a request e-mail's link opens. The link can only ever answer it: the page
    shows no earlier answers, and once answered or closed it says only that."""
    try:
        public_id = check_in_token_read(token=token)
    except BadCheckInToken:
        raise Http404("This link is not valid or has expired.") from None
    check_in = (
        CheckIn.objects.filter(public_id=public_id)
        .select_related("engagement__therapist", "engagement__client")
        .first()
    )
    if check_in is None or not check_in.engagement.client.is_active:
        raise Http404("This link is not valid or has expired.")
    return check_in


def get_alert_for_therapist(user: User | AnonymousUser, public_id: uuid.UUID) -> Alert:
    """An alert about one of the signed-in therapist's clients."""
    therapist = get_practice_therapist(user)
    # An alert the client's sharing hides from the therapist is the same 404 as none.
    alert = (
        alerts_visible_to_therapist(
            Alert.objects.filter(engagement__therapist=therapist, public_id=public_id)
        )
        .select_related("engagement__client", "engagement__therapist", "check_in")
        .first()
    )
    if alert is None:
        raise Http404("No such alert.")
    return alert
