"""Every state change of messaging: one function each, keyword-only, in a transaction.

Nothing is written when a service refuses (``rapport.messaging.errors``). E-mails never carry
what anyone wrote: the daily digest says how many messages wait, and links to the inbox.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, DateTimeField, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from rapport.booking.facts import therapist_booking_facts_refresh_on_commit
from rapport.booking.models import Appointment
from rapport.care.models import Engagement
from rapport.core.timezones import moment_label, zone_or_none
from rapport.directory.models import TherapistProfile
from rapport.messaging import attachments as attachments_check
from rapport.messaging import policy, selectors
from rapport.messaging.crisis import has_crisis_language
from rapport.messaging.errors import DailyCapReached, MessageInvalid, NoReasonToWrite
from rapport.messaging.models import (
    ALL_DAYS,
    MAX_BODY_LENGTH,
    MAX_DAILY_CAP,
    DigestSent,
    Message,
    MessageAttachment,
    MessagingSettings,
    Sender,
    Thread,
)

# Without set hours, a therapist's digest goes out in a plain working day of their zone:
# Monday to Friday, 9:00 to 17:00 (never at night or at the weekend).
DIGEST_DAYS_WITHOUT_HOURS = (0, 1, 2, 3, 4)
DIGEST_WINDOW_WITHOUT_HOURS = (dt.time(9, 0), dt.time(17, 0))
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _client_zone_name(*, client: Any, therapist: TherapistProfile, consultation: Any) -> str:
    """The zone the client booked in (this consultation, or their latest with the therapist);
    the therapist's when they never booked."""
    if consultation is not None:
        return str(consultation.client_time_zone)
    latest = (
        Appointment.objects.filter(client=client, therapist=therapist)
        .order_by("-created_at")
        .values_list("client_time_zone", flat=True)
        .first()
    )
    return latest if latest and zone_or_none(latest) else therapist.time_zone


def thread_open(
    *,
    client: Any,
    engagement: Engagement | None = None,
    consultation: Appointment | None = None,
    now: dt.datetime,
) -> Thread:
    """The client's thread for this engagement or consultation, started if need be.

    Refuses (``NoReasonToWrite``) when the reason is not the client's or no longer lets them
    write. Side effects: may create the thread (idempotent: a second call returns the same)."""
    if (engagement is None) == (consultation is None):
        raise ValueError("A thread has exactly one reason: an engagement or a consultation.")
    if engagement is not None:
        allowed = engagement.client_id == client.pk and engagement.is_open
        therapist = engagement.therapist
    else:
        assert consultation is not None
        allowed = (
            selectors._writable_consultations(client.pk, now).filter(pk=consultation.pk).exists()
        )
        therapist = consultation.therapist
    if not allowed:
        raise NoReasonToWrite("There is nothing to message about here.")
    found = Thread.objects.filter(
        client=client, therapist=therapist, engagement=engagement, consultation=consultation
    ).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Thread.objects.create(
                client=client,
                therapist=therapist,
                engagement=engagement,
                consultation=consultation,
                client_time_zone=_client_zone_name(
                    client=client, therapist=therapist, consultation=consultation
                ),
                created_at=now,
            )
    except IntegrityError:
        # Opened at the same moment from another tab: that one is the thread.
        return Thread.objects.get(
            client=client, therapist=therapist, engagement=engagement, consultation=consultation
        )


@dataclass(frozen=True)
class SentMessage:
    message: Message
    # The text has crisis language: the sender's page shows the crisis card at once.
    crisis: bool
    # Sent outside the therapist's hours; ``expect_reply_by`` says when a reply is due.
    outside_hours: bool
    expect_reply_by: dt.datetime


def _body_problems(body: str) -> list[tuple[str, str]]:
    if not body.strip():
        return [("body", "Write your message first.")]
    if "\x00" in body:
        # The pages' forms refuse it too: a null character is never something a person typed.
        return [("body", "Null characters are not allowed.")]
    if len(body) > MAX_BODY_LENGTH:
        return [
            (
                "body",
                f"Messages can be up to {MAX_BODY_LENGTH:,} characters; this one has "
                f"{len(body):,}. Shorten it, or bring the rest to your next session.",
            )
        ]
    return []


def message_send(
    *,
    thread: Thread,
    sender: str,
    body: str,
    about_scheduling: bool = False,
    attachments: Sequence[UploadedFile] = (),
    now: dt.datetime,
) -> SentMessage:
    """Send ``body`` from ``sender`` (a ``Sender`` value) in ``thread``, by every rule:

    - the thread's reason must still let them write (``NoReasonToWrite``, a 404);
    - a message is 1 to MAX_BODY_LENGTH characters, stored exactly as typed (HTML included;
      pages escape it) (``MessageInvalid``, field ``body``);
    - a client writing to a therapist whose policy is no contact or scheduling questions only
      must say the message is about scheduling (``MessageInvalid``, field ``about_scheduling``);
    - a client sends at most the therapist's daily cap in any 24 hours, counted over every
      thread with that therapist (``DailyCapReached``, with when the oldest counted message
      turns 24 hours old; the thread's zone only words that moment);
    - ``attachments`` only when the deployer allows them, at most the number allowed, each a
      file whose bytes are an allowed kind within the size cap (``MessageInvalid``, field
      ``attachments``; see ``rapport.messaging.attachments``).

    Crisis language never blocks a message: the result says so, for the crisis card.
    Side effects: one message and its attachments (files written only once every check has
    passed, and removed again if the message is not stored); the thread's last activity; a
    therapist's reply has booking's facts (the median reply time) recomputed on commit.
    Nothing on any refusal."""
    body = body.replace("\r\n", "\n")
    # Files are read and checked before anything is locked or written.
    checked, file_problems = attachments_check.check_files(list(attachments))
    written: list[str] = []
    try:
        return _message_store(
            thread=thread,
            sender=sender,
            body=body,
            about_scheduling=about_scheduling,
            checked=checked,
            file_problems=file_problems,
            written=written,
            now=now,
        )
    except BaseException:
        storage = attachments_check.attachment_storage()
        for name in written:
            storage.delete(name)
        raise


def _message_store(
    *,
    thread: Thread,
    sender: str,
    body: str,
    about_scheduling: bool,
    checked: list[attachments_check.CheckedFile],
    file_problems: list[str],
    written: list[str],
    now: dt.datetime,
) -> SentMessage:
    """``message_send`` past reading the files: every rule, then the rows and files. Each
    file's storage name goes into ``written`` as it is saved, for the caller to remove on any
    failure."""
    with transaction.atomic():
        # Every thread of the pair, locked in one order: two messages sent at once cannot
        # both pass the daily cap.
        locked = list(
            Thread.objects.select_for_update()
            .filter(client_id=thread.client_id, therapist_id=thread.therapist_id)
            .order_by("pk")
        )
        if thread.pk not in {row.pk for row in locked} or not selectors.thread_is_writable(
            thread=thread, now=now
        ):
            raise NoReasonToWrite("There is nothing to message about here.")
        rules = policy.policy_for(thread.therapist)
        problems = _body_problems(body) + [("attachments", text) for text in file_problems]
        if sender == Sender.CLIENT:
            if rules.scheduling_only and not about_scheduling:
                problems.append(
                    (
                        "about_scheduling",
                        f"{rules.therapist_name} accepts messages about scheduling only "
                        "(times, cancelling, moving a session). If this is about scheduling, "
                        "tick the box; anything else is for your next session.",
                    )
                )
            if problems:
                raise MessageInvalid(problems)
            # Counted under the lock above: two sends at once cannot both pass.
            usage = selectors.client_cap_usage(thread=thread, cap=rules.daily_cap, now=now)
            if usage.resets_at is not None:
                zone = zoneinfo.ZoneInfo(thread.client_time_zone)
                raise DailyCapReached(
                    f"You have sent {usage.count} messages to {rules.therapist_name} in the "
                    "last 24 hours, as many as they accept in a day. You can write again from "
                    f"{moment_label(usage.resets_at, zone)}.",
                    resets_at=usage.resets_at,
                )
        elif problems:
            raise MessageInvalid(problems)
        message = Message.objects.create(
            thread=thread,
            sender=sender,
            body=body,
            about_scheduling=about_scheduling and sender == Sender.CLIENT,
            created_at=now,
        )
        storage = attachments_check.attachment_storage() if checked else None
        for item in checked:
            assert storage is not None
            # Sealed: the bytes at rest are as unreadable without the keys as a message.
            sealed = ContentFile(attachments_check.seal(item.data))
            name = storage.save(attachments_check.stored_name(item.kind), sealed)
            written.append(name)
            MessageAttachment.objects.create(
                message=message,
                kind=item.kind.value,
                stored_name=name,
                display_name=item.display_name,
                size=item.size,
                created_at=now,
            )
        Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
        thread.last_message_at = now
        if sender == Sender.THERAPIST:
            # A reply moves the therapist's median reply time (booking's figure).
            therapist_booking_facts_refresh_on_commit(therapist=thread.therapist)
    return SentMessage(
        message=message,
        crisis=has_crisis_language(body),
        outside_hours=not policy.is_within_hours(rules, now),
        expect_reply_by=policy.expected_reply_by(rules, now),
    )


def thread_time_zone_set(*, thread: Thread, time_zone: str) -> Thread:
    """The client picks the zone they read times in (the policy, the hours, when the cap
    resets). Refuses (``ValidationError`` on ``time_zone``) a name Rapport does not accept.
    Side effects: the thread's zone, which only words times: the cap counts 24 hours, so no
    zone can reset it."""
    if zone_or_none(time_zone) is None:
        raise ValidationError({"time_zone": "Choose a time zone from the list."})
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(client_time_zone=time_zone)
    thread.client_time_zone = time_zone
    return thread


def thread_mark_read(*, thread: Thread, reader: str, now: dt.datetime) -> int:
    """The reader (a ``Sender`` value) opened the thread: the other side's unread messages
    become read. Only the reader's unread counts use it; the sender is never shown it.
    Side effects: read_at on those messages. Returns how many."""
    with transaction.atomic():
        return (
            Message.objects.filter(thread=thread, read_at=None)
            .exclude(sender=reader)
            .update(read_at=now)
        )


def messaging_settings_set(
    *,
    therapist: TherapistProfile,
    contact_days: int,
    contact_starts_at: dt.time | None,
    contact_ends_at: dt.time | None,
    daily_cap: int,
) -> MessagingSettings:
    """Set when the therapist reads messages and the daily cap per client.

    Refuses (``ValidationError`` naming the field) hours that are not whole (days without
    times, times without days), an end not after the start, a cap outside 1 to MAX_DAILY_CAP.
    Side effects: creates or updates the therapist's settings row."""
    errors: dict[str, str] = {}
    if not 0 <= contact_days <= ALL_DAYS:
        errors["contact_days"] = "Choose days of the week."
    if contact_days and (contact_starts_at is None or contact_ends_at is None):
        errors["contact_starts_at"] = "Give the time your hours start and end on those days."
    elif not contact_days and (contact_starts_at is not None or contact_ends_at is not None):
        errors["contact_days"] = "Choose the days these hours apply to."
    elif (
        contact_starts_at is not None
        and contact_ends_at is not None
        and contact_ends_at <= contact_starts_at
    ):
        errors["contact_ends_at"] = "End your hours after they start (on the same day)."
    if not 1 <= daily_cap <= MAX_DAILY_CAP:
        errors["daily_cap"] = f"Choose a number from 1 to {MAX_DAILY_CAP}."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, _ = MessagingSettings.objects.select_for_update().get_or_create(therapist=therapist)
        row.contact_days = contact_days
        row.contact_starts_at = contact_starts_at if contact_days else None
        row.contact_ends_at = contact_ends_at if contact_days else None
        row.daily_cap = daily_cap
        row.save()
    return row


# --- the daily digest -------------------------------------------------------------------------


def _digest_due(
    *, local: dt.datetime, settings_row: tuple[int, dt.time | None, dt.time | None] | None
) -> bool:
    """Whether ``local`` (the therapist's wall clock) is inside their hours today: one of
    their days, from the start up to (not including) the end. Without set hours, inside
    DIGEST_WINDOW_WITHOUT_HOURS on DIGEST_DAYS_WITHOUT_HOURS. An e-mail after the hours have
    ended would ask for work outside them; the next run inside the window sends it."""
    days, starts, ends = settings_row if settings_row is not None else (0, None, None)
    if not days or starts is None or ends is None:
        starts, ends = DIGEST_WINDOW_WITHOUT_HOURS
        days = sum(1 << day for day in DIGEST_DAYS_WITHOUT_HOURS)
    return bool(days & (1 << local.weekday())) and starts <= local.time() < ends


def message_digests_send(*, now: dt.datetime) -> int:
    """Tell each therapist, once a day inside their hours (the first run after they begin,
    never after they end; without set hours, weekdays 9:00 to 17:00), how many clients' messages
    arrived since their last digest and are still unread ("2 new messages"), never what they
    say or who wrote them. Idempotent per therapist and day in their zone (the digest record is
    unique per day, so another run or another server sends nothing more).

    Side effects: one digest record per therapist told; the e-mail is queued on commit.
    Returns how many digests were sent."""
    last_digest = Subquery(
        DigestSent.objects.filter(therapist_id=OuterRef("thread__therapist_id"))
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    counts = dict(
        Message.objects.filter(sender=Sender.CLIENT, read_at=None)
        .annotate(since=Coalesce(last_digest, Value(_EPOCH, output_field=DateTimeField())))
        .filter(created_at__gt=F("since"))
        .values("thread__therapist_id")
        .annotate(count=Count("pk"))
        .values_list("thread__therapist_id", "count")
    )
    if not counts:
        return 0
    therapists = TherapistProfile.objects.filter(
        pk__in=counts, user__isnull=False, user__is_active=True
    ).values_list("pk", "time_zone")
    hours = {
        therapist_id: (days, starts, ends)
        for therapist_id, days, starts, ends in MessagingSettings.objects.filter(
            therapist_id__in=counts
        ).values_list("therapist_id", "contact_days", "contact_starts_at", "contact_ends_at")
    }
    due: list[tuple[int, dt.date]] = []
    for therapist_id, zone_name in therapists:
        local = now.astimezone(zoneinfo.ZoneInfo(zone_name))
        if _digest_due(local=local, settings_row=hours.get(therapist_id)):
            due.append((therapist_id, local.date()))
    done = set(
        DigestSent.objects.filter(
            therapist_id__in=[t for t, _ in due], local_date__in={d for _, d in due}
        ).values_list("therapist_id", "local_date")
    )
    sent = 0
    for therapist_id, local_date in due:
        if (therapist_id, local_date) in done:
            continue
        try:
            with transaction.atomic():
                DigestSent.objects.create(
                    therapist_id=therapist_id,
                    local_date=local_date,
                    sent_at=now,
                    message_count=counts[therapist_id],
                )
                _on_commit_digest(therapist_id=therapist_id, count=counts[therapist_id])
        except IntegrityError:
            continue  # another run told them today
        sent += 1
    return sent


def _on_commit_digest(*, therapist_id: int, count: int) -> None:
    # Imported here: tasks import services (a task takes ids, loads, calls a service).
    from rapport.messaging import tasks

    transaction.on_commit(
        lambda: tasks.send_message_digest.enqueue(therapist_id=therapist_id, count=count)
    )


# --- account deletion -------------------------------------------------------------------------


def client_threads_erase(*, user: Any) -> int:
    """Account deletion: the person's threads as a client go, with every message in them (all
    of it is about them). Returns how many threads were removed. The therapist's side keeps
    nothing; the audit log keeps only masked entries."""
    with transaction.atomic():
        threads = Thread.objects.filter(client=user)
        count = threads.count()
        # Deleted, not blanked first: a message is never empty (the database checks it), and
        # the deletion runs inside the account's transaction, so it goes whole or not at all.
        threads.delete()
    return count
