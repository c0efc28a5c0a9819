"""Alerts and ending an engagement in ``/api/v1/``.

- ``GET /alerts``: the signed-in therapist's open alerts (``selectors.therapist_open_alerts``:
  crisis first, then newest; alerts raised from scores are left out while the client shares
  nothing), each with its title and repair suggestion. No answers, scores or goal texts: an
  alert says that something needs attention, and the therapist reads the check-ins as shared.
  Each alert listed is an audited read.
- ``POST /alerts/{id}/acknowledge`` with what was done (``services.alert_acknowledge``; an
  alert is never dismissed silently): another therapist's alert is a 404, an empty note a 400
  problem naming ``note``, an alert already acknowledged a 409.
- ``POST /engagements/{id}/end`` for either side, with the reason and why as a choice
  (``ended_for``): "other" needs the reason in words (``services.engagement_end``);
  "not_right_fit" does not (``services.engagement_end_not_right_fit``). Ending an engagement
  that has already ended is a 409; nothing is written.

Private like the other care routes (``SessionWithSecondFactor``, the API's default).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from rapport.accounts.models import User
from rapport.care import access, repair, selectors, services
from rapport.care.api import NOT_YOURS, EngagementSummaryOut
from rapport.care.api_common import StrictIn, public_id
from rapport.care.models import CLOSED_STATUSES, MAX_REASON_LENGTH, Alert, EndedFor
from rapport.care.services.engagements import ALREADY_ENDED
from rapport.core.audit import audit_reads
from rapport.core.problems import SIGNED_IN_FAILURES, problem_openapi_responses
from rapport.directory.access import own_therapist_profile

router = Router(tags=["alerts"])

READ_REASON = "alerts api"
ALREADY_ENDED_MESSAGE = "This engagement has already ended."
ALREADY_ACKNOWLEDGED_MESSAGE = "This alert was already acknowledged."


class AlertOut(Schema):
    id: uuid.UUID
    kind: str = Field(
        description="crisis, low_alliance, alliance_drop, goal_stuck or progress_off_track."
    )
    title: str = Field(description="What the alert is, in a few words.")
    suggestion: str = Field(description="A repair suggestion for the next session.")
    created_at: dt.datetime
    engagement_id: uuid.UUID
    goal_position: int | None = Field(description="The goal (1-3) a goal_stuck alert is about.")


class AcknowledgeIn(StrictIn):
    note: str = Field(max_length=MAX_REASON_LENGTH, description="What you did about it (required).")


class AcknowledgedOut(Schema):
    id: uuid.UUID
    kind: str
    acknowledged_at: dt.datetime


class EndIn(StrictIn):
    reason: str = Field(
        "",
        max_length=MAX_REASON_LENGTH,
        description="Why, in your words; the other side reads it. Required unless ended_for "
        "is not_right_fit.",
    )
    ended_for: Literal["not_right_fit", "other"] = Field(
        "other", description="Why, as a choice: re-matching will use not_right_fit."
    )


class EndedOut(EngagementSummaryOut):
    ended_by: str = Field(description="client or therapist.")
    ended_for: str = Field(description="not_right_fit or other.")


def _alert(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.public_id,
        "kind": alert.kind,
        "title": repair.alert_title(alert),
        "suggestion": repair.alert_suggestion(alert),
        "created_at": alert.created_at,
        "engagement_id": alert.engagement.public_id,
        "goal_position": alert.goal_position,
    }


@router.get(
    "/alerts",
    response=list[AlertOut],
    summary="Your open alerts (therapists)",
    description="Crisis alerts first, then newest first. Alerts raised from scores are left "
    "out while the client shares nothing with you; a crisis alert never is.",
    openapi_extra=problem_openapi_responses(
        {**SIGNED_IN_FAILURES, 403: "Only therapists have alerts"}
    ),
)
def alert_list(request: HttpRequest) -> list[dict[str, Any]]:
    therapist = own_therapist_profile(request.user)
    if therapist is None:
        raise PermissionDenied("Only therapists have alerts.")
    alerts = list(selectors.therapist_open_alerts(therapist=therapist))
    audit_reads(request=request, instances=alerts, reason=READ_REASON)
    return [_alert(alert) for alert in alerts]


@router.post(
    "/alerts/{id}/acknowledge",
    response=AcknowledgedOut,
    summary="Acknowledge an alert with what you did (therapists)",
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "An empty or too long note, naming the field",
            404: "No alert about your clients has this id",
            409: ALREADY_ACKNOWLEDGED_MESSAGE,
        }
    ),
)
def alert_acknowledge(request: HttpRequest, id: str, payload: AcknowledgeIn) -> dict[str, Any]:
    alert = access.get_alert_for_therapist(request.user, public_id(id, "alert"))
    user = request.user
    assert isinstance(user, User)  # the access helper let only a signed-in therapist in
    if alert.acknowledged_at is not None:
        raise HttpError(409, ALREADY_ACKNOWLEDGED_MESSAGE)
    try:
        done = services.alert_acknowledge(alert=alert, by=user, note=payload.note)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise
        # Acknowledged by another request since this one began.
        raise HttpError(409, ALREADY_ACKNOWLEDGED_MESSAGE) from error
    assert done.acknowledged_at is not None
    return {"id": done.public_id, "kind": done.kind, "acknowledged_at": done.acknowledged_at}


@router.post(
    "/engagements/{id}/end",
    response=EndedOut,
    summary="End an engagement, with the reason (either side)",
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "A missing or too long reason, naming the field",
            404: NOT_YOURS,
            409: ALREADY_ENDED_MESSAGE,
        }
    ),
)
def engagement_end(request: HttpRequest, id: str, payload: EndIn) -> dict[str, Any]:
    engagement, side = access.get_engagement_for_user(request.user, public_id(id, "engagement"))
    if engagement.status in CLOSED_STATUSES:
        raise HttpError(409, ALREADY_ENDED_MESSAGE)
    try:
        if payload.ended_for == EndedFor.NOT_THE_RIGHT_FIT:
            ended = services.engagement_end_not_right_fit(
                engagement=engagement, by=side, reason=payload.reason
            )
        else:
            ended = services.engagement_end(
                engagement=engagement, by=side, reason=payload.reason, ended_for=EndedFor.OTHER
            )
    except ValidationError as error:
        if getattr(error, "code", None) == ALREADY_ENDED:
            raise HttpError(409, ALREADY_ENDED_MESSAGE) from error
        raise
    return {
        "id": ended.public_id,
        "role": side,
        "therapist_id": engagement.therapist.public_id,
        "therapist_name": engagement.therapist.display_name,
        "status": ended.status,
        "started_at": ended.started_at,
        "ended_at": ended.ended_at,
        "ended_by": ended.ended_by,
        "ended_for": ended.ended_for,
    }
