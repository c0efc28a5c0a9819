"""The only way views and API handlers fetch threads and the reasons to open one.

Someone else's thread, engagement or consultation is the same 404 as one that does not exist,
so ids cannot be probed.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http import Http404

from rapport.accounts.models import User
from rapport.booking.models import Appointment, AppointmentKind
from rapport.care import access as care_access
from rapport.care.access import signed_in_person
from rapport.directory.access import get_practice_therapist
from rapport.messaging.models import MessageAttachment, Sender, Thread

# A client's own engagement is care's rule, used as it is (as is who counts as signed in).
get_engagement_for_client = care_access.get_engagement_for_client


def _one_thread(*conditions: Q, **lookups: object) -> Thread:
    """The one thread meeting the conditions, or the same 404 whoever asks."""
    thread = (
        Thread.objects.filter(*conditions, **lookups).select_related("therapist", "client").first()
    )
    if thread is None:
        raise Http404("No such thread.")
    return thread


def get_thread_for_client(user: User | AnonymousUser, public_id: uuid.UUID) -> Thread:
    return _one_thread(client=signed_in_person(user), public_id=public_id)


def get_thread_for_therapist(user: User | AnonymousUser, public_id: uuid.UUID) -> Thread:
    """One of the signed-in therapist's threads (the practice pages' rule for who that is)."""
    return _one_thread(therapist=get_practice_therapist(user), public_id=public_id)


def get_thread_for_user(user: User | AnonymousUser, public_id: uuid.UUID) -> tuple[Thread, str]:
    """The thread and the person's side in it, for the API (which serves both)."""
    person = signed_in_person(user)
    thread = _one_thread(Q(client=person) | Q(therapist__user=person), public_id=public_id)
    side = Sender.CLIENT if thread.client_id == person.pk else Sender.THERAPIST
    return thread, side


def get_consultation_for_client(user: User | AnonymousUser, public_id: uuid.UUID) -> Appointment:
    client = signed_in_person(user)
    consultation = (
        Appointment.objects.filter(
            client=client, public_id=public_id, kind=AppointmentKind.CONSULTATION
        )
        .select_related("therapist")
        .first()
    )
    if consultation is None:
        raise Http404("No such consultation.")
    return consultation


def _attachment_in(thread: Thread, public_id: uuid.UUID) -> MessageAttachment:
    attachment = (
        MessageAttachment.objects.filter(message__thread=thread, public_id=public_id)
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise Http404("No such file.")
    return attachment


def get_attachment_for_client(
    user: User | AnonymousUser, thread_id: uuid.UUID, public_id: uuid.UUID
) -> MessageAttachment:
    """A file in one of the client's own threads; anyone else's is the same 404 as none."""
    return _attachment_in(get_thread_for_client(user, thread_id), public_id)


def get_attachment_for_therapist(
    user: User | AnonymousUser, thread_id: uuid.UUID, public_id: uuid.UUID
) -> MessageAttachment:
    """A file in one of the signed-in therapist's threads."""
    return _attachment_in(get_thread_for_therapist(user, thread_id), public_id)
