"""The index's shape: one process's columnar snapshot of every listable therapist, and the
bitset helpers its term columns use. Nothing here reads the database (see ``build``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rapport.core.geo import EARTH_RADIUS_KM
from rapport.core.models import Term
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    Concern,
    Faith,
    Language,
    LivedExperience,
    Modality,
    Population,
)
from rapport.directory.search.contract import (
    SearchParam,
)
from rapport.directory.search.engine.cache import AnswerCache, NearbyIndexes, RecentRows

if TYPE_CHECKING:
    from rapport.directory.search.engine.masks import Offices

STYLE_FIELDS = tuple(name for name, _, _ in STYLE_DIMENSIONS)
STYLE_TOLERANCE = 1

# (facet key = query-string parameter, SearchQuery attribute, term model, profile M2M field)
# "All of" taxonomies: a therapist must have every chosen term.
ALL_OF_TAXONOMIES: tuple[tuple[str, str, type[Term], str], ...] = (
    (SearchParam.CONCERN, "concerns", Concern, "concerns"),
    (SearchParam.MODALITY, "modalities", Modality, "modalities"),
    (SearchParam.POPULATION, "populations", Population, "populations"),
    (SearchParam.LANGUAGE, "languages", Language, "languages"),
    (SearchParam.LIVED_EXPERIENCE, "lived_experiences", LivedExperience, "lived_experiences"),
)
# The yes/no attributes whose facet counts their rows among a search's results, in the order
# of SearchIndex.counting_bits.
COUNTED_FLAGS = ("lgbtq2s_affirming", "insurance", "direct_billing", "has_video", "captioned_video")
# "Any of": a person picks the faiths they would see.
FAITH_TAXONOMY: tuple[str, str, type[Term], str] = (SearchParam.FAITH, "faiths", Faith, "faiths")

NO_CONFIRMATION = np.iinfo(np.int64).min
NO_EXPIRY = np.iinfo(np.int64).max
NO_CONSULTATION = np.iinfo(np.int64).max
DAY_MICROSECONDS = 86_400_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
KM_PER_DEGREE_LATITUDE = EARTH_RADIUS_KM * math.pi / 180


def epoch_microseconds(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class TermColumns:
    """The active terms of one taxonomy, in display order, and who has each (one column each)."""

    slugs: tuple[str, ...]
    labels: tuple[str, ...]
    column_of: dict[str, int]
    by_column: np.ndarray  # bool, rows × terms, Fortran order: a term's column is contiguous
    bits: np.ndarray  # uint64, terms × words: each column as a bitset, for popcount counting

    def counts(self, mask_bits: np.ndarray) -> np.ndarray:
        """How many rows of a packed mask (see ``pack_mask``) have each term."""
        return np.asarray(np.bitwise_count(self.bits & mask_bits).sum(axis=1, dtype=np.int64))

    def all_of(self, slugs: Iterable[str]) -> np.ndarray | None:
        mask = None
        for slug in slugs:
            column = self.by_column[:, self.column_of[slug]]
            mask = column.copy() if mask is None else mask & column
        return mask

    def any_of(self, slugs: Iterable[str]) -> np.ndarray | None:
        columns = [self.column_of[slug] for slug in slugs]
        if not columns:
            return None
        return np.asarray(self.by_column[:, columns].any(axis=1))


class ConsultationTimes:
    """When each row's next free consultation starts (epoch microseconds; NO_CONSULTATION when
    none is known), with the monotonic time it was read.

    Kept apart from the rest of the index because it moves with every booking anywhere: a
    version bump (and a full rebuild in every process) per booking would not scale, so this
    one column is re-read on its own once it is older than
    ``settings.SEARCH_CONSULTATION_TIMES_MAX_AGE_SECONDS``. Filters on it are coarse (whole
    days), so a minute's lag is harmless.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        self.read_at = time.monotonic()


@dataclass(frozen=True)
class NearbyPlace:
    """The place an index was restricted for (``engine.nearby``), with what every search near
    it shares: the offices within the radius and each way of meeting's rows (read-only)."""

    key: tuple[object, ...]  # nearby.place_key
    offices_near: Offices
    mode_ok: dict[str, np.ndarray]
    # Per accessibility feature, the rows with an office within the radius that has it
    # (bitsets): what a search near the place choosing no feature counts per feature.
    near_feature_bits: np.ndarray


@dataclass(frozen=True)
class SearchIndex:
    """One process's snapshot of everything a search filters, counts or sorts on."""

    version: tuple[int, uuid.UUID | None]
    ids: np.ndarray  # int64, in name order (collation.name_sort_key, then id)
    ids_sorted: np.ndarray  # ids ascending
    rows_by_sorted_id: np.ndarray  # row of each entry of ids_sorted
    fee: np.ndarray  # int64 minor units
    lowest_fee: np.ndarray  # the sliding-scale floor, or the fee when there is no scale
    accepting: np.ndarray
    confirmed_at: np.ndarray  # int64 epoch microseconds; NO_CONFIRMATION when never
    insurance: np.ndarray
    direct_billing: np.ndarray
    lgbtq2s_affirming: np.ndarray
    has_video: np.ndarray  # a published video introduction
    captioned_video: np.ndarray  # ... of which one has captions (always within has_video)
    offers: dict[str, np.ndarray]  # delivery mode -> bool
    style: np.ndarray  # int8, rows × len(STYLE_FIELDS)
    gender: np.ndarray  # int8 code into gender_values
    gender_values: tuple[str, ...]
    contact: np.ndarray  # int8 code into contact_values
    contact_values: tuple[str, ...]
    taxonomies: dict[str, TermColumns]  # facet key -> columns (faith included)
    # The ALL_OF_TAXONOMIES' bitsets stacked in that order (their TermColumns.bits are views).
    all_of_bits: np.ndarray
    # Licences: jurisdiction -> (rows, expiry as a proleptic ordinal day; NO_EXPIRY when none).
    licences: dict[str, tuple[np.ndarray, np.ndarray]]
    # Offices of therapists who see clients in person, sorted by latitude (for a band search).
    office_row: np.ndarray
    office_latitude: np.ndarray  # degrees
    office_phi: np.ndarray  # radians
    office_lambda: np.ndarray  # radians
    office_cos_phi: np.ndarray
    accessibility: TermColumns  # over offices, not therapists
    # Per feature, the therapists with an office that has it (bitsets, as TermColumns.bits).
    office_feature_bits: np.ndarray
    # Per office, its features as bits (offices × words uint64; build.feature_codes).
    office_feature_code: np.ndarray
    consultation_times: ConsultationTimes
    built_seconds: float = 0.0
    answers: AnswerCache = field(default_factory=AnswerCache, compare=False, repr=False)
    # A result page's cards (the search page) and rows' text (the API) made this minute.
    recent_cards: RecentRows = field(default_factory=RecentRows, compare=False, repr=False)
    recent_row_texts: RecentRows = field(default_factory=RecentRows, compare=False, repr=False)
    # This index restricted to the rows a search near a place can reach, per place searched
    # lately (engine.nearby); None in such a restricted copy.
    nearby: NearbyIndexes | None = field(default_factory=NearbyIndexes, compare=False, repr=False)
    place: NearbyPlace | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    @functools.cached_property
    def counting_bits(self) -> np.ndarray:
        """The yes/no flags (COUNTED_FLAGS), then each gender value, then each contact value,
        as bitsets (``pack_columns``): a search counts all of them over its results in one
        popcount instead of one pass per attribute. Worked out at the first search (a benign
        race between threads: both compute the same array)."""
        columns = [getattr(self, name) for name in COUNTED_FLAGS]
        columns += [self.gender == code for code in range(len(self.gender_values))]
        columns += [self.contact == code for code in range(len(self.contact_values))]
        return pack_columns(np.column_stack(columns))

    def attribute_counts(
        self, mask_bits: np.ndarray
    ) -> tuple[dict[str, int], list[int], list[int]]:
        """How many rows of a packed mask (``pack_mask``) have each COUNTED_FLAGS flag, each
        gender value and each contact value (in ``gender_values``' and ``contact_values``'
        order), from one popcount of ``counting_bits``."""
        counts = (
            np.bitwise_count(self.counting_bits & mask_bits).sum(axis=1, dtype=np.int64).tolist()
        )
        flags = len(COUNTED_FLAGS)
        genders = flags + len(self.gender_values)
        return (
            dict(zip(COUNTED_FLAGS, counts[:flags], strict=True)),
            counts[flags:genders],
            counts[genders:],
        )

    @property
    def nbytes(self) -> int:
        total = 0
        for value in vars(self).values():
            total += _nbytes(value)
        return total

    def rows_of_ids(self, therapist_ids: np.ndarray) -> np.ndarray:
        """Rows of the given ids that are in the index (others are ignored)."""
        return self.locate(therapist_ids)[0]

    def locate(self, therapist_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows of the ids that are in the index, which of the given ids those are)."""
        if self.size == 0:
            return np.empty(0, dtype=np.int64), np.zeros(therapist_ids.shape, dtype=bool)
        positions = np.minimum(np.searchsorted(self.ids_sorted, therapist_ids), self.size - 1)
        found = self.ids_sorted[positions] == therapist_ids
        return np.asarray(self.rows_by_sorted_id[positions[found]]), found

    def licensed_in(self, jurisdiction_code: str | None, today: dt.date) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        if jurisdiction_code is None or jurisdiction_code not in self.licences:
            return mask
        rows, expiry = self.licences[jurisdiction_code]
        mask[rows[expiry >= today.toordinal()]] = True
        return mask


def _nbytes(value: object) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, TermColumns):
        # Bits that are a view of another array (all_of_bits) are counted there.
        return int(value.by_column.nbytes + (value.bits.nbytes if value.bits.base is None else 0))
    if isinstance(value, dict):
        return sum(_nbytes(item) for item in value.values())
    if isinstance(value, tuple):
        return sum(_nbytes(item) for item in value)
    return 0


def with_all_of_bits(
    taxonomies: dict[str, TermColumns],
) -> tuple[dict[str, TermColumns], np.ndarray]:
    """Every "all of" taxonomy's bitsets stacked in one block (ALL_OF_TAXONOMIES' order), and
    the taxonomies with each one's bits a view of its rows of it, so facet counting ANDs and
    counts them all at once (SearchIndex.all_of_bits)."""
    all_of_bits = np.vstack([taxonomies[key].bits for key, *_ in ALL_OF_TAXONOMIES])
    stacked = dict(taxonomies)
    start = 0
    for key, *_ in ALL_OF_TAXONOMIES:
        end = start + taxonomies[key].bits.shape[0]
        stacked[key] = dataclasses.replace(taxonomies[key], bits=all_of_bits[start:end])
        start = end
    return stacked, all_of_bits


def office_feature_bits(size: int, office_row: np.ndarray, by_column: np.ndarray) -> np.ndarray:
    """Per accessibility feature, the rows (of ``size``) with one of these offices that has it,
    as bitsets (``pack_columns``): ``office_row`` is each office's row, ``by_column`` their
    rows of ``SearchIndex.accessibility.by_column``."""
    therapist_features = np.zeros((size, by_column.shape[1]), dtype=bool)
    positions, features = np.nonzero(by_column)
    therapist_features[office_row[positions], features] = True
    return pack_columns(therapist_features)


def pack_mask(mask: np.ndarray) -> np.ndarray:
    """A boolean row mask as a bitset of uint64 words (the layout of ``pack_columns``)."""
    packed = np.packbits(mask, bitorder="little")
    padding = (-packed.size) % 8
    if padding:
        packed = np.concatenate([packed, np.zeros(padding, dtype=np.uint8)])
    return packed.view(np.uint64)


def pack_columns(matrix: np.ndarray) -> np.ndarray:
    """Each column of a boolean rows × columns matrix as a row of uint64 bitset words."""
    words = pack_mask(np.zeros(matrix.shape[0], dtype=bool)).size
    packed = np.zeros((matrix.shape[1], words), dtype=np.uint64)
    for column in range(matrix.shape[1]):
        packed[column] = pack_mask(matrix[:, column])
    return packed
