"""Directory endpoints: the public search and profiles under ``/api/v1/therapists`` (no
sign-in, read-only), and staff licence review under ``/api/v1/staff``."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from rapport.accounts.models import User
from rapport.core.problems import (
    SIGNED_IN_FAILURES,
    problem_openapi_response,
    problem_openapi_responses,
    problem_response,
)
from rapport.directory.access import get_therapist_for_review
from rapport.directory.display import contact_policy, identity_items_with, style_words
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    STYLE_MAX,
    STYLE_MIN,
    BetweenSessionContact,
    GenderCategory,
    TherapistProfile,
    VerificationDecision,
)
from rapport.directory.search.contract import (
    DELIVERY_MODES,
    SORTS,
    SearchHit,
    SearchParam,
    SearchQuery,
    SearchQueryError,
    SearchResult,
)
from rapport.directory.search.engine import (
    SearchIndex,
    cached_answer,
    cached_rows,
    current_index,
    search,
)
from rapport.directory.search.numbers import whole_number
from rapport.directory.search.params import parse_search_query
from rapport.directory.selectors import (
    PublicProfile,
    ResultRow,
    therapist_licences_for_review,
    therapist_profile_for_api,
    therapist_result_rows,
    therapist_verification_decisions,
)
from rapport.directory.services import StaleDecision, therapist_verification_decide

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
    # The status the caller last saw; a decision made meanwhile by someone else answers 409.
    expected_status: str | None = None


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
            for licence in therapist_licences_for_review(therapist=therapist)
        ],
        "decisions": [
            _decision(decision)
            for decision in therapist_verification_decisions(therapist=therapist)
        ],
    }


@staff_router.get(
    "/verification/{public_id}",
    response=ReviewOut,
    summary="A licence review",
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            404: "No therapist has this id, or the account may not review licences",
        }
    ),
)
def review(request: HttpRequest, public_id: uuid.UUID) -> dict[str, Any]:
    return _review(get_therapist_for_review(request.user, public_id))


@staff_router.post(
    "/verification/{public_id}/decisions",
    response={201: DecisionOut},
    summary="Verify, reject or suspend a therapist",
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            400: "Invalid input (an unknown status, a missing reason), naming each field",
            403: (
                "The CSRF token is missing, or two-factor authentication is required for "
                "staff accounts first"
            ),
            404: "No therapist has this id, or the account may not review licences",
            409: "Someone else decided first: the status is no longer the expected one",
        }
    ),
)
def decide(request: HttpRequest, public_id: uuid.UUID, payload: DecisionIn) -> Status[Any]:
    therapist = get_therapist_for_review(request.user, public_id)
    assert isinstance(request.user, User)
    try:
        decision = therapist_verification_decide(
            therapist=therapist,
            reviewer=request.user,
            status=payload.status,
            reason=payload.reason,
            expected_status=payload.expected_status,
        )
    except StaleDecision as conflict:
        raise HttpError(409, str(conflict)) from conflict
    return Status(201, _decision(decision))


# --- public search and profiles ------------------------------------------------------------
#
# The same query string as the HTML list page (``/therapists/?concern=grief&near=Toronto`` and
# ``/api/v1/therapists?concern=grief&near=Toronto`` ask the same question), parsed by the same
# ``parse_search_query``, so both answer a bad value with the same words.

public_router = Router(tags=["therapists"])

API_DEFAULT_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 100
# The API's own parameter (the HTML page has a fixed page size), so not a SearchParam.
API_PAGE_SIZE_PARAM = "page_size"
# Public directory data, but a suspension must hide a listing at once: caches may store an
# answer only if they check back every time. Responses to a signed-in person are turned into
# ``no-store`` by SecurityHeadersMiddleware.
PUBLIC_CACHE_CONTROL = "no-cache"


def _documented(initial: Any, description: str, **openapi: Any) -> Any:
    """A query parameter that ninja passes through as text and the OpenAPI document describes
    with its real type.

    Validation is ``parse_search_query``'s job alone (shared with the HTML page), so ninja
    must never refuse a value with words of its own; the document still tells a client that
    ``max_fee`` is a whole number and ``concern`` repeats.
    """

    def replace(schema: dict[str, Any]) -> None:
        schema.clear()
        schema.update(openapi)
        schema["description"] = description

    return Field(initial, description=description, json_schema_extra=replace)


def _documented_query_parameters(schema: type[Schema]) -> list[dict[str, Any]]:
    """A documentation-only schema's fields as OpenAPI query parameters, written as ninja writes
    those of a ``Query[...]`` argument. Not an argument: ninja would validate all ~40 fields
    on every search only for the handler to parse the query string again (0.3 ms a search)."""
    properties = schema.model_json_schema()["properties"]
    return [
        {
            "in": "query",
            "name": name,
            "schema": details,
            "required": False,  # every field has a default
            "description": details["description"],
        }
        for name, details in properties.items()
    ]


def _many(description: str, *, values: list[str] | None = None) -> Any:
    items: dict[str, Any] = {"type": "string"}
    if values:
        items["enum"] = values
    return _documented([], description, type="array", items=items)


def _flag(description: str) -> Any:
    return _documented(None, description, type="string", enum=["1", "0"])


STYLE_PARAMETER_HELP = (
    "Preferred {low} (1) to {high} (5) placement; keeps therapists whose own placement is "
    "within 1 of it, and ranks by closeness with sort=best_fit."
)


def _style_parameter(name: str) -> Any:
    """The documentation of one style filter, worded from its dimension's two ends."""
    low, high = next((low, high) for field, low, high in STYLE_DIMENSIONS if field == name)
    return _documented(
        None,
        STYLE_PARAMETER_HELP.format(low=low.lower(), high=high.lower()),
        type="integer",
        minimum=STYLE_MIN,
        maximum=STYLE_MAX,
    )


class SearchParams(Schema):
    """Every filter of ``GET /api/v1/therapists``. Only documentation: the handler reads the
    query string itself through ``parse_search_query``."""

    near: str | None = _documented(
        None,
        "A city or region in Canada or the United States, e.g. `Toronto` or `Austin, TX`, "
        "or a postal code (`M5V 2T6`, or its first three characters `M5V`) or ZIP code "
        "(`98101`, `98101-1234`), measured from the centre of its area (found offline; "
        "nothing is sent anywhere). Enables distances and sort=distance.",
        type="string",
        maxLength=200,
    )
    lat: str | None = _documented(
        None, "Latitude of the searcher, with lon, instead of near.", type="number"
    )
    lon: str | None = _documented(
        None, "Longitude of the searcher, with lat, instead of near.", type="number"
    )
    radius_km: str | None = _documented(
        None,
        "How far from the place to look, in kilometres (more than 0, at most 500; default 25).",
        type="number",
        minimum=0,
        maximum=500,
    )
    delivery: list[str] = _many(
        "A way to meet; repeat to accept any of several (`in_person` counts an office within "
        "radius_km of the place; `video` and `phone` count only from therapists licensed in "
        "the place's province or state).",
        values=list(DELIVERY_MODES),
    )
    concern: list[str] = _many(
        "A concern's slug (e.g. `anxiety`); repeat to require several. See facets.concern."
    )
    modality: list[str] = _many("An approach's slug (e.g. `cbt`); repeat to require several.")
    population: list[str] = _many(
        "Who the therapist sees (e.g. `couples`); repeat to require several."
    )
    language: list[str] = _many(
        "A session language as a BCP 47 tag (e.g. `fr`); repeat to require several."
    )
    gender: list[str] = _many(
        "The therapist's self-described gender category; repeat to accept any of several.",
        values=list(GenderCategory.values),
    )
    lived_experience: list[str] = _many(
        "Lived experience a therapist chose to disclose (slug); repeat to require several."
    )
    faith: list[str] = _many(
        "A faith or spiritual tradition (slug); repeat to accept any of several."
    )
    lgbtq2s_affirming: str | None = _flag("`1`: only 2SLGBTQ+ affirming practices.")
    max_fee: str | None = _documented(
        None,
        "Highest fee per session, in whole currency units (e.g. `150`).",
        type="integer",
        minimum=0,
    )
    sliding_scale: str | None = _flag(
        "`1`: also keep therapists whose sliding scale reaches down to max_fee."
    )
    insurance: str | None = _flag("`1`: only therapists who accept insurance.")
    direct_billing: str | None = _flag("`1`: only therapists who bill insurers directly.")
    has_video: str | None = _flag(
        "`1`: only therapists with a published video introduction (see has_video_introduction)."
    )
    captioned_video: str | None = _flag(
        "`1`: only therapists with a published video introduction that has captions "
        "(see has_captioned_video)."
    )
    contact: list[str] = _many(
        "Between-session contact policy; repeat to accept any of several.",
        values=list(BetweenSessionContact.values),
    )
    accessibility: list[str] = _many(
        "An office accessibility feature (slug); one office must have every one asked for."
    )
    accepting: str | None = _flag(
        "`0`: include therapists not accepting new clients (by default they are left out)."
    )
    consultation_within_days: str | None = _documented(
        None,
        "Only therapists with a free consultation starting within this many days (1 to 90).",
        type="integer",
        minimum=1,
        maximum=90,
    )
    q: str | None = _documented(
        None,
        "Words to look for in names and profiles, in any script; a therapist must match every "
        "word (at most 200 characters).",
        type="string",
    )
    sort: str | None = _documented(
        None,
        "Order of results: `distance` (needs a place; the default with one), `soonest` "
        "(earliest free consultation first, equal times in an order that changes daily and holds "
        "all day; the default without a place), `fee`, `name` or "
        "`best_fit` (closeness to the style asked for, then distance).",
        type="string",
        enum=list(SORTS),
    )
    style_structure: str | None = _style_parameter("style_structure")
    style_direction: str | None = _style_parameter("style_direction")
    style_challenge: str | None = _style_parameter("style_challenge")
    style_time_focus: str | None = _style_parameter("style_time_focus")
    style_humour: str | None = _style_parameter("style_humour")
    page: str | None = _documented(
        None,
        "Page number, from 1. A page past the last one is a 400 problem saying how many "
        "pages there are.",
        type="integer",
        minimum=1,
        default=1,
    )
    page_size: str | None = _documented(
        None,
        f"Results per page, 1 to {API_MAX_PAGE_SIZE}.",
        type="integer",
        minimum=1,
        maximum=API_MAX_PAGE_SIZE,
        default=API_DEFAULT_PAGE_SIZE,
    )


class SearchResultOut(Schema):
    id: uuid.UUID = Field(description="The therapist's public id.")
    name: str
    pronouns: str
    designation: str = Field(description="The title shown beside the name, e.g. `RP`.")
    licensed_in: list[str] = Field(
        description="ISO 3166-2 codes of the jurisdictions with a current licence."
    )
    distance_km: float | None = Field(
        description="To the nearest office, to 0.1 km, when searching near a place."
    )
    fee: int = Field(description="Fee per session in minor units (cents).")
    currency: str = Field(description="ISO 4217 code: CAD or USD.")
    sliding_scale_min: int | None = Field(
        description="Lowest sliding-scale fee in minor units, or null without a sliding scale."
    )
    delivery: list[str] = Field(description="Any of in_person, video, phone.")
    languages: list[str] = Field(description="Session languages as BCP 47 tags.")
    accepting_new_clients: bool
    next_consultation_at: dt.datetime | None = Field(
        description="Start of the earliest free consultation (UTC), when one is known."
    )
    has_video_introduction: bool = Field(
        description="A video introduction by the therapist is published (filter: has_video)."
    )
    has_captioned_video: bool = Field(
        description="A published video introduction has captions (filter: captioned_video)."
    )
    url: str = Field(description="Path of the profile page on this site.")


class FacetOut(Schema):
    value: str
    label: str
    count: int = Field(
        description="How many results there would be with this value chosen. For the filters "
        "that accept any of several values (delivery, gender, faith and contact), counted "
        "with that filter's other chosen values left out: the results this value alone gives."
    )
    selected: bool


class SearchOut(Schema):
    total: int
    page: int
    pages: int
    results: list[SearchResultOut]
    facets: dict[str, list[FacetOut]] = Field(
        description="For each filter (keyed by its query parameter), the values to offer."
    )


class TermOut(Schema):
    slug: str
    name: str


class PublicLicenceOut(Schema):
    jurisdiction: str = Field(description="ISO 3166-2 code, e.g. CA-ON.")
    jurisdiction_name: str
    designation: str
    regulator: str
    regulator_abbreviation: str
    number: str
    expires_on: dt.date | None


class StylePlacementOut(Schema):
    dimension: str = Field(description="The matching style_* query parameter.")
    low: str
    high: str
    value: int = Field(description="1 (the low end) to 5 (the high end).")
    words: str


class OfficeOut(Schema):
    label: str
    street_address: str
    city: str
    jurisdiction: str
    jurisdiction_name: str
    postal_code: str
    accessibility_features: list[TermOut]
    accessibility_note: str


class IdentityItemOut(Schema):
    label: str
    words: str


class ContactPolicyOut(Schema):
    between_sessions: str = Field(description="none, scheduling or brief_check_ins.")
    reply_within_hours: int
    contact_hours: str
    summary: str


class ProfileOut(Schema):
    id: uuid.UUID
    name: str
    pronouns: str
    designation: str
    designation_name: str
    years_in_practice: int
    photo_url: str | None
    licences: list[PublicLicenceOut]
    headline: str
    about: str
    approach: str
    first_session: str
    style: list[StylePlacementOut]
    concerns: list[TermOut]
    modalities: list[TermOut]
    populations: list[TermOut]
    languages: list[TermOut]
    lgbtq2s_affirming: bool
    identity: list[IdentityItemOut] = Field(
        description="Only what the therapist chose to say about themselves."
    )
    fee: int = Field(description="Fee per session in minor units (cents).")
    currency: str
    sliding_scale_min: int | None
    accepts_insurance: bool
    direct_billing: bool
    insurance_note: str
    session_minutes: int
    consultation_minutes: int = Field(description="Free consultation length; 0 when none.")
    delivery: list[str]
    time_zone: str
    offices: list[OfficeOut]
    contact_policy: ContactPolicyOut
    accepting_new_clients: bool
    accepting_confirmed_at: dt.datetime | None
    has_video_introduction: bool = Field(description="A video introduction is published.")
    has_captioned_video: bool = Field(description="A published video introduction has captions.")
    url: str


_PATH_PLACEHOLDER = uuid.UUID(int=0)


def _profile_path(public_id: uuid.UUID) -> str:
    return reverse("directory:therapist_detail", args=[public_id])


def _parse_page_size(values: list[str]) -> int:
    if len(values) > 1:
        raise SearchQueryError(API_PAGE_SIZE_PARAM, "Give page_size once.")
    raw = values[0].strip() if values else ""
    if raw == "":
        return API_DEFAULT_PAGE_SIZE
    try:
        page_size: int | None = whole_number(raw, max_digits=len(str(API_MAX_PAGE_SIZE)))
    except ValueError:
        page_size = None
    if page_size is None or not 1 <= page_size <= API_MAX_PAGE_SIZE:
        raise SearchQueryError(
            API_PAGE_SIZE_PARAM,
            f"Give page_size as a whole number from 1 to {API_MAX_PAGE_SIZE}.",
        )
    return page_size


def _invalid(error: SearchQueryError) -> HttpResponse:
    # A place not found carries the closest served place names, to send as `near` instead.
    extra = {"suggestions": list(error.suggestions)} if error.suggestions else {}
    return problem_response(
        status=400,
        title="Invalid request",
        detail=error.message,
        errors=[{"field": error.field, "message": error.message}],
        **extra,
    )


def _captioned(has_video_introduction: bool, has_captioned_video: bool) -> bool:
    """Captions belong to a video introduction: the same rule as the captioned_video filter
    (search engine), so a row never says "captioned" for a therapist the filter leaves out."""
    return has_video_introduction and has_captioned_video


def _utc_text(moment: dt.datetime | None) -> str | None:
    """A moment as the API writes it: ISO 8601 in UTC with a "Z"."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# The members of a result row that belong to the request rather than to the row: the
# search's distance, and the next free consultation (shown only while it is still ahead).
_ROW_HOLES = ("distance_km", "next_consultation_at")


@dataclass(frozen=True)
class _RowText:
    """A result row's JSON as ``json.dumps`` writes it, cut at the _ROW_HOLES' values."""

    parts: tuple[str, str, str]
    next_consultation_at: dt.datetime | None


def _result_rows_json(hits: list[SearchHit], *, now: dt.datetime, index: SearchIndex) -> str:
    """The page's rows in the engine's order as a JSON array (see
    ``selectors.therapist_result_rows``). Each row's text is written once a minute per index
    (rows read this minute for another search are reused, see ``RecentRows``); only what is
    the request's (``_ROW_HOLES``) goes in each time."""
    texts: dict[int, _RowText] = cached_rows(
        index.recent_row_texts,
        [hit.therapist_id for hit in hits],
        now=now,
        read=lambda ids: _row_texts(ids, now=now),
    )
    rows = []
    for hit in hits:
        text = texts.get(hit.therapist_id)
        if text is None:  # removed between the search and this read
            continue
        before, between, after = text.parts
        distance = None if hit.distance_km is None else round(hit.distance_km, 1)
        consultation = text.next_consultation_at
        shown = (
            _utc_text(consultation) if consultation is not None and consultation >= now else None
        )
        rows.append(f"{before}{json.dumps(distance)}{between}{json.dumps(shown)}{after}")
    return f"[{', '.join(rows)}]"


def _row_texts(ids: Sequence[int], *, now: dt.datetime) -> dict[int, _RowText]:
    """Each row's text, cut at the _ROW_HOLES."""
    therapists = therapist_result_rows(ids=ids, now=now)
    # One reverse() for them all: a profile path differs only by the id.
    path_template, placeholder = _profile_path(_PATH_PLACEHOLDER), str(_PATH_PLACEHOLDER)
    texts = {}
    for therapist_id, row in therapists.items():
        fields = _row_fields(row)
        fields["url"] = path_template.replace(placeholder, fields["id"])
        before, between, after = _json_cut_at(fields, _ROW_HOLES)
        texts[therapist_id] = _RowText(
            parts=(before, between, after), next_consultation_at=row.next_consultation_at
        )
    return texts


def _json_cut_at(fields: dict[str, Any], holes: Sequence[str]) -> list[str]:
    """``json.dumps(fields)`` (default separators) cut just before each of ``holes``' values,
    which are left out: one more text than holes."""
    texts, text = [], "{"
    for number, (key, value) in enumerate(fields.items()):
        text += f"{', ' if number else ''}{json.dumps(key, ensure_ascii=False)}: "
        if key in holes:
            texts.append(text)
            text = ""
        else:
            text += json.dumps(value, ensure_ascii=False)
    texts.append(f"{text}}}")
    return texts


def _row_fields(row: ResultRow) -> dict[str, Any]:
    """One result row's members, in the order the API writes them; the request's own
    (_ROW_HOLES) and the profile's address are None here."""
    delivery = [
        mode
        for mode, offered in (
            ("in_person", row.offers_in_person),
            ("video", row.offers_video),
            ("phone", row.offers_phone),
        )
        if offered
    ]
    return {
        "id": str(row.public_id),
        "name": row.display_name,
        "pronouns": row.pronouns,
        "designation": row.designation_code,
        "licensed_in": row.licensed_in,
        "distance_km": None,
        "fee": row.fee_minor,
        "currency": row.currency,
        "sliding_scale_min": row.sliding_scale_min_minor,
        "delivery": delivery,
        "languages": row.languages,
        "accepting_new_clients": row.accepting_new_clients,
        "next_consultation_at": None,
        "has_video_introduction": row.has_video_introduction,
        "has_captioned_video": _captioned(row.has_video_introduction, row.has_captioned_video),
        "url": None,
    }


def _facets_json(result: SearchResult) -> str:
    """The facets as JSON, the same text ``json.dumps`` would write for them as dicts (value,
    label, count, selected), put together from each option's unchanging opening: ~140 options
    per answer, and encoding them as dicts cost more than the search's facet counting."""
    return (
        "{"
        + ", ".join(
            f"{_json_text(name)}: ["
            + ", ".join(
                f"{_facet_opening(facet.value, facet.label)}{facet.count}, "
                f'"selected": {"true" if facet.selected else "false"}}}'
                for facet in counts
            )
            + "]"
            for name, counts in result.facets.items()
        )
        + "}"
    )


@functools.lru_cache(maxsize=4096)
def _facet_opening(value: str, label: str) -> str:
    return f'{{"value": {_json_text(value)}, "label": {_json_text(label)}, "count": '


@functools.lru_cache(maxsize=4096)
def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@public_router.get(
    "",
    auth=None,
    response={200: SearchOut},
    summary="Search the directory",
    description=(
        "Listed therapists matching every filter given, one page at a time, with facet counts "
        "for each filter. Takes the same query string as the `/therapists/` page. "
        "Multi-valued filters repeat the parameter (`?concern=anxiety&concern=grief`). "
        "No sign-in needed.\n\n"
        "Errors are `application/problem+json` (RFC 9457) with status 400: an unusable value "
        "names its parameter in `errors[].field`; a `page` past the last page is also a 400, "
        'whose `detail` says how many pages there are ("There are only 3 pages."). A `near` '
        "that names no known place carries `suggestions`, the closest served place names "
        '(`["Toronto, ON"]` for "Torono"), any of which can be sent as `near` instead; a '
        "postal or ZIP code that is well formed but unknown says so in `detail`."
    ),
    openapi_extra={
        "parameters": _documented_query_parameters(SearchParams),
        "responses": {
            "400": problem_openapi_response(
                "An unusable parameter",
                extra_properties={
                    "suggestions": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "For a place not found: the closest served place "
                        "names, best first (at most 3); absent otherwise.",
                    }
                },
            )
        },
    },
)
def search_therapists(request: HttpRequest) -> HttpResponse:
    # The shared parser reads the raw query string, so repeated and malformed values reach it
    # exactly as sent (SearchParams only documents them). The body is built as plain JSON
    # rather than validated through SearchOut on the way out: that validation cost more than
    # the search itself (the facets alone are ~150 entries); tests hold the shape to SearchOut.
    now = timezone.now()
    try:
        page_size = _parse_page_size(request.GET.getlist(API_PAGE_SIZE_PARAM))
        index = current_index()
        # The parser reads only the search's own parameters, so page_size can stay in.
        query = parse_search_query(request.GET, page_size=page_size, index=index)
    except SearchQueryError as error:
        return _invalid(error)
    # The whole body is worked out once per index snapshot, query and minute (AnswerCache): a
    # popular search then costs no more than parsing its query string.
    pages, body = cached_answer(
        index, key=("api", query), now=now, compute=lambda: _search_body(query, now, index)
    )
    if body is None:
        message = "There is only 1 page." if pages == 1 else f"There are only {pages} pages."
        return problem_response(
            status=400,
            title="Invalid request",
            detail=message,
            errors=[{"field": SearchParam.PAGE, "message": message}],
        )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Cache-Control"] = PUBLIC_CACHE_CONTROL
    return response


def _search_body(
    query: SearchQuery, now: dt.datetime, index: SearchIndex
) -> tuple[int, str | None]:
    """(pages, the JSON body); the body is None when the page asked for is past the end."""
    result = search(query, now=now, index=index)
    if result.page_past_end:
        return max(result.pages, 1), None
    # Written as json.dumps would write {"total", "page", "pages", "results", "facets"}, the
    # rows and facets from their parts (see _result_rows_json and _facets_json).
    return result.pages, (
        f'{{"total": {result.total}, "page": {result.page}, "pages": {result.pages}, '
        f'"results": {_result_rows_json(result.hits, now=now, index=index)}, '
        f'"facets": {_facets_json(result)}}}'
    )


def _terms(terms: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"slug": slug, "name": name} for slug, name in terms]


def _profile(profile: PublicProfile) -> dict[str, Any]:
    therapist, terms = profile.therapist, profile.terms
    return {
        "id": str(therapist.public_id),
        "name": therapist.display_name,
        "pronouns": therapist.pronouns,
        "designation": therapist.designation.code,
        "designation_name": therapist.designation.name,
        "years_in_practice": therapist.years_in_practice,
        "photo_url": therapist.photo_url or None,
        "licences": [
            {
                "jurisdiction": licence.jurisdiction_id,
                "jurisdiction_name": licence.jurisdiction_name,
                "designation": licence.designation_code,
                "regulator": licence.regulator_name,
                "regulator_abbreviation": licence.regulator_abbreviation,
                "number": licence.number,
                "expires_on": (
                    None if licence.expires_on is None else licence.expires_on.isoformat()
                ),
            }
            for licence in profile.licences
        ],
        "headline": therapist.headline,
        "about": therapist.about,
        "approach": therapist.approach,
        "first_session": therapist.first_session,
        "style": [
            {
                "dimension": dimension,
                "low": placement["low"],
                "high": placement["high"],
                "value": placement["value"],
                "words": style_words(placement),
            }
            for (dimension, _, _), placement in zip(
                STYLE_DIMENSIONS, therapist.style_placements(), strict=True
            )
        ],
        "concerns": _terms(terms["concerns"]),
        "modalities": _terms(terms["modalities"]),
        "populations": _terms(terms["populations"]),
        "languages": _terms(terms["languages"]),
        "lgbtq2s_affirming": therapist.lgbtq2s_affirming,
        "identity": [
            {"label": label, "words": words}
            for label, words in identity_items_with(
                therapist,
                faiths=[name for _, name in terms["faiths"]],
                lived_experiences=[name for _, name in terms["lived_experiences"]],
            )
        ],
        "fee": therapist.fee_minor,
        "currency": therapist.currency,
        "sliding_scale_min": therapist.sliding_scale_min_minor,
        "accepts_insurance": therapist.accepts_insurance,
        "direct_billing": therapist.direct_billing,
        "insurance_note": therapist.insurance_note,
        "session_minutes": therapist.session_minutes,
        "consultation_minutes": therapist.consultation_minutes,
        "delivery": therapist.delivery_mode_values,
        "time_zone": therapist.time_zone,
        "offices": [
            {
                "label": office.label,
                "street_address": office.street_address,
                "city": office.city,
                "jurisdiction": office.jurisdiction_id,
                "jurisdiction_name": office.jurisdiction_name,
                "postal_code": office.postal_code,
                "accessibility_features": _terms(office.accessibility_features),
                "accessibility_note": office.accessibility_note,
            }
            for office in profile.offices
        ],
        "contact_policy": {
            "between_sessions": therapist.between_session_contact,
            "reply_within_hours": therapist.reply_within_hours,
            "contact_hours": therapist.contact_hours,
            "summary": contact_policy(therapist),
        },
        "accepting_new_clients": therapist.accepting_new_clients,
        "accepting_confirmed_at": _utc_text(therapist.accepting_confirmed_at),
        "has_video_introduction": therapist.has_video_introduction,
        "has_captioned_video": _captioned(
            therapist.has_video_introduction, therapist.has_captioned_video
        ),
        "url": _profile_path(therapist.public_id),
    }


@public_router.get(
    "/{id}",
    auth=None,
    response={200: ProfileOut},
    summary="A therapist's public profile",
    description=(
        "Everything the profile page shows. A therapist who is not listed (under review, "
        "suspended, hidden, or not recently confirmed as accepting clients) is a 404, exactly "
        "like an id that never existed. No sign-in needed."
    ),
    openapi_extra={
        "responses": {"404": problem_openapi_response("No listed therapist has this id")},
    },
)
def therapist_public_profile(
    request: HttpRequest,
    id: str = Path(..., description="The therapist's public id (a UUID)."),
) -> HttpResponse:
    try:
        public_id = uuid.UUID(id)
    except ValueError:
        return problem_response(status=404, title="Not found")
    profile = therapist_profile_for_api(public_id=public_id, now=timezone.now())
    if profile is None:
        return problem_response(status=404, title="Not found")
    # Plain JSON, as for search: validating the body through ProfileOut on the way out cost
    # about as much as reading the profile; tests hold the body to ProfileOut.
    answer = HttpResponse(
        json.dumps(_profile(profile), ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    answer["Cache-Control"] = PUBLIC_CACHE_CONTROL
    return answer
