"""How well each therapist meets each of a person's preferences, as numbers over index rows.

``degrees`` gives, for chosen rows of the search index, a match degree in [0, 1] per feature
(NaN where the person did not choose to match on it). The ranking weighs them into the
preference score; the learned model (``learning``) reads them as ``2·degree − 1`` and as 0
where NaN, so it never uses a characteristic the person did not choose to match on.
"""

from __future__ import annotations

import numpy as np

from rapport.directory.models import STYLE_MAX, STYLE_MIN
from rapport.directory.search.contract import SearchParam
from rapport.directory.search.engine import SearchIndex
from rapport.matching.answers import STYLE_FIELDS, FitAnswers, PreferenceKey

# Preference -> the index's taxonomy columns its values are looked up in.
_TAXONOMY_OF = {
    PreferenceKey.LIVED_EXPERIENCE: SearchParam.LIVED_EXPERIENCE,
    PreferenceKey.LANGUAGE: SearchParam.LANGUAGE,
    PreferenceKey.FAITH: SearchParam.FAITH,
    PreferenceKey.POPULATION: SearchParam.POPULATION,
}
PREFERENCE_FEATURES = (
    "concerns",
    PreferenceKey.GENDER.value,
    PreferenceKey.LIVED_EXPERIENCE.value,
    PreferenceKey.LANGUAGE.value,
    PreferenceKey.FAITH.value,
    PreferenceKey.POPULATION.value,
    PreferenceKey.LGBTQ2S_AFFIRMING.value,
)
FEATURES: tuple[str, ...] = PREFERENCE_FEATURES + STYLE_FIELDS
STYLE_SPAN = STYLE_MAX - STYLE_MIN


def _share_of(
    index: SearchIndex, taxonomy: str, slugs: tuple[str, ...], rows: np.ndarray
) -> np.ndarray:
    """The share of ``slugs`` each row has (slugs unknown to the index count as not had)."""
    columns = index.taxonomies[taxonomy]
    known = [columns.column_of[slug] for slug in slugs if slug in columns.column_of]
    if not slugs:
        return np.full(rows.size, np.nan)
    if not known:
        return np.zeros(rows.size)
    had = columns.by_column[np.ix_(rows, np.asarray(known, dtype=np.int64))].sum(axis=1)
    return np.asarray(had / len(slugs), dtype=np.float64)


def _any_of(
    index: SearchIndex, taxonomy: str, slugs: tuple[str, ...], rows: np.ndarray
) -> np.ndarray:
    columns = index.taxonomies[taxonomy]
    known = [columns.column_of[slug] for slug in slugs if slug in columns.column_of]
    if not known:
        return np.zeros(rows.size)
    picked = columns.by_column[np.ix_(rows, np.asarray(known, dtype=np.int64))]
    return np.asarray(picked.any(axis=1), dtype=np.float64)


def degrees(answers: FitAnswers, index: SearchIndex, rows: np.ndarray) -> np.ndarray:
    """A rows × FEATURES array of match degrees in [0, 1]; NaN for features not chosen.

    - concerns: the share of the person's concerns the therapist lists;
    - gender, language, faith: the therapist is one of the chosen (any one is enough);
    - lived experience and age range/group (population): the share of chosen ones they have;
    - LGBTQ2S+ affirming: they say they are;
    - each placed style dimension: 1 − distance / 4 (1 on the same point, 0 at the far pole).

    A preference counts as chosen when its weight is above "doesn't matter"; the concerns
    when any are given; a style dimension when placed and the style's weight is above 0.
    """
    out = np.full((rows.size, len(FEATURES)), np.nan)
    if answers.concerns:
        out[:, 0] = _share_of(index, SearchParam.CONCERN, answers.concerns, rows)
    for position, key in enumerate(PREFERENCE_FEATURES[1:], start=1):
        preference = answers.preference(key)
        if not preference.weight:
            continue
        if key == PreferenceKey.GENDER:
            table = np.array([value in preference.values for value in index.gender_values])
            out[:, position] = table[index.gender[rows]] if table.size else 0.0
        elif key == PreferenceKey.LGBTQ2S_AFFIRMING:
            out[:, position] = index.lgbtq2s_affirming[rows]
        elif key in (PreferenceKey.LANGUAGE, PreferenceKey.FAITH):
            out[:, position] = _any_of(
                index, _TAXONOMY_OF[PreferenceKey(key)], preference.values, rows
            )
        else:
            out[:, position] = _share_of(
                index, _TAXONOMY_OF[PreferenceKey(key)], preference.values, rows
            )
    if answers.style_weight:
        for offset, dimension in enumerate(STYLE_FIELDS):
            wanted = answers.style.get(dimension)
            if wanted is None:
                continue
            placed = index.style[rows, offset].astype(np.float64)
            out[:, len(PREFERENCE_FEATURES) + offset] = 1.0 - np.abs(placed - wanted) / STYLE_SPAN
    return out


def model_inputs(degrees_: np.ndarray) -> np.ndarray:
    """What the learned model reads: 2·degree − 1 for chosen features, 0 for the others."""
    return np.where(np.isnan(degrees_), 0.0, 2.0 * degrees_ - 1.0)
