"""Care's check-ins and instruments in ``/api/v1/``: the questions, the answers, the scores.

Private, like the engagements (``SessionWithSecondFactor``, the API's default). A check-in is
the client's own: only the client reads or answers it, and anyone else gets the same 404 as
for an id that does not exist, whoever they are (the therapist included: what the therapist
sees of answered check-ins goes through the client's sharing, on the engagement).

Refused answers read as problems through ``check_in_problem``, registered once in
``CareConfig.ready()``: 409 already answered, 410 closed, 422 with every problem and its path.
Instrument definitions need a sign-in too: a clinic may load a licensed instrument whose
wording is not ours to publish.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts.models import User
from rapport.care import access, history, selectors, services
from rapport.care.api_common import StrictIn, public_id, request_user
from rapport.care.crisis import crisis_card_for
from rapport.care.errors import CheckInAnswersInvalid, CheckInError
from rapport.care.models import CheckIn, Engagement, InstrumentVersion, Side
from rapport.care.privacy import fhir_subject_reference
from rapport.core.audit import audit_reads
from rapport.core.pagination import parse_page_number
from rapport.core.problems import (
    SIGNED_IN_FAILURES,
    problem_openapi_response,
    problem_openapi_responses,
    problem_response,
)

router = Router(tags=["check-ins"])

PAGE_SIZE = 20
NOT_YOURS = "No check-in of yours has this id"
READ_REASON = "check-in api"


# --- problems -------------------------------------------------------------------------------


def check_in_problem(request: HttpRequest, error: CheckInError) -> HttpResponse:
    """How refused answers read in the API (registered for ``CheckInError`` and its kinds)."""
    if isinstance(error, CheckInAnswersInvalid):
        return problem_response(
            status=error.status,
            title=error.title,
            detail="Some answers could not be used; nothing was saved.",
            errors=[{"path": path, "message": message} for path, message in error.problems],
        )
    return problem_response(status=error.status, title=error.title, detail=error.message)


_ANSWER_PROBLEMS = {
    409: "This check-in was already answered",
    410: "This check-in has closed (expired, replaced by a newer one, or withdrawn)",
}


def _answers_openapi() -> dict[str, Any]:
    responses = problem_openapi_responses(
        {**SIGNED_IN_FAILURES, 400: "A body that is not the documented shape (an unknown "
         "field, answers that are not an object)", 404: NOT_YOURS, **_ANSWER_PROBLEMS}
    )  # fmt: skip
    responses["responses"]["422"] = problem_openapi_response(
        "Answers that cannot be used; nothing was saved. `errors` names each problem's path: "
        '"alliance/bond-at-ease" (an item), "goals/2" (a goal rating), or "progress" (too '
        "few answers to score that questionnaire)",
        extra_properties={
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["path", "message"],
                },
            }
        },
    )
    return responses


# --- schemas --------------------------------------------------------------------------------


class OptionOut(Schema):
    value: int
    label: str


class ItemOut(Schema):
    id: str
    text: str
    optional: bool = Field(description="May be left blank (it counts in no score).")
    options: list[OptionOut]


class InstrumentRefOut(Schema):
    slug: str
    version: str
    title: str


class ScaleOut(Schema):
    id: str
    label: str
    value: float | None = Field(description="None: too many answers missing to score.")
    band: str | None
    prorated: bool


class ScaleScoreOut(ScaleOut):
    missing: list[str] = Field(description="Items of this scale left blank.")


class CriticalOut(Schema):
    item_id: str
    threshold: int
    status: str = Field(
        description='"flagged", "not flagged" or "not answered". "not flagged" says only that '
        "the answer was below the threshold; it never means that there is no risk, and an app "
        "should not show it as such."
    )


class ScoresOut(Schema):
    total: ScaleScoreOut
    subscales: list[ScaleScoreOut]
    critical: list[CriticalOut]


class PartOut(Schema):
    position: int
    purpose: str = Field(description="fit, alliance or progress.")
    instrument: InstrumentRefOut
    instructions: str
    items: list[ItemOut]
    answers: dict[str, int | None] | None = Field(
        description="Once answered: each item's value (None: left blank)."
    )
    scores: ScoresOut | None = Field(description="Once answered.")


class GoalToRateOut(Schema):
    position: int
    text: str = Field(description="The goal as you worded it when the check-in was asked.")
    scale_min: int
    scale_max: int
    rating: int | None = Field(description="Once answered; None when left blank.")


class CheckInSummaryOut(Schema):
    id: uuid.UUID
    engagement_id: uuid.UUID
    therapist_name: str
    status: str = Field(description="open, completed, expired, replaced or withdrawn.")
    after_session: int = Field(description="Attended sessions when it was asked (0: start).")
    requested_at: dt.datetime
    expires_at: dt.datetime
    completed_at: dt.datetime | None
    purposes: list[str]


class CheckInPageOut(Schema):
    total: int
    page: int
    pages: int
    results: list[CheckInSummaryOut]


class CheckInOut(CheckInSummaryOut):
    parts: list[PartOut]
    goals: list[GoalToRateOut]
    fhir: list[dict[str, Any]] = Field(
        description="Once answered: each questionnaire as an HL7 FHIR R4 QuestionnaireResponse."
    )


class AnswersIn(StrictIn):
    answers: dict[str, Any] = Field(
        description='Each part\'s purpose mapped to its answers by item id: {"alliance": '
        '{"bond-at-ease": 4, ...}}. A blank answer is null or left out.',
        examples=[{"alliance": {"bond-at-ease": 4, "bond-holding-back": 2}}],
    )
    goals: dict[str, Any] | None = Field(
        None,
        description='Goal ratings by goal position, 0 to 10: {"1": 7}. Only when the '
        "check-in asks about goals.",
    )


class CrisisLineOut(Schema):
    name: str
    number: str
    call: bool
    text: bool
    how: str = Field(description='"Call or text", "Call" or "Text".')
    hours: str


class CrisisCardOut(Schema):
    country_code: str = Field(description='"default" when the country has no lines listed.')
    country: str
    lines: list[CrisisLineOut]
    emergency: str = Field(description="The emergency number, or empty: call your local one.")


class PartResultOut(Schema):
    purpose: str
    instrument: InstrumentRefOut
    scores: ScoresOut


class AnswersOut(Schema):
    id: uuid.UUID
    status: str
    completed_at: dt.datetime
    parts: list[PartResultOut]
    goals: list[GoalToRateOut]
    crisis: bool = Field(
        description="A critical answer was at or above its threshold: show the crisis card "
        "now. Your therapist is alerted, whatever you share."
    )
    crisis_card: CrisisCardOut | None = Field(description="When crisis is true.")


class InstrumentSummaryOut(Schema):
    slug: str
    version: str = Field(description="The current version: the one new check-ins ask.")
    title: str
    builtin: bool
    versions: list[str] = Field(description="Every loaded version, oldest first.")


class InstrumentOut(Schema):
    slug: str
    version: str
    title: str
    builtin: bool
    content_hash: str
    loaded_at: dt.datetime
    definition: dict[str, Any] = Field(
        description="The canonical definition as loaded (format: docs/instruments.md)."
    )


# --- on the engagement (GET /engagements/{id}) -----------------------------------------------


class PartRecordOut(Schema):
    purpose: str
    instrument: InstrumentRefOut
    total: ScaleOut
    subscales: list[ScaleOut]
    critical_flagged: bool
    answers: dict[str, int | None] | None = Field(
        description="Item answers: the client's own, or when the client shares them."
    )


class GoalRatingOut(Schema):
    position: int
    text: str
    rating: int | None


class CheckInRecordOut(Schema):
    id: uuid.UUID
    completed_at: dt.datetime
    after_session: int
    parts: list[PartRecordOut]
    goal_ratings: list[GoalRatingOut]


class AlertOut(Schema):
    id: uuid.UUID
    kind: str
    created_at: dt.datetime


def engagement_check_ins(
    request: HttpRequest, engagement: Engagement, side: str
) -> dict[str, list[dict[str, Any]]]:
    """``check_ins`` and ``alerts`` of an engagement as its ``side`` may see them: the client
    everything they answered; the therapist what the client shares (``history.for_therapist``)
    and, whatever the sharing, the open alerts with no content."""
    if side == Side.CLIENT:
        records = history.for_client(engagement=engagement)
        alerts = []
    else:
        records = history.for_therapist(engagement=engagement)
        alerts = list(
            selectors.engagement_alerts_for_therapist(engagement=engagement, open_only=True)
        )
    # Scores, answers and goal ratings are health data; an alert says something happened.
    audit_reads(
        request=request, instances=[*history.rows_read(records), *alerts], reason=READ_REASON
    )
    return {
        "check_ins": [_record(record) for record in records],
        "alerts": [
            {"id": alert.public_id, "kind": alert.kind, "created_at": alert.created_at}
            for alert in alerts
        ],
    }


def _scale(scale: history.ScaleValue) -> dict[str, Any]:
    return {
        "id": scale.id,
        "label": scale.label,
        "value": scale.value,
        "band": scale.band,
        "prorated": scale.prorated,
    }


def _record(record: history.CheckInRecord) -> dict[str, Any]:
    return {
        "id": record.check_in.public_id,
        "completed_at": record.completed_at,
        "after_session": record.after_session,
        "parts": [
            {
                "purpose": part.purpose,
                "instrument": _instrument_ref(part.instrument_row),
                "total": _scale(part.total),
                "subscales": [_scale(scale) for scale in part.subscales],
                "critical_flagged": part.critical_flagged,
                "answers": dict(part.answers) if part.answers is not None else None,
            }
            for part in record.parts
        ],
        "goal_ratings": [
            {"position": goal.position, "text": goal.text, "rating": goal.rating}
            for goal in record.goal_ratings
        ],
    }


# --- helpers --------------------------------------------------------------------------------


def _instrument_ref(row: InstrumentVersion) -> dict[str, str]:
    return {"slug": row.slug, "version": row.version, "title": row.title}


def _summary(check_in: CheckIn) -> dict[str, Any]:
    return {
        "id": check_in.public_id,
        "engagement_id": check_in.engagement.public_id,
        "therapist_name": check_in.engagement.therapist.display_name,
        "status": check_in.status,
        "after_session": check_in.after_session,
        "requested_at": check_in.requested_at,
        "expires_at": check_in.expires_at,
        "completed_at": check_in.completed_at,
        "purposes": [part.purpose for part in _parts(check_in)],
    }


def _parts(check_in: CheckIn) -> list[Any]:
    return sorted(check_in.parts.all(), key=lambda part: part.position)


def _goals(check_in: CheckIn) -> list[dict[str, Any]]:
    return [
        {
            "position": goal.position,
            "text": goal.text,
            "scale_min": services.GOAL_RATING_MIN,
            "scale_max": services.GOAL_RATING_MAX,
            "rating": goal.rating,
        }
        for goal in history.goal_ratings_of(check_in.goal_ratings)
    ]


def _stored_json(raw: str) -> dict[str, Any] | None:
    return json.loads(raw) if raw else None


def _detail(check_in: CheckIn) -> dict[str, Any]:
    parts = []
    for part in _parts(check_in):
        instrument = selectors.instrument_of(part.instrument)
        parts.append(
            {
                "position": part.position,
                "purpose": part.purpose,
                "instrument": _instrument_ref(part.instrument),
                "instructions": instrument.instructions,
                "items": [
                    {
                        "id": item.id,
                        "text": item.text,
                        "optional": item.optional,
                        "options": [
                            {"value": option.value, "label": option.label}
                            for option in item.options
                        ],
                    }
                    for item in instrument.items
                ],
                "answers": _stored_json(part.answers),
                "scores": _stored_json(part.scores),
            }
        )
    fhir: list[dict[str, Any]] = []
    if check_in.completed_at is not None:
        records = history.records_of([check_in], with_answers=True)
        fhir = history.fhir_responses(
            records, subject_reference=fhir_subject_reference(check_in.engagement)
        )
    return {**_summary(check_in), "parts": parts, "goals": _goals(check_in), "fhir": fhir}


def _crisis_card(engagement: Engagement) -> dict[str, Any]:
    card = crisis_card_for(engagement)
    return {
        "country_code": card.country_code,
        "country": card.country,
        "lines": [
            {
                "name": line.name,
                "number": line.number,
                "call": line.call,
                "text": line.text,
                "how": line.how,
                "hours": line.hours,
            }
            for line in card.lines
        ],
        "emergency": card.emergency,
    }


def _client_check_ins(user: User) -> QuerySet[CheckIn]:
    return (
        CheckIn.objects.filter(engagement__client=user)
        .select_related("engagement__therapist")
        .prefetch_related("parts")
        .order_by("-requested_at", "-id")
    )


def _page_number(raw: str | None, pages: int) -> int:
    requested = parse_page_number(raw)
    if requested.problem is not None:
        raise ValidationError({"page": "Give page as a whole number from 1."})
    if requested.number > pages:
        only = "There is only 1 page." if pages == 1 else f"There are only {pages} pages."
        raise ValidationError({"page": only})
    return requested.number


# --- check-ins ------------------------------------------------------------------------------


@router.get(
    "/check-ins",
    response=CheckInPageOut,
    summary="Your check-ins (as a client)",
    description=(
        "With `due=1`: the check-ins waiting for your answer (at most one per engagement), "
        "soonest to close first. Without: all your check-ins, newest first, "
        f"{PAGE_SIZE} a page. Check-ins are asked of clients: a therapist gets the ones "
        "asked of them as a client, usually none. A `page` past the last one is a 400 "
        'problem saying how many pages there are ("There are only 3 pages.").'
    ),
    openapi_extra=problem_openapi_responses(
        {**SIGNED_IN_FAILURES, 400: "A due or page value that cannot be used, naming it"}
    ),
)
def check_in_list(
    request: HttpRequest,
    due: str | None = Query(None, description="1: only the check-ins waiting for you."),
    page: str | None = Query(None, description="Page number, from 1."),
) -> dict[str, Any]:
    user = request_user(request)
    if due not in (None, "", "0", "1"):
        raise ValidationError({"due": "Give due=1 for the check-ins waiting, or leave it out."})
    if due == "1":
        rows: QuerySet[CheckIn] = selectors.client_check_ins_due(user=user, now=timezone.now())
    else:
        rows = _client_check_ins(user)
    total = rows.count()
    pages = max(1, -(-total // PAGE_SIZE))
    number = _page_number(page, pages)
    start = (number - 1) * PAGE_SIZE
    return {
        "total": total,
        "page": number,
        "pages": pages,
        "results": [_summary(check_in) for check_in in rows[start : start + PAGE_SIZE]],
    }


@router.get(
    "/check-ins/{id}",
    response=CheckInOut,
    summary="One of your check-ins: its questions, and once answered its scores",
    description=(
        "The questionnaires (parts) with their items and answer options, and the goals to "
        "rate from 0 to 10. Once answered: your answers, the scores (total, subscales, bands, "
        "critical items) and each part as a FHIR R4 QuestionnaireResponse. Only the client "
        "reads a check-in here; the therapist sees what the client shares on the engagement."
    ),
    openapi_extra=problem_openapi_responses({**SIGNED_IN_FAILURES, 404: NOT_YOURS}),
)
def check_in_detail(request: HttpRequest, id: str) -> dict[str, Any]:
    check_in = access.get_check_in_for_client(request.user, public_id(id, "check-in"))
    shown: list[Any] = [check_in]
    if check_in.completed_at is not None:
        shown += list(check_in.parts.all())
    # The goals' wording and, once answered, the answers and scores are health data.
    audit_reads(request=request, instances=shown, reason=READ_REASON)
    return _detail(check_in)


@router.post(
    "/check-ins/{id}/answers",
    response={201: AnswersOut},
    summary="Answer one of your check-ins, once",
    description=(
        "Every questionnaire must be answered enough to be scored; each refused answer is "
        "named in a 422 problem and nothing is saved. When a critical answer is at or above "
        "its threshold, `crisis` is true and `crisis_card` holds the lines to call or text, "
        "to show at once."
    ),
    openapi_extra=_answers_openapi(),
)
def check_in_answers(request: HttpRequest, id: str, payload: AnswersIn) -> Status[Any]:
    check_in = access.get_check_in_for_client(request.user, public_id(id, "check-in"))
    result = services.check_in_answer(
        check_in=check_in, answers=payload.answers, goal_ratings=payload.goals
    )
    stored = result.check_in
    assert stored.completed_at is not None
    return Status(
        201,
        {
            "id": stored.public_id,
            "status": stored.status,
            "completed_at": stored.completed_at,
            "parts": [
                {
                    "purpose": part.purpose,
                    "instrument": {
                        "slug": part.instrument.slug,
                        "version": part.instrument.version,
                        "title": part.instrument.title,
                    },
                    "scores": services.scores_dict(part.scores),
                }
                for part in result.parts
            ],
            "goals": _goals(stored),
            "crisis": result.crisis,
            "crisis_card": _crisis_card(check_in.engagement) if result.crisis else None,
        },
    )


# --- instruments ----------------------------------------------------------------------------


@router.get(
    "/instruments",
    response=list[InstrumentSummaryOut],
    summary="The loaded instruments",
    description=(
        "Every instrument loaded, built-in or the clinic's, with its current version. Signed "
        "in only: a clinic's instrument may be licensed, and its wording not ours to publish."
    ),
    tags=["instruments"],
    openapi_extra=problem_openapi_responses(SIGNED_IN_FAILURES),
)
def instrument_list(request: HttpRequest) -> list[dict[str, Any]]:
    versions: dict[str, list[str]] = {}
    for slug, version in InstrumentVersion.objects.order_by("slug", "loaded_at", "id").values_list(
        "slug", "version"
    ):
        versions.setdefault(slug, []).append(version)
    return [
        {
            "slug": row.slug,
            "version": row.version,
            "title": row.title,
            "builtin": row.builtin,
            "versions": versions[row.slug],
        }
        for row in selectors.instruments_current()
    ]


@router.get(
    "/instruments/{slug}",
    response=InstrumentOut,
    summary="One instrument's definition",
    description=(
        "The current version's canonical definition, or with `version` an older one, exactly "
        "as loaded (the format: docs/instruments.md). Signed in only, as the list."
    ),
    tags=["instruments"],
    openapi_extra=problem_openapi_responses(
        {**SIGNED_IN_FAILURES, 404: "No instrument, or no such version of it, is loaded"}
    ),
)
def instrument_detail(
    request: HttpRequest,
    slug: str,
    version: str | None = Query(None, description="An older version; the current one without."),
) -> dict[str, Any]:
    if version is None:
        row = selectors.instrument_current(slug=slug)
    else:
        row = InstrumentVersion.objects.filter(slug=slug, version=version).first()
    if row is None:
        raise Http404("No such instrument.")
    return {
        "slug": row.slug,
        "version": row.version,
        "title": row.title,
        "builtin": row.builtin,
        "content_hash": row.content_hash,
        "loaded_at": row.loaded_at,
        "definition": row.definition,
    }
