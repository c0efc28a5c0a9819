"""A query evaluated over the index: filter masks combined, sorted, paginated, counted."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from rapport.core.rotation import rotating_seed, tie_breaks
from rapport.directory.search import text
from rapport.directory.search.contract import (
    SORT_BEST_FIT,
    SORT_DISTANCE,
    SORT_FEE,
    SORT_NAME,
    SORT_SOONEST,
    SearchHit,
    SearchParam,
    SearchQuery,
    SearchResult,
)
from rapport.directory.search.engine.current import current_index
from rapport.directory.search.engine.facets import count_facets
from rapport.directory.search.engine.index import (
    ALL_OF_TAXONOMIES,
    NO_CONSULTATION,
    STYLE_FIELDS,
    NearbyPlace,
    SearchIndex,
    epoch_microseconds,
)
from rapport.directory.search.engine.masks import (
    Masks,
    Offices,
    code_mask,
    consultation_mask,
    fee_mask,
    mode_masks,
    offices,
    style_mask,
)
from rapport.directory.search.engine.nearby import nearby_index, place_key


@dataclass(frozen=True)
class Filtered:
    """A query's filters evaluated over one index: each filter's mask (for facet counts and for
    "what if this filter were dropped"), the rows that pass them all (ascending, i.e. by name),
    and the distance of each row's nearest fitting office when searching near a place."""

    index: SearchIndex
    masks: Masks
    result_mask: np.ndarray
    rows: np.ndarray
    nearest: np.ndarray | None  # per row of the index; inf where no office fits
    mode_ok: dict[str, np.ndarray]
    offices_fit: Offices
    now_microseconds: int
    # The place the index was cut for (engine.nearby) when the query is near that very place:
    # what it worked out once for every search there applies.
    place: NearbyPlace | None


def filter_rows(query: SearchQuery, *, now: dt.datetime, index: SearchIndex) -> Filtered:
    """Every filter of ``query`` as a mask over ``index``, combined: the search's hard
    constraints, shared by the search (which sorts and counts) and the matcher (which
    scores)."""
    size = index.size
    today = now.date()
    freshness_floor = epoch_microseconds(now - dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS))

    masks = Masks()
    masks.by_filter["visible"] = index.confirmed_at >= freshness_floor
    masks.by_filter[SearchParam.ACCEPTING] = index.accepting if query.accepting_only else None
    for key, attribute, _, _ in ALL_OF_TAXONOMIES:
        masks.by_filter[key] = index.taxonomies[key].all_of(getattr(query, attribute))
    if query.any_languages:
        speaks_one = index.taxonomies[SearchParam.LANGUAGE].any_of(query.any_languages)
        every = masks.by_filter[SearchParam.LANGUAGE]
        masks.by_filter[SearchParam.LANGUAGE] = speaks_one if every is None else every & speaks_one
    masks.by_filter[SearchParam.FAITH] = index.taxonomies[SearchParam.FAITH].any_of(query.faiths)
    masks.by_filter[SearchParam.GENDER] = code_mask(
        index.gender, index.gender_values, query.genders
    )
    masks.by_filter[SearchParam.CONTACT] = code_mask(
        index.contact, index.contact_values, query.contact
    )
    masks.by_filter[SearchParam.LGBTQ2S_AFFIRMING] = (
        index.lgbtq2s_affirming if query.lgbtq2s_affirming else None
    )
    masks.by_filter[SearchParam.INSURANCE] = index.insurance if query.insurance else None
    masks.by_filter[SearchParam.DIRECT_BILLING] = (
        index.direct_billing if query.direct_billing else None
    )
    masks.by_filter[SearchParam.HAS_VIDEO] = index.has_video if query.has_video else None
    masks.by_filter[SearchParam.CAPTIONED_VIDEO] = (
        index.captioned_video if query.captioned_video else None
    )
    masks.by_filter["fee"] = fee_mask(index, query.max_fee_minor, sliding=query.sliding_scale)
    masks.by_filter["style"] = style_mask(index, query.style)
    consultation_times = index.consultation_times.values
    now_microseconds = epoch_microseconds(now)
    masks.by_filter[SearchParam.CONSULTATION_WITHIN] = (
        consultation_mask(consultation_times, now_microseconds, query.consultation_within_days)
        if query.consultation_within_days is not None
        else None
    )
    text_ids = text.matching_therapist_ids(query.text) if query.text else None
    if text_ids is not None:
        text_mask = np.zeros(size, dtype=bool)
        text_mask[index.rows_of_ids(text_ids)] = True
        masks.by_filter["text"] = text_mask

    # Where and how: an office within the radius for in-person care; for video or phone, a
    # licence where the client is (the law, not a preference). Any one chosen mode that the
    # therapist offers under its own condition is enough.
    place = index.place
    if place is not None and place.key == place_key(query, today):
        # An index restricted for this very place (engine.nearby) has these worked out.
        offices_near, mode_ok = place.offices_near, dict(place.mode_ok)
    else:
        place = None
        offices_near = offices(index, query, features=())
        mode_ok = mode_masks(index, query, offices_near, today=today)
    offices_fit = (
        offices(index, query, features=query.accessibility, within=offices_near)
        if query.accessibility
        else offices_near
    )
    if query.delivery:
        masks.by_filter[SearchParam.DELIVERY] = np.logical_or.reduce(
            [mode_ok[mode] for mode in query.delivery]
        )
    elif query.has_location:
        masks.by_filter[SearchParam.DELIVERY] = np.logical_or.reduce(list(mode_ok.values()))
    else:
        masks.by_filter[SearchParam.DELIVERY] = None
    if query.accessibility:
        has_fitting_office = np.zeros(size, dtype=bool)
        has_fitting_office[index.office_row[offices_fit.positions]] = True
        masks.by_filter[SearchParam.ACCESSIBILITY] = has_fitting_office
    else:
        masks.by_filter[SearchParam.ACCESSIBILITY] = None

    result_mask = masks.combined(size)
    rows = np.flatnonzero(result_mask)

    nearest = None
    if query.has_location:
        nearest = np.full(size, np.inf)
        assert offices_fit.distance_km is not None
        np.minimum.at(nearest, index.office_row[offices_fit.positions], offices_fit.distance_km)

    return Filtered(
        index=index,
        masks=masks,
        result_mask=result_mask,
        rows=rows,
        nearest=nearest,
        mode_ok=mode_ok,
        offices_fit=offices_fit,
        now_microseconds=now_microseconds,
        place=place,
    )


def search(
    query: SearchQuery,
    *,
    now: dt.datetime,
    index: SearchIndex | None = None,
    nearby: bool = True,
) -> SearchResult:
    """Filter, count every facet option, sort and paginate; see the module docstring.

    Pass the ``index`` the query was parsed against (``current_index()``), so one request reads
    the version stamp once and parses and searches the same snapshot. ``nearby=False`` for a
    one-off probe (another radius, to suggest it) that should not count as a search of its
    place (see engine.nearby).
    """
    index = index or current_index()
    if nearby:
        # Near a place, the index cut to the rows that can meet the client there: the same
        # answer for a fraction of the work.
        index = nearby_index(index, query, today=now.date())
    filtered = filter_rows(query, now=now, index=index)
    rows, nearest = filtered.rows, filtered.nearest
    total = int(rows.size)
    consultation_times = index.consultation_times.values
    now_microseconds = filtered.now_microseconds
    page_size = max(1, query.page_size)
    pages = max(1, math.ceil(total / page_size))
    page_past_end = query.page > pages
    start = (query.page - 1) * page_size
    page_rows: Sequence[int] = []
    if not page_past_end:
        ordered = sort_rows(
            index,
            query,
            rows,
            nearest,
            consultation_times,
            now_microseconds,
            tie_seed=search_tie_seed(now),
            first=start + page_size,
        )
        page_rows = ordered[start : start + page_size].tolist()
    hits = [
        SearchHit(
            therapist_id=int(index.ids[row]),
            distance_km=(
                None if nearest is None or not np.isfinite(nearest[row]) else float(nearest[row])
            ),
        )
        for row in page_rows
    ]
    facets = count_facets(
        index,
        query,
        filtered.masks,
        filtered.result_mask,
        rows,
        filtered.mode_ok,
        filtered.offices_fit,
        index.size,
        now=now,
        place=filtered.place,
    )
    return SearchResult(
        total=total,
        page=query.page,
        pages=pages,
        hits=hits,
        facets=facets,
        page_past_end=page_past_end,
    )


# The key of the search's daily tie order: one for everyone, so answers stay shareable
# (cached_answer) and a person paging through one search sees each therapist once.
SEARCH_TIE_KEY = "directory-search"


def search_tie_seed(now: dt.datetime) -> int:
    """The seed of the tie order among equal next free times on the day of ``now`` (UTC):
    the same all day, another the next day."""
    return rotating_seed(day=now.astimezone(dt.UTC).date(), key=SEARCH_TIE_KEY)


def sort_rows(
    index: SearchIndex,
    query: SearchQuery,
    rows: np.ndarray,
    nearest: np.ndarray | None,
    consultation_times: np.ndarray,
    now_microseconds: int,
    *,
    tie_seed: int,
    first: int | None = None,
) -> np.ndarray:
    """``rows`` (ascending, i.e. by name) in the query's order; with ``first``, only the first
    that many of them (exactly those, in the same order: a page needs no more).

    Every order but name ties often: the same first free slot or none known (soonest), the
    same fee, and the same distance, since offices are placed at their town's centre so every
    office in a town is equally far. Ties by name would put the start of the alphabet first
    every day, so ties follow the daily rotating order instead (``rapport.core.rotation``), then
    name, which only settles what the rotation cannot (it never repeats a rank within a day).
    """
    if rows.size == 0 or query.sort == SORT_NAME:
        return rows if first is None else rows[:first]
    # Each order's keys, most significant last (np.lexsort's convention); the daily tie and
    # the name (the rows' own order) are added below the last.
    keys: tuple[np.ndarray, ...]
    if query.sort == SORT_FEE:
        keys = (index.fee[rows],)
    elif query.sort == SORT_SOONEST:
        starts = consultation_times[rows]
        # Unknown or stale times go last, as if there were none.
        keys = (np.where(starts >= now_microseconds, starts, NO_CONSULTATION),)
    elif query.sort == SORT_DISTANCE and nearest is not None:
        keys = (nearest[rows],)
    elif query.sort == SORT_BEST_FIT and query.style:
        gap = np.zeros(rows.size, dtype=np.int16)
        for dimension, preferred in query.style:
            column = index.style[rows, STYLE_FIELDS.index(dimension)].astype(np.int16)
            gap += np.abs(column - preferred)
        keys = (gap,) if nearest is None else (nearest[rows], gap)
    else:
        return rows if first is None else rows[:first]
    if first is not None and first < rows.size:
        # Only rows whose main key is at most the first-th smallest can be among the first:
        # sort those alone (ties at that value included, so the order is exactly the full
        # sort's). A results page needs 20 of thousands.
        main = keys[-1]
        cut = np.partition(main, first - 1)[first - 1]
        candidates = np.flatnonzero(main <= cut)
        rows = rows[candidates]
        keys = tuple(key[candidates] for key in keys)
    order = np.lexsort((rows, tie_breaks(index.ids[rows], tie_seed), *keys))
    return rows[order] if first is None else rows[order[:first]]
