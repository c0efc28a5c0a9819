"""Rules every way of writing a therapist profile shares: the onboarding wizard, the bulk
import and the admin all call these, so a fee, a licence number or an office address is held to
the same standard whichever door it came through.

Each check raises ``ValidationError({field: [message]})`` with the field a form shows the
message at, and writes nothing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from rapport.core.geo import (
    Place,
    PlaceNotFound,
    distance_km,
    fold,
    geocode,
    nearest_served_town,
    served_cities,
    towns_named,
)
from rapport.core.jurisdictions import JURISDICTIONS_BY_CODE
from rapport.core.money import format_money
from rapport.core.postal import PostalCodeError, normalise_postal_code
from rapport.directory.models import Regulator

# The highest fee per session a listing may show, in minor units (cents). A fee above it is far
# more likely a typing slip ("1200" for "120.00" in cents) than a real fee; it is a setting
# (THERAPIST_FEE_CAP_MINOR) so a deployment can move it. 100000 = 1,000.00.
DEFAULT_FEE_CAP_MINOR = 100_000
FEE_CAP_MINOR: int = getattr(settings, "THERAPIST_FEE_CAP_MINOR", DEFAULT_FEE_CAP_MINOR)

LICENCE_NUMBER_MAX_LENGTH = 40

# How far an office's postal code may lie from the town it names, beyond the distance from
# the code's area to the nearest town the place data serves (towns of 5,000 people or more). A
# code only locates an area's centre, and an office names the nearest such town rather than its
# own village, so in the countryside the town named may be far from the code (Jordan, Montana's
# code is 130 km from Miles City, the nearest served town): what is refused is a code whose area
# has a much nearer served town than the one named (Toronto's "M5V" for an office in Ottawa, 350
# km off). A Canadian code whose second character is 0 is a rural area that can span a whole
# region (X0A is most of Nunavut, its centre ~750 km from Iqaluit, whose codes are X0A), so for
# those only the province is checked; so is a code the offline data does not know.
POSTAL_CODE_MAX_KM = 80.0


def fee_cap_minor() -> int:
    """The cap in force now (read at call time, so tests and deployments can change it)."""
    return int(getattr(settings, "THERAPIST_FEE_CAP_MINOR", DEFAULT_FEE_CAP_MINOR))


def check_fees(*, fee_minor: int, sliding_scale_min_minor: int | None) -> None:
    """A fee above zero and at most the cap; a sliding-scale floor from zero up to the fee."""
    errors: dict[str, list[str]] = {}
    cap = fee_cap_minor()
    if fee_minor <= 0:
        errors["fee_minor"] = [
            "Enter your fee for one session. To offer free sessions, say so in your profile "
            "text and set a sliding scale instead."
        ]
    elif fee_minor > cap:
        errors["fee_minor"] = [
            f"Fees above {_plain_amount(cap)} per session are not accepted; check the amount "
            "(it is in dollars and cents, like 120.00)."
        ]
    if sliding_scale_min_minor is not None:
        if sliding_scale_min_minor < 0:
            errors["sliding_scale_min_minor"] = ["The lowest sliding-scale fee cannot be negative."]
        elif fee_minor > 0 and sliding_scale_min_minor > fee_minor:
            errors["sliding_scale_min_minor"] = [
                "The lowest sliding-scale fee cannot be above your full fee."
            ]
    if errors:
        raise ValidationError(errors)


def _plain_amount(amount_minor: int) -> str:
    # The cap is the same number in either currency: shown without a currency sign.
    return format_money(amount_minor, "").strip()


def normalise_licence_number(number: str) -> str:
    """The number as registers print it: no surrounding or inner spaces, no leading "#" or
    "No.", letters upper-case ("# 12 345" and "no. 12345" are both "12345")."""
    cleaned = number.strip().upper()
    cleaned = re.sub(r"^(?:NO\.?|N°|#)\s*", "", cleaned)
    return re.sub(r"\s+", "", cleaned)


def check_licence_number(*, regulator: Regulator, number: str) -> str:
    """The normalised licence number, refused when empty, too long, or not of the form the
    regulator issues (``Regulator.licence_number_pattern``; none known: any number)."""
    normalised = normalise_licence_number(number)
    if not normalised:
        raise ValidationError({"number": ["Enter your licence or registration number."]})
    if len(normalised) > LICENCE_NUMBER_MAX_LENGTH:
        raise ValidationError(
            {"number": [f"A licence number has at most {LICENCE_NUMBER_MAX_LENGTH} characters."]}
        )
    pattern = regulator.licence_number_pattern
    if pattern and re.fullmatch(pattern, normalised) is None:
        example = f" ({regulator.licence_number_hint})" if regulator.licence_number_hint else ""
        raise ValidationError(
            {
                "number": [
                    f"This does not look like a {regulator.abbreviation} registration "
                    f"number{example}. Copy it as it appears on the public register."
                ]
            }
        )
    return normalised


@dataclass(frozen=True, slots=True)
class OfficeLocation:
    """Where an office is, as search and the booking calendar need it."""

    latitude: float
    longitude: float
    time_zone: str
    postal_code: str
    city: str  # the name as the place data spells it ("Montréal" for "montreal")


def locate_office(*, city: str, jurisdiction_code: str, postal_code: str) -> OfficeLocation:
    """Coordinates and time zone for an office, from its city and province or state, offline.

    Refuses a city the place data does not know in that province or state (suggesting close
    names), and a postal code that cannot belong to it. Both problems are reported together.
    """
    errors: dict[str, list[str]] = {}
    if jurisdiction_code not in JURISDICTIONS_BY_CODE:
        raise ValidationError({"jurisdiction": ["Choose a province or state."]})
    place = None
    cleaned_city = " ".join(city.split())
    if not cleaned_city:
        errors["city"] = ["Enter the city or town."]
    else:
        try:
            place = geocode(f"{cleaned_city.replace(',', ' ')}, {jurisdiction_code}")
        except PlaceNotFound:
            place = None
        if place is None or place.is_region:
            place = None
            errors["city"] = [_unknown_city_message(cleaned_city, jurisdiction_code)]
    normalised_postal = ""
    if postal_code.strip():
        try:
            normalised_postal = normalise_postal_code(
                postal_code=postal_code, jurisdiction_code=jurisdiction_code
            )
        except PostalCodeError as error:
            errors["postal_code"] = [str(error)]
    else:
        errors["postal_code"] = ["Enter the postal or ZIP code."]
    if place is not None and normalised_postal:
        place, mismatch = _place_by_postal_code(
            place=place, city=cleaned_city, postal_code=normalised_postal
        )
        if mismatch:
            errors["postal_code"] = [mismatch]
    if errors or place is None:
        raise ValidationError(errors)
    return OfficeLocation(
        latitude=place.latitude,
        longitude=place.longitude,
        time_zone=place.time_zone,
        postal_code=normalised_postal,
        city=place.name,
    )


def _place_by_postal_code(*, place: Place, city: str, postal_code: str) -> tuple[Place, str]:
    """The town of that name nearest the postal code's area (two towns of one state may share
    a name), and a sentence when even that one lies too far to hold an address with this code
    (see POSTAL_CODE_MAX_KM).

    A code the offline data does not know, or a rural Canadian one, keeps the town as found
    and passes: the province or state check has already been made.
    """
    if postal_code[1] == "0" and not postal_code[0].isdigit():
        return place, ""
    try:
        area = geocode(postal_code)
    except PlaceNotFound:  # PostalCodeNotFound included
        return place, ""

    def kilometres_to(town: Place) -> float:
        return distance_km(area.latitude, area.longitude, town.latitude, town.longitude)

    nearest = min((place, *towns_named(city, place.jurisdiction_code)), key=kilometres_to)
    kilometres = kilometres_to(nearest)
    closest_served = nearest_served_town(
        latitude=area.latitude, longitude=area.longitude, jurisdiction_code=area.jurisdiction_code
    )
    if kilometres <= kilometres_to(closest_served) + POSTAL_CODE_MAX_KM:
        return nearest, ""
    return place, (
        f"{postal_code} is about {round(kilometres):,} km from {nearest.name}: its area is near "
        f"{area.postal_town or area.name}. Check the postal code, or enter the town the office "
        "is in."
    )


def _unknown_city_message(city: str, jurisdiction_code: str) -> str:
    region = JURISDICTIONS_BY_CODE[jurisdiction_code].name
    names = sorted(
        {place.name for place in served_cities() if place.jurisdiction_code == jurisdiction_code}
    )
    by_fold = {fold(name): name for name in names}
    close = difflib.get_close_matches(fold(city), list(by_fold), n=3, cutoff=0.75)
    message = f"We could not find {city} in {region}."
    if close:
        message += " Did you mean " + " or ".join(by_fold[key] for key in close) + "?"
    else:
        message += " Enter the nearest town of 5,000 people or more."
    return message
