"""A planned graduation in ``/api/v1/``: ``POST /engagements/{id}/graduate``.

One endpoint for the four steps of ``rapport.care.services.graduation`` (propose, review the
goals, confirm, withdraw), for either side of the engagement; the service decides what each
side may do. Private like the engagements (``SessionWithSecondFactor``, the API's default).

Problems: 400 for a body that is not the documented shape or a review that is not one of the
choices (naming ``reviews.<goal>``); 404 for an engagement that is not yours; 409 when the
engagement's state refuses the step (``GraduationConflict``: ended, nothing proposed, the
proposer confirming, goals not reviewed by both), read through ``graduation_problem``,
registered in ``CareConfig.ready()``. A refused step writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema

from rapport.care import access, services
from rapport.care.api import NOT_YOURS, EngagementSummaryOut, engagement_summary
from rapport.care.api_common import StrictIn, public_id
from rapport.care.models import Engagement, Side
from rapport.core import guides
from rapport.core.audit import audit_reads
from rapport.core.problems import (
    SIGNED_IN_FAILURES,
    problem_openapi_responses,
    problem_response,
)

router = Router(tags=["engagements"])

READ_REASON = "graduation api"


def graduation_problem(request: HttpRequest, error: services.GraduationConflict) -> HttpResponse:
    """The engagement's state refuses the step: a 409 with the service's message."""
    message = " ".join(error.messages)
    return problem_response(
        status=409,
        title="This step of graduating is not possible now",
        detail=message,
        errors=[{"field": "", "message": message}],
    )


class GraduateIn(StrictIn):
    action: Literal["propose", "review", "confirm", "withdraw"] = Field(
        description="propose: suggest graduating (asks a last progress check); review: your "
        "review of the goals in `reviews`; confirm: the side that did not propose agrees, once "
        "every goal has both reviews; withdraw: withdraw or decline the proposal (clears the "
        "reviews)."
    )
    reviews: dict[str, str] | None = Field(
        None,
        description='With "review" only: goal number ("1") to met, partly or not_yet. All are '
        "saved, or none when one is refused.",
    )


class GoalReviewOut(Schema):
    position: int
    text: str = Field(description="The goal in the client's words.")
    client_review: str = Field(description="met, partly, not_yet, or empty: not reviewed yet.")
    therapist_review: str = Field(description="The same, for the therapist.")


class GraduationOut(Schema):
    proposed_by: str = Field(description="client, therapist, or empty: nothing proposed.")
    proposed_at: dt.datetime | None
    guide_url: str = Field(description="The page that says what graduating looks like.")
    goals: list[GoalReviewOut]


class GraduationEngagementOut(EngagementSummaryOut):
    graduation: GraduationOut


def graduation_out(request: HttpRequest, engagement: Engagement, side: str) -> dict[str, Any]:
    goals = list(engagement.goals.order_by("position"))
    # Goal texts are health data: the read is recorded before the answer is built.
    audit_reads(request=request, instances=[engagement, *goals], reason=READ_REASON)
    return {
        **engagement_summary(engagement, side),
        "graduation": {
            "proposed_by": engagement.graduation_proposed_by,
            "proposed_at": engagement.graduation_proposed_at,
            "guide_url": reverse("guide", args=[guides.GRADUATING]),
            "goals": [
                {
                    "position": goal.position,
                    "text": goal.text,
                    "client_review": goal.client_review,
                    "therapist_review": goal.therapist_review,
                }
                for goal in goals
            ],
        },
    }


@router.post(
    "/engagements/{id}/graduate",
    response=GraduationEngagementOut,
    summary="Graduate: propose, review the goals, confirm or withdraw (both sides)",
    description=(
        "Either side proposes; both review every goal the client wrote (met, partly, "
        "not_yet); the side that did not propose confirms, and the engagement is graduated. "
        "Either side may withdraw the proposal before that."
    ),
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "A body that is not the documented shape, or a review that is not one of the "
            'choices (named "reviews.<goal>")',
            404: NOT_YOURS,
            409: "The engagement's state refuses the step: it has ended, nothing is proposed, "
            "it is already proposed, the proposer tries to confirm, or a goal lacks a review",
        }
    ),
)
def engagement_graduate(request: HttpRequest, id: str, payload: GraduateIn) -> dict[str, Any]:
    engagement, side = access.get_engagement_for_user(request.user, public_id(id, "engagement"))
    if payload.action == "review":
        if not payload.reviews:
            raise ValidationError({"reviews": "Send your review of at least one goal."})
        services.goal_reviews_set(engagement=engagement, by=side, reviews=payload.reviews)
    elif payload.reviews is not None:
        raise ValidationError({"reviews": 'Reviews are sent with the action "review".'})
    elif payload.action == "propose":
        services.graduation_propose(engagement=engagement, by=side)
    elif payload.action == "confirm":
        services.graduation_confirm(engagement=engagement, by=side)
    else:
        services.graduation_withdraw(engagement=engagement, by=side)
    fresh = Engagement.objects.select_related("therapist", "client").get(pk=engagement.pk)
    return graduation_out(request, fresh, Side(side))
