"""Where a postal code is: Canadian forward sortation areas and US ZIP codes, offline.

Two packages ship the data, so nothing is fetched at run time:

- ``pypostalcode`` bundles a small SQLite file of Canada's 1,645 forward sortation areas (the
  first three characters of a postal code, "M5V"), each with an area name, its province and a
  centre point (data copied with permission from Canada Post, as the package says). Its own
  class opens the file again for every query, so the file is read here once, read-only, into
  memory.
- ``zipcodes`` bundles the US ZIP codes with city, state, centre point and IANA time zone.

A code only locates an area (a neighbourhood in a city, a county in the country): distances
are measured from its centre. Which shapes count as a code is ``rapport.core.postal``'s rule.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import zipcodes

from rapport.core.jurisdictions import JURISDICTIONS, JURISDICTIONS_BY_CODE
from rapport.core.postal import SearchPostalCode

# pypostalcode names two territories its own way.
_PROVINCE_ALIASES = {"northwest territory": "CA-NT", "nunavut territory": "CA-NU"}


@dataclass(frozen=True, slots=True)
class PostalArea:
    """The area a postal code names."""

    area_code: str  # "M5V" or "98101"
    name: str  # "Downtown Toronto", "Seattle"
    jurisdiction_code: str  # ISO 3166-2, e.g. "CA-ON"
    latitude: float
    longitude: float
    time_zone: str | None  # IANA name when the data gives one (US codes); None in Canada

    @property
    def country_code(self) -> str:
        return self.jurisdiction_code[:2]


def _canadian_jurisdiction(province: str) -> str | None:
    key = " ".join(province.lower().split())
    if key in _PROVINCE_ALIASES:
        return _PROVINCE_ALIASES[key]
    for jurisdiction in JURISDICTIONS:
        if jurisdiction.country_code == "CA" and jurisdiction.name.lower() == key:
            return jurisdiction.code
    return None


def _short_area_name(city: str) -> str:
    """ "Downtown Toronto (CN Tower / King and Spadina / …)" → "Downtown Toronto": the
    package lists landmarks in brackets, too long for a label."""
    return city.split(" (", 1)[0].strip() or city


@cache
def canadian_areas() -> dict[str, PostalArea]:
    """Every forward sortation area pypostalcode ships, by its three characters (loaded once
    per process; the file is opened read-only and closed again)."""
    database = resources.files("pypostalcode").joinpath("postalcodes.db")
    with resources.as_file(database) as path:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT fsa, city, province, latitude, longitude FROM PostalCodes"
            ).fetchall()
        finally:
            connection.close()
    areas: dict[str, PostalArea] = {}
    for fsa, city, province, latitude, longitude in rows:
        jurisdiction = _canadian_jurisdiction(province)
        if jurisdiction is None or latitude is None or longitude is None:
            continue
        areas[fsa.upper()] = PostalArea(
            area_code=fsa.upper(),
            name=_short_area_name(city),
            jurisdiction_code=jurisdiction,
            latitude=float(latitude),
            longitude=float(longitude),
            time_zone=None,
        )
    return areas


def _located(record: dict[str, str]) -> bool:
    """Whether a ZIP record has a real centre: some codes (unique ones, many of Washington DC's)
    are stored at 0, 0, which is in the Gulf of Guinea."""
    try:
        latitude, longitude = float(record["lat"]), float(record["long"])
    except (TypeError, ValueError):
        return False
    return not (latitude == 0 and longitude == 0)


@lru_cache(maxsize=4096)
def us_area(zip_code: str) -> PostalArea | None:
    """The ZIP code's area when ``zipcodes`` knows it and it is in one of the 50 states or DC
    (Rapport's jurisdictions; not territories or military mail)."""
    # Five ASCII digits only: the package's native code fails on other characters in a way
    # Python's exception handling does not catch.
    if len(zip_code) != 5 or not (zip_code.isascii() and zip_code.isdigit()):
        return None
    found = zipcodes.matching(zip_code)
    if not found:
        return None
    record = found[0]
    jurisdiction = f"US-{record['state']}"
    if jurisdiction not in JURISDICTIONS_BY_CODE or not _located(record):
        return None
    return PostalArea(
        area_code=zip_code,
        name=record["city"],
        jurisdiction_code=jurisdiction,
        latitude=float(record["lat"]),
        longitude=float(record["long"]),
        time_zone=record["timezone"] or None,
    )


def postal_area(code: SearchPostalCode) -> PostalArea | None:
    """Where a recognised code is, or None when the offline data does not know it."""
    if code.country_code == "CA":
        return canadian_areas().get(code.area)
    return us_area(code.area)


@cache
def _areas_by_jurisdiction(jurisdiction_code: str, rural: bool) -> tuple[PostalArea, ...]:
    if jurisdiction_code.startswith("CA-"):
        return tuple(
            area
            for area in canadian_areas().values()
            if area.jurisdiction_code == jurisdiction_code and (area.area_code[1] == "0") == rural
        )
    areas = []
    for record in zipcodes.filter_by(state=jurisdiction_code.removeprefix("US-")):
        if record["zip_code_type"] != "MILITARY" and _located(record):
            areas.append(
                PostalArea(
                    area_code=record["zip_code"],
                    name=record["city"],
                    jurisdiction_code=jurisdiction_code,
                    latitude=float(record["lat"]),
                    longitude=float(record["long"]),
                    time_zone=record["timezone"] or None,
                )
            )
    return tuple(areas)


@lru_cache(maxsize=1024)
def area_nearest(
    *, latitude: float, longitude: float, jurisdiction_code: str, rural: bool = False
) -> PostalArea | None:
    """The postal area of that province or state whose centre is nearest the point, or None
    when the data has none there; ``rural`` picks among Canada's rural areas (a 0 second, as
    in "J0M") instead of the others. Demo data uses it to give an office a code that fits its
    town; the first call for a US state reads that state's codes (~0.25 s)."""
    areas = _areas_by_jurisdiction(jurisdiction_code, rural)
    if not areas:
        return None
    # Squared differences with longitude scaled by the latitude's cosine: near enough to the
    # great-circle order for picking the closest of nearby centres.
    scale = math.cos(math.radians(latitude)) ** 2
    return min(
        areas,
        key=lambda area: (
            (area.latitude - latitude) ** 2 + scale * (area.longitude - longitude) ** 2
        ),
    )
