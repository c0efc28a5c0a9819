"""Messaging's part of ``/api/v1/``: threads and their messages, by the pages' rules.

Private: the API's session authentication, with the second factor for therapists. The handlers
use the same access helpers and services as the pages: someone else's thread (or a reason that
no longer lets anyone write) is a 404; beyond the client's daily cap a 429 with ``Retry-After``
and ``resets_at``; a message that cannot be sent as written a 422 naming each field. Refusals
read as problems through ``messaging_problem`` (registered in ``MessagingConfig.ready()``), and
nothing is stored on any of them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ValidationError as PydanticValidationError

from rapport.care.api_common import StrictIn, public_id, request_user
from rapport.core.audit import audit_reads
from rapport.core.problems import (
    SIGNED_IN_FAILURES,
    problem_openapi_response,
    problem_openapi_responses,
    problem_response,
)
from rapport.directory.access import own_therapist_profile
from rapport.messaging import access, attachments, policy, selectors, services
from rapport.messaging.crisis import crisis_card_for_thread, has_crisis_language
from rapport.messaging.errors import DailyCapReached, MessageInvalid, MessagingError
from rapport.messaging.models import MAX_BODY_LENGTH, MessageAttachment, Sender, Thread

router = Router(tags=["messages"])

NOT_YOURS = "No thread of yours has this id (or it no longer takes messages)"


class WindowOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime


class PolicyOut(Schema):
    contact: str = Field(description="none, scheduling or brief_check_ins.")
    contact_label: str
    scheduling_only: bool = Field(
        description="Clients must send about_scheduling=true (policies none and scheduling)."
    )
    reply_within_hours: int
    contact_hours_text: str = Field(description="The therapist's own words, may be empty.")
    time_zone: str = Field(description="The therapist's zone, in which the hours are set.")
    days: list[int] = Field(description="Weekdays they read messages, 0 = Monday; empty: none set.")
    starts: dt.time | None
    ends: dt.time | None
    daily_cap: int = Field(description="Messages one client may send in any 24 hours.")
    upcoming_hours: list[WindowOut] = Field(description="Their hours in the next seven days.")


class ThreadSummaryOut(Schema):
    id: uuid.UUID
    role: str = Field(description="Your side in it: client or therapist.")
    therapist_id: uuid.UUID
    therapist_name: str
    reason: str = Field(description="engagement or consultation.")
    reason_id: uuid.UUID
    unread: int = Field(description="The other side's messages you have not opened.")
    last_message_at: dt.datetime | None
    can_write: bool


class AttachmentOut(Schema):
    id: uuid.UUID
    name: str = Field(description="The sender's file name, cleaned up; show it as text.")
    kind: str = Field(description="What the file's bytes are: pdf, png, jpeg or webp.")
    content_type: str
    size: int = Field(description="Bytes.")
    url: str = Field(
        description="Where you download it (signed in; always as a download, never inline)."
    )


class MessageOut(Schema):
    id: uuid.UUID
    sender: str = Field(description="client or therapist.")
    mine: bool
    body: str = Field(description="Plain text exactly as written: show it escaped.")
    about_scheduling: bool
    created_at: dt.datetime
    attachments: list[AttachmentOut] = Field(
        description="Files sent with it (only where the deployer allows attachments)."
    )


class ThreadOut(ThreadSummaryOut):
    client_time_zone: str
    policy: PolicyOut
    messages: list[MessageOut] = Field(
        description=f"The newest {selectors.PAGE_SIZE} (or those before `before`), oldest "
        "first. No read receipts."
    )
    earlier_before: uuid.UUID | None = Field(
        description="When there are earlier messages: pass it as `before` to read them."
    )


class CrisisLineOut(Schema):
    name: str
    number: str
    call: bool
    text: bool
    hours: str


class SentOut(Schema):
    message: MessageOut
    crisis: bool = Field(
        description="The message has crisis language: show crisis_lines and the emergency "
        "number now (the message was still delivered)."
    )
    crisis_lines: list[CrisisLineOut]
    emergency_number: str
    outside_hours: bool
    expect_reply_by: dt.datetime


class ThreadIn(StrictIn):
    engagement_id: uuid.UUID | None = Field(None, description="Your open engagement.")
    consultation_id: uuid.UUID | None = Field(None, description="Your booked consultation.")


class MessageIn(StrictIn):
    body: str = Field(description=f"1 to {MAX_BODY_LENGTH} characters of plain text.")
    about_scheduling: bool = Field(
        False, description="Clients: the message is about scheduling (needed by some policies)."
    )


# --- problems -------------------------------------------------------------------------------


def messaging_problem(
    request: HttpRequest, error: MessagingError, *, crisis: dict[str, Any] | None = None
) -> HttpResponse:
    """How refused messages read in the API (registered for ``MessagingError``). ``crisis``:
    the crisis members of a refused message with crisis language (``_crisis_members``), so a
    refusal carries the same lines as a successful send."""
    extra = crisis or {}
    if isinstance(error, MessageInvalid):
        return problem_response(
            status=error.status,
            title=error.title,
            detail="Nothing was sent.",
            errors=[{"field": field, "message": message} for field, message in error.problems],
            **extra,
        )
    if isinstance(error, DailyCapReached):
        response = problem_response(
            status=error.status,
            title=error.title,
            detail=error.message,
            resets_at=error.resets_at.isoformat(),
            **extra,
        )
        response["Retry-After"] = error.retry_after(timezone.now())
        return response
    return problem_response(status=404, title="Not found")


def _crisis_members(thread: Thread, crisis: bool) -> dict[str, Any]:
    """``crisis``, ``crisis_lines`` and ``emergency_number``, as a send's answer has them."""
    card = crisis_card_for_thread(thread)
    return {
        "crisis": crisis,
        "crisis_lines": [vars(line) for line in card.lines] if crisis else [],
        "emergency_number": card.emergency,
    }


# --- shapes ---------------------------------------------------------------------------------


def _summary(thread: Thread, side: str, *, unread: int, writable: bool) -> dict[str, Any]:
    reason = thread.engagement if thread.engagement_id else thread.consultation
    assert reason is not None
    return {
        "id": thread.public_id,
        "role": side,
        "therapist_id": thread.therapist.public_id,
        "therapist_name": thread.therapist.display_name,
        "reason": "engagement" if thread.engagement_id else "consultation",
        "reason_id": reason.public_id,
        "unread": unread,
        "last_message_at": thread.last_message_at,
        "can_write": writable,
    }


def _attachment(file: MessageAttachment, thread: Thread, side: str) -> dict[str, Any]:
    view = "client_attachment" if side == Sender.CLIENT else "practice_attachment"
    return {
        "id": file.public_id,
        "name": file.display_name,
        "kind": file.kind,
        "content_type": attachments.KINDS[file.kind].content_type,
        "size": file.size,
        "url": reverse(f"messaging:{view}", args=[thread.public_id, file.public_id]),
    }


def _message(message: Any, side: str, thread: Thread) -> dict[str, Any]:
    return {
        "id": message.public_id,
        "sender": message.sender,
        "mine": message.sender == side,
        "body": message.body,
        "about_scheduling": message.about_scheduling,
        "created_at": message.created_at,
        "attachments": [_attachment(file, thread, side) for file in message.attachments.all()],
    }


def _policy(thread: Thread, now: dt.datetime) -> dict[str, Any]:
    rules = policy.policy_for(thread.therapist)
    windows = policy.windows_between(rules, now, now + dt.timedelta(days=policy.SHOWN_DAYS))
    return {
        "contact": rules.contact,
        "contact_label": rules.contact_label,
        "scheduling_only": rules.scheduling_only,
        "reply_within_hours": rules.reply_within_hours,
        "contact_hours_text": rules.contact_hours_text,
        "time_zone": thread.therapist.time_zone,
        "days": list(rules.days),
        "starts": rules.starts,
        "ends": rules.ends,
        "daily_cap": rules.daily_cap,
        "upcoming_hours": [{"starts_at": w.starts_at, "ends_at": w.ends_at} for w in windows],
    }


def _detail(
    request: HttpRequest, thread: Thread, side: str, before: uuid.UUID | None = None
) -> dict[str, Any]:
    now = timezone.now()
    services.thread_mark_read(thread=thread, reader=side, now=now)
    page = selectors.thread_messages_page(thread=thread, before=before)
    shown_files = [file for message in page.messages for file in message.attachments.all()]
    audit_reads(
        request=request, instances=[*page.messages, *shown_files], reason="message thread (API)"
    )
    return {
        **_summary(
            thread, side, unread=0, writable=selectors.thread_is_writable(thread=thread, now=now)
        ),
        "client_time_zone": thread.client_time_zone,
        "policy": _policy(thread, now),
        "messages": [_message(message, side, thread) for message in page.messages],
        "earlier_before": page.earlier.public_id if page.earlier is not None else None,
    }


# --- endpoints ------------------------------------------------------------------------------


@router.get(
    "",
    response=list[ThreadSummaryOut],
    summary="Your message threads",
    description="As a client and as a therapist, newest activity first. No message content.",
    openapi_extra=problem_openapi_responses(SIGNED_IN_FAILURES),
)
def thread_list(request: HttpRequest) -> list[dict[str, Any]]:
    user = request_user(request)
    now = timezone.now()
    mine = [
        (Sender.CLIENT, thread)
        for thread in selectors.client_threads(user=user).select_related(
            "engagement", "consultation"
        )
    ]
    therapist = own_therapist_profile(user)
    if therapist is not None:
        mine += [
            (Sender.THERAPIST, thread)
            for thread in selectors.therapist_threads(therapist=therapist).select_related(
                "therapist", "engagement", "consultation"
            )
        ]
    # Whether each may be written to, for the whole list at once (not a query per thread).
    writable = selectors.writable_thread_pks(threads=[thread for _, thread in mine], now=now)
    return [
        _summary(thread, side, unread=getattr(thread, "unread", 0), writable=thread.pk in writable)
        for side, thread in mine
    ]


@router.post(
    "",
    response={201: ThreadOut},
    summary="Open the thread of your engagement or consultation (clients)",
    description=(
        "Send exactly one of `engagement_id` (an open engagement) or `consultation_id` (a "
        "booked consultation, until three days after it). Opening again returns the same thread."
    ),
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "Invalid input, naming the field",
            404: "No open engagement or writable consultation of yours has this id",
        }
    ),
)
def thread_create(request: HttpRequest, payload: ThreadIn) -> Status[Any]:
    user = request_user(request)
    if (payload.engagement_id is None) == (payload.consultation_id is None):
        raise ValidationError({"": "Send either engagement_id or consultation_id."})
    now = timezone.now()
    if payload.engagement_id is not None:
        engagement = access.get_engagement_for_client(user, payload.engagement_id)
        thread = services.thread_open(client=user, engagement=engagement, now=now)
    else:
        assert payload.consultation_id is not None
        consultation = access.get_consultation_for_client(user, payload.consultation_id)
        thread = services.thread_open(client=user, consultation=consultation, now=now)
    thread = access.get_thread_for_client(user, thread.public_id)
    return Status(201, _detail(request, thread, Sender.CLIENT))


@router.get(
    "/{id}",
    response=ThreadOut,
    summary="One thread with its messages and the therapist's contact policy",
    description="Opening it marks the other side's messages read for you (never shown to them).",
    openapi_extra=problem_openapi_responses({**SIGNED_IN_FAILURES, 404: NOT_YOURS}),
)
def thread_detail(request: HttpRequest, id: str, before: str | None = None) -> dict[str, Any]:
    thread, side = access.get_thread_for_user(request.user, public_id(id, "thread"))
    try:
        anchor = uuid.UUID(before) if before else None
    except ValueError:
        raise ValidationError({"before": "Not a message id."}) from None
    return _detail(request, thread, side, anchor)


_SEND_RESPONSES = problem_openapi_responses(
    {**SIGNED_IN_FAILURES, 400: "A body that is not an object of these fields", 404: NOT_YOURS}
)
# A refusal carries the crisis members a send has: crisis language is read before any rule.
_CRISIS_PROPERTIES: dict[str, Any] = {
    "crisis": {
        "type": "boolean",
        "description": "The refused message has crisis language: show crisis_lines and the "
        "emergency number first.",
    },
    "crisis_lines": {"type": "array", "items": CrisisLineOut.model_json_schema()},
    "emergency_number": {"type": "string"},
}
_SEND_RESPONSES["responses"]["422"] = problem_openapi_response(
    "The message cannot be sent as written (empty, too long, not about scheduling for a "
    "therapist who accepts scheduling messages only, or files that cannot be attached: "
    "attachments off, too many, too large, empty, or not really a PDF or image whatever their "
    "names say); `errors` names each field. Nothing was sent and no file was kept.",
    extra_properties=_CRISIS_PROPERTIES,
)
_SEND_RESPONSES["requestBody"] = {
    "required": True,
    "content": {
        "application/json": {"schema": MessageIn.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["body"],
                "properties": {
                    "body": {"type": "string", "description": "1 to 2000 characters."},
                    "about_scheduling": {"type": "boolean", "default": False},
                    "attachments": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": (
                            "Files, each under this name. Accepted only where the deployer "
                            "allows attachments (by default a PDF, PNG or JPEG of up to 5 MB, "
                            "up to 3 a message); the kind is read from the bytes, never the "
                            "name. Otherwise a 422 and nothing is stored."
                        ),
                    },
                },
            },
            "encoding": {"attachments": {"contentType": "application/pdf, image/png, image/jpeg"}},
        },
    },
}


def _message_input(request: HttpRequest) -> tuple[MessageIn, list[Any]]:
    """The message as JSON, or as a multipart form with files (parsed here rather than by a
    declared body so that one address takes both)."""
    content_type = request.content_type or ""
    try:
        if content_type == "multipart/form-data":
            fields: dict[str, Any] = {
                key: request.POST.get(key) for key in request.POST if key != "attachments"
            }
            if "about_scheduling" in fields:
                fields["about_scheduling"] = fields["about_scheduling"] in ("true", "1", "on")
            unknown = set(request.FILES) - {"attachments"}
            if unknown:
                raise NinjaValidationError(
                    [{"loc": [name], "msg": "Files go under attachments."} for name in unknown]
                )
            return MessageIn.model_validate(fields), request.FILES.getlist("attachments")
        return MessageIn.model_validate_json(request.body or b"null"), []
    except PydanticValidationError as error:
        raise NinjaValidationError(
            [{"loc": list(item["loc"]), "msg": item["msg"]} for item in error.errors()]
        ) from None


_SEND_RESPONSES["responses"]["429"] = problem_openapi_response(
    "The client's daily cap with this therapist is reached (counted over the last 24 hours, "
    "every thread with them). `Retry-After` gives the seconds until the oldest counted "
    "message turns 24 hours old; nothing was sent.",
    extra_properties={
        "resets_at": {"type": "string", "format": "date-time"},
        **_CRISIS_PROPERTIES,
    },
)


@router.post(
    "/{id}/messages",
    response={201: SentOut},
    summary="Send a message",
    description=(
        "By the pages' rules, as JSON or (with files, where the deployer allows attachments) "
        "as a multipart form. Crisis language never blocks a message: the answer says so, with "
        "the crisis lines to show at once."
    ),
    openapi_extra=_SEND_RESPONSES,
)
def message_create(request: HttpRequest, id: str) -> Status[Any] | HttpResponse:
    thread, side = access.get_thread_for_user(request.user, public_id(id, "thread"))
    payload, files = _message_input(request)
    # Crisis language is read before any rule can refuse the message: a refusal (the daily
    # cap, scheduling only, a bad file) still carries the crisis lines.
    crisis = has_crisis_language(payload.body)
    try:
        sent = services.message_send(
            thread=thread,
            sender=side,
            body=payload.body,
            about_scheduling=payload.about_scheduling,
            attachments=files,
            now=timezone.now(),
        )
    except (MessageInvalid, DailyCapReached) as error:
        return messaging_problem(request, error, crisis=_crisis_members(thread, crisis))
    return Status(
        201,
        {
            "message": _message(sent.message, side, thread),
            **_crisis_members(thread, sent.crisis),
            "outside_hours": sent.outside_hours,
            "expect_reply_by": sent.expect_reply_by,
        },
    )
