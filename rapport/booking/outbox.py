"""The transactional outbox for appointment e-mails.

Services call ``outbox_write`` / ``outbox_reminders_write`` inside the transaction that changes
the appointment, so the e-mail row exists exactly when the change does: a crash before commit
leaves neither, a crash after commit leaves a pending row that the next delivery picks up.

Delivery (``outbox_deliver``, ``outbox_deliver_due``; run by the task worker and by
``rapport housekeeping``) goes in three steps:

1. **Claim** the row in a short transaction: ``select_for_update(skip_locked=True)`` on
   PostgreSQL, so concurrent workers take different rows without waiting; SQLite ignores the
   lock clause but its transactions start with ``BEGIN IMMEDIATE`` (settings), which serialises
   writers, so the read-then-update is just as exclusive. The claim is a lease
   (``claimed_until``) and counts an attempt.
2. **Hand off** to the mail server, outside any transaction (never hold a lock across SMTP).
3. **Mark** the row sent (or record the error and schedule a retry with backoff; after
   ``MAX_ATTEMPTS`` the row is failed).

The honest window: if the process dies after the mail server accepted the message but before
step 3 commits, the lease expires and the row is sent again. Every delivery of one row carries
the same ``Message-ID`` (derived from ``dedupe_key``), so mail systems that de-duplicate by
Message-ID show it once; others may show a duplicate. That window is a few milliseconds per
e-mail, and a duplicate reminder is far better than a lost one. Nothing can close it fully
without a mail server that takes part in our transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from email.mime.text import MIMEText
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rapport.booking import calendar, tokens
from rapport.booking.how import how_it_happens
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    OutboxEmail,
    OutboxStatus,
    Party,
)
from rapport.core.timezones import moment_label, span_label

logger = logging.getLogger(__name__)

# Purposes of OutboxEmail rows.
PURPOSE_BOOKED = "booked"  # to client (with .ics REQUEST) and to therapist
# To the client: waiting for the therapist (tentative .ics); to the therapist: please answer
# (no .ics: see calendar_method).
PURPOSE_REQUESTED = "requested"
PURPOSE_CONFIRMED = "confirmed"
PURPOSE_DECLINED = "declined"
PURPOSE_EXPIRED = "expired"  # to client, with similar therapists
PURPOSE_CANCELLED = "cancelled"  # .ics CANCEL
PURPOSE_RESCHEDULED = "rescheduled"  # .ics REQUEST with the raised SEQUENCE
PURPOSE_REMINDER_24H = "reminder_24h"
PURPOSE_REMINDER_1H = "reminder_1h"

PURPOSES = (
    PURPOSE_BOOKED,
    PURPOSE_REQUESTED,
    PURPOSE_CONFIRMED,
    PURPOSE_DECLINED,
    PURPOSE_EXPIRED,
    PURPOSE_CANCELLED,
    PURPOSE_RESCHEDULED,
    PURPOSE_REMINDER_24H,
    PURPOSE_REMINDER_1H,
)
REMINDERS = {
    PURPOSE_REMINDER_24H: dt.timedelta(hours=24),
    PURPOSE_REMINDER_1H: dt.timedelta(hours=1),
}
# Which calendar message an e-mail carries; reminders carry none (the event is already there).
_CALENDAR_METHODS = {
    PURPOSE_BOOKED: calendar.METHOD_REQUEST,
    PURPOSE_REQUESTED: calendar.METHOD_REQUEST,
    PURPOSE_CONFIRMED: calendar.METHOD_REQUEST,
    PURPOSE_RESCHEDULED: calendar.METHOD_REQUEST,
    PURPOSE_DECLINED: calendar.METHOD_CANCEL,
    PURPOSE_EXPIRED: calendar.METHOD_CANCEL,
    PURPOSE_CANCELLED: calendar.METHOD_CANCEL,
}

# E-mails that describe the appointment as it is; skipped at delivery once it ended or changed.
_CURRENT_STATE_PURPOSES = frozenset(
    {
        PURPOSE_BOOKED,
        PURPOSE_REQUESTED,
        PURPOSE_CONFIRMED,
        PURPOSE_RESCHEDULED,
        *REMINDERS,
    }
)

# A worker that claimed a row and died releases it when the lease runs out. Generous next to
# an SMTP hand-off (seconds), short next to a 1-hour reminder.
CLAIM_LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
DELIVERY_BATCH = 50
SIMILAR_THERAPISTS = 3


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failures: 1, 5, 25, 125 minutes."""
    return dt.timedelta(minutes=5 ** max(attempts - 1, 0))


def dedupe_key(*, appointment: Appointment, purpose: str, recipient: Party) -> str:
    return f"{appointment.public_id}:{purpose}:{recipient}:{appointment.sequence}"


def message_id(key: str) -> str:
    """The same Message-ID for every delivery of one outbox row (see the module docstring)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    domain = urlsplit(settings.SITE_URL).hostname or "rapport.invalid"
    return f"<{digest}@{domain}>"


# --- writing (inside the caller's transaction) ---------------------------------------------


def outbox_write(
    *,
    appointment: Appointment,
    purpose: str,
    recipient: Party,
    due_at: dt.datetime | None = None,
) -> OutboxEmail | None:
    """Queue one e-mail inside the caller's transaction (idempotent per appointment, purpose,
    recipient and sequence); delivery is enqueued on commit when it is due now.

    Returns the row (the existing one when this e-mail was already queued), or None when the
    recipient has no address (a therapist listing without an account).
    Side effects: an OutboxEmail row; on commit, the delivery task when the row is due.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown e-mail purpose {purpose!r}")
    if recipient == Party.SYSTEM:
        raise ValueError("Rapport does not e-mail itself")
    if _recipient_address(appointment, recipient) is None:
        return None
    now = timezone.now()
    due = due_at or now
    with transaction.atomic():
        # get_or_create uses a savepoint, so a concurrent duplicate cannot break the caller.
        email, created = OutboxEmail.objects.get_or_create(
            dedupe_key=dedupe_key(appointment=appointment, purpose=purpose, recipient=recipient),
            defaults={
                "appointment": appointment,
                "purpose": purpose,
                "recipient": recipient,
                "sequence": appointment.sequence,
                "due_at": due,
            },
        )
        if created and due <= now:
            # Robust: the row is committed whatever happens here, and housekeeping delivers
            # it if the queue is unreachable.
            transaction.on_commit(lambda: _enqueue_delivery(email.pk), robust=True)
    return email


def _enqueue_delivery(email_id: int) -> None:
    from rapport.booking.tasks import deliver_outbox_email  # the task module imports this one

    deliver_outbox_email.enqueue(email_id=email_id)


def outbox_reminders_write(*, appointment: Appointment, now: dt.datetime) -> None:
    """Queue the 24 h and 1 h reminders for the appointment's current time and sequence (those
    already past are skipped); reminders for earlier sequences are skipped at delivery.

    Reminders go to the client only: the therapist's day is in their calendar feed and on the
    practice page, and a busy practice should not get two e-mails per consultation.
    Side effects: up to two OutboxEmail rows, due later (housekeeping delivers them).
    """
    for purpose, ahead in REMINDERS.items():
        due = appointment.starts_at - ahead
        if due <= now:
            continue
        outbox_write(appointment=appointment, purpose=purpose, recipient=Party.CLIENT, due_at=due)


# --- delivering ----------------------------------------------------------------------------


def _claimable(now: dt.datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, due_at__lte=now, attempts__lt=MAX_ATTEMPTS) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def _claim(*, now: dt.datetime, email_id: int | None = None, limit: int = 1) -> list[int]:
    """Take a lease on due rows (one, or a batch); another worker skips them until it ends."""
    with transaction.atomic():
        rows = OutboxEmail.objects.filter(_claimable(now))
        if email_id is not None:
            rows = rows.filter(pk=email_id)
        ids = list(
            rows.select_for_update(skip_locked=True)
            .order_by("due_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OutboxEmail.objects.filter(pk__in=ids).update(
                claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1
            )
    return ids


def outbox_deliver(*, email_id: int, now: dt.datetime) -> str | None:
    """Deliver one outbox e-mail if it is due and nobody else holds it.

    Returns the row's new status (sent, skipped, failed, or pending again after a failure), or
    None when there was nothing to do (already handled, not due, or claimed by another worker).
    Side effects: at most one e-mail handed to the mail server; the row's status, attempts,
    sent_at and last_error.
    """
    if not _claim(now=now, email_id=email_id):
        return None
    return _deliver_claimed(email_id=email_id, now=now)


def outbox_deliver_due(*, now: dt.datetime) -> int:
    """Deliver every due outbox e-mail; returns how many were sent.

    Side effects: as ``outbox_deliver`` for each row; rows whose attempts ran out while their
    worker kept dying (the lease expired without an outcome) are marked failed.
    """
    OutboxEmail.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
        status=OutboxStatus.PENDING,
        attempts__gte=MAX_ATTEMPTS,
    ).update(status=OutboxStatus.FAILED, claimed_until=None)
    sent = 0
    while ids := _claim(now=now, limit=DELIVERY_BATCH):
        for email_id in ids:
            if _deliver_claimed(email_id=email_id, now=now) == OutboxStatus.SENT:
                sent += 1
    return sent


def _finish(email_id: int, **fields: Any) -> None:
    OutboxEmail.objects.filter(pk=email_id).update(claimed_until=None, **fields)


def _deliver_claimed(*, email_id: int, now: dt.datetime) -> str:
    email = OutboxEmail.objects.select_related("appointment__therapist__user").get(pk=email_id)
    appointment = email.appointment
    reason = _why_not_needed(email, now)
    if reason:
        _finish(email_id, status=OutboxStatus.SKIPPED, last_error=reason)
        return OutboxStatus.SKIPPED
    try:
        message = build_message(email, now=now)
        message.send(fail_silently=False)
    except Exception as error:  # any failure of rendering or SMTP: record it and retry later
        logger.warning(
            "Outbox e-mail %s (%s) failed on attempt %s: %s",
            email.pk,
            email.purpose,
            email.attempts,
            type(error).__name__,
        )
        last_error = f"{type(error).__name__}: {error}"[:300]
        if email.attempts >= MAX_ATTEMPTS:
            _finish(email_id, status=OutboxStatus.FAILED, last_error=last_error)
            return OutboxStatus.FAILED
        _finish(email_id, due_at=now + retry_delay(email.attempts), last_error=last_error)
        return OutboxStatus.PENDING
    _finish(email_id, status=OutboxStatus.SENT, sent_at=now, last_error="")
    logger.info("Outbox e-mail %s (%s) sent for %s", email.pk, email.purpose, appointment.pk)
    return OutboxStatus.SENT


def _why_not_needed(email: OutboxEmail, now: dt.datetime) -> str:
    """Why a row should not go out any more (empty when it should).

    E-mails that announce an appointment's current state (booked, requested, confirmed, new
    time, reminders) are out of date once the appointment ended or changed again: a late retry
    must not tell the client about a time that was cancelled or moved since. E-mails about an
    ending (cancelled, declined, expired) are the latest news and always go out.
    """
    appointment = email.appointment
    if _recipient_address(appointment, Party(email.recipient)) is None:
        return "The recipient has no e-mail address."
    if email.purpose in _CURRENT_STATE_PURPOSES:
        what = "reminder" if email.purpose in REMINDERS else "e-mail"
        if appointment.status not in ACTIVE_STATUSES:
            return "The appointment is no longer active."
        if appointment.sequence != email.sequence:
            return f"The appointment changed after this {what} was written."
    if email.purpose in REMINDERS and appointment.starts_at <= now:
        return "The appointment has already started."
    return ""


# --- what an e-mail says -------------------------------------------------------------------


@dataclass(frozen=True)
class _Recipient:
    address: str
    zone: str


def _recipient_address(appointment: Appointment, recipient: Party) -> _Recipient | None:
    if recipient == Party.CLIENT:
        return _Recipient(appointment.client_email, appointment.client_time_zone)
    if recipient == Party.THERAPIST:
        user = appointment.therapist.user
        if user is not None and user.email:
            return _Recipient(user.email, appointment.therapist.time_zone)
    return None


def format_when(start: dt.datetime, end: dt.datetime, zone: str) -> str:
    """Like "Sunday, March 8, 2026 at 10:00 a.m. Eastern Time (Toronto), for 15 minutes": the
    zone is always named, because a client may be travelling or live far from their therapist
    (``rapport.core.timezones`` writes every day, time and zone the same way)."""
    return span_label(start, end, ZoneInfo(zone))


def _short_when(start: dt.datetime, zone: str) -> str:
    """A moment as pages write it, for subjects and lists."""
    return moment_label(start, ZoneInfo(zone))


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _token_link(appointment: Appointment, purpose: str, route: str) -> str:
    token = tokens.appointment_token_make(appointment=appointment, purpose=purpose)
    return _absolute(reverse(route, args=[token]))


def manage_url(appointment: Appointment) -> str:
    return _token_link(
        appointment,
        tokens.PURPOSE_MANAGE,
        "booking:consultation_manage",
    )


def confirm_email_url(appointment: Appointment) -> str:
    return _token_link(
        appointment,
        tokens.PURPOSE_CONFIRM_EMAIL,
        "booking:client_email_confirm",
    )


@dataclass(frozen=True)
class SimilarTherapist:
    name: str
    next_consultation: str
    url: str


def similar_therapists(
    *, appointment: Appointment, now: dt.datetime, limit: int = SIMILAR_THERAPISTS
) -> list[SimilarTherapist]:
    """Listed therapists like the one who did not answer, with a free consultation time coming
    up (the directory decides what "like" means: ``therapists_similar_to``)."""
    from rapport.directory.selectors import therapists_similar_to

    candidates = therapists_similar_to(
        therapist=appointment.therapist, now=now, limit=limit, with_consultation_after=now
    )
    zone = appointment.client_time_zone
    return [
        SimilarTherapist(
            name=candidate.display_name,
            next_consultation=_short_when(candidate.next_consultation_at, zone)
            if candidate.next_consultation_at
            else "",
            url=_absolute(reverse("directory:therapist_detail", args=[candidate.public_id])),
        )
        for candidate in candidates
    ]


def _kind(appointment: Appointment) -> str:
    return "session" if appointment.kind == AppointmentKind.SESSION else "consultation"


def _kind_label(appointment: Appointment) -> str:
    return "session" if appointment.kind == AppointmentKind.SESSION else "free consultation"


def _their_note(appointment: Appointment, recipient: Party) -> str:
    """The reason the other person gave for ending the appointment (or, while it is active, for
    last moving it), indented for a plain-text body; empty for the person who wrote it.

    Reasons are typed by people (a client may explain far more than they should), so they go
    in the body of the e-mail to the other side only: never in a subject, which previews and
    notifications show, nor in a calendar file, which syncs to shared calendars.
    """
    if appointment.status in ACTIVE_STATUSES:
        if appointment.changed_by in ("", recipient):
            return ""
        lines = appointment.change_reason.strip().splitlines()
        return "\n".join(f"  {line}".rstrip() for line in lines)
    if appointment.ended_by == recipient:
        return ""
    if appointment.ended_by == Party.SYSTEM:
        # Rapport's own reasons ("did not answer within 48 hours") are said by the templates.
        return ""
    lines = appointment.end_reason.strip().splitlines()
    return "\n".join(f"  {line}".rstrip() for line in lines)


def calendar_method(purpose: str, *, recipient: Party, appointment: Appointment) -> str | None:
    """The calendar message an e-mail carries, if any.

    A therapist's calendar gets an invitation only for a confirmed appointment: a request they
    have not answered is on their practice page and in their feed, and a tentative event sent
    by e-mail would stay in their calendar after a decline or expiry, which e-mail only the
    client. Every cancellation of a confirmed appointment reaches both sides.
    """
    method = _CALENDAR_METHODS.get(purpose)
    if (
        method == calendar.METHOD_REQUEST
        and recipient == Party.THERAPIST
        and appointment.status != AppointmentStatus.CONFIRMED
    ):
        return None
    return method


def _subject(purpose: str, recipient: Party, appointment: Appointment, zone: str) -> str:
    """What the e-mail is about, and when, without naming anyone.

    A subject shows on lock screens, in notification previews and in shared inboxes: that a
    person is seeing a therapist, or who a therapist's clients are, must not show there. The
    names are in the body.
    """
    when = _short_when(appointment.starts_at, zone)
    kind = _kind(appointment)
    # What was booked: a consultation is free, a session is not.
    booked = _kind_label(appointment)
    if recipient == Party.CLIENT:
        subjects = {
            PURPOSE_BOOKED: f"Your {booked} is booked — {when}",
            PURPOSE_REQUESTED: f"Your consultation request was sent — {when}",
            PURPOSE_CONFIRMED: f"Your {kind} is confirmed — {when}",
            PURPOSE_DECLINED: "Your consultation request could not be accepted",
            PURPOSE_EXPIRED: "Your consultation request was not answered in time",
            PURPOSE_CANCELLED: f"Cancelled: your {kind} — {when}",
            PURPOSE_RESCHEDULED: f"New time: your {kind} — {when}",
            PURPOSE_REMINDER_24H: f"Tomorrow: your {kind} — {when}",
            PURPOSE_REMINDER_1H: f"In one hour: your {kind} — {when}",
        }
    else:
        subjects = {
            PURPOSE_BOOKED: f"New {kind} booked — {when}",
            PURPOSE_REQUESTED: f"New consultation request: please answer — {when}",
            PURPOSE_CONFIRMED: f"Confirmed: {kind} — {when}",
            PURPOSE_DECLINED: "Declined: a consultation request",
            PURPOSE_EXPIRED: "Expired: a consultation request was not answered",
            PURPOSE_CANCELLED: f"Cancelled: {kind} — {when}",
            PURPOSE_RESCHEDULED: f"New time: {kind} — {when}",
            PURPOSE_REMINDER_24H: f"Tomorrow: {kind} — {when}",
            PURPOSE_REMINDER_1H: f"In one hour: {kind} — {when}",
        }
    return f"[Rapport] {subjects[purpose]}"


def build_message(email: OutboxEmail, *, now: dt.datetime) -> EmailMessage:
    """The e-mail for an outbox row, as it is sent: plain text in the recipient's zone, the
    calendar attachment for changes, and the row's stable Message-ID."""
    appointment = email.appointment
    recipient = Party(email.recipient)
    target = _recipient_address(appointment, recipient)
    if target is None:
        raise ValueError("The recipient has no e-mail address.")
    to_client = recipient == Party.CLIENT
    context: dict[str, Any] = {
        "appointment": appointment,
        "therapist": appointment.therapist,
        "to_client": to_client,
        "kind": _kind(appointment),
        "kind_label": _kind_label(appointment),
        "is_session": appointment.kind == AppointmentKind.SESSION,
        "when": format_when(appointment.starts_at, appointment.ends_at, target.zone),
        "client_first_name": (appointment.client_name.split() or ["the client"])[0],
        "expiry_hours": settings.BOOKING_REQUEST_EXPIRY_HOURS,
        "practice_url": _absolute(reverse("booking:practice_home")),
        "site_url": settings.SITE_URL,
    }
    if to_client:
        context["manage_url"] = manage_url(appointment)
        context["directory_url"] = _absolute(reverse("directory:therapist_list"))
        context["therapist_url"] = _absolute(
            reverse("directory:therapist_detail", args=[appointment.therapist.public_id])
        )
        # Only the first e-mail asks the client to confirm their address.
        if (
            email.purpose in (PURPOSE_BOOKED, PURPOSE_REQUESTED)
            and appointment.client_email_confirmed_at is None
        ):
            context["confirm_email_url"] = confirm_email_url(appointment)
        if email.purpose == PURPOSE_EXPIRED:
            context["similar"] = similar_therapists(appointment=appointment, now=now)
    method = calendar_method(email.purpose, recipient=recipient, appointment=appointment)
    context["has_calendar"] = method is not None
    context["their_note"] = _their_note(appointment, recipient)
    # How it happens, worded for the recipient; never the client's phone number (see how.py).
    context["how"] = how_it_happens(appointment, recipient=recipient)
    body = render_to_string(f"booking/email/{email.purpose}.txt", context)
    message = EmailMessage(
        subject=_subject(email.purpose, recipient, appointment, target.zone),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[target.address],
        headers={"Message-ID": message_id(email.dedupe_key), "Auto-Submitted": "auto-generated"},
    )
    if method is not None:
        ics = calendar.appointment_calendar(
            appointment=appointment, method=method, zone=target.zone, recipient=recipient, now=now
        )
        message.attach(_calendar_part(ics, method))
    return message


def _calendar_part(ics: bytes, method: str) -> MIMEText:
    # Built by hand: calendar clients look for the ``method`` parameter on the content type to
    # treat the attachment as an invitation or a cancellation.
    part = MIMEText(ics.decode(), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="consultation.ics")
    return part
