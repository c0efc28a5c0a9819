"""Query strings to a validated ``SearchQuery``, shared by the HTML pages and the API.

Everything a person or client can send is checked here, and anything unusable raises
``SearchQueryError`` naming the parameter, with a message fit to show them. Empty values (an
untouched form field) mean "not given". Parameters this module does not know are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Protocol

import numpy as np

from rapport.core.geo import (
    PlaceNotFound,
    PostalCodeNotFound,
    distances_km,
    geocode,
    served_cities,
    suggest_places,
)
from rapport.directory.models import STYLE_MAX, STYLE_MIN, BetweenSessionContact, GenderCategory
from rapport.directory.search.contract import (
    DELIVERY_MODES,
    MAX_CONSULTATION_DAYS,
    MAX_RADIUS_KM,
    MAX_TEXT_LENGTH,
    SORT_BEST_FIT,
    SORT_DISTANCE,
    SORT_SOONEST,
    SORTS,
    STYLE_PARAMS,
    SearchParam,
    SearchQuery,
    SearchQueryError,
)
from rapport.directory.search.engine import SearchIndex, active_term_slugs
from rapport.directory.search.numbers import (
    MAX_NUMBER_LENGTH,
    NotANumber,
    NumberTooLong,
    decimal_number,
    float_number,
    whole_number,
)

# Coordinates given directly are placed in the province or state of the nearest served town
# within this distance (for the licensing rule); farther out, remote care cannot be offered.
JURISDICTION_SNAP_KM = 100.0
MAX_FEE_UNITS = Decimal(100_000)
MAX_PLACE_LENGTH = 200
MAX_PAGE_DIGITS = 12
_TRUE = frozenset({"1", "true", "on", "yes"})
_FALSE = frozenset({"0", "false", "off", "no"})

TERM_PARAMS = (
    (SearchParam.CONCERN, "concerns", "concern"),
    (SearchParam.MODALITY, "modalities", "approach"),
    (SearchParam.POPULATION, "populations", "client group"),
    (SearchParam.LANGUAGE, "languages", "language"),
    (SearchParam.LIVED_EXPERIENCE, "lived_experiences", "lived experience"),
    (SearchParam.FAITH, "faiths", "faith"),
    (SearchParam.ACCESSIBILITY, "accessibility", "accessibility feature"),
)


class _MultiMapping(Protocol):
    def getlist(self, key: str) -> list[str]: ...


def _values(params: _MultiMapping | Mapping[str, Sequence[str]], name: str) -> list[str]:
    """Every non-empty value of ``name``, stripped."""
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist is not None else list(params.get(name, ()))  # type: ignore[union-attr]
    return [value.strip() for value in raw if isinstance(value, str) and value.strip()]


def _single(params: _MultiMapping | Mapping[str, Sequence[str]], name: str) -> str | None:
    """The last non-empty value of ``name`` (a form's later field wins), or None."""
    values = _values(params, name)
    return values[-1] if values else None


def _too_long(name: str, what: str) -> SearchQueryError:
    return SearchQueryError(
        name, f"Enter {what} as a number of at most {MAX_NUMBER_LENGTH} characters."
    )


def _number(name: str, raw: str, what: str) -> float:
    try:
        value = float_number(raw)
    except NotANumber:
        raise SearchQueryError(name, f"Enter {what} as a number, not “{raw[:40]}”.") from None
    except NumberTooLong:
        raise _too_long(name, what) from None
    if not math.isfinite(value):
        raise SearchQueryError(name, f"Enter {what} as a number, not “{raw[:40]}”.")
    return value


def _flag(params: _MultiMapping | Mapping[str, Sequence[str]], name: str, default: bool) -> bool:
    raw = _single(params, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SearchQueryError(name, f"Use 1 or 0 for {name}, not “{raw[:40]}”.")


def _choices(
    params: _MultiMapping | Mapping[str, Sequence[str]],
    name: str,
    allowed: Sequence[str] | frozenset[str],
    what: str,
) -> frozenset[str]:
    chosen = frozenset(_values(params, name))
    unknown = sorted(chosen - frozenset(allowed))
    if unknown:
        listed = ", ".join(f"“{value[:40]}”" for value in unknown[:3])
        noun = what if len(unknown) == 1 else f"{what} values"
        raise SearchQueryError(name, f"Unknown {noun}: {listed}.")
    return chosen


def page_number(raw: str) -> int:
    """A ``?page=`` value: ASCII digits only, on the search page and the API alike (each says
    in its own way what it makes of NotANumber and NumberTooLong; 0 is for the caller too)."""
    return whole_number(raw, max_digits=MAX_PAGE_DIGITS)


@cache
def _served_city_coordinates() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    places = served_cities()
    return (
        np.radians([place.latitude for place in places]),
        np.radians([place.longitude for place in places]),
        tuple(place.jurisdiction_code for place in places),
    )


def jurisdiction_near(latitude: float, longitude: float) -> str | None:
    """The province or state of the nearest served town within ``JURISDICTION_SNAP_KM``."""
    phis, lambdas, codes = _served_city_coordinates()
    if not codes:
        return None
    distances = distances_km(latitude=latitude, longitude=longitude, phis=phis, lambdas=lambdas)
    nearest = int(np.argmin(distances))
    return codes[nearest] if distances[nearest] <= JURISDICTION_SNAP_KM else None


def place_not_found_sentence(place: str) -> str:
    """The first sentence for a place name that is not found (pages that link the suggestions
    write their own "Did you mean …?" after it)."""
    return f"We could not find “{place[:80]}”."


def unknown_place_error(place: str) -> SearchQueryError:
    """The error for a place name that is not found, with the closest served names."""
    suggestions = suggest_places(place)
    if suggestions:
        return SearchQueryError(
            SearchParam.PLACE,
            f"{place_not_found_sentence(place)} Did you mean {' or '.join(suggestions)}?",
            suggestions=suggestions,
        )
    return SearchQueryError(
        SearchParam.PLACE,
        f"We could not find “{place[:80]}” in Canada or the United States. "
        "Try a city with its province or state, e.g. “Toronto, ON”.",
    )


def default_sort(*, has_location: bool) -> str:
    """The order results take when no ``sort`` is given (the page's "Recommended" choice)."""
    return SORT_DISTANCE if has_location else SORT_SOONEST


def parse_search_query(
    params: _MultiMapping | Mapping[str, Sequence[str]],
    *,
    page_size: int,
    index: SearchIndex | None = None,
) -> SearchQuery:
    """Validate a query string (a QueryDict, or a mapping of names to lists of values) against
    the taxonomy terms in ``index`` (by default the current one).

    Raises SearchQueryError(field, message) for the first unusable parameter.
    """
    location: dict[str, object] = {}
    place = _single(params, SearchParam.PLACE)
    raw_latitude = _single(params, SearchParam.LATITUDE)
    raw_longitude = _single(params, SearchParam.LONGITUDE)
    if place is not None:
        if raw_latitude is not None or raw_longitude is not None:
            raise SearchQueryError(SearchParam.PLACE, "Give a place name or coordinates, not both.")
        if len(place) > MAX_PLACE_LENGTH:
            raise SearchQueryError(SearchParam.PLACE, "That place name is too long.")
        try:
            found = geocode(place)
        except PostalCodeNotFound as error:
            raise SearchQueryError(
                SearchParam.PLACE,
                f"We do not know the postal code “{error.code}”. Check it, or enter the city "
                "instead, e.g. “Toronto, ON”.",
            ) from None
        except PlaceNotFound:
            raise unknown_place_error(place) from None
        location = {
            "latitude": found.latitude,
            "longitude": found.longitude,
            "place_label": found.label,
            "jurisdiction_code": found.jurisdiction_code,
        }
    elif raw_latitude is not None or raw_longitude is not None:
        if raw_latitude is None:
            raise SearchQueryError(SearchParam.LATITUDE, "Give a latitude with the longitude.")
        if raw_longitude is None:
            raise SearchQueryError(SearchParam.LONGITUDE, "Give a longitude with the latitude.")
        latitude = _number(SearchParam.LATITUDE, raw_latitude, "the latitude")
        longitude = _number(SearchParam.LONGITUDE, raw_longitude, "the longitude")
        if not -90 <= latitude <= 90:
            raise SearchQueryError(SearchParam.LATITUDE, "The latitude must be between -90 and 90.")
        if not -180 <= longitude <= 180:
            raise SearchQueryError(
                SearchParam.LONGITUDE, "The longitude must be between -180 and 180."
            )
        location = {
            "latitude": latitude,
            "longitude": longitude,
            "place_label": None,
            "jurisdiction_code": jurisdiction_near(latitude, longitude),
        }
    has_location = bool(location)

    raw_radius = _single(params, SearchParam.RADIUS)
    radius: dict[str, float] = {}
    if raw_radius is not None:
        value = _number(SearchParam.RADIUS, raw_radius, "the distance")
        if value <= 0:
            raise SearchQueryError(SearchParam.RADIUS, "The distance must be more than 0 km.")
        if value > MAX_RADIUS_KM:
            raise SearchQueryError(
                SearchParam.RADIUS, f"The distance can be at most {MAX_RADIUS_KM:g} km."
            )
        radius["radius_km"] = value

    slugs = active_term_slugs(index)
    terms = {
        attribute: _choices(params, name, slugs[name], what)
        for name, attribute, what in TERM_PARAMS
    }
    delivery = _choices(params, SearchParam.DELIVERY, DELIVERY_MODES, "way of meeting")
    genders = _choices(params, SearchParam.GENDER, GenderCategory.values, "gender")
    contact = _choices(params, SearchParam.CONTACT, BetweenSessionContact.values, "contact policy")

    style: list[tuple[str, int]] = []
    for name in STYLE_PARAMS:
        raw = _single(params, name)
        if raw is None:
            continue
        try:
            placement = whole_number(raw, max_digits=len(str(STYLE_MAX)))
        except ValueError:
            placement = None
        if placement is None or not STYLE_MIN <= placement <= STYLE_MAX:
            raise SearchQueryError(
                name, f"Choose a whole number from {STYLE_MIN} to {STYLE_MAX}, not “{raw[:40]}”."
            )
        style.append((name, placement))

    max_fee_minor = None
    raw_fee = _single(params, SearchParam.MAX_FEE)
    if raw_fee is not None:
        try:
            fee = decimal_number(raw_fee)
        except NotANumber:
            raise SearchQueryError(
                SearchParam.MAX_FEE,
                f"Enter the most you can pay as a number, not “{raw_fee[:40]}”.",
            ) from None
        except NumberTooLong:
            raise _too_long(SearchParam.MAX_FEE, "the most you can pay") from None
        if fee < 0:
            raise SearchQueryError(SearchParam.MAX_FEE, "The most you can pay cannot be negative.")
        if fee > MAX_FEE_UNITS:
            raise SearchQueryError(
                SearchParam.MAX_FEE, f"The most you can pay can be at most {MAX_FEE_UNITS:,}."
            )
        max_fee_minor = int((fee * 100).to_integral_value())

    consultation_within_days = None
    raw_days = _single(params, SearchParam.CONSULTATION_WITHIN)
    if raw_days is not None:
        try:
            days: int | None = whole_number(raw_days, max_digits=len(str(MAX_CONSULTATION_DAYS)))
        except ValueError:
            days = None
        if days is None or not 1 <= days <= MAX_CONSULTATION_DAYS:
            raise SearchQueryError(
                SearchParam.CONSULTATION_WITHIN,
                f"Choose a whole number of days from 1 to {MAX_CONSULTATION_DAYS}, "
                f"not “{raw_days[:40]}”.",
            )
        consultation_within_days = days

    text = " ".join(_values(params, SearchParam.TEXT))
    if len(text) > MAX_TEXT_LENGTH:
        raise SearchQueryError(
            SearchParam.TEXT, f"Keep the search words under {MAX_TEXT_LENGTH} characters."
        )

    sort = _single(params, SearchParam.SORT)
    if sort is None:
        # Nearest first is what a place asks for. Without one, soonest free consultation: a
        # person is helped by who can meet them first, and its ties follow a daily rotating
        # order (engine.query.sort_rows), so names from the start of the alphabet are not
        # always shown first (``sort=name`` still gives that order).
        sort = default_sort(has_location=has_location)
    elif sort not in SORTS:
        raise SearchQueryError(
            SearchParam.SORT, f"Sort by one of {', '.join(SORTS)}, not “{sort[:40]}”."
        )
    elif sort == SORT_DISTANCE and not has_location:
        raise SearchQueryError(
            SearchParam.SORT, "Sorting by distance needs a place to measure from."
        )
    elif sort == SORT_BEST_FIT and not style:
        raise SearchQueryError(SearchParam.SORT, "Sorting by best fit needs a style preference.")

    page = 1
    raw_page = _single(params, SearchParam.PAGE)
    if raw_page is not None:
        try:
            page = page_number(raw_page)
        except NotANumber:
            raise SearchQueryError(
                SearchParam.PAGE, f"The page must be a whole number, not “{raw_page[:40]}”."
            ) from None
        except NumberTooLong:
            raise SearchQueryError(SearchParam.PAGE, "That page number is too large.") from None
        if page < 1:
            raise SearchQueryError(SearchParam.PAGE, "Pages start at 1.")

    return SearchQuery(
        **location,  # type: ignore[arg-type]
        **radius,  # type: ignore[arg-type]
        delivery=delivery,
        genders=genders,
        lgbtq2s_affirming=_flag(params, SearchParam.LGBTQ2S_AFFIRMING, False),
        style=tuple(style),
        max_fee_minor=max_fee_minor,
        sliding_scale=_flag(params, SearchParam.SLIDING_SCALE, False),
        insurance=_flag(params, SearchParam.INSURANCE, False),
        direct_billing=_flag(params, SearchParam.DIRECT_BILLING, False),
        has_video=_flag(params, SearchParam.HAS_VIDEO, False),
        captioned_video=_flag(params, SearchParam.CAPTIONED_VIDEO, False),
        contact=contact,
        accepting_only=_flag(params, SearchParam.ACCEPTING, True),
        consultation_within_days=consultation_within_days,
        text=text,
        sort=sort,
        page=page,
        page_size=page_size,
        **terms,  # type: ignore[arg-type]
    )
