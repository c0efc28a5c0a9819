"""Each filter of a query as a boolean mask over the index rows (offices for where and how)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rapport.core.geo import EARTH_RADIUS_KM, distances_km
from rapport.directory.search.contract import (
    DELIVERY_IN_PERSON,
    DELIVERY_PHONE,
    DELIVERY_VIDEO,
    SearchQuery,
)
from rapport.directory.search.engine.index import (
    DAY_MICROSECONDS,
    KM_PER_DEGREE_LATITUDE,
    STYLE_FIELDS,
    STYLE_TOLERANCE,
    SearchIndex,
)


@dataclass
class Offices:
    """The offices that count for this search: within the radius when searching near a place,
    and having every asked-for accessibility feature."""

    positions: np.ndarray  # into the index's office arrays
    distance_km: np.ndarray | None  # per position, when searching near a place


@dataclass
class Masks:
    """Each filter's mask over the index rows; None where the filter is not in use."""

    by_filter: dict[str, np.ndarray | None] = field(default_factory=dict)

    def combined(self, size: int, *, without: str | None = None) -> np.ndarray:
        result = np.ones(size, dtype=bool)
        for name, mask in self.by_filter.items():
            if mask is not None and name != without:
                result &= mask
        return result


def code_mask(codes: np.ndarray, values: Sequence[str], chosen: Iterable[str]) -> np.ndarray | None:
    chosen = set(chosen)
    if not chosen:
        return None
    table = np.array([value in chosen for value in values], dtype=bool)
    return np.asarray(table[codes])


def fee_mask(index: SearchIndex, max_fee_minor: int | None, *, sliding: bool) -> np.ndarray | None:
    if max_fee_minor is None:
        return None
    return (index.lowest_fee if sliding else index.fee) <= max_fee_minor


def consultation_mask(
    consultation_times: np.ndarray, now_microseconds: int, days: int
) -> np.ndarray:
    """A free consultation starts between now and ``days`` days from now. A time already past
    is stale (refreshed within minutes by the booking app) and counts as unknown."""
    return (consultation_times >= now_microseconds) & (
        consultation_times <= now_microseconds + days * DAY_MICROSECONDS
    )


def style_mask(index: SearchIndex, style: Sequence[tuple[str, int]]) -> np.ndarray | None:
    mask = None
    for dimension, preferred in style:
        column = index.style[:, STYLE_FIELDS.index(dimension)]
        near = np.abs(column.astype(np.int16) - preferred) <= STYLE_TOLERANCE
        mask = near if mask is None else mask & near
    return mask


def offices(
    index: SearchIndex,
    query: SearchQuery,
    *,
    features: Iterable[str],
    within: Offices | None = None,
) -> Offices:
    """Offices within the radius (all offices without a location) having every feature."""
    if within is not None:
        positions, distances = within.positions, within.distance_km
    elif query.has_location:
        assert query.latitude is not None
        assert query.longitude is not None
        band = query.radius_km / KM_PER_DEGREE_LATITUDE + 1e-6
        low, high = np.searchsorted(
            index.office_latitude, [query.latitude - band, query.latitude + band]
        )
        positions = np.arange(low, high, dtype=np.int64)
        # The band holds every longitude at those latitudes (across a continent): keep only
        # the offices within the circle's reach east and west before measuring distances.
        positions = positions[
            within_longitude_reach(
                index.office_lambda[positions], query.latitude, query.longitude, query.radius_km
            )
        ]
        distances = office_distances_km(index, positions, query.latitude, query.longitude)
        inside = distances <= query.radius_km
        positions, distances = positions[inside], distances[inside]
    else:
        positions, distances = np.arange(index.office_row.size, dtype=np.int64), None
    for slug in features:
        has = index.accessibility.by_column[positions, index.accessibility.column_of[slug]]
        positions = positions[has]
        if distances is not None:
            distances = distances[has]
    return Offices(positions=positions, distance_km=distances)


def within_longitude_reach(
    lambdas: np.ndarray, latitude: float, longitude: float, radius_km: float
) -> np.ndarray:
    """Which longitudes (radians) a point within ``radius_km`` of (latitude, longitude) can
    have: on a sphere the circle reaches at most asin(sin(r/R) / cos φ) east and west of its
    centre (all around when it covers a pole). A margin of 1 % keeps the edge to the exact
    distance that follows."""
    angle = radius_km / EARTH_RADIUS_KM
    cos_phi = math.cos(math.radians(latitude))
    if angle >= math.pi / 2 or math.sin(angle) >= cos_phi:
        return np.ones(lambdas.shape, dtype=bool)
    reach = math.asin(math.sin(angle) / cos_phi) * 1.01 + 1e-9
    gap = np.abs(lambdas - math.radians(longitude))
    return np.asarray(np.minimum(gap, 2 * math.pi - gap) <= reach)


def office_distances_km(
    index: SearchIndex, positions: np.ndarray, latitude: float, longitude: float
) -> np.ndarray:
    return distances_km(
        latitude=latitude,
        longitude=longitude,
        phis=index.office_phi[positions],
        lambdas=index.office_lambda[positions],
        cos_phis=index.office_cos_phi[positions],
    )


def mode_masks(
    index: SearchIndex, query: SearchQuery, offices_near: Offices, *, today: dt.date
) -> dict[str, np.ndarray]:
    if not query.has_location:
        return dict(index.offers)
    in_person = np.zeros(index.size, dtype=bool)
    in_person[index.office_row[offices_near.positions]] = True
    licensed = index.licensed_in(query.jurisdiction_code, today)
    return {
        DELIVERY_IN_PERSON: in_person,
        DELIVERY_VIDEO: index.offers[DELIVERY_VIDEO] & licensed,
        DELIVERY_PHONE: index.offers[DELIVERY_PHONE] & licensed,
    }
