"""Matching's part of ``/api/v1/``: fit profiles, the ranked list, and "what did not fit".

- ``/fit-profiles`` (signed in): the person's one fit profile. Bodies are read raw and checked
  by ``answers.answers_from_data`` alone (the schemas in ``api_schemas`` document them), so an
  unknown key, taxonomy value or out-of-range number is a 400 problem naming the field, in the
  same words as the questionnaire pages, and nothing is stored.
- ``/match`` (open to everyone, like search): a fit profile inline, or a saved one by id, gives
  the ranked therapists with why each fits and what they do not meet, or what to relax.
- ``/match/feedback`` (signed in): what did not fit in an engagement ended for poor fit.

Refused answers read as problems through ``register_api_problems``, registered once in
``MatchingConfig.ready()``: no handler here catches them itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Path, Router

from rapport.accounts.models import User
from rapport.care.access import get_engagement_for_client
from rapport.care.api_common import public_id, request_user
from rapport.care.instruments.definition import strict_json
from rapport.core.audit import audit_read
from rapport.core.problems import (
    SIGNED_IN_FAILURES,
    problem_openapi_response,
    problem_openapi_responses,
    problem_response,
)
from rapport.directory.search.engine import current_index
from rapport.matching import access, ranking, selectors, services, terms
from rapport.matching.answers import ANSWER_KEYS, FitAnswers, FitAnswersError, answers_from_data
from rapport.matching.api_schemas import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    FitProfileIn,
    FitProfileOut,
    MatchIn,
    MatchListOut,
    MisfitFeedbackIn,
)
from rapport.matching.misfits import misfit_contradiction
from rapport.matching.models import FitProfile
from rapport.matching.services import NotAMisfit
from rapport.matching.session import session_answers_forget

router = Router(tags=["matching"])

NOT_YOURS = "No fit profile of yours has this id (or the id is malformed)"
INVALID_PROFILE = (
    "Not a usable fit profile, naming the field (`preferences.language.values` for an unknown "
    "language); nothing was stored"
)
# What a fit profile or a match list says is about the person's health: nothing may keep it.
PRIVATE_CACHE_CONTROL = "no-store"
PAGE_PARAM = "page"
PAGE_SIZE_PARAM = "page_size"
PROFILE_ID_PARAM = "fit_profile_id"


# --- problems ------------------------------------------------------------------------------


def fit_answers_problem(request: HttpRequest, error: FitAnswersError) -> HttpResponse:
    """A refused answer: 400, naming the field as every other invalid input does (a place not
    found also carries the closest served place names as ``suggestions``, as search does)."""
    extra = {"suggestions": list(error.suggestions)} if error.suggestions else {}
    return problem_response(
        status=400,
        title="Invalid request",
        detail=error.message,
        errors=[{"field": error.field, "message": error.message}],
        **extra,
    )


def not_a_misfit_problem(request: HttpRequest, error: NotAMisfit) -> HttpResponse:
    return problem_response(
        status=409, title="This engagement did not end as not the right fit", detail=str(error)
    )


def register_api_problems() -> None:
    """How matching's errors read in the API; called from ``MatchingConfig.ready()`` (the API
    installs the registered handlers when it is built)."""
    from rapport.core.problems import register_problem_handler

    register_problem_handler(FitAnswersError, fit_answers_problem)
    register_problem_handler(NotAMisfit, not_a_misfit_problem)


# --- reading bodies ------------------------------------------------------------------------


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its ``$defs`` written in place, for a request body the
    handler reads itself (ninja adds component schemas only for the bodies it parses)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = definitions[node["$ref"].rsplit("/", 1)[-1]]
                siblings = {key: value for key, value in node.items() if key != "$ref"}
                return resolve({**target, **siblings})
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


# The issue's own example: a place, a concern and a budget are enough for a list.
MINIMAL_EXAMPLE = {"place": "Toronto, ON", "concerns": ["anxiety"], "budget_per_session": 150}


def _body_openapi(model: type[FitProfileIn], descriptions: dict[int, str]) -> dict[str, Any]:
    extra = problem_openapi_responses(descriptions)
    body = {"schema": _inlined(model.model_json_schema()), "example": MINIMAL_EXAMPLE}
    extra["requestBody"] = {"required": True, "content": {"application/json": body}}
    return extra


def _create_openapi() -> dict[str, Any]:
    extra = _body_openapi(FitProfileIn, {**SIGNED_IN_FAILURES, 400: INVALID_PROFILE})
    extra["responses"]["409"] = problem_openapi_response(
        "You already have a fit profile: change it with PUT /api/v1/fit-profiles/{id}",
        extra_properties={
            PROFILE_ID_PARAM: {
                "type": "string",
                "format": "uuid",
                "description": "The id of the fit profile you have.",
            }
        },
    )
    return extra


def _json_body(request: HttpRequest) -> Any:
    """The body as JSON, strictly (a key given twice, NaN or Infinity is refused)."""
    try:
        data = strict_json(request.body)
        # JSON may spell a lone surrogate ("\ud800"), which no text can be stored with.
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeError:
        message = "The body is not UTF-8 text."
    except json.JSONDecodeError as error:
        message = f"The body is not valid JSON: {error.msg} (line {error.lineno})."
    except ValueError as error:
        message = f"The body is not valid JSON: {error}"
    except RecursionError:
        message = "The body is nested too deeply."
    else:
        return data
    raise ValidationError({"": message})


def _answers(data: Any, slugs: Mapping[str, frozenset[str]] | None = None) -> FitAnswers:
    answers = answers_from_data(
        data, term_slugs=slugs if slugs is not None else terms.active_slugs()
    )
    # Two opposite "what did not fit" answers cannot both lean a list (``misfits``): refused
    # here as in a saved profile, so a list asked for inline follows the same rule.
    contradiction = misfit_contradiction(answers.did_not_fit)
    if contradiction is not None:
        raise FitAnswersError("did_not_fit", contradiction)
    return answers


# --- answers -------------------------------------------------------------------------------


def _utc_text(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _json(body: Any, *, status: int = 200) -> HttpResponse:
    # Built here rather than validated through the response schema on the way out: the
    # schema's optional parts would come back as nulls, which the same API refuses as input.
    # Tests hold every body to its schema.
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    return response


def _profile_body(profile: FitProfile, answers: FitAnswers) -> dict[str, Any]:
    return {
        "id": str(profile.public_id),
        "answers": answers.to_data(),
        "created_at": _utc_text(profile.created_at),
        "updated_at": _utc_text(profile.updated_at),
    }


def _own_profile(request: HttpRequest, raw_id: str) -> FitProfile:
    return access.get_fit_profile_for_owner(request.user, public_id(raw_id, "fit profile"))


# --- fit profiles --------------------------------------------------------------------------

_PROFILE_ID = Path(..., description="The fit profile's id (a UUID).")


@router.post(
    "/fit-profiles",
    response={201: FitProfileOut},
    summary="Save your fit profile",
    description=(
        "Creates the signed-in person's fit profile (one per account: a second one is a 409; "
        "change the one you have with PUT). Every field is optional."
    ),
    openapi_extra=_create_openapi(),
)
def fit_profile_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    answers = _answers(_json_body(request))
    try:
        with transaction.atomic():
            # A double click sends two of these at once: the person's row is locked so the
            # second waits and finds the first's profile (PostgreSQL); where the lock is a
            # no-op (SQLite), the one-per-account constraint refuses the second.
            User.objects.select_for_update().filter(pk=user.pk).exists()
            if access.own_fit_profile(user) is None:
                profile = services.fit_profile_save(owner=user, answers=answers)
                return _json(_profile_body(profile, answers), status=201)
    except IntegrityError:
        pass
    existing = access.own_fit_profile(user)
    assert existing is not None  # refused above only because it exists
    return problem_response(
        status=409,
        title="You already have a fit profile",
        detail="There is one fit profile per account: change yours with "
        f"PUT /api/v1/fit-profiles/{existing.public_id}.",
        fit_profile_id=str(existing.public_id),
    )


@router.get(
    "/fit-profiles/{id}",
    response=FitProfileOut,
    summary="Your fit profile",
    openapi_extra=problem_openapi_responses({**SIGNED_IN_FAILURES, 404: NOT_YOURS}),
)
def fit_profile_detail(request: HttpRequest, id: str = _PROFILE_ID) -> HttpResponse:
    profile = _own_profile(request, id)
    answers = selectors.fit_profile_answers(profile)
    # The answers are what the person said about their health: each read is recorded.
    audit_read(request=request, instance=profile, reason="fit profile api")
    return _json(_profile_body(profile, answers))


@router.put(
    "/fit-profiles/{id}",
    response=FitProfileOut,
    summary="Replace your fit profile's answers",
    description="The whole document: a field left out is cleared.",
    openapi_extra=_body_openapi(
        FitProfileIn, {**SIGNED_IN_FAILURES, 400: INVALID_PROFILE, 404: NOT_YOURS}
    ),
)
def fit_profile_replace(request: HttpRequest, id: str = _PROFILE_ID) -> HttpResponse:
    profile = _own_profile(request, id)
    answers = _answers(_json_body(request))
    profile = services.fit_profile_save(owner=request_user(request), answers=answers)
    return _json(_profile_body(profile, answers))


@router.delete(
    "/fit-profiles/{id}",
    response={204: None},
    summary="Delete your fit profile",
    description=(
        "Removes every answer in it, and withdraws it from every consultation and session it "
        "was shared with: a fit profile you make later is shown to nobody until you share it "
        "again."
    ),
    openapi_extra=problem_openapi_responses({**SIGNED_IN_FAILURES, 404: NOT_YOURS}),
)
def fit_profile_remove(request: HttpRequest, id: str = _PROFILE_ID) -> HttpResponse:
    services.fit_profile_delete(profile=_own_profile(request, id))
    # A copy kept in the session before signing in must not come back as the profile.
    session_answers_forget(request.session)
    return HttpResponse(status=204)


# --- the ranked list -----------------------------------------------------------------------


def _signed_in(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def _viewer(request: HttpRequest, user: User | None, key: str) -> str:
    """Who is counted once a day on the exposure figures: the account, else the session when
    the caller has one, else (an anonymous call without cookies) the answers themselves, so
    the same request repeated counts once. Nothing new is kept in a session for it."""
    if user is not None:
        return services.account_viewer(user.pk)
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        return f"session:{session_key}"
    return f"answers:{key}"


def _whole_in(data: dict[str, Any], name: str, default: int, high: int) -> int:
    value = data.pop(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({name: "Enter a whole number."})
    if not 1 <= value <= high:
        raise ValidationError({name: f"Enter a whole number from 1 to {high:,}."})
    return value


def _match_request(
    request: HttpRequest, slugs: Mapping[str, frozenset[str]]
) -> tuple[FitAnswers, str, int, int]:
    """(answers, the seed's key, page, page size) from the body, or a 400/404 problem."""
    data = _json_body(request)
    if not isinstance(data, dict):
        raise FitAnswersError("", "Send a JSON object: a fit profile, or its fit_profile_id.")
    page = _whole_in(data, PAGE_PARAM, 1, MAX_PAGE)
    page_size = _whole_in(data, PAGE_SIZE_PARAM, ranking.DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if PROFILE_ID_PARAM not in data:
        answers = _answers(data, slugs)
        # Without a saved profile the order must still hold still for the day: the same
        # answers give the same key, and nothing about the person is kept to make it.
        key = hashlib.sha256(answers.to_json().encode()).hexdigest()
        return answers, key, page, page_size
    raw_id = data.pop(PROFILE_ID_PARAM)
    if data:
        also = sorted(data)[0]
        if also in ANSWER_KEYS:
            message = "Send either fit_profile_id or the fit profile's answers, not both."
            raise FitAnswersError(PROFILE_ID_PARAM, message)
        raise FitAnswersError(str(also)[:60], "This is not a fit-profile field.")
    if not isinstance(raw_id, str):
        raise FitAnswersError(PROFILE_ID_PARAM, "Give the fit profile's id as text.")
    profile = access.get_fit_profile_for_owner(request.user, public_id(raw_id, "fit profile"))
    audit_read(request=request, instance=profile, reason="match")
    return selectors.fit_profile_answers(profile), str(profile.public_id), page, page_size


def _therapist(match: ranking.Match) -> dict[str, Any]:
    card = match.card
    return {
        "id": str(card.public_id),
        "name": card.display_name,
        "pronouns": card.pronouns,
        "initials": card.initials,
        "photo_url": card.photo_url or None,
        "headline": card.headline,
        "designation": card.designation_code,
        "designation_name": card.designation_name,
        "licensed_in": card.licensed_in,
        "concerns": list(card.concerns),
        "fee": card.fee,
        "sliding_scale_from": card.sliding_scale_from,
        "delivery": card.delivery,
        "location": card.location,
        "experience": card.experience,
        "has_video_introduction": card.has_video_introduction,
        "has_captioned_video": card.has_captioned_video,
        "profile_url": reverse("directory:therapist_detail", args=[card.public_id]),
    }


def _match_body(result: ranking.MatchList) -> dict[str, Any]:
    return {
        "total": result.total,
        "page": result.page,
        "pages": max(result.pages, 1),
        "place": result.place_label,
        "leaning": list(result.leaning),
        "results": [
            {
                "therapist": _therapist(match),
                "score": match.score,
                "reasons": list(match.reasons),
                "unmet": list(match.unmet),
                "distance_km": (None if match.distance_km is None else round(match.distance_km, 1)),
                "next_free_consultation": _utc_text(match.next_consultation_at),
            }
            for match in result.matches
        ],
        "relax": [
            {
                "constraint": relax.constraint,
                "constraints": list(relax.constraints),
                "advice": relax.advice,
                "adds": relax.adds,
            }
            for relax in result.relaxations
        ],
    }


@router.post(
    "/match",
    auth=None,
    response=MatchListOut,
    summary="Ranked therapists for a fit profile",
    description=(
        "Open to everyone, like search: send the fit profile's fields inline (all optional, "
        'e.g. `{"place": "Toronto, ON", "concerns": ["anxiety"], "budget_per_session": 150}`), '
        "or, signed in, `fit_profile_id` for your saved one. Therapists who meet every hard "
        "constraint (as search defines them: place and licence, radius, accepting, budget, a "
        "required language) come best fit first, each with why it fits and what it does not "
        "meet; when there are none, `relax` says which constraint to loosen and how many that "
        "would add. Signed in, therapists you have had an engagement with are left out. Ties "
        "go by a seed that changes daily; nobody pays to rank.\n\n"
        "No CSRF token is needed: nothing is stored but a count of first pages shown, each "
        "person (or, without a session, each set of answers) once a day."
    ),
    openapi_extra=_body_openapi(
        MatchIn,
        {
            400: "An unusable field, naming it (an unknown place is `place`, with the "
            'closest served names in `suggestions`, e.g. `["Toronto, ON"]`; both '
            "`fit_profile_id` and inline answers is `fit_profile_id`; a page past the last is "
            "`page`); nothing was stored",
            404: "No fit profile of yours has this id (or you are not signed in)",
        },
    ),
)
def match_list(request: HttpRequest) -> HttpResponse:
    index = current_index()
    answers, key, page, page_size = _match_request(request, terms.active_slugs(index))
    now = timezone.now()
    today = timezone.localdate(now)
    user = _signed_in(request)
    result = ranking.rank(
        answers=answers,
        now=now,
        seed=ranking.rotating_seed(day=today, key=key),
        page=page,
        page_size=page_size,
        exclude_therapist_ids=selectors.past_therapist_ids(user=user) if user else (),
        index=index,
    )
    pages = max(result.pages, 1)
    if page > pages:
        message = "There is only 1 page." if pages == 1 else f"There are only {pages} pages."
        raise ValidationError({PAGE_PARAM: message})
    if page == 1 and result.matches:
        # Exposure is the share of people a therapist appears to on a first page, each person
        # once a day; an empty page shows nobody, so it is not counted.
        services.exposure_record(
            therapist_ids=[match.therapist_id for match in result.matches],
            day=today,
            viewer=_viewer(request, user, key),
        )
    return _json(_match_body(result))


# --- what did not fit ----------------------------------------------------------------------


@router.post(
    "/match/feedback",
    response=FitProfileOut,
    summary="Say what did not fit with a past therapist",
    description=(
        "For an engagement you ended as not the right fit: the reasons join your fit "
        "profile's `did_not_fit` (one is created if you have none), so your next list leaves "
        "that therapist out and leans away from what did not fit. Never shown to the therapist."
    ),
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "An unknown reason (`reasons`), or a body that is not the documented shape",
            404: "No engagement of yours (as a client) has this id",
            409: "That engagement did not end as not the right fit",
        }
    ),
)
def misfit_feedback(request: HttpRequest, payload: MisfitFeedbackIn) -> HttpResponse:
    user = request_user(request)
    engagement = get_engagement_for_client(user, payload.engagement_id)
    profile = services.misfit_feedback_record(
        owner=user, engagement=engagement, reasons=payload.reasons
    )
    answers = selectors.fit_profile_answers(profile)
    # The answer holds the whole profile, not only what was sent: a read, as on GET.
    audit_read(request=request, instance=profile, reason="fit profile api")
    return _json(_profile_body(profile, answers))
