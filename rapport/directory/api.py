"""Directory endpoints. Staff licence review lives under ``/api/v1/staff``; the public search
endpoints arrive with the search feature."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from rapport.accounts.models import User
from rapport.directory.access import get_therapist_for_review
from rapport.directory.models import TherapistProfile, VerificationDecision
from rapport.directory.services import therapist_verification_decide

staff_router = Router(tags=["staff"])


class LicenceOut(Schema):
    jurisdiction: str
    designation: str
    regulator: str
    number: str


class DecisionOut(Schema):
    id: uuid.UUID
    previous_status: str
    status: str
    reason: str
    decided_at: dt.datetime
    reviewer_email: str | None


class ReviewOut(Schema):
    id: uuid.UUID
    display_name: str
    verification_status: str
    licences: list[LicenceOut]
    decisions: list[DecisionOut]


class DecisionIn(Schema):
    status: str
    reason: str = ""


def _decision(decision: VerificationDecision) -> dict[str, Any]:
    return {
        "id": decision.id,
        "previous_status": decision.previous_status,
        "status": decision.status,
        "reason": decision.reason,
        "decided_at": decision.decided_at,
        "reviewer_email": decision.reviewer.email if decision.reviewer else None,
    }


def _review(therapist: TherapistProfile) -> dict[str, Any]:
    return {
        "id": therapist.public_id,
        "display_name": therapist.display_name,
        "verification_status": therapist.verification_status,
        "licences": [
            {
                "jurisdiction": licence.jurisdiction_id,
                "designation": licence.designation.code,
                "regulator": licence.regulator.name,
                "number": licence.number,
            }
            for licence in therapist.licences.select_related("designation", "regulator")
        ],
        "decisions": [
            _decision(decision)
            for decision in therapist.verification_decisions.select_related("reviewer")
        ],
    }


@staff_router.get("/verification/{public_id}", response=ReviewOut, summary="A licence review")
def review(request: HttpRequest, public_id: uuid.UUID) -> dict[str, Any]:
    return _review(get_therapist_for_review(request.user, public_id))


@staff_router.post(
    "/verification/{public_id}/decisions",
    response={201: DecisionOut},
    summary="Verify, reject or suspend a therapist",
)
def decide(request: HttpRequest, public_id: uuid.UUID, payload: DecisionIn) -> Status[Any]:
    therapist = get_therapist_for_review(request.user, public_id)
    assert isinstance(request.user, User)
    decision = therapist_verification_decide(
        therapist=therapist, reviewer=request.user, status=payload.status, reason=payload.reason
    )
    return Status(201, _decision(decision))
