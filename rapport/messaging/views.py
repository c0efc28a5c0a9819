"""Messaging pages: the client's under /messages/, the therapist's under /practice/messages/
(behind the second factor by its prefix).

Sending is a POST that redirects back to the thread with ``?sent=<message id>`` (an id, never
content), where the page says what happens next: when a reply is due, and the crisis card when
the message had crisis language. A refused message shows the page again with the reason beside
the field (400), or above the box with when the cap resets (429); nothing is stored. Every page
that shows messages records the read; opening a thread marks the other side's messages read for
the reader's own unread count, which the sender never sees.
"""

from __future__ import annotations

import io
import uuid
import zoneinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts.models import User
from rapport.core.audit import audit_read, audit_reads
from rapport.core.timezones import moment_label, time_zone_label
from rapport.directory.access import get_practice_therapist
from rapport.messaging import access, attachments, policy, selectors, services
from rapport.messaging.crisis import crisis_card_for_thread, has_crisis_language
from rapport.messaging.errors import DailyCapReached, MessageInvalid, NoReasonToWrite
from rapport.messaging.forms import ClientMessageForm, MessageForm, SettingsForm, ZoneForm
from rapport.messaging.models import (
    MessageAttachment,
    Sender,
    Thread,
)


def _client(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # guaranteed by login_required
    return request.user


def _shown_messages(request: HttpRequest, thread: Thread) -> dict[str, Any]:
    """The page of messages asked for (``?before=<message id>``: the ones before it; else the
    newest, as after a refused message), each read recorded."""
    raw = request.GET.get("before", "") if request.method != "POST" else ""
    try:
        before = uuid.UUID(raw) if raw else None
    except ValueError:
        before = None
    page = selectors.thread_messages_page(thread=thread, before=before)
    shown_files = [file for message in page.messages for file in message.attachments.all()]
    audit_reads(request=request, instances=[*page.messages, *shown_files], reason="message thread")
    return {
        "thread_messages": page.messages,
        "earlier": page.earlier,
        "showing_earlier": before is not None,
    }


def _policy_context(thread: Thread, rules: policy.Policy, now: Any) -> dict[str, Any]:
    """The therapist's policy as the client reads it, in the client's zone."""
    zone = zoneinfo.ZoneInfo(thread.client_time_zone)
    return {
        "policy": rules,
        "client_zone_label": time_zone_label(thread.client_time_zone),
        "therapist_zone_label": time_zone_label(thread.therapist.time_zone),
        "same_zone": thread.client_time_zone == thread.therapist.time_zone,
        "therapist_hours": policy.therapist_hours_label(rules),
        "windows": policy.upcoming_window_labels(rules, now, zone),
        "within_hours": policy.is_within_hours(rules, now),
    }


# --- the client -------------------------------------------------------------------------------


@login_required
@require_safe
def client_inbox(request: HttpRequest) -> HttpResponse:
    user = _client(request)
    now = timezone.now()
    threads = list(selectors.client_threads(user=user))
    unread = {thread.pk: getattr(thread, "unread", 0) for thread in threads}
    writable = selectors.writable_thread_pks(threads=threads, now=now)
    return render(
        request,
        "messaging/client_inbox.html",
        {
            "reasons": [
                (reason, unread.get(reason.thread.pk, 0) if reason.thread else 0)
                for reason in selectors.client_reasons(user=user, now=now)
            ],
            # Threads whose reason closed stay readable.
            "closed_threads": [thread for thread in threads if thread.pk not in writable],
        },
    )


@login_required
@require_POST
def client_open(request: HttpRequest) -> HttpResponse:
    """Start (or return to) the thread of an engagement or a consultation: ``reason`` is
    ``engagement:<id>`` or ``consultation:<id>``."""
    kind, _, raw = request.POST.get("reason", "").partition(":")
    try:
        public_id = uuid.UUID(raw)
    except ValueError:
        raise Http404("Nothing to message about.") from None
    now = timezone.now()
    try:
        if kind == "engagement":
            engagement = access.get_engagement_for_client(request.user, public_id)
            thread = services.thread_open(client=request.user, engagement=engagement, now=now)
        elif kind == "consultation":
            consultation = access.get_consultation_for_client(request.user, public_id)
            thread = services.thread_open(client=request.user, consultation=consultation, now=now)
        else:
            raise Http404("Nothing to message about.")
    except NoReasonToWrite:
        raise Http404("Nothing to message about.") from None
    return redirect("messaging:client_thread", public_id=thread.public_id)


def _sent_notice(
    request: HttpRequest, thread: Thread, rules: policy.Policy, raw: str | None
) -> dict[str, Any] | None:
    """What the page says about the message just sent (``?sent=<id>``, the client's own).
    Reading it for crisis language decrypts it: recorded as a read like any other."""
    if not raw:
        return None
    try:
        public_id = uuid.UUID(raw)
    except ValueError:
        return None
    message = selectors.client_message_in(thread=thread, public_id=public_id)
    if message is None:
        return None
    zone = zoneinfo.ZoneInfo(thread.client_time_zone)
    audit_read(request=request, instance=message, reason="message just sent (crisis check)")
    crisis = has_crisis_language(message.body)
    return {
        "outside_hours": not policy.is_within_hours(rules, message.created_at),
        "reply_by": moment_label(policy.expected_reply_by(rules, message.created_at), zone),
        "crisis": crisis,
        "card": crisis_card_for_thread(thread) if crisis else None,
        "card_intro": _card_intro(thread, sent=True),
    }


def _card_intro(thread: Thread, *, sent: bool) -> str:
    """The crisis card's first sentence on a thread page: whether the message went or not,
    messages are not for emergencies."""
    name = thread.therapist.display_name
    if sent:
        return (
            f"Your message was sent, but messages are not for emergencies: {name} may not "
            "read it for hours. People are there right now:"
        )
    return (
        f"Your message was not sent, and messages are not for emergencies: {name} may not "
        "read one for hours. People are there right now:"
    )


def _client_page(
    request: HttpRequest,
    thread: Thread,
    *,
    form: ClientMessageForm | None = None,
    problem: str = "",
    crisis: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The client's thread page; ``crisis``: a refused message had crisis language, so the
    crisis card comes first on the page, before the reason it was refused."""
    now = timezone.now()
    rules = policy.policy_for(thread.therapist)
    zone = zoneinfo.ZoneInfo(thread.client_time_zone)
    usage = selectors.client_cap_usage(thread=thread, cap=rules.daily_cap, now=now)
    shown = _shown_messages(request, thread)
    return render(
        request,
        "messaging/client_thread.html",
        {
            "thread": thread,
            **shown,
            "zone": zone,
            "form": form or ClientMessageForm(),
            "problem": problem,
            "can_write": selectors.thread_is_writable(thread=thread, now=now),
            "left_today": usage.left,
            "zone_form": ZoneForm(current=thread.client_time_zone),
            "sent": _sent_notice(request, thread, rules, request.GET.get("sent")),
            "refused_card": crisis_card_for_thread(thread) if crisis else None,
            "refused_card_intro": _card_intro(thread, sent=False),
            **_policy_context(thread, rules, now),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_thread(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    thread = access.get_thread_for_client(request.user, public_id)
    if request.method != "POST":
        # Only a GET shows the messages to the person; a HEAD (a link checker, a prefetch)
        # reads nothing.
        if request.method == "GET":
            services.thread_mark_read(thread=thread, reader=Sender.CLIENT, now=timezone.now())
        return _client_page(request, thread)
    # Crisis language is read first, before any rule can refuse the message: every refusal
    # of a message with crisis language shows the crisis card.
    crisis = has_crisis_language(request.POST.get("body", ""))
    form = ClientMessageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _client_page(request, thread, form=form, crisis=crisis, status=400)
    try:
        sent = services.message_send(
            thread=thread,
            sender=Sender.CLIENT,
            body=form.cleaned_data["body"],
            about_scheduling=form.cleaned_data["about_scheduling"],
            # Every file sent, whether or not the page offered a file input: the service
            # refuses them when attachments are off.
            attachments=request.FILES.getlist("attachments"),
            now=timezone.now(),
        )
    except NoReasonToWrite:
        raise Http404("Nothing to message about.") from None
    except MessageInvalid as error:
        _field_errors(form, error)
        return _client_page(request, thread, form=form, crisis=crisis, status=400)
    except DailyCapReached as error:
        response = _client_page(
            request, thread, form=form, problem=error.message, crisis=crisis, status=429
        )
        response["Retry-After"] = error.retry_after(timezone.now())
        return response
    url = reverse("messaging:client_thread", kwargs={"public_id": thread.public_id})
    return redirect(f"{url}?sent={sent.message.public_id}#sent")


@login_required
@require_POST
def client_zone(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    thread = access.get_thread_for_client(request.user, public_id)
    form = ZoneForm(request.POST, current=thread.client_time_zone)
    if form.is_valid():
        try:
            services.thread_time_zone_set(thread=thread, time_zone=form.cleaned_data["time_zone"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, "Choose a time zone from the list.")
    return redirect("messaging:client_thread", public_id=thread.public_id)


def _field_errors(form: MessageForm, error: MessageInvalid) -> None:
    for field, message in error.problems:
        form.add_error(field if field in form.fields else None, message)
    form.describe_fields()


# --- attachments ------------------------------------------------------------------------------


def _attachment_response(request: HttpRequest, attachment: MessageAttachment) -> HttpResponseBase:
    """The file as a download, never shown in the page: the type its bytes were found to be,
    ``attachment`` disposition with the cleaned-up name, no sniffing by the browser, kept by no
    shared cache. The download is recorded before the file is opened."""
    audit_read(request=request, instance=attachment, reason="message attachment download")
    kind = attachments.KINDS[attachment.kind]
    try:
        with attachments.attachment_storage().open(attachment.stored_name, "rb") as handle:
            sealed = handle.read()
    except FileNotFoundError:
        raise Http404("No such file.") from None
    # Opened in memory (at most the size cap): the plain bytes never touch the disk.
    response = FileResponse(
        io.BytesIO(attachments.opened(sealed, attachment.kind)),
        as_attachment=True,
        filename=attachment.display_name,
        content_type=kind.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Should a browser ever show it anyway, it runs nothing and reaches nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_safe
def client_attachment(
    request: HttpRequest, public_id: uuid.UUID, attachment_id: uuid.UUID
) -> HttpResponseBase:
    attachment = access.get_attachment_for_client(request.user, public_id, attachment_id)
    return _attachment_response(request, attachment)


@require_safe
def practice_attachment(
    request: HttpRequest, public_id: uuid.UUID, attachment_id: uuid.UUID
) -> HttpResponseBase:
    attachment = access.get_attachment_for_therapist(request.user, public_id, attachment_id)
    return _attachment_response(request, attachment)


# --- the therapist ----------------------------------------------------------------------------


@require_safe
def practice_inbox(request: HttpRequest) -> HttpResponse:
    therapist = get_practice_therapist(request.user)
    return render(
        request,
        "messaging/practice_inbox.html",
        {
            "threads": selectors.therapist_threads(therapist=therapist),
            "policy": policy.policy_for(therapist),
            # A therapist may also be someone's client: their own conversations are a link away.
            "also_client": selectors.client_can_message(user=request.user, now=timezone.now()),
        },
    )


def _practice_page(
    request: HttpRequest, thread: Thread, *, form: MessageForm | None = None, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "messaging/practice_thread.html",
        {
            "thread": thread,
            **_shown_messages(request, thread),
            "zone": zoneinfo.ZoneInfo(thread.therapist.time_zone),
            "form": form or MessageForm(),
            "can_write": selectors.thread_is_writable(thread=thread, now=now),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def practice_thread(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    thread = access.get_thread_for_therapist(request.user, public_id)
    if request.method != "POST":
        # Only a GET shows the messages to the person; a HEAD (a link checker, a prefetch)
        # reads nothing.
        if request.method == "GET":
            services.thread_mark_read(thread=thread, reader=Sender.THERAPIST, now=timezone.now())
        return _practice_page(request, thread)
    form = MessageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _practice_page(request, thread, form=form, status=400)
    try:
        services.message_send(
            thread=thread,
            sender=Sender.THERAPIST,
            body=form.cleaned_data["body"],
            attachments=request.FILES.getlist("attachments"),
            now=timezone.now(),
        )
    except NoReasonToWrite:
        raise Http404("Nothing to message about.") from None
    except MessageInvalid as error:
        _field_errors(form, error)
        return _practice_page(request, thread, form=form, status=400)
    messages.success(request, "Sent.")
    return redirect("messaging:practice_thread", public_id=thread.public_id)


@require_http_methods(["GET", "HEAD", "POST"])
def practice_settings(request: HttpRequest) -> HttpResponse:
    therapist = get_practice_therapist(request.user)
    row = selectors.messaging_settings_of(therapist=therapist)
    if request.method != "POST":
        initial: dict[str, Any] = {}
        if row is not None:
            initial = {
                "days": row.weekdays,
                "starts": row.contact_starts_at,
                "ends": row.contact_ends_at,
                "daily_cap": row.daily_cap,
            }
        form = SettingsForm(initial=initial)
        status = 200
    else:
        form = SettingsForm(request.POST)
        if form.is_valid():
            starts, ends = form.hours()
            try:
                services.messaging_settings_set(
                    therapist=therapist,
                    contact_days=form.contact_days(),
                    contact_starts_at=starts,
                    contact_ends_at=ends,
                    daily_cap=form.cleaned_data["daily_cap"],
                )
            except ValidationError as error:
                renames = {"contact_days": "days", "contact_starts_at": "starts",
                           "contact_ends_at": "ends"}  # fmt: skip
                for field, errors in error.message_dict.items():
                    form.add_error(renames.get(field, field), errors)
                form.describe_fields()
            else:
                messages.success(request, "Your messaging hours are saved.")
                return redirect("messaging:practice_settings")
        status = 400
    return render(
        request,
        "messaging/practice_settings.html",
        {"form": form, "therapist": therapist, "policy": policy.policy_for(therapist)},
        status=status,
    )
