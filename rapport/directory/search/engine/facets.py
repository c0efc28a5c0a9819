"""Facet counts: for every option of every filter, how many results choosing it would give."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from rapport.directory.models import (
    BetweenSessionContact,
    GenderCategory,
)
from rapport.directory.search.contract import (
    CONSULTATION_WITHIN_OPTIONS,
    DELIVERY_IN_PERSON,
    DELIVERY_MODES,
    DELIVERY_PHONE,
    DELIVERY_VIDEO,
    FacetCount,
    SearchParam,
    SearchQuery,
)
from rapport.directory.search.engine.index import (
    ALL_OF_TAXONOMIES,
    NearbyPlace,
    SearchIndex,
    epoch_microseconds,
    pack_mask,
)
from rapport.directory.search.engine.masks import Masks, Offices, consultation_mask, fee_mask

GENDER_LABELS = dict(GenderCategory.choices)
CONTACT_LABELS = dict(BetweenSessionContact.choices)
DELIVERY_LABELS = {
    DELIVERY_IN_PERSON: "In person",
    DELIVERY_VIDEO: "Video",
    DELIVERY_PHONE: "Phone",
}


def count_facets(
    index: SearchIndex,
    query: SearchQuery,
    masks: Masks,
    result_mask: np.ndarray,
    rows: np.ndarray,
    mode_ok: Mapping[str, np.ndarray],
    offices_fit: Offices,
    size: int,
    *,
    now: dt.datetime,
    place: NearbyPlace | None = None,
) -> dict[str, list[FacetCount]]:
    """Counts for every option: for an "all of" filter, the results if that value were also
    required; for an "any of" filter (contract.ANY_OF_PARAMS), the results with that filter's
    own choice replaced by that value alone, every other filter as it is."""
    facets: dict[str, list[FacetCount]] = {}
    total = int(rows.size)

    passing_all_but: dict[str, np.ndarray] = {}

    def in_use(key: str) -> bool:
        return masks.by_filter.get(key) is not None

    def mask_without(key: str) -> np.ndarray:
        if key not in passing_all_but:
            passing_all_but[key] = masks.combined(size, without=key)
        return passing_all_but[key]

    def rows_without(key: str) -> np.ndarray:
        """Rows passing every filter but ``key``'s: the result's rows when ``key`` is not in
        use (most filters, in most searches: a small fraction of the index)."""
        return np.flatnonzero(mask_without(key)) if in_use(key) else rows

    def count_without(key: str, option: np.ndarray | None = None) -> int:
        """How many rows pass every filter but ``key``'s (and ``option``, a mask, if given).
        A filter in use is counted over whole-index masks: a boolean AND and a count cost a
        fraction of listing the rows first."""
        if not in_use(key):
            return total if option is None else int(np.count_nonzero(option[rows]))
        without = mask_without(key)
        return int(np.count_nonzero(without if option is None else without & option))

    facets[SearchParam.DELIVERY] = [
        FacetCount(
            mode,
            DELIVERY_LABELS[mode],
            count_without(SearchParam.DELIVERY, mode_ok[mode]),
            mode in query.delivery,
        )
        for mode in DELIVERY_MODES
    ]

    result_bits = pack_mask(result_mask)
    # Every "all of" taxonomy's terms at once; tolist(): Python ints, not a numpy scalar each.
    all_counts = (
        np.bitwise_count(index.all_of_bits & result_bits).sum(axis=1, dtype=np.int64).tolist()
    )
    start = 0
    for key, attribute, _, _ in ALL_OF_TAXONOMIES:
        columns = index.taxonomies[key]
        counts = all_counts[start : start + len(columns.slugs)]
        start += len(columns.slugs)
        chosen = getattr(query, attribute)
        # Positional: (value, label, count, selected), the fastest way to make each.
        facets[key] = [
            FacetCount(slug, label, count, slug in chosen)
            for slug, label, count in zip(columns.slugs, columns.labels, counts, strict=True)
        ]

    faith = index.taxonomies[SearchParam.FAITH]
    faith_counts = (
        faith.counts(pack_mask(mask_without(SearchParam.FAITH)))
        if query.faiths
        else faith.counts(result_bits)
    )
    facets[SearchParam.FAITH] = [
        FacetCount(value=slug, label=label, count=count, selected=slug in query.faiths)
        for slug, label, count in zip(faith.slugs, faith.labels, faith_counts.tolist(), strict=True)
    ]

    # The flags, and each gender and contact value, counted over the results at once.
    flag_counts, gender_counts, contact_counts = index.attribute_counts(result_bits)
    for key, codes, values, labels, chosen, result_counts in (
        (
            SearchParam.GENDER,
            index.gender,
            index.gender_values,
            GENDER_LABELS,
            query.genders,
            gender_counts,
        ),
        (
            SearchParam.CONTACT,
            index.contact,
            index.contact_values,
            CONTACT_LABELS,
            query.contact,
            contact_counts,
        ),
    ):
        counts = (
            # Counted with the filter's own choice left out.
            np.bincount(codes[rows_without(key)], minlength=len(values)).tolist()
            if in_use(key)
            else result_counts
        )
        facets[key] = [
            FacetCount(value=value, label=labels[value], count=count, selected=value in chosen)
            for value, count in zip(values, counts, strict=True)
        ]

    for key, attribute, label, selected in (
        (
            SearchParam.LGBTQ2S_AFFIRMING,
            "lgbtq2s_affirming",
            "LGBTQ2S+ affirming",
            query.lgbtq2s_affirming,
        ),
        (SearchParam.INSURANCE, "insurance", "Accepts insurance", query.insurance),
        (
            SearchParam.DIRECT_BILLING,
            "direct_billing",
            "Bills insurers directly",
            query.direct_billing,
        ),
        (SearchParam.HAS_VIDEO, "has_video", "Has a video introduction", query.has_video),
        (
            SearchParam.CAPTIONED_VIDEO,
            "captioned_video",
            "Has captioned videos",
            query.captioned_video,
        ),
    ):
        facets[key] = [
            FacetCount(value="1", label=label, count=flag_counts[attribute], selected=selected)
        ]

    sliding_mask = fee_mask(index, query.max_fee_minor, sliding=True)
    sliding_count = total if sliding_mask is None else count_without("fee", sliding_mask)
    facets[SearchParam.SLIDING_SCALE] = [
        FacetCount(
            value="1",
            label="Sliding scale within my budget",
            count=sliding_count,
            selected=query.sliding_scale,
        )
    ]
    facets[SearchParam.ACCEPTING] = [
        FacetCount(
            value="0",
            label="Include therapists not taking new clients",
            count=count_without(SearchParam.ACCEPTING),
            selected=not query.accepting_only,
        )
    ]

    # Accessibility: an office that counts (within the radius, with the chosen features) of a
    # therapist in the results, which also has the feature. Without chosen features, the
    # offices that count are all of a therapist's, or near a place with a cut (``place``)
    # those within the radius, which the cut holds as bitsets already: a popcount of each.
    features = index.accessibility
    counted: np.ndarray | None = None  # per feature, the rows with an office that counts
    if not query.accessibility:
        if not query.has_location:
            counted = index.office_feature_bits
        elif place is not None:
            counted = place.near_feature_bits
    if counted is None:
        feature_counts = _office_feature_counts(index, offices_fit, result_mask, rows)
    else:
        feature_counts = np.asarray(
            np.bitwise_count(counted & result_bits).sum(axis=1, dtype=np.int64)
        )
    facets[SearchParam.ACCESSIBILITY] = [
        FacetCount(value=slug, label=label, count=count, selected=slug in query.accessibility)
        for slug, label, count in zip(
            features.slugs, features.labels, np.asarray(feature_counts).tolist(), strict=True
        )
    ]
    times = index.consultation_times.values[rows_without(SearchParam.CONSULTATION_WITHIN)]
    now_microseconds = epoch_microseconds(now)
    facets[SearchParam.CONSULTATION_WITHIN] = [
        FacetCount(
            value=str(days),
            label=f"Within {days} days",
            count=int(np.count_nonzero(consultation_mask(times, now_microseconds, days))),
            selected=query.consultation_within_days == days,
        )
        for days in CONSULTATION_WITHIN_OPTIONS
    ]
    return facets


def _office_feature_counts(
    index: SearchIndex, offices_fit: Offices, result_mask: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Per accessibility feature, the therapists in the results with an office that counts
    (within the radius, with the chosen features) which also has the feature: once per
    therapist however many such offices they have. Each office's features are bits
    (``SearchIndex.office_feature_code``): each therapist's offices' bits are OR-ed together,
    then each feature's bit is counted over the result's rows."""
    positions = offices_fit.positions
    positions = positions[result_mask[index.office_row[positions]]]
    codes = index.office_feature_code
    per_row = np.zeros((index.size, codes.shape[1]), dtype=np.uint64)
    np.bitwise_or.at(per_row, index.office_row[positions], codes[positions])
    bits = np.unpackbits(
        per_row[rows].view(np.uint8),
        axis=1,
        count=len(index.accessibility.slugs),
        bitorder="little",
    )
    # One feature's bits made contiguous before summing: summing down the short columns of a
    # rows × features array is several times slower.
    return np.asarray(np.ascontiguousarray(bits.T).sum(axis=1, dtype=np.int64))
