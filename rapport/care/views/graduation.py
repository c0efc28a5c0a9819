"""Graduation pages: one page per side to propose, review the goals, confirm or withdraw
(``care/<id>/graduation/``, ``practice/clients/<id>/graduation/``), and the summary of the work
(``care/<id>/summary/``, ``practice/clients/<id>/summary/``), printable so the client can keep it.

Every step is a POST to the side's page that redirects back; a refused one shows the page again
with the reason beside the field or above the forms (status 400) and writes nothing. The client's
summary shows everything they answered; the therapist's what the client shares
(``history.for_therapist``). Every page that shows goal texts or scores records the read.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.care import access, history, progress, selectors, services
from rapport.care.charts import chart_context
from rapport.care.graduation_forms import GoalReviewForm, GraduationStepForm
from rapport.care.models import (
    Engagement,
    EngagementStatus,
    Goal,
    GoalReview,
    Purpose,
    SessionStatus,
    Sharing,
    Side,
)
from rapport.care.services.graduation import GRADUATABLE
from rapport.care.trends import number_label
from rapport.core import guides
from rapport.core.audit import audit_reads

DONE = {
    "propose": "You proposed graduating. A last progress check is on its way to the client.",
    "confirm": "Graduation confirmed. The closing summary is ready.",
    "withdraw": "The proposal to graduate is withdrawn; the reviews given are cleared.",
    "review": "Your review of the goals is saved.",
}
REVIEW_LABELS = dict(GoalReview.choices)


def _page_urls(engagement: Engagement, side: str) -> dict[str, str]:
    prefix = "care:client_" if side == Side.CLIENT else "care:practice_"
    return {
        "graduation": f"{prefix}graduation",
        "summary": f"{prefix}summary",
        "engagement": "care:client_engagement" if side == Side.CLIENT else "care:practice_client",
    }


def _review_rows(goals: list[Goal]) -> list[dict[str, Any]]:
    return [
        {
            "goal": goal,
            "client": REVIEW_LABELS.get(goal.client_review, ""),
            "therapist": REVIEW_LABELS.get(goal.therapist_review, ""),
        }
        for goal in goals
    ]


def _graduation_page(
    request: HttpRequest,
    engagement: Engagement,
    *,
    side: str,
    review_form: GoalReviewForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    goals = list(engagement.goals.order_by("position"))
    audit_reads(request=request, instances=[engagement, *goals], reason="graduation page")
    proposed_by = engagement.graduation_proposed_by
    is_open = engagement.is_open
    urls = _page_urls(engagement, side)
    return render(
        request,
        "care/graduation.html",
        {
            "engagement": engagement,
            "side": side,
            "is_client": side == Side.CLIENT,
            "other_name": (
                engagement.therapist.display_name if side == Side.CLIENT else "your client"
            ),
            "urls": urls,
            "graduated": engagement.status == EngagementStatus.GRADUATED,
            "is_open": is_open,
            "proposed": bool(proposed_by) and is_open,
            "proposed_by_me": proposed_by == side,
            "can_propose": engagement.status in GRADUATABLE and not proposed_by,
            "can_confirm": is_open and bool(proposed_by) and proposed_by != side,
            "rows": _review_rows(goals),
            "review_form": review_form
            or (GoalReviewForm(goals=goals, side=side) if goals else None),
            "guide_slug": guides.GRADUATING,
            "open_check_in": (
                selectors.engagement_open_check_in(engagement=engagement, now=timezone.now())
                if side == Side.CLIENT
                else None
            ),
            "problem": problem,
        },
        status=status,
    )


def _graduation_post(request: HttpRequest, engagement: Engagement, side: str) -> HttpResponse:
    urls = _page_urls(engagement, side)
    action = request.POST.get("action", "")
    if action == "review":
        goals = list(engagement.goals.order_by("position"))
        form = GoalReviewForm(request.POST, goals=goals, side=side)
        if form.is_valid():
            try:
                services.goal_reviews_set(engagement=engagement, by=side, reviews=form.reviews())
            except ValidationError as error:
                if not hasattr(error, "error_dict"):
                    return _graduation_page(
                        request,
                        engagement,
                        side=side,
                        review_form=form,
                        problem=" ".join(error.messages),
                        status=400,
                    )
                for name, errors in error.message_dict.items():
                    field = "goal_" + name.removeprefix("reviews.")
                    form.add_error(field if field in form.fields else None, errors)
                form.describe_fields()
            else:
                messages.success(request, DONE[action])
                return redirect(urls["graduation"], public_id=engagement.public_id)
        return _graduation_page(request, engagement, side=side, review_form=form, status=400)
    step = GraduationStepForm(request.POST)
    if not step.is_valid():
        return _graduation_page(
            request, engagement, side=side, problem="Choose one of the buttons.", status=400
        )
    action = step.cleaned_data["action"]
    change = {
        "propose": services.graduation_propose,
        "confirm": services.graduation_confirm,
        "withdraw": services.graduation_withdraw,
    }[action]
    try:
        change(engagement=engagement, by=side)
    except ValidationError as error:
        return _graduation_page(
            request, engagement, side=side, problem=" ".join(error.messages), status=400
        )
    done = DONE[action]
    if action == "propose" and side == Side.CLIENT:
        done = "You proposed graduating. A last progress check is waiting for you."
    messages.success(request, done)
    if action == "confirm":
        return redirect(urls["summary"], public_id=engagement.public_id)
    return redirect(urls["graduation"], public_id=engagement.public_id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_graduation(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    if request.method == "POST":
        return _graduation_post(request, engagement, Side.CLIENT)
    return _graduation_page(request, engagement, side=Side.CLIENT)


@require_http_methods(["GET", "HEAD", "POST"])
def practice_graduation(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    if request.method == "POST":
        return _graduation_post(request, engagement, Side.THERAPIST)
    return _graduation_page(request, engagement, side=Side.THERAPIST)


# --- the summary -----------------------------------------------------------------------------


def _verdict(trend: history.Trend) -> str:
    if (
        trend.first is None
        or trend.latest is None
        or len([value for value in trend.values if value is not None]) < 2
    ):
        return "Two scored progress checks are needed to compare the first and the last."
    if trend.change is None:
        return "This questionnaire has no norms, so whether the change is reliable cannot be said."
    category = str(trend.change.category)
    if category == "improved":
        return "A reliable improvement: larger than the questionnaire's measurement error."
    if category == "deteriorated":
        return "A reliable worsening: larger than the questionnaire's measurement error."
    return "No reliable change: the difference is within the questionnaire's measurement error."


def _summary_page(request: HttpRequest, engagement: Engagement, *, side: str) -> HttpResponse:
    records = (
        history.for_client(engagement=engagement)
        if side == Side.CLIENT
        else history.for_therapist(engagement=engagement)
    )
    goals = list(engagement.goals.order_by("position"))
    audit_reads(
        request=request,
        instances=[
            engagement,
            *goals,
            *(
                instance
                for record in records
                for instance in (record.check_in, *record.check_in.parts.all())
            ),
        ],
        reason="graduation summary",
    )
    mine = side == Side.CLIENT
    charts = [
        chart_context(chart, id_prefix=prefix)
        for prefix, chart in (
            (
                "alliance",
                progress.alliance_chart(
                    records, title="How the sessions went" if mine else "Alliance over time"
                ),
            ),
            (
                "progress",
                progress.progress_chart(
                    records, title="How you have been" if mine else "Progress check total"
                ),
            ),
            ("goals", progress.goals_chart(records, title="Progress on the goals, 0 to 10")),
        )
        if chart is not None
    ]
    trend = history.trend(records, purpose=Purpose.PROGRESS)
    urls = _page_urls(engagement, side)
    return render(
        request,
        "care/graduation_summary.html",
        {
            "engagement": engagement,
            "is_client": mine,
            "urls": urls,
            "graduated": engagement.status == EngagementStatus.GRADUATED,
            "rows": _review_rows(goals),
            "charts": charts,
            "first": number_label(trend.first) if trend.first is not None else "",
            "latest": number_label(trend.latest) if trend.latest is not None else "",
            "latest_band": trend.latest_band or "",
            "verdict": _verdict(trend),
            "sessions_attended": engagement.sessions.filter(status=SessionStatus.ATTENDED).count(),
            "shares_nothing": not mine and engagement.sharing == Sharing.NOTHING,
        },
    )


@login_required
@require_safe
def client_summary(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    return _summary_page(request, engagement, side=Side.CLIENT)


@require_safe
def practice_summary(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    return _summary_page(request, engagement, side=Side.THERAPIST)
