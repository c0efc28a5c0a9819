"""The search feature's shared vocabulary: what a query is, what a result is.

The engine (``engine``), the HTML pages (``views.py``) and the API (``api.py``) all speak in
these types, so each can be built and tested on its own. Nothing here touches the database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class SearchParam(enum.StrEnum):
    """Query-string parameter names, shared by the HTML page and the API so a URL copied from
    one works in the other. Multi-valued filters repeat the parameter
    (?concern=anxiety&concern=grief). Members are strings: they are the names themselves."""

    PLACE = "near"  # a city or region name, geocoded offline
    LATITUDE = "lat"
    LONGITUDE = "lon"
    RADIUS = "radius_km"
    DELIVERY = "delivery"  # in_person | video | phone
    CONCERN = "concern"  # taxonomy slugs
    MODALITY = "modality"
    POPULATION = "population"
    LANGUAGE = "language"
    GENDER = "gender"  # GenderCategory values
    LIVED_EXPERIENCE = "lived_experience"
    FAITH = "faith"
    LGBTQ2S_AFFIRMING = "lgbtq2s_affirming"  # "1"
    MAX_FEE = "max_fee"  # whole currency units, e.g. 150
    SLIDING_SCALE = "sliding_scale"  # "1": the sliding-scale floor reaches max_fee
    INSURANCE = "insurance"  # "1"
    DIRECT_BILLING = "direct_billing"  # "1"
    HAS_VIDEO = "has_video"  # "1": a published, approved video introduction
    CAPTIONED_VIDEO = "captioned_video"  # "1": a video introduction with captions
    CONTACT = "contact"  # BetweenSessionContact values
    ACCESSIBILITY = "accessibility"  # AccessibilityFeature slugs (an office has all of them)
    ACCEPTING = "accepting"  # "0" to include therapists not accepting; default on
    # A free consultation can start within this many days (whole days, 1..MAX_CONSULTATION_DAYS).
    CONSULTATION_WITHIN = "consultation_within_days"
    TEXT = "q"
    SORT = "sort"
    PAGE = "page"
    # Style: ?style_structure=2 keeps therapists whose placement is within 1 of 2.
    STYLE_STRUCTURE = "style_structure"
    STYLE_DIRECTION = "style_direction"
    STYLE_CHALLENGE = "style_challenge"
    STYLE_TIME_FOCUS = "style_time_focus"
    STYLE_HUMOUR = "style_humour"


# The style parameters, one per STYLE_DIMENSIONS entry, in that order.
STYLE_PARAMS = (
    SearchParam.STYLE_STRUCTURE,
    SearchParam.STYLE_DIRECTION,
    SearchParam.STYLE_CHALLENGE,
    SearchParam.STYLE_TIME_FOCUS,
    SearchParam.STYLE_HUMOUR,
)

# Values of SearchParam.DELIVERY.
DELIVERY_IN_PERSON = "in_person"
DELIVERY_VIDEO = "video"
DELIVERY_PHONE = "phone"
DELIVERY_MODES = (DELIVERY_IN_PERSON, DELIVERY_VIDEO, DELIVERY_PHONE)

# The keys of SearchResult.facets: each is the query-string parameter its options' values go
# into (yes/no filters have one option, value "1"; SearchParam.ACCEPTING's one option is "0").
FACET_KEYS = (
    SearchParam.DELIVERY,
    SearchParam.CONCERN,
    SearchParam.MODALITY,
    SearchParam.POPULATION,
    SearchParam.LANGUAGE,
    SearchParam.LIVED_EXPERIENCE,
    SearchParam.FAITH,
    SearchParam.GENDER,
    SearchParam.CONTACT,
    SearchParam.LGBTQ2S_AFFIRMING,
    SearchParam.INSURANCE,
    SearchParam.DIRECT_BILLING,
    SearchParam.HAS_VIDEO,
    SearchParam.CAPTIONED_VIDEO,
    SearchParam.SLIDING_SCALE,
    SearchParam.ACCEPTING,
    SearchParam.ACCESSIBILITY,
    SearchParam.CONSULTATION_WITHIN,
)
# The options offered (with live counts) for SearchParam.CONSULTATION_WITHIN; any whole number of
# days up to MAX_CONSULTATION_DAYS is accepted in a URL.
CONSULTATION_WITHIN_OPTIONS = (2, 7, 14)
MAX_CONSULTATION_DAYS = 90

SORT_BEST_FIT = "best_fit"  # closeness of style placement to the asked-for style, then distance
SORT_DISTANCE = "distance"
SORT_FEE = "fee"
SORT_NAME = "name"
SORT_SOONEST = "soonest"  # the earliest free consultation first; none known last
SORTS = (SORT_BEST_FIT, SORT_DISTANCE, SORT_FEE, SORT_SOONEST, SORT_NAME)

DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 500.0
MAX_TEXT_LENGTH = 200


class SearchQueryError(ValueError):
    """A parameter a person or client sent cannot be used; ``field`` names it.
    ``suggestions`` are values that would work instead (the closest place names to one not
    found), best first."""

    def __init__(self, field: str, message: str, *, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.suggestions = suggestions


# Multi-valued filters a therapist passes by matching ANY ONE chosen value ("in person or video
# is fine for me"); in every other multi-valued filter (concerns, approaches, client groups,
# languages, lived experience, office accessibility) they must match ALL chosen values.
ANY_OF_PARAMS = (SearchParam.DELIVERY, SearchParam.GENDER, SearchParam.FAITH, SearchParam.CONTACT)


@dataclass(frozen=True)
class SearchQuery:
    """A validated search. Every filter combines with every other (AND across filters). Within
    one multi-valued filter, a therapist must match ALL chosen values (e.g. both concerns),
    except in the ``ANY_OF_PARAMS`` filters, where ANY ONE chosen value is enough.

    Delivery is any-of per mode, each with its own condition: with a place, in person counts
    only an office within ``radius_km``, and video or phone only a therapist licensed in the
    place's province or state (the law); without a place, offering the mode is enough.
    """

    latitude: float | None = None
    longitude: float | None = None
    place_label: str | None = None  # e.g. "Toronto, ON", for display
    jurisdiction_code: str | None = None  # the client's province/state, from the place
    radius_km: float = DEFAULT_RADIUS_KM
    delivery: frozenset[str] = frozenset()  # any of
    concerns: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset()
    populations: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    # The matcher's required languages: at least one of them (the search page never sets it).
    any_languages: frozenset[str] = frozenset()
    genders: frozenset[str] = frozenset()  # any of (a person picks the genders they'd see)
    lived_experiences: frozenset[str] = frozenset()
    faiths: frozenset[str] = frozenset()  # any of
    lgbtq2s_affirming: bool = False
    style: tuple[tuple[str, int], ...] = ()  # (dimension, preferred 1..5)
    max_fee_minor: int | None = None
    sliding_scale: bool = False
    insurance: bool = False
    direct_billing: bool = False
    has_video: bool = False  # a video introduction is published
    captioned_video: bool = False  # a captioned video introduction is published
    contact: frozenset[str] = frozenset()  # any of
    accessibility: frozenset[str] = frozenset()
    accepting_only: bool = True
    consultation_within_days: int | None = None
    text: str = ""
    sort: str = SORT_NAME
    page: int = 1
    page_size: int = 20

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


# A named tuple: a search builds ~150 of these, and a tuple is made in a third of the time of
# a frozen dataclass (slotted or not).
class FacetCount(NamedTuple):
    value: str
    label: str
    # Matches if this value were chosen too; for an ANY_OF_PARAMS filter, with that filter's
    # other chosen values left out (the matches this value alone gives with the other filters).
    # (The name hides tuple.count, which nothing calls on a facet; mypy objects to that.)
    count: int  # type: ignore[assignment]
    selected: bool


@dataclass(frozen=True)
class SearchHit:
    therapist_id: int
    distance_km: float | None  # to the nearest office when searching near a place


@dataclass(frozen=True)
class SearchResult:
    total: int
    page: int
    pages: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    page_past_end: bool = False
