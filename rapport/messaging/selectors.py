"""Reads: who may write to whom and why, threads with their unread counts, the messages of a
thread, the header's question "has this person anywhere to message?"."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from rapport.booking.models import ACTIVE_STATUSES, Appointment, AppointmentKind
from rapport.care.models import CLOSED_STATUSES, Engagement
from rapport.directory.models import TherapistProfile
from rapport.messaging.models import Message, MessagingSettings, Sender, Thread

# A client may still write about a consultation for a few days after it (a follow-up question,
# "can we book a first session?"); after that the thread is for reading only.
CONSULTATION_GRACE = dt.timedelta(days=3)


def _open_engagements(client_id: int) -> QuerySet[Engagement]:
    return Engagement.objects.filter(client_id=client_id).exclude(status__in=CLOSED_STATUSES)


def _writable_consultations(client_id: int, now: dt.datetime) -> QuerySet[Appointment]:
    return Appointment.objects.filter(
        client_id=client_id,
        kind=AppointmentKind.CONSULTATION,
        status__in=ACTIVE_STATUSES,
        ends_at__gte=now - CONSULTATION_GRACE,
    )


def thread_is_writable(*, thread: Thread, now: dt.datetime) -> bool:
    """Whether the reason of the thread still lets either side write: the engagement is open,
    or the consultation is booked and not over by more than CONSULTATION_GRACE."""
    if thread.engagement_id is not None:
        return _open_engagements(thread.client_id).filter(pk=thread.engagement_id).exists()
    if thread.consultation_id is None:
        return False
    return _writable_consultations(thread.client_id, now).filter(pk=thread.consultation_id).exists()


def writable_thread_pks(*, threads: list[Thread], now: dt.datetime) -> set[int]:
    """``thread_is_writable`` for a whole list in two queries (an inbox, the API's list):
    the pks of the threads whose reason still lets either side write."""
    engagement_ids = {t.engagement_id for t in threads if t.engagement_id is not None}
    consultation_ids = {t.consultation_id for t in threads if t.consultation_id is not None}
    open_engagements = set(
        Engagement.objects.filter(pk__in=engagement_ids)
        .exclude(status__in=CLOSED_STATUSES)
        .values_list("pk", flat=True)
        if engagement_ids
        else []
    )
    open_consultations = set(
        Appointment.objects.filter(
            pk__in=consultation_ids,
            kind=AppointmentKind.CONSULTATION,
            status__in=ACTIVE_STATUSES,
            ends_at__gte=now - CONSULTATION_GRACE,
        ).values_list("pk", flat=True)
        if consultation_ids
        else []
    )
    return {
        t.pk
        for t in threads
        if t.engagement_id in open_engagements or t.consultation_id in open_consultations
    }


@dataclass(frozen=True)
class Reason:
    """Somewhere a client may write: an open engagement or a booked consultation, with its
    thread when one was started."""

    therapist: TherapistProfile
    engagement: Engagement | None
    consultation: Appointment | None
    thread: Thread | None

    @property
    def label(self) -> str:
        if self.engagement is not None:
            return "Your work together"
        assert self.consultation is not None
        return "Your free consultation"


def client_reasons(*, user: Any, now: dt.datetime) -> list[Reason]:
    """Every open engagement and writable consultation of the client, with its thread."""
    threads = {
        (thread.engagement_id, thread.consultation_id): thread
        for thread in Thread.objects.filter(client_id=user.pk)
    }
    reasons = [
        Reason(e.therapist, e, None, threads.get((e.pk, None)))
        for e in _open_engagements(user.pk).select_related("therapist")
    ]
    reasons += [
        Reason(a.therapist, None, a, threads.get((None, a.pk)))
        for a in _writable_consultations(user.pk, now).select_related("therapist")
    ]
    return reasons


def client_can_message(*, user: Any, now: dt.datetime) -> bool:
    """For the header's "Messages" link: a thread, an open engagement or a writable
    consultation (stops at the first found; the header keeps the answer for a few minutes)."""
    if not getattr(user, "pk", None):
        return False
    return (
        Thread.objects.filter(client_id=user.pk).exists()
        or _open_engagements(user.pk).exists()
        or _writable_consultations(user.pk, now).exists()
    )


def _with_unread(threads: QuerySet[Thread], unread_from: str) -> QuerySet[Thread]:
    return threads.annotate(
        unread=Count("messages", filter=Q(messages__sender=unread_from, messages__read_at=None))
    )


def client_threads(*, user: Any) -> QuerySet[Thread]:
    """The client's threads, newest activity first, each with ``unread`` (the therapist's
    messages the client has not opened)."""
    return _with_unread(
        Thread.objects.filter(client_id=user.pk).select_related("therapist"), Sender.THERAPIST
    )


def therapist_threads(*, therapist: TherapistProfile) -> QuerySet[Thread]:
    """The therapist's inbox, newest activity first, each with ``unread`` (clients' messages
    the therapist has not opened)."""
    return _with_unread(
        Thread.objects.filter(therapist=therapist).select_related("client"), Sender.CLIENT
    )


# Messages shown at once: the newest, with a link to earlier ones. A long thread (hundreds of
# messages over months) stays quick to open, and only what is shown is decrypted and recorded
# as read in the audit log.
PAGE_SIZE = 25


def thread_messages(*, thread: Thread) -> QuerySet[Message]:
    return Message.objects.filter(thread=thread).order_by("created_at", "id")


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]  # oldest first
    earlier: Message | None  # the oldest shown, when there are earlier ones to link to


def thread_messages_page(
    *, thread: Thread, before: uuid.UUID | None = None, size: int = PAGE_SIZE
) -> MessagePage:
    """The ``size`` newest messages of the thread, or the ``size`` before the message
    ``before`` (an id of this thread; an unknown one reads as the newest page)."""
    rows = Message.objects.filter(thread=thread)
    anchor = rows.filter(public_id=before).first() if before is not None else None
    if anchor is not None:
        rows = rows.filter(
            Q(created_at__lt=anchor.created_at) | Q(created_at=anchor.created_at, id__lt=anchor.pk)
        )
    newest_first = list(
        rows.order_by("-created_at", "-id").prefetch_related("attachments")[: size + 1]
    )
    shown = list(reversed(newest_first[:size]))
    return MessagePage(messages=shown, earlier=shown[0] if len(newest_first) > size else None)


# The daily cap counts a rolling 24 hours, never a calendar day: a calendar day would need a
# zone, and the only zone of the client's is the one they pick in the thread (changing it would
# start a new "day" at once).
CAP_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class CapUsage:
    count: int  # the client's messages to the therapist in the last 24 hours
    left: int  # how many more the cap allows now
    resets_at: dt.datetime | None  # when one more is allowed again (None: one is allowed now)


def client_cap_usage(*, thread: Thread, cap: int, now: dt.datetime) -> CapUsage:
    """The daily cap as it stands for the thread's client: their messages to the therapist
    (every thread of the pair) in the 24 hours before ``now``. At the cap, one more is allowed
    when the oldest counted message turns 24 hours old."""
    sent = list(
        Message.objects.filter(
            thread__client_id=thread.client_id,
            thread__therapist_id=thread.therapist_id,
            sender=Sender.CLIENT,
            created_at__gt=now - CAP_WINDOW,
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(sent) < cap:
        return CapUsage(count=len(sent), left=cap - len(sent), resets_at=None)
    # Over the cap (a lowered cap): wait until enough have aged out to leave one free.
    return CapUsage(count=len(sent), left=0, resets_at=sent[len(sent) - cap] + CAP_WINDOW)


def unread_count(*, user: Any) -> int:
    """Messages waiting for the person, as a client and as a therapist."""
    return Message.objects.filter(
        Q(thread__client_id=user.pk, sender=Sender.THERAPIST)
        | Q(thread__therapist__user_id=user.pk, sender=Sender.CLIENT),
        read_at=None,
    ).count()


def client_message_in(*, thread: Thread, public_id: uuid.UUID) -> Message | None:
    """A message the client sent in this thread (the caller has checked the thread is theirs)."""
    return Message.objects.filter(thread=thread, public_id=public_id, sender=Sender.CLIENT).first()


def messaging_settings_of(*, therapist: TherapistProfile) -> MessagingSettings | None:
    """The therapist's own messaging settings, or None before they first save them."""
    return MessagingSettings.objects.filter(therapist=therapist).first()
