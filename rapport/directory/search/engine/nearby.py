"""A search near a place, evaluated over the rows it can reach only.

Near a place, a therapist is a result only through one of the three ways of meeting (an office
within the radius, or video or phone with a licence where the client is), so every row outside
those "candidates" fails the delivery filter, and every count the search makes (results, and
each facet option's, which keep the delivery filter) is a count of candidates only. Near
Toronto they are about one in six rows of a directory spread over the continent. The search then
runs unchanged over the index restricted to them (``restricted``): same answers, a sixth of
the work in each mask and count.

The restricted index is kept per place in its parent (``SearchIndex.nearby``): many searches
start from the same few cities, and building one costs a few searches' worth, so a place is cut
from its second search on (a place searched once is searched over the whole index).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import cast

import numpy as np

from rapport.directory.search.contract import SearchQuery
from rapport.directory.search.engine.cache import AnswerCache, RecentRows
from rapport.directory.search.engine.index import (
    ConsultationTimes,
    NearbyPlace,
    SearchIndex,
    TermColumns,
    office_feature_bits,
    pack_columns,
    with_all_of_bits,
)
from rapport.directory.search.engine.masks import mode_masks, offices

# Above this share of the index, restricting saves too little to be worth the memory.
RESTRICT_AT_MOST = 0.5
# A place is cut from its second search on (see NearbyIndexes); tests may cut at the first.
CUT_PLACES_SEEN_BEFORE_ONLY = True


def nearby_index(index: SearchIndex, query: SearchQuery, *, today: dt.date) -> SearchIndex:
    """The index to run ``query`` over: restricted to its candidates when it searches near a
    place searched before (see NearbyIndexes) whose candidates are few enough, ``index``
    itself otherwise."""
    if not query.has_location or index.nearby is None:
        return index
    # The key carries when the consultation times were read: a restricted copy of an older
    # column is never used (and the re-read also clears the entries, see current_index).
    key = (*place_key(query, today), index.consultation_times.read_at)
    kept = index.nearby.kept(key)
    if kept is not None:
        return cast(SearchIndex, kept)
    if not index.nearby.seen_before(key) and CUT_PLACES_SEEN_BEFORE_ONLY:
        return index
    cut = _restricted_if_smaller(index, query, today)
    # The whole index kept for a place (most rows reachable) costs nothing more.
    index.nearby.keep(key, cut, rows=0 if cut is index else cut.size, budget=index.size)
    return cut


def _restricted_if_smaller(index: SearchIndex, query: SearchQuery, today: dt.date) -> SearchIndex:
    rows = candidate_rows(index, query, today=today)
    if rows.size > RESTRICT_AT_MOST * index.size:
        return index
    cut = restricted(index, rows)
    # Where and how are the same for every search near this place today: worked out once.
    offices_near = offices(cut, query, features=())
    ways = mode_masks(cut, query, offices_near, today=today)
    for mask in ways.values():
        mask.flags.writeable = False  # shared by every search near the place
    return dataclasses.replace(
        cut,
        place=NearbyPlace(
            key=place_key(query, today),
            offices_near=offices_near,
            mode_ok=ways,
            near_feature_bits=office_feature_bits(
                cut.size,
                cut.office_row[offices_near.positions],
                cut.accessibility.by_column[offices_near.positions],
            ),
        ),
    )


def place_key(query: SearchQuery, today: dt.date) -> tuple[object, ...]:
    """What a search's where-and-how filter depends on (besides the chosen modes)."""
    return (query.latitude, query.longitude, query.radius_km, query.jurisdiction_code, today)


def candidate_rows(index: SearchIndex, query: SearchQuery, *, today: dt.date) -> np.ndarray:
    """The rows that can meet a client near the query's place in some way (ascending)."""
    reachable = mode_masks(index, query, offices(index, query, features=()), today=today)
    return np.flatnonzero(np.logical_or.reduce(list(reachable.values())))


def restricted(index: SearchIndex, rows: np.ndarray) -> SearchIndex:
    """``index`` with only ``rows`` (ascending, so the name order holds), every column and
    office cut to them and renumbered."""
    started = time.perf_counter()
    renumbered = np.full(index.size, -1, dtype=np.int64)
    renumbered[rows] = np.arange(rows.size, dtype=np.int64)
    ids = index.ids[rows]
    by_id = np.argsort(ids, kind="stable")

    taxonomies, all_of_bits = with_all_of_bits(
        {key: _rows_of(columns, rows) for key, columns in index.taxonomies.items()}
    )

    licences = {}
    for jurisdiction, (licensed_rows, expiry) in index.licences.items():
        kept = renumbered[licensed_rows]
        inside = kept >= 0
        licences[jurisdiction] = (kept[inside], expiry[inside])

    # Offices of the kept rows, still by latitude.
    kept_offices = np.flatnonzero(renumbered[index.office_row] >= 0)
    office_row = renumbered[index.office_row[kept_offices]]
    accessibility = _rows_of(index.accessibility, kept_offices)

    return dataclasses.replace(
        index,
        ids=ids,
        ids_sorted=ids[by_id],
        rows_by_sorted_id=by_id.astype(np.int64),
        fee=index.fee[rows],
        lowest_fee=index.lowest_fee[rows],
        accepting=index.accepting[rows],
        confirmed_at=index.confirmed_at[rows],
        insurance=index.insurance[rows],
        direct_billing=index.direct_billing[rows],
        lgbtq2s_affirming=index.lgbtq2s_affirming[rows],
        has_video=index.has_video[rows],
        captioned_video=index.captioned_video[rows],
        offers={mode: offered[rows] for mode, offered in index.offers.items()},
        style=index.style[rows],
        gender=index.gender[rows],
        contact=index.contact[rows],
        taxonomies=taxonomies,
        all_of_bits=all_of_bits,
        licences=licences,
        office_row=office_row,
        office_latitude=index.office_latitude[kept_offices],
        office_phi=index.office_phi[kept_offices],
        office_lambda=index.office_lambda[kept_offices],
        office_cos_phi=index.office_cos_phi[kept_offices],
        accessibility=accessibility,
        office_feature_bits=office_feature_bits(rows.size, office_row, accessibility.by_column),
        office_feature_code=index.office_feature_code[kept_offices],
        consultation_times=_times_of(index.consultation_times, rows),
        built_seconds=time.perf_counter() - started,
        # Its own (empty) caches: answers and rows are kept in the parent, per whole index.
        answers=AnswerCache(),
        recent_cards=RecentRows(),
        recent_row_texts=RecentRows(),
        nearby=None,  # a restricted index restricts no further
    )


def _rows_of(columns: TermColumns, rows: np.ndarray) -> TermColumns:
    by_column = np.asfortranarray(columns.by_column[rows])
    return dataclasses.replace(columns, by_column=by_column, bits=pack_columns(by_column))


def _times_of(times: ConsultationTimes, rows: np.ndarray) -> ConsultationTimes:
    restricted_times = ConsultationTimes(times.values[rows])
    restricted_times.read_at = times.read_at
    return restricted_times
