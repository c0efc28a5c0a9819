"""The client answering a check-in (signed in, or through the e-mail's link) and seeing their
check-ins over time.

Answers the service refuses come back as the form again, with each problem beside its question
and listed at the top, and the answers given kept (status 400, as every care page answers
refused input); nothing is written. A check-in already answered (409) or closed (410) says so.

A critical item at or above its threshold shows the crisis card first on the page that answers
the submission, announced to screen readers (``role="alert"``); the signed-in page after the
redirect shows it again for as long as the check-in is looked at. A critical item below its
threshold is never mentioned: nothing here says "no risk".

The e-mail's link needs no sign-in, so its pages show only what answering needs: the questions
and the goals being rated (the client's own words). Never earlier answers, scores or names; once
answered or closed it says only that. Its responses are never cached and send no referrer (the
token is in the address).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.care import access, client_repair, history, progress, selectors, services
from rapport.care.answer_forms import AskedPart, CheckInForm
from rapport.care.charts import chart_context
from rapport.care.crisis import crisis_card_for
from rapport.care.errors import CheckInAlreadyAnswered, CheckInAnswersInvalid, CheckInClosed
from rapport.care.forms import NotRightFitForm
from rapport.care.models import CLOSED_STATUSES, CheckIn, CheckInStatus
from rapport.core.audit import audit_read, audit_reads
from rapport.core.middleware import health_data

# The session remembers, until the next page, which check-in was just answered: that page
# announces the crisis card and thanks the client.
_JUST_ANSWERED = "care.check_in_just_answered"

ANSWERED = "answered"
EXPIRED = "expired"


# --- shared pieces ----------------------------------------------------------------------------


def _form(check_in: CheckIn, data: Any = None) -> CheckInForm:
    parts = [
        AskedPart(purpose=part.purpose, instrument=selectors.instrument_of(part.instrument))
        for part in check_in.parts.select_related("instrument").order_by("position")
    ]
    return CheckInForm(data, parts=parts, goals=history.goal_ratings_of(check_in.goal_ratings))


def _state(check_in: CheckIn, now: dt.datetime) -> str:
    """open, answered, expired, replaced or withdrawn (an open one past its time has expired,
    whether or not housekeeping has closed it yet)."""
    if check_in.status == CheckInStatus.COMPLETED:
        return ANSWERED
    if check_in.status == CheckInStatus.OPEN:
        return CheckInStatus.OPEN if check_in.expires_at > now else EXPIRED
    return str(check_in.status)


def _record(check_in: CheckIn) -> history.CheckInRecord:
    answered = selectors.engagement_check_ins_answered(engagement=check_in.engagement)
    return history.records_of(answered.filter(pk=check_in.pk), with_answers=False)[0]


def _scale_rows(part: history.PartRecord) -> dict[str, Any]:
    """A part's scores as the client reads them: each score with its band, the total with its
    range. Critical items are not listed (one below its threshold is not "safe", so it is not
    mentioned at all)."""
    total = part.instrument.total
    return {
        "title": part.instrument.title,
        "total": _shown(part.total),
        "minimum": _number(total.minimum),
        "maximum": _number(total.maximum),
        "subscales": [_shown(scale) for scale in part.subscales],
    }


def _shown(scale: history.ScaleValue) -> dict[str, Any]:
    return {
        "label": scale.label,
        # "" is "no score" (too many questions left out), never a guess.
        "value": "" if scale.value is None else _number(scale.value),
        "band": scale.band or "",
        "prorated": scale.prorated,
    }


def _number(value: float) -> str:
    return f"{value:g}"


def _done_context(record: history.CheckInRecord) -> dict[str, Any]:
    return {
        "parts": [_scale_rows(part) for part in record.parts],
        "goal_ratings": record.goal_ratings,
        "crisis": any(part.critical_flagged for part in record.parts),
        "answered_at": record.completed_at,
    }


def _repair(check_in: CheckIn) -> client_repair.Guidance | None:
    """What to say and where to go after a low check-in: judged over the client's own
    check-ins up to this one, whatever they share (``rapport.care.client_repair``)."""
    records = client_repair.records_until(
        history.for_client(engagement=check_in.engagement), check_in.pk
    )
    return client_repair.low_check_in_guidance(records) if records else None


def _closed_page(
    request: HttpRequest,
    check_in: CheckIn,
    state: str,
    *,
    by_link: bool,
    status: int = 200,
) -> HttpResponse:
    newer = None
    if state == CheckInStatus.REPLACED and not by_link:
        newer = selectors.engagement_open_check_in(
            engagement=check_in.engagement, now=timezone.now()
        )
    return render(
        request,
        "care/check_in_closed.html",
        {
            "check_in": check_in,
            "state": state,
            "newer": newer,
            "by_link": by_link,
            "days": settings.CARE_CHECK_IN_DAYS,
            # Shown as the answer to a submission (rather than to a visit).
            "refused": status != 200,
        },
        status=status,
    )


def _form_page(
    request: HttpRequest,
    check_in: CheckIn,
    form: CheckInForm,
    *,
    by_link: bool,
    action: str,
    status: int = 200,
) -> HttpResponse:
    # The goals being rated are the client's words: showing them is a read of the check-in.
    audit_read(request=request, instance=check_in, reason="check-in questions")
    return render(
        request,
        "care/check_in.html",
        {
            "check_in": check_in,
            "form": form,
            "sections": form.sections(),
            "error_summary": form.error_summary(),
            "by_link": by_link,
            "action": action,
            "therapist_name": "" if by_link else check_in.engagement.therapist.display_name,
        },
        status=status,
    )


def _answer(
    request: HttpRequest, check_in: CheckIn, *, by_link: bool, action: str
) -> tuple[services.CheckInResult | None, HttpResponse | None]:
    """Run the submission through the service: the result, or the page that refuses it."""
    state = _state(check_in, timezone.now())
    if state != CheckInStatus.OPEN:
        # Said before reading the answers, so a closed check-in never shows its form again;
        # the service refuses the same way if it closed since this request began.
        status = CheckInAlreadyAnswered.status if state == ANSWERED else CheckInClosed.status
        return None, _closed_page(request, check_in, state, by_link=by_link, status=status)
    form = _form(check_in, request.POST)
    if not form.is_valid():
        return None, _form_page(request, check_in, form, by_link=by_link, action=action, status=400)
    try:
        result = services.check_in_answer(
            check_in=check_in, answers=form.answers(), goal_ratings=form.goal_ratings()
        )
    except CheckInAnswersInvalid as error:
        form.add_problems(error.problems)
        return None, _form_page(request, check_in, form, by_link=by_link, action=action, status=400)
    except CheckInAlreadyAnswered as error:
        return None, _closed_page(request, check_in, ANSWERED, by_link=by_link, status=error.status)
    except CheckInClosed as error:
        check_in.refresh_from_db()
        return None, _closed_page(
            request,
            check_in,
            _state(check_in, timezone.now()),
            by_link=by_link,
            status=error.status,
        )
    return result, None


# --- signed in ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def check_in(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    check_in = access.get_check_in_for_client(request.user, public_id)
    action = request.path
    if request.method == "POST":
        _, refused = _answer(request, check_in, by_link=False, action=action)
        if refused is not None:
            return refused
        request.session[_JUST_ANSWERED] = check_in.public_id.hex
        return redirect("care:check_in", public_id=check_in.public_id)
    state = _state(check_in, timezone.now())
    if state == CheckInStatus.OPEN:
        return _form_page(request, check_in, _form(check_in), by_link=False, action=action)
    if state != ANSWERED:
        return _closed_page(request, check_in, state, by_link=False)
    just_answered = request.session.pop(_JUST_ANSWERED, None) == check_in.public_id.hex
    record = _record(check_in)
    audit_reads(
        request=request,
        instances=[check_in, *check_in.parts.all()],
        reason="check-in scores",
    )
    context = _done_context(record)
    repair = _repair(check_in)
    return render(
        request,
        "care/check_in_done.html",
        {
            **context,
            "card": crisis_card_for(check_in.engagement) if context["crisis"] else None,
            "announce": just_answered,
            "just_answered": just_answered,
            "by_link": False,
            "engagement": check_in.engagement,
            "repair": repair,
            "fit_form": NotRightFitForm()
            if repair is not None and check_in.engagement.status not in CLOSED_STATUSES
            else None,
        },
    )


# --- the e-mail's link --------------------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the address: no other site may learn it from a referrer. Not
    # "no-referrer": with it browsers post forms with "Origin: null", which CSRF refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


@health_data
@require_http_methods(["GET", "HEAD", "POST"])
def check_in_link(request: HttpRequest, token: str) -> HttpResponse:
    check_in = access.get_check_in_by_token(token)
    action = request.path
    if request.method == "POST":
        result, refused = _answer(request, check_in, by_link=True, action=action)
        if refused is not None:
            return _private(refused)
        assert result is not None
        # Shown in this response: the link opens nothing once the check-in is answered.
        record = _record(result.check_in)
        audit_reads(
            request=request,
            instances=[result.check_in, *result.check_in.parts.all()],
            reason="check-in scores",
        )
        return _private(
            render(
                request,
                "care/check_in_done.html",
                {
                    **_done_context(record),
                    "crisis": result.crisis,
                    "card": crisis_card_for(check_in.engagement) if result.crisis else None,
                    "announce": True,
                    "just_answered": True,
                    "by_link": True,
                    "repair": _repair(result.check_in),
                },
            )
        )
    state = _state(check_in, timezone.now())
    if state != CheckInStatus.OPEN:
        return _private(_closed_page(request, check_in, state, by_link=True))
    return _private(_form_page(request, check_in, _form(check_in), by_link=True, action=action))


# --- over time ------------------------------------------------------------------------------


@login_required
@require_safe
def client_progress(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    records = history.for_client(engagement=engagement)
    audit_reads(
        request=request,
        instances=[
            instance
            for record in records
            for instance in (record.check_in, *record.check_in.parts.all())
        ],
        reason="check-ins over time",
    )
    charts = [
        chart_context(chart, id_prefix=prefix)
        for prefix, chart in (
            (
                "alliance",
                progress.alliance_chart(records, title="How your sessions are going"),
            ),
            ("progress", progress.progress_chart(records, title="How you have been")),
            ("goals", progress.goals_chart(records, title="Progress on your goals, 0 to 10")),
        )
        if chart is not None
    ]
    rows = [
        {
            "record": record,
            "label": progress.check_in_label(record),
            "parts": [_scale_rows(part) for part in record.parts],
        }
        for record in reversed(records)  # the newest first in the list
    ]
    return render(
        request,
        "care/client_progress.html",
        {
            "engagement": engagement,
            "charts": charts,
            "rows": rows,
            "open_check_in": selectors.engagement_open_check_in(
                engagement=engagement, now=timezone.now()
            ),
        },
    )
