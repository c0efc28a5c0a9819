"""The shapes of matching's API, for the OpenAPI document and for tests.

The request bodies here only *document* the fit-profile document: the handlers read the raw
JSON and hand it to ``answers.answers_from_data``, the one validator of a fit profile, so a
page, the API and a stored profile are checked by the same rules in the same words. The types
and ranges below mirror that function's; ``tests/matching/test_api.py`` holds them to it (every
answer field, preference and style dimension is here, and every property has a description).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from ninja import Field, Schema
from pydantic.json_schema import JsonDict

from rapport.care.api_common import StrictIn
from rapport.directory.models import STYLE_DIMENSIONS, STYLE_MAX, STYLE_MIN, GenderCategory
from rapport.directory.search.contract import DEFAULT_RADIUS_KM, DELIVERY_MODES, MAX_RADIUS_KM
from rapport.matching.answers import (
    AVAILABILITY_LABELS,
    MAX_BUDGET,
    MAX_HOPES_LENGTH,
    MAX_PLACE_LENGTH,
    MAX_SESSIONS,
    MAX_STORY_LENGTH,
    MAX_VALUES,
    MISFIT_LABELS,
    WEIGHT_LABELS,
    Availability,
    MisfitReason,
    Weight,
)
from rapport.matching.ranking import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RELAX_CONSTRAINTS

MAX_PAGE = 10_000

# The OpenAPI document has one namespace of schema names for every app: names that say whose
# they are, not "Weight" or "Availability" (the values are answers.py's own).
PreferenceWeight = enum.IntEnum(  # type: ignore[misc]
    "PreferenceWeight", {weight.name: int(weight) for weight in Weight}
)
MeetingTime = enum.StrEnum(  # type: ignore[misc]
    "MeetingTime", {time.name: time.value for time in Availability}
)

GENDER_VALUES = [value for value in GenderCategory.values if value != GenderCategory.UNDISCLOSED]


def _listing(labels: dict[Any, str]) -> str:
    return "; ".join(f"`{key.value}` {label.lower()}" for key, label in labels.items())


WEIGHT_WORDS = "; ".join(
    f"{int(weight)} = {label.lower()}" for weight, label in WEIGHT_LABELS.items()
)


def _weight_field(what: str) -> Any:
    return Field(
        int(Weight.IMPORTANT),
        description=f"How much {what} matters: {WEIGHT_WORDS}. Default 2.",
    )


def _no_default(schema: dict[str, Any]) -> None:
    # An optional part the document may leave out, but may not give as null: the schema says
    # it may be absent, not that null is a value.
    schema.pop("default", None)


def _optional_part(description: str) -> Any:
    return Field(default=None, description=description, json_schema_extra=_no_default)


def _items_enum(values: list[str]) -> JsonDict:
    # A list whose items come from a fixed set: the handler checks them (answers_from_data),
    # the document lists them.
    return {"items": {"type": "string", "enum": list(values)}}


class _Document(StrictIn):
    """Unknown keys are refused (by answers_from_data); the schema says so too."""


class TermPreferenceIn(_Document):
    weight: PreferenceWeight = _weight_field("this preference")
    values: list[str] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="Slugs of the taxonomy named in the preference's description (the "
        "directory search's facets list them, GET /api/v1/therapists). At least one when the "
        "weight is above 0; any one of them (language, faith) or the share of them (lived "
        "experience, population) counts as a match.",
    )


class GenderPreferenceIn(_Document):
    weight: PreferenceWeight = _weight_field("the therapist's gender")
    values: list[str] = Field(
        default_factory=list,
        max_length=len(GENDER_VALUES),
        description="The genders that would suit (any one of them matches); at least one when "
        "the weight is above 0.",
        json_schema_extra=_items_enum(GENDER_VALUES),
    )


class AffirmingPreferenceIn(_Document):
    weight: PreferenceWeight = _weight_field("an LGBTQ2S+ affirming therapist")
    values: list[str] = Field(
        default_factory=list,
        max_length=0,
        description="Always empty (or left out): this preference takes no values.",
    )


class PreferencesIn(_Document):
    """One optional entry per preference; a preference left out does not matter."""

    gender: GenderPreferenceIn = _optional_part("The therapist's gender.")
    lived_experience: TermPreferenceIn = _optional_part(
        "Shared identity or lived experience: `lived_experience` slugs."
    )
    language: TermPreferenceIn = _optional_part(
        "Languages the therapist works in: `language` slugs."
    )
    faith: TermPreferenceIn = _optional_part(
        "The therapist's faith or spiritual background: `faith` slugs."
    )
    population: TermPreferenceIn = _optional_part(
        "Experience with an age range or group: `population` slugs."
    )
    lgbtq2s_affirming: AffirmingPreferenceIn = _optional_part(
        "A therapist who says they are LGBTQ2S+ affirming (takes no values)."
    )


def _style_field(name: str) -> Any:
    low, high = next((low, high) for field, low, high in STYLE_DIMENSIONS if field == name)
    return Field(
        default=None,
        ge=STYLE_MIN,
        le=STYLE_MAX,
        description=f"{STYLE_MIN} = {low}, {STYLE_MAX} = {high}: where you would like the "
        "therapist to be, on the scale therapists place themselves on.",
        json_schema_extra=_no_default,
    )


class StyleIn(_Document):
    """Placed dimensions only: one left out does not count."""

    style_structure: int = _style_field("style_structure")
    style_direction: int = _style_field("style_direction")
    style_challenge: int = _style_field("style_challenge")
    style_time_focus: int = _style_field("style_time_focus")
    style_humour: int = _style_field("style_humour")


class FitProfileIn(_Document):
    """A fit profile: every answer is optional, and an empty one is valid (it gives a list of
    everyone who meets the search's own rules)."""

    story: str = Field(
        "",
        max_length=MAX_STORY_LENGTH,
        description="What brings you, in your own words (kept encrypted, never shown to "
        "anyone unless you share the profile).",
    )
    hopes: str = Field("", max_length=MAX_HOPES_LENGTH, description="What you hope will change.")
    concerns: list[str] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="`concern` slugs (as the search's `concern` filter takes): a therapist "
        "scores by the share of them they work with.",
    )
    preferences: PreferencesIn = Field(
        default_factory=PreferencesIn,
        description="Which preferences matter and how much. They change the order, never hide "
        "anyone, except languages with `language_required`.",
    )
    language_required: bool = Field(
        False,
        description="Only therapists who speak one of `preferences.language.values` (then "
        "those languages must be given).",
    )
    style: StyleIn = Field(
        default_factory=StyleIn,
        description="The style you would like, on the therapists' own style dimensions.",
    )
    style_weight: PreferenceWeight = Field(  # type: ignore[assignment]
        int(Weight.IMPORTANT),
        description=f"How much the style matters: {WEIGHT_WORDS}. Default 2.",
    )
    budget_per_session: int | None = Field(
        None,
        ge=0,
        le=MAX_BUDGET,
        description="Most you can pay per session, in whole currency units (150 is $150). A "
        "hard constraint: the fee, or the sliding scale's lowest fee, must be within it.",
    )
    sessions_affordable: int | None = Field(
        None, ge=1, le=MAX_SESSIONS, description="How many sessions you can afford."
    )
    availability: list[MeetingTime] = Field(
        default_factory=list,
        description=f"When you can meet, in your own time zone: {_listing(AVAILABILITY_LABELS)}.",
    )
    delivery: list[str] = Field(
        default_factory=list,
        description="How you would like to meet; empty means any way.",
        json_schema_extra=_items_enum(list(DELIVERY_MODES)),
    )
    place: str = Field(
        "",
        max_length=MAX_PLACE_LENGTH,
        description='Where you are, as a city or region ("Toronto, ON"). Video and phone '
        "need a therapist licensed where you are; in person, an office within `radius_km`.",
    )
    radius_km: int | None = Field(
        None,
        ge=1,
        le=int(MAX_RADIUS_KM),
        description=f"How far you would travel, in km (default {DEFAULT_RADIUS_KM:g}).",
    )
    did_not_fit: list[MisfitReason] = Field(
        default_factory=list,
        description="What did not fit with past therapists (usually written by "
        "POST /api/v1/match/feedback); the list leans away from it: "
        f"{_listing(MISFIT_LABELS)}.",
    )


class MatchIn(FitProfileIn):
    """Either `fit_profile_id` alone, or the fit profile's fields inline at the top level;
    `page` and `page_size` with either."""

    fit_profile_id: uuid.UUID | None = Field(
        None,
        description="Rank for your saved fit profile (signed in; another person's id is a 404). "
        "Give either this or the profile's fields, not both.",
    )
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Which page of results, from 1.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Results per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
    )


class FitProfileOut(Schema):
    id: uuid.UUID = Field(description="The fit profile's id (for GET, PUT and DELETE).")
    answers: FitProfileIn = Field(
        description="The answers as stored (every field present; preferences only those given)."
    )
    created_at: dt.datetime = Field(description="When it was created (RFC 3339, UTC).")
    updated_at: dt.datetime = Field(description="When its answers last changed (RFC 3339, UTC).")


class MisfitFeedbackIn(StrictIn):
    engagement_id: uuid.UUID = Field(
        description="One of your engagements (as a client) that you ended as not the right fit."
    )
    reasons: list[str] = Field(
        max_length=len(MisfitReason),
        description=f"What did not fit (any number, or none): {_listing(MISFIT_LABELS)}.",
        json_schema_extra=_items_enum([reason.value for reason in MisfitReason]),
    )


class MatchedTherapistOut(Schema):
    id: uuid.UUID = Field(description="The therapist's public id (GET /api/v1/therapists/{id}).")
    name: str = Field(description="The name they practise under.")
    pronouns: str = Field(description="Their pronouns, or empty.")
    initials: str = Field(description="For a placeholder when there is no photo.")
    photo_url: str | None = Field(description="Their photo, or null.")
    headline: str = Field(description="Their one-line introduction.")
    designation: str = Field(description="Their designation's code (RP, RSW …).")
    designation_name: str = Field(description="Their designation in words.")
    licensed_in: str = Field(description='"Licensed in Ontario and Quebec", or empty.')
    concerns: list[str] = Field(description="The concerns they work with, by name.")
    fee: str = Field(description='Their fee per session, formatted ("CA$150").')
    sliding_scale_from: str | None = Field(
        description="Their sliding scale's lowest fee, formatted, or null when none."
    )
    delivery: str = Field(description='How they meet clients ("In person and video").')
    location: str = Field(description='Their first office\'s city, "Virtual only", or empty.')
    experience: str = Field(description='"9 years in practice", or empty.')
    has_video_introduction: bool = Field(description="They have a published video introduction.")
    has_captioned_video: bool = Field(description="That video has captions.")
    profile_url: str = Field(description="Their profile page on this site (a path).")


class MatchOut(Schema):
    therapist: MatchedTherapistOut = Field(description="The therapist, as a result card shows.")
    score: int = Field(
        ge=0,
        le=100,
        description="How well they fit, 0-100: the weighted share of your preferences they "
        "meet. The order also weighs what early alliance with similar clients predicts, with a "
        "daily exploration draw; neither is part of this figure.",
    )
    reasons: list[str] = Field(
        description='Why this match, in short phrases ("Speaks Punjabi", "CA$120, within your '
        'budget").'
    )
    unmet: list[str] = Field(description="Preferences of yours this therapist does not meet.")
    distance_km: float | None = Field(
        description="To their nearest office, in km (1 decimal); null without a place or an office."
    )
    next_free_consultation: dt.datetime | None = Field(
        description="Their next free consultation time (RFC 3339, UTC), or null when none is known."
    )


class RelaxOut(Schema):
    constraint: str = Field(
        description="The hard constraint to loosen (of a pair, the first).",
        json_schema_extra={"enum": list(RELAX_CONSTRAINTS)},
    )
    constraints: list[str] = Field(
        description="Every constraint to loosen: the one above alone, or, when no single one "
        "brings anyone back, a pair that does when both are loosened.",
        json_schema_extra={"items": {"type": "string", "enum": list(RELAX_CONSTRAINTS)}},
    )
    advice: str = Field(description='What to change, in words ("Look up to 100 km away").')
    adds: int = Field(ge=0, description="How many more therapists that would give.")


class MatchListOut(Schema):
    total: int = Field(
        ge=0,
        description="Therapists meeting every hard constraint (past therapists left out).",
    )
    page: int = Field(ge=1, description="This page's number.")
    pages: int = Field(ge=1, description="How many pages there are (1 when there are none).")
    place: str | None = Field(
        description='The place the list is for, as understood ("Toronto, Ontario"), or null.'
    )
    leaning: list[str] = Field(
        description='How your past "did not fit" answers changed this list, in words.'
    )
    results: list[MatchOut] = Field(description="This page's therapists, best fit first.")
    relax: list[RelaxOut] = Field(
        description="When few or none meet every hard constraint: which to loosen and what "
        "that would add."
    )
