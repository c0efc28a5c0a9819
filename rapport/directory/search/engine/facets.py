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
) -> dict[str, list[FacetCount]]:
    """Counts for every option: for an "all of" filter, the results if that value were also
    required; for an "any of" filter (contract.ANY_OF_PARAMS), the results with that filter's
    own choice replaced by that value alone, every other filter as it is."""
    facets: dict[str, list[FacetCount]] = {}
    total = int(rows.size)

    def rows_without(key: str) -> np.ndarray:
        """Rows passing every filter but ``key``'s. Counting over these row numbers rather than
        over whole-index masks: most filters are unused in a search, and then this is simply
        the result's rows, a small fraction of the index."""
        if masks.by_filter.get(key) is None:
            return rows
        return np.flatnonzero(masks.combined(size, without=key))

    without_delivery = rows_without(SearchParam.DELIVERY)
    facets[SearchParam.DELIVERY] = [
        FacetCount(
            value=mode,
            label=DELIVERY_LABELS[mode],
            count=int(np.count_nonzero(mode_ok[mode][without_delivery])),
            selected=mode in query.delivery,
        )
        for mode in DELIVERY_MODES
    ]

    result_bits = pack_mask(result_mask)
    for key, attribute, _, _ in ALL_OF_TAXONOMIES:
        columns = index.taxonomies[key]
        # tolist(): Python ints for the whole column at once, not a numpy scalar each.
        counts = columns.counts(result_bits).tolist()
        chosen = getattr(query, attribute)
        facets[key] = [
            FacetCount(value=slug, label=label, count=count, selected=slug in chosen)
            for slug, label, count in zip(columns.slugs, columns.labels, counts, strict=True)
        ]

    faith = index.taxonomies[SearchParam.FAITH]
    faith_counts = (
        faith.counts(pack_mask(masks.combined(size, without=SearchParam.FAITH)))
        if query.faiths
        else faith.counts(result_bits)
    )
    facets[SearchParam.FAITH] = [
        FacetCount(value=slug, label=label, count=count, selected=slug in query.faiths)
        for slug, label, count in zip(faith.slugs, faith.labels, faith_counts.tolist(), strict=True)
    ]

    for key, codes, values, labels, chosen in (
        (
            SearchParam.GENDER,
            index.gender,
            index.gender_values,
            GENDER_LABELS,
            query.genders,
        ),
        (
            SearchParam.CONTACT,
            index.contact,
            index.contact_values,
            CONTACT_LABELS,
            query.contact,
        ),
    ):
        counts = np.bincount(codes[rows_without(key)], minlength=len(values)).tolist()
        facets[key] = [
            FacetCount(value=value, label=labels[value], count=count, selected=value in chosen)
            for value, count in zip(values, counts, strict=True)
        ]

    for key, flag, label, selected in (
        (
            SearchParam.LGBTQ2S_AFFIRMING,
            index.lgbtq2s_affirming,
            "LGBTQ2S+ affirming",
            query.lgbtq2s_affirming,
        ),
        (SearchParam.INSURANCE, index.insurance, "Accepts insurance", query.insurance),
        (
            SearchParam.DIRECT_BILLING,
            index.direct_billing,
            "Bills insurers directly",
            query.direct_billing,
        ),
        (SearchParam.HAS_VIDEO, index.has_video, "Has a video introduction", query.has_video),
        (
            SearchParam.CAPTIONED_VIDEO,
            index.captioned_video,
            "Has captioned videos",
            query.captioned_video,
        ),
    ):
        facets[key] = [
            FacetCount(
                value="1",
                label=label,
                count=int(np.count_nonzero(flag[rows])),
                selected=selected,
            )
        ]

    sliding_mask = fee_mask(index, query.max_fee_minor, sliding=True)
    sliding_count = (
        total if sliding_mask is None else int(np.count_nonzero(sliding_mask[rows_without("fee")]))
    )
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
            count=int(rows_without(SearchParam.ACCEPTING).size),
            selected=not query.accepting_only,
        )
    ]

    # Accessibility: an office that counts (within the radius, with the chosen features) of a
    # therapist in the results, which also has the feature.
    features = index.accessibility
    if query.has_location or query.accessibility:
        positions = offices_fit.positions
        positions = positions[result_mask[index.office_row[positions]]]
        # A therapist counts once per feature however many of their offices have it: group
        # the offices by owner, OR each group's features, then count the owners per feature.
        owner = index.office_row[positions]
        order = np.argsort(owner, kind="stable")
        owner = owner[order]
        if owner.size:
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            by_owner = np.logical_or.reduceat(features.by_column[positions[order]], starts, axis=0)
            feature_counts = np.count_nonzero(by_owner, axis=0)
        else:
            feature_counts = np.zeros(len(features.slugs), dtype=np.int64)
    else:
        feature_counts = np.asarray(
            np.bitwise_count(index.office_feature_bits & result_bits).sum(axis=1, dtype=np.int64)
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
