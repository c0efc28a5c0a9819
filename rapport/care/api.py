"""Care's part of ``/api/v1/``: engagements, their sessions, goals and sharing.

Private: the API's session authentication with the second factor for therapists
(``SessionWithSecondFactor``, the API's default). The handlers use the same access helpers and
services as the pages: someone else's engagement is a 404, a refused change a 400 problem naming
the field, and a body with unknown fields is refused rather than half-read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from rapport.care import access, selectors, services
from rapport.care.api_checkins import AlertOut, CheckInRecordOut, engagement_check_ins
from rapport.care.api_common import StrictIn, public_id, request_user
from rapport.care.models import MAX_GOAL_LENGTH, MAX_GOALS, Engagement, Goal, Invitation, Side
from rapport.core.audit import audit_reads
from rapport.core.problems import SIGNED_IN_FAILURES, problem_openapi_responses
from rapport.directory.access import own_therapist_profile

router = Router(tags=["engagements"])

NOT_YOURS = "No engagement of yours has this id"


class SessionOut(Schema):
    id: uuid.UUID
    starts_at: dt.datetime
    status: str = Field(description="scheduled, attended, cancelled or no_show.")


class GoalOut(Schema):
    position: int
    text: str = Field(description="The goal in the client's words.")
    proposed_text: str = Field(description="The therapist's suggested wording, or empty.")
    client_agreed: bool
    therapist_agreed: bool
    agreed: bool


class EngagementSummaryOut(Schema):
    id: uuid.UUID
    role: str = Field(description="Your side in it: client or therapist.")
    therapist_id: uuid.UUID
    therapist_name: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


class EngagementOut(EngagementSummaryOut):
    sharing: str = Field(description="item_answers, scores_only or nothing (the client's choice).")
    end_reason: str
    sessions: list[SessionOut]
    goals: list[GoalOut]
    check_ins: list[CheckInRecordOut] = Field(
        description="Answered check-ins, oldest first: all of them for the client; for the "
        "therapist what the client shares (scores only by default, item answers or nothing)."
    )
    alerts: list[AlertOut] = Field(
        description="Therapists: alerts not yet acknowledged, whatever the client shares."
    )


class InvitationOut(Schema):
    id: uuid.UUID
    status: str
    created_at: dt.datetime


class EngagementIn(StrictIn):
    client_email: str | None = Field(
        None, max_length=254, description="Therapists: invite the client with this account."
    )
    invitation_id: uuid.UUID | None = Field(
        None, description="Clients: accept this invitation, which starts the engagement."
    )


class SessionIn(StrictIn):
    starts_at: AwareDatetime = Field(description="When it took place, with an offset or Z.")
    status: str = Field(description="attended, cancelled or no_show.")


class GoalIn(StrictIn):
    text: str = Field(
        max_length=MAX_GOAL_LENGTH,
        description="The client's words; therapists send the current text unchanged.",
    )
    proposed_text: str | None = Field(
        None,
        max_length=MAX_GOAL_LENGTH,
        description="Therapists only: a suggested wording (empty withdraws it).",
    )
    agreed: bool = Field(False, description="Mark this text agreed on your side.")


class GoalsIn(StrictIn):
    goals: list[GoalIn] = Field(max_length=MAX_GOALS, description="Up to three goals, in order.")


class SharingIn(StrictIn):
    sharing: str = Field(description="item_answers, scores_only or nothing.")


def _goal(goal: Goal) -> dict[str, Any]:
    return {
        "position": goal.position,
        "text": goal.text,
        "proposed_text": goal.proposed_text,
        "client_agreed": goal.client_agreed_at is not None,
        "therapist_agreed": goal.therapist_agreed_at is not None,
        "agreed": goal.is_agreed,
    }


def engagement_summary(engagement: Engagement, side: str) -> dict[str, Any]:
    """The fields every engagement answer starts with (the list, the detail, graduation)."""
    return {
        "id": engagement.public_id,
        "role": side,
        "therapist_id": engagement.therapist.public_id,
        "therapist_name": engagement.therapist.display_name,
        "status": engagement.status,
        "started_at": engagement.started_at,
        "ended_at": engagement.ended_at,
    }


def _detail(request: HttpRequest, engagement: Engagement, side: str) -> dict[str, Any]:
    goals = list(engagement.goals.all())
    # Shown texts are health data: each read is recorded before the answer is built.
    audit_reads(request=request, instances=[engagement, *goals], reason="engagement api")
    return {
        **engagement_summary(engagement, side),
        "sharing": engagement.sharing,
        "end_reason": engagement.end_reason,
        "sessions": [
            {"id": session.public_id, "starts_at": session.starts_at, "status": session.status}
            for session in engagement.sessions.all()
        ],
        "goals": [_goal(goal) for goal in goals],
        **engagement_check_ins(request, engagement, side),
    }


def _invitation(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.public_id,
        "status": invitation.status,
        "created_at": invitation.created_at,
    }


def _refresh(engagement: Engagement) -> Engagement:
    return Engagement.objects.select_related("therapist", "client").get(pk=engagement.pk)


@router.get(
    "",
    response=list[EngagementSummaryOut],
    summary="Your engagements",
    openapi_extra=problem_openapi_responses(SIGNED_IN_FAILURES),
)
def engagement_list(request: HttpRequest) -> list[dict[str, Any]]:
    user = request_user(request)
    return [
        engagement_summary(
            engagement, Side.CLIENT if engagement.client_id == user.pk else Side.THERAPIST
        )
        for engagement in selectors.user_engagements(user=user)
    ]


@router.post(
    "",
    response={201: EngagementOut | InvitationOut},
    summary="Invite a client (therapists) or accept an invitation (clients)",
    description=(
        "A therapist sends `client_email` and gets the invitation (the client accepts it on "
        "their care page or here). A client sends `invitation_id` and gets the engagement. "
        "Exactly one of the two."
    ),
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "Invalid input, naming the field",
            404: "No invitation of yours has this id",
        }
    ),
)
def engagement_create(request: HttpRequest, payload: EngagementIn) -> Status[Any]:
    user = request_user(request)
    if (payload.client_email is None) == (payload.invitation_id is None):
        raise ValidationError({"": "Send either client_email or invitation_id."})
    if payload.client_email is not None:
        therapist = own_therapist_profile(user)
        if therapist is None:
            raise ValidationError({"client_email": "Only therapists invite clients."})
        invitation = services.engagement_invite(therapist=therapist, email=payload.client_email)
        return Status(201, _invitation(invitation))
    assert payload.invitation_id is not None
    invitation = access.get_invitation_for_client(user, payload.invitation_id)
    engagement = services.engagement_invitation_accept(invitation=invitation)
    return Status(201, _detail(request, _refresh(engagement), Side.CLIENT))


@router.get(
    "/{id}",
    response=EngagementOut,
    summary="One engagement: sessions, goals, sharing, check-ins as shared",
    openapi_extra=problem_openapi_responses({**SIGNED_IN_FAILURES, 404: NOT_YOURS}),
)
def engagement_detail(request: HttpRequest, id: str) -> dict[str, Any]:
    engagement, side = access.get_engagement_for_user(request.user, public_id(id, "engagement"))
    return _detail(request, engagement, side)


@router.post(
    "/{id}/sessions",
    response={201: SessionOut},
    summary="Record a session (therapists)",
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "Invalid input or a change the engagement does not allow, naming the field",
            403: "Only the therapist records sessions",
            404: NOT_YOURS,
        }
    ),
)
def session_create(request: HttpRequest, id: str, payload: SessionIn) -> Status[Any]:
    engagement, side = access.get_engagement_for_user(request.user, public_id(id, "engagement"))
    if side != Side.THERAPIST:
        raise PermissionDenied("Only the therapist records sessions.")
    session = services.session_record(
        engagement=engagement,
        starts_at=payload.starts_at,
        status=payload.status,
        recorded_by=request_user(request),
    )
    return Status(
        201, {"id": session.public_id, "starts_at": session.starts_at, "status": session.status}
    )


@router.put(
    "/{id}/goals",
    response=EngagementOut,
    summary="Write goals (clients) or propose wording and agree (both)",
    description=(
        "A client sends up to three goals in their own words (blank ones are removed; an "
        "edited text loses both agreements) and may mark them agreed. A therapist sends the "
        "goals as they are, in order, with `proposed_text` for a suggested wording and "
        "`agreed` to agree; a text that differs from the current one is refused."
    ),
    openapi_extra=problem_openapi_responses(
        {**SIGNED_IN_FAILURES, 400: "Invalid input, naming the field", 404: NOT_YOURS}
    ),
)
def goals_put(request: HttpRequest, id: str, payload: GoalsIn) -> dict[str, Any]:
    engagement, side = access.get_engagement_for_user(request.user, public_id(id, "engagement"))
    with transaction.atomic():
        if side == Side.CLIENT:
            for index, item in enumerate(payload.goals):
                if item.proposed_text is not None:
                    raise ValidationError(
                        {f"goals.{index}.proposed_text": "Only the therapist proposes wording."}
                    )
            goals = services.goals_set(
                engagement=engagement, texts=[item.text for item in payload.goals]
            )
            by_text = {goal.text: goal for goal in goals}
            for item in payload.goals:
                if item.agreed and item.text.strip() in by_text:
                    services.goal_agree(
                        goal=by_text[item.text.strip()], by=Side.CLIENT, expected_text=item.text
                    )
        else:
            current = list(engagement.goals.all())
            if len(payload.goals) != len(current):
                raise ValidationError(
                    {"goals": f"Send the client's {len(current)} goals as they are, in order."}
                )
            for index, (item, goal) in enumerate(zip(payload.goals, current, strict=True)):
                if item.text.strip() != goal.text:
                    raise ValidationError(
                        {
                            f"goals.{index}.text": "The client writes the goals; propose a "
                            "wording in proposed_text instead."
                        }
                    )
                if item.proposed_text is not None:
                    services.goal_propose(goal=goal, text=item.proposed_text)
                if item.agreed:
                    services.goal_agree(goal=goal, by=Side.THERAPIST, expected_text=item.text)
    return _detail(request, _refresh(engagement), side)


@router.put(
    "/{id}/sharing",
    response=EngagementOut,
    summary="Choose what the therapist sees of your check-ins (clients)",
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "An unknown choice",
            403: "Only the client chooses",
            404: NOT_YOURS,
        }
    ),
)
def sharing_put(request: HttpRequest, id: str, payload: SharingIn) -> dict[str, Any]:
    engagement, side = access.get_engagement_for_user(request.user, public_id(id, "engagement"))
    if side != Side.CLIENT:
        raise PermissionDenied("Only the client chooses what is shared.")
    services.sharing_set(engagement=engagement, sharing=payload.sharing)
    return _detail(request, _refresh(engagement), side)
