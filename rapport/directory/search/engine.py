"""The directory search engine: a compact columnar index per process, queried with numpy.

Every listable therapist (verified and listed) is one row of a set of numpy arrays: fees, flags
(among them whether a video introduction, and a captioned one, is published), style placements,
gender and contact-policy codes, when they last confirmed they are accepting, one boolean matrix
per taxonomy (therapist × term), the licences per jurisdiction, and a flat array of their offices
(coordinates, accessibility features, owning row). A search is a handful of vectorised mask
operations over those arrays; every facet count comes from the same masks.

The database stays the source of truth. ``directory.SearchIndexVersion`` is bumped in the same
transaction as every change to indexed data; each search reads it (one primary-key query) and
rebuilds this process's index when it moved, so any number of processes and machines stay
correct. Freshness (a listing hides once its accepting-confirmation is older than
``LISTING_FRESHNESS_DAYS``) and licence expiry depend on the clock, so they are compared with
``now`` at query time, never baked in at build time.

Rows are kept in name order (``collation.name_sort_key`` of the display name, then id), so a
row's position is its name rank and the name sort needs no sorting at all.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Model

from rapport.core.geo import EARTH_RADIUS_KM, distances_km
from rapport.core.models import Term
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    AccessibilityFeature,
    BetweenSessionContact,
    Concern,
    Faith,
    GenderCategory,
    Language,
    Licence,
    LivedExperience,
    Modality,
    Office,
    Population,
    SearchIndexVersion,
    TherapistProfile,
    VerificationStatus,
)
from rapport.directory.search import text
from rapport.directory.search.collation import name_sort_key
from rapport.directory.search.contract import (
    CONSULTATION_WITHIN_OPTIONS,
    DELIVERY_IN_PERSON,
    DELIVERY_MODES,
    DELIVERY_PHONE,
    DELIVERY_VIDEO,
    PARAM_ACCEPTING,
    PARAM_ACCESSIBILITY,
    PARAM_CAPTIONED_VIDEO,
    PARAM_CONCERN,
    PARAM_CONSULTATION_WITHIN,
    PARAM_CONTACT,
    PARAM_DELIVERY,
    PARAM_DIRECT_BILLING,
    PARAM_FAITH,
    PARAM_GENDER,
    PARAM_HAS_VIDEO,
    PARAM_INSURANCE,
    PARAM_LANGUAGE,
    PARAM_LGBTQ2S_AFFIRMING,
    PARAM_LIVED_EXPERIENCE,
    PARAM_MODALITY,
    PARAM_POPULATION,
    PARAM_SLIDING_SCALE,
    SORT_BEST_FIT,
    SORT_DISTANCE,
    SORT_FEE,
    SORT_SOONEST,
    FacetCount,
    SearchHit,
    SearchQuery,
    SearchResult,
)

DELIVERY_LABELS = {
    DELIVERY_IN_PERSON: "In person",
    DELIVERY_VIDEO: "Video",
    DELIVERY_PHONE: "Phone",
}
STYLE_FIELDS = tuple(name for name, _, _ in STYLE_DIMENSIONS)
STYLE_TOLERANCE = 1

# (facet key = query-string parameter, SearchQuery attribute, term model, profile M2M field)
# "All of" taxonomies: a therapist must have every chosen term.
ALL_OF_TAXONOMIES: tuple[tuple[str, str, type[Term], str], ...] = (
    (PARAM_CONCERN, "concerns", Concern, "concerns"),
    (PARAM_MODALITY, "modalities", Modality, "modalities"),
    (PARAM_POPULATION, "populations", Population, "populations"),
    (PARAM_LANGUAGE, "languages", Language, "languages"),
    (PARAM_LIVED_EXPERIENCE, "lived_experiences", LivedExperience, "lived_experiences"),
)
# "Any of": a person picks the faiths they would see.
FAITH_TAXONOMY: tuple[str, str, type[Term], str] = (PARAM_FAITH, "faiths", Faith, "faiths")

NO_CONFIRMATION = np.iinfo(np.int64).min
NO_EXPIRY = np.iinfo(np.int64).max
NO_CONSULTATION = np.iinfo(np.int64).max
_DAY_MICROSECONDS = 86_400_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_KM_PER_DEGREE_LATITUDE = EARTH_RADIUS_KM * math.pi / 180


def _epoch_microseconds(moment: dt.datetime) -> int:
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


class AnswerCache:
    """Recent answers worked out from one index snapshot, most recently used kept.

    Many people run the same few searches (a city, a common concern), and a search page or API
    answer is the same for everyone within a minute. An entry lives inside its index, so a
    version bump (a new index) drops every entry at once, and re-reading the next-consultation
    column clears them too; the key carries the minute, so an answer is never reused after the
    minute it was worked out in (rules that depend on the clock, like listing freshness, are at
    most that much behind).
    """

    CAPACITY = 256

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        # Computed outside the lock: two requests may both compute a new answer, which is
        # harmless, while holding the lock would queue every search behind the slowest.
        value = compute()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.CAPACITY:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cached_answer(
    index: SearchIndex, *, key: Hashable, now: dt.datetime, compute: Callable[[], Any]
) -> Any:
    """``compute()``, or the answer it gave for the same ``key`` from this index in the same
    minute of ``now`` (see AnswerCache)."""
    minute = now.replace(second=0, microsecond=0)
    full_key = (key, minute, settings.LISTING_FRESHNESS_DAYS)
    return index.answers.get_or_compute(full_key, compute)


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
    consultation_times: ConsultationTimes
    built_seconds: float = 0.0
    answers: AnswerCache = field(default_factory=AnswerCache, compare=False, repr=False)

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

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
        return int(value.by_column.nbytes + value.bits.nbytes)
    if isinstance(value, dict):
        return sum(_nbytes(item) for item in value.values())
    if isinstance(value, tuple):
        return sum(_nbytes(item) for item in value)
    return 0


# --- the per-process holder ----------------------------------------------------------------

_lock = threading.Lock()
_current: SearchIndex | None = None


def index_version() -> tuple[int, uuid.UUID | None]:
    """The stamp in the database (one primary-key read); (0, None) before the first bump."""
    row = (
        SearchIndexVersion.objects.filter(pk=SearchIndexVersion.SINGLETON_ID)
        .values_list("version", "stamp")
        .first()
    )
    return (0, None) if row is None else (row[0], row[1])


def current_index() -> SearchIndex:
    """This process's index, rebuilt first when the database's version stamp has moved, with
    its next-consultation column re-read when that is older than allowed."""
    global _current
    version = index_version()
    index = _current
    if index is None or index.version != version:
        with _lock:
            index = _current
            if index is None or index.version != version:
                index = build_index(version=version)
                _current = index
    times = index.consultation_times
    max_age = settings.SEARCH_CONSULTATION_TIMES_MAX_AGE_SECONDS
    if time.monotonic() - times.read_at > max_age:
        with _lock:
            if time.monotonic() - times.read_at > max_age:
                # Swapped in whole: a search running meanwhile keeps the array it started with.
                times.values = _read_consultation_times(index)
                times.read_at = time.monotonic()
                index.answers.clear()
    return index


def reset_index() -> None:
    """Forget this process's index (tests whose rows change without a version bump)."""
    global _current
    with _lock:
        _current = None


# --- building ------------------------------------------------------------------------------


def build_index(*, version: tuple[int, uuid.UUID | None] | None = None) -> SearchIndex:
    """Read every listable therapist with bulk value queries into a fresh index."""
    started = time.perf_counter()
    if version is None:
        version = index_version()
    style_columns = STYLE_FIELDS
    profiles = list(
        TherapistProfile.objects.filter(
            verification_status=VerificationStatus.VERIFIED, is_listed=True
        )
        .order_by("id")
        .values_list(
            "id",
            "fee_minor",
            "sliding_scale_min_minor",
            "accepting_new_clients",
            "accepting_confirmed_at",
            "accepts_insurance",
            "direct_billing",
            "lgbtq2s_affirming",
            "offers_in_person",
            "offers_video",
            "offers_phone",
            "gender_category",
            "between_session_contact",
            "has_video_introduction",
            "has_captioned_video",
            *style_columns,
            "display_name",
        )
    )
    # Rows in name order by the collation key, ties by id (the rows came in id order and the
    # sort is stable): SQL's ORDER BY would compare code points and put "Émilie" after "Zane".
    profiles.sort(key=lambda row: name_sort_key(row[-1]))
    size = len(profiles)
    columns = list(zip(*profiles, strict=True)) if profiles else [()] * (16 + len(style_columns))
    ids = np.array(columns[0], dtype=np.int64)
    fee = np.array(columns[1], dtype=np.int64)
    lowest_fee = np.array(
        [
            fee if floor is None else floor
            for fee, floor in zip(columns[1], columns[2], strict=True)
        ],
        dtype=np.int64,
    )
    confirmed_at = np.array(
        [
            NO_CONFIRMATION if moment is None else _epoch_microseconds(moment)
            for moment in columns[4]
        ],
        dtype=np.int64,
    )

    def flags(position: int) -> np.ndarray:
        return np.array(columns[position], dtype=bool)

    gender_values = tuple(GenderCategory.values)
    contact_values = tuple(BetweenSessionContact.values)
    gender_code = {value: code for code, value in enumerate(gender_values)}
    contact_code = {value: code for code, value in enumerate(contact_values)}
    style = (
        np.array(columns[15 : 15 + len(style_columns)], dtype=np.int8).T.copy()
        if size
        else np.zeros((0, len(style_columns)), dtype=np.int8)
    )

    sorter = np.argsort(ids, kind="stable")
    ids_sorted = ids[sorter]
    max_id = int(ids.max()) if size else 0
    row_of_id = np.full(max_id + 1, -1, dtype=np.int64)
    row_of_id[ids] = np.arange(size, dtype=np.int64)

    taxonomies: dict[str, TermColumns] = {}
    for key, _attribute, model, relation in (*ALL_OF_TAXONOMIES, FAITH_TAXONOMY):
        taxonomies[key] = _term_columns(
            model=model,
            through=getattr(TherapistProfile, relation).through,
            owner_field="therapistprofile_id",
            term_field=TherapistProfile._meta.get_field(relation).m2m_reverse_name(),  # type: ignore[union-attr]
            row_of_owner=row_of_id,
            rows=size,
        )

    licences: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    licence_rows: dict[str, list[tuple[int, int]]] = {}
    for therapist_id, jurisdiction, expires_on in Licence.objects.values_list(
        "therapist_id", "jurisdiction_id", "expires_on"
    ):
        row = int(row_of_id[therapist_id]) if therapist_id <= max_id else -1
        if row >= 0:
            licence_rows.setdefault(jurisdiction, []).append(
                (row, NO_EXPIRY if expires_on is None else expires_on.toordinal())
            )
    for jurisdiction, pairs in licence_rows.items():
        array = np.array(pairs, dtype=np.int64)
        licences[jurisdiction] = (array[:, 0].copy(), array[:, 1].copy())

    offers_in_person = flags(8)
    office_values = list(
        Office.objects.values_list("id", "therapist_id", "latitude", "longitude").order_by("id")
    )
    if office_values:
        office_array = np.array(office_values, dtype=np.float64)
        office_ids = office_array[:, 0].astype(np.int64)
        owners = office_array[:, 1].astype(np.int64)
        owner_rows = np.where(owners <= max_id, row_of_id[np.minimum(owners, max_id)], -1)
        keep = owner_rows >= 0
        keep[keep] = offers_in_person[owner_rows[keep]]
        office_ids, owner_rows = office_ids[keep], owner_rows[keep]
        latitudes, longitudes = office_array[keep, 2], office_array[keep, 3]
    else:
        office_ids = owner_rows = np.empty(0, dtype=np.int64)
        latitudes = longitudes = np.empty(0, dtype=np.float64)
    by_latitude = np.argsort(latitudes, kind="stable")
    office_ids, owner_rows = office_ids[by_latitude], owner_rows[by_latitude]
    latitudes, longitudes = latitudes[by_latitude], longitudes[by_latitude]
    max_office_id = int(office_ids.max()) if office_ids.size else 0
    position_of_office = np.full(max_office_id + 1, -1, dtype=np.int64)
    position_of_office[office_ids] = np.arange(office_ids.size, dtype=np.int64)
    accessibility = _term_columns(
        model=AccessibilityFeature,
        through=Office.accessibility_features.through,
        owner_field="office_id",
        term_field="accessibilityfeature_id",
        row_of_owner=position_of_office,
        rows=int(office_ids.size),
    )
    phi = np.radians(latitudes)
    therapist_features = np.zeros((size, len(accessibility.slugs)), dtype=bool)
    office_positions, feature_columns = np.nonzero(accessibility.by_column)
    therapist_features[owner_rows[office_positions], feature_columns] = True

    index = SearchIndex(
        version=version,
        ids=ids,
        ids_sorted=ids_sorted,
        rows_by_sorted_id=sorter.astype(np.int64),
        fee=fee,
        lowest_fee=lowest_fee,
        accepting=flags(3),
        confirmed_at=confirmed_at,
        insurance=flags(5),
        direct_billing=flags(6),
        lgbtq2s_affirming=flags(7),
        has_video=flags(13),
        # "Captioned" is a property of a video introduction: a stray captions fact without a
        # published introduction must not let a therapist into this filter alone.
        captioned_video=flags(13) & flags(14),
        offers={
            DELIVERY_IN_PERSON: offers_in_person,
            DELIVERY_VIDEO: flags(9),
            DELIVERY_PHONE: flags(10),
        },
        style=style,
        gender=np.array([gender_code[value] for value in columns[11]], dtype=np.int8),
        gender_values=gender_values,
        contact=np.array([contact_code[value] for value in columns[12]], dtype=np.int8),
        contact_values=contact_values,
        taxonomies=taxonomies,
        licences=licences,
        office_row=owner_rows,
        office_latitude=latitudes,
        office_phi=phi,
        office_lambda=np.radians(longitudes),
        office_cos_phi=np.cos(phi),
        accessibility=accessibility,
        office_feature_bits=pack_columns(therapist_features),
        consultation_times=ConsultationTimes(np.full(size, NO_CONSULTATION, dtype=np.int64)),
        built_seconds=time.perf_counter() - started,
    )
    index.consultation_times.values = _read_consultation_times(index)
    return index


def _read_consultation_times(index: SearchIndex) -> np.ndarray:
    """The next free consultation of every row, from the database (one query)."""
    values = np.full(index.size, NO_CONSULTATION, dtype=np.int64)
    known = [
        (therapist_id, _epoch_microseconds(moment))
        for therapist_id, moment in TherapistProfile.objects.filter(
            verification_status=VerificationStatus.VERIFIED,
            is_listed=True,
            next_consultation_at__isnull=False,
        ).values_list("id", "next_consultation_at")
        if moment is not None
    ]
    if known:
        ids = np.fromiter((therapist_id for therapist_id, _ in known), dtype=np.int64)
        starts = np.fromiter((start for _, start in known), dtype=np.int64)
        rows, found = index.locate(ids)
        values[rows] = starts[found]
    return values


def _term_columns(
    *,
    model: type[Model],
    through: type[Model],
    owner_field: str,
    term_field: str,
    row_of_owner: np.ndarray,
    rows: int,
) -> TermColumns:
    terms = list(
        model._default_manager.filter(is_active=True)
        .order_by("sort_order", "name")
        .values_list("id", "slug", "name")
    )
    max_term = max((term_id for term_id, _, _ in terms), default=0)
    column_of_term = np.full(max_term + 1, -1, dtype=np.int64)
    for column, (term_id, _, _) in enumerate(terms):
        column_of_term[term_id] = column
    matrix = np.zeros((rows, len(terms)), dtype=bool)
    pairs = _integer_pairs(through, owner_field, term_field)
    if pairs.size and terms and rows:
        owners, term_ids = pairs[:, 0], pairs[:, 1]
        max_owner = row_of_owner.shape[0] - 1
        owner_rows = np.where(owners <= max_owner, row_of_owner[np.minimum(owners, max_owner)], -1)
        term_columns = np.where(
            term_ids <= max_term, column_of_term[np.minimum(term_ids, max_term)], -1
        )
        keep = (owner_rows >= 0) & (term_columns >= 0)
        matrix[owner_rows[keep], term_columns[keep]] = True
    return TermColumns(
        slugs=tuple(slug for _, slug, _ in terms),
        labels=tuple(name for _, _, name in terms),
        column_of={slug: column for column, (_, slug, _) in enumerate(terms)},
        by_column=np.asfortranarray(matrix),
        bits=pack_columns(matrix),
    )


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


def _integer_pairs(model: type[Model], first: str, second: str) -> np.ndarray:
    """Two integer columns of a whole (link) table as an n × 2 array, without building a
    Python object per value: the links of 100,000 therapists run to a million rows."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in (first, second))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608 - names from the model
        flat = np.fromiter(itertools.chain.from_iterable(cursor.fetchall()), dtype=np.int64)
    return flat.reshape(-1, 2)


def active_term_slugs(index: SearchIndex | None = None) -> dict[str, frozenset[str]]:
    """The slugs a search may name, per facet key (taxonomies and accessibility features)."""
    index = index or current_index()
    slugs = {key: frozenset(columns.slugs) for key, columns in index.taxonomies.items()}
    slugs[PARAM_ACCESSIBILITY] = frozenset(index.accessibility.slugs)
    return slugs


# --- searching -----------------------------------------------------------------------------


@dataclass
class _Offices:
    """The offices that count for this search: within the radius when searching near a place,
    and having every asked-for accessibility feature."""

    positions: np.ndarray  # into the index's office arrays
    distance_km: np.ndarray | None  # per position, when searching near a place


@dataclass
class _Masks:
    """Each filter's mask over the index rows; None where the filter is not in use."""

    by_filter: dict[str, np.ndarray | None] = field(default_factory=dict)

    def combined(self, size: int, *, without: str | None = None) -> np.ndarray:
        result = np.ones(size, dtype=bool)
        for name, mask in self.by_filter.items():
            if mask is not None and name != without:
                result &= mask
        return result


def search(
    query: SearchQuery, *, now: dt.datetime, index: SearchIndex | None = None
) -> SearchResult:
    """Filter, count every facet option, sort and paginate; see the module docstring.

    Pass the ``index`` the query was parsed against (``current_index()``), so one request reads
    the version stamp once and parses and searches the same snapshot.
    """
    index = index or current_index()
    size = index.size
    today = now.date()
    freshness_floor = _epoch_microseconds(now - dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS))

    masks = _Masks()
    masks.by_filter["visible"] = index.confirmed_at >= freshness_floor
    masks.by_filter[PARAM_ACCEPTING] = index.accepting if query.accepting_only else None
    for key, attribute, _, _ in ALL_OF_TAXONOMIES:
        masks.by_filter[key] = index.taxonomies[key].all_of(getattr(query, attribute))
    masks.by_filter[PARAM_FAITH] = index.taxonomies[PARAM_FAITH].any_of(query.faiths)
    masks.by_filter[PARAM_GENDER] = _code_mask(index.gender, index.gender_values, query.genders)
    masks.by_filter[PARAM_CONTACT] = _code_mask(index.contact, index.contact_values, query.contact)
    masks.by_filter[PARAM_LGBTQ2S_AFFIRMING] = (
        index.lgbtq2s_affirming if query.lgbtq2s_affirming else None
    )
    masks.by_filter[PARAM_INSURANCE] = index.insurance if query.insurance else None
    masks.by_filter[PARAM_DIRECT_BILLING] = index.direct_billing if query.direct_billing else None
    masks.by_filter[PARAM_HAS_VIDEO] = index.has_video if query.has_video else None
    masks.by_filter[PARAM_CAPTIONED_VIDEO] = (
        index.captioned_video if query.captioned_video else None
    )
    masks.by_filter["fee"] = _fee_mask(index, query.max_fee_minor, sliding=query.sliding_scale)
    masks.by_filter["style"] = _style_mask(index, query.style)
    consultation_times = index.consultation_times.values
    now_microseconds = _epoch_microseconds(now)
    masks.by_filter[PARAM_CONSULTATION_WITHIN] = (
        _consultation_mask(consultation_times, now_microseconds, query.consultation_within_days)
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
    offices_near = _offices(index, query, features=())
    offices_fit = (
        _offices(index, query, features=query.accessibility, within=offices_near)
        if query.accessibility
        else offices_near
    )
    mode_ok = _mode_masks(index, query, offices_near, today=today)
    if query.delivery:
        masks.by_filter[PARAM_DELIVERY] = np.logical_or.reduce(
            [mode_ok[mode] for mode in query.delivery]
        )
    elif query.has_location:
        masks.by_filter[PARAM_DELIVERY] = np.logical_or.reduce(list(mode_ok.values()))
    else:
        masks.by_filter[PARAM_DELIVERY] = None
    if query.accessibility:
        has_fitting_office = np.zeros(size, dtype=bool)
        has_fitting_office[index.office_row[offices_fit.positions]] = True
        masks.by_filter[PARAM_ACCESSIBILITY] = has_fitting_office
    else:
        masks.by_filter[PARAM_ACCESSIBILITY] = None

    result_mask = masks.combined(size)
    rows = np.flatnonzero(result_mask)
    total = int(rows.size)

    nearest = None
    if query.has_location:
        nearest = np.full(size, np.inf)
        assert offices_fit.distance_km is not None
        np.minimum.at(nearest, index.office_row[offices_fit.positions], offices_fit.distance_km)

    ordered = _sort(index, query, rows, nearest, consultation_times, now_microseconds)
    page_size = max(1, query.page_size)
    pages = max(1, math.ceil(total / page_size))
    page_past_end = query.page > pages
    start = (query.page - 1) * page_size
    page_rows: Sequence[int] = [] if page_past_end else ordered[start : start + page_size].tolist()
    hits = [
        SearchHit(
            therapist_id=int(index.ids[row]),
            distance_km=(
                None if nearest is None or not np.isfinite(nearest[row]) else float(nearest[row])
            ),
        )
        for row in page_rows
    ]
    facets = _facets(index, query, masks, result_mask, rows, mode_ok, offices_fit, size, now=now)
    return SearchResult(
        total=total,
        page=query.page,
        pages=pages,
        hits=hits,
        facets=facets,
        page_past_end=page_past_end,
    )


def _code_mask(
    codes: np.ndarray, values: Sequence[str], chosen: Iterable[str]
) -> np.ndarray | None:
    chosen = set(chosen)
    if not chosen:
        return None
    table = np.array([value in chosen for value in values], dtype=bool)
    return np.asarray(table[codes])


def _fee_mask(index: SearchIndex, max_fee_minor: int | None, *, sliding: bool) -> np.ndarray | None:
    if max_fee_minor is None:
        return None
    return (index.lowest_fee if sliding else index.fee) <= max_fee_minor


def _consultation_mask(
    consultation_times: np.ndarray, now_microseconds: int, days: int
) -> np.ndarray:
    """A free consultation starts between now and ``days`` days from now. A time already past
    is stale (refreshed within minutes by the booking app) and counts as unknown."""
    return (consultation_times >= now_microseconds) & (
        consultation_times <= now_microseconds + days * _DAY_MICROSECONDS
    )


def _style_mask(index: SearchIndex, style: Sequence[tuple[str, int]]) -> np.ndarray | None:
    mask = None
    for dimension, preferred in style:
        column = index.style[:, STYLE_FIELDS.index(dimension)]
        near = np.abs(column.astype(np.int16) - preferred) <= STYLE_TOLERANCE
        mask = near if mask is None else mask & near
    return mask


def _offices(
    index: SearchIndex,
    query: SearchQuery,
    *,
    features: Iterable[str],
    within: _Offices | None = None,
) -> _Offices:
    """Offices within the radius (all offices without a location) having every feature."""
    if within is not None:
        positions, distances = within.positions, within.distance_km
    elif query.has_location:
        assert query.latitude is not None
        assert query.longitude is not None
        band = query.radius_km / _KM_PER_DEGREE_LATITUDE + 1e-6
        low, high = np.searchsorted(
            index.office_latitude, [query.latitude - band, query.latitude + band]
        )
        positions = np.arange(low, high, dtype=np.int64)
        distances = _distances_km(index, positions, query.latitude, query.longitude)
        inside = distances <= query.radius_km
        positions, distances = positions[inside], distances[inside]
    else:
        positions, distances = np.arange(index.office_row.size, dtype=np.int64), None
    for slug in features:
        has = index.accessibility.by_column[positions, index.accessibility.column_of[slug]]
        positions = positions[has]
        if distances is not None:
            distances = distances[has]
    return _Offices(positions=positions, distance_km=distances)


def _distances_km(
    index: SearchIndex, positions: np.ndarray, latitude: float, longitude: float
) -> np.ndarray:
    return distances_km(
        latitude=latitude,
        longitude=longitude,
        phis=index.office_phi[positions],
        lambdas=index.office_lambda[positions],
        cos_phis=index.office_cos_phi[positions],
    )


def _mode_masks(
    index: SearchIndex, query: SearchQuery, offices_near: _Offices, *, today: dt.date
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


def _sort(
    index: SearchIndex,
    query: SearchQuery,
    rows: np.ndarray,
    nearest: np.ndarray | None,
    consultation_times: np.ndarray,
    now_microseconds: int,
) -> np.ndarray:
    """``rows`` (ascending, i.e. by name) in the query's order; ties always fall back to name."""
    if rows.size == 0:
        return rows
    distance = nearest[rows] if nearest is not None else None
    if query.sort == SORT_FEE:
        return rows[np.lexsort((rows, index.fee[rows]))]
    if query.sort == SORT_SOONEST:
        starts = consultation_times[rows]
        # Unknown or stale times go last, as if there were none.
        starts = np.where(starts >= now_microseconds, starts, NO_CONSULTATION)
        return rows[np.lexsort((rows, starts))]
    if query.sort == SORT_DISTANCE and distance is not None:
        return rows[np.lexsort((rows, distance))]
    if query.sort == SORT_BEST_FIT and query.style:
        gap = np.zeros(rows.size, dtype=np.int16)
        for dimension, preferred in query.style:
            column = index.style[rows, STYLE_FIELDS.index(dimension)].astype(np.int16)
            gap += np.abs(column - preferred)
        keys: tuple[np.ndarray, ...] = (rows, gap)
        if distance is not None:
            keys = (rows, distance, gap)
        return rows[np.lexsort(keys)]
    return rows


def _facets(
    index: SearchIndex,
    query: SearchQuery,
    masks: _Masks,
    result_mask: np.ndarray,
    rows: np.ndarray,
    mode_ok: Mapping[str, np.ndarray],
    offices_fit: _Offices,
    size: int,
    *,
    now: dt.datetime,
) -> dict[str, list[FacetCount]]:
    """Counts for every option: for an "all of" filter, the results if that value were also
    required; for an "any of" filter (contract.ANY_OF_PARAMS), the results with that filter's
    own choice replaced by that value alone, every other filter as it is."""
    facets: dict[str, list[FacetCount]] = {}
    total = int(rows.size)

    without_delivery = masks.combined(size, without=PARAM_DELIVERY)
    facets[PARAM_DELIVERY] = [
        FacetCount(
            value=mode,
            label=DELIVERY_LABELS[mode],
            count=int(np.count_nonzero(without_delivery & mode_ok[mode])),
            selected=mode in query.delivery,
        )
        for mode in DELIVERY_MODES
    ]

    result_bits = pack_mask(result_mask)
    for key, attribute, _, _ in ALL_OF_TAXONOMIES:
        columns = index.taxonomies[key]
        counts = columns.counts(result_bits)
        chosen = getattr(query, attribute)
        facets[key] = [
            FacetCount(value=slug, label=label, count=int(count), selected=slug in chosen)
            for slug, label, count in zip(columns.slugs, columns.labels, counts, strict=True)
        ]

    faith = index.taxonomies[PARAM_FAITH]
    faith_counts = faith.counts(pack_mask(masks.combined(size, without=PARAM_FAITH)))
    facets[PARAM_FAITH] = [
        FacetCount(value=slug, label=label, count=int(count), selected=slug in query.faiths)
        for slug, label, count in zip(faith.slugs, faith.labels, faith_counts, strict=True)
    ]

    for key, codes, values, labels, chosen in (
        (
            PARAM_GENDER,
            index.gender,
            index.gender_values,
            dict(GenderCategory.choices),
            query.genders,
        ),
        (
            PARAM_CONTACT,
            index.contact,
            index.contact_values,
            dict(BetweenSessionContact.choices),
            query.contact,
        ),
    ):
        counts = np.bincount(codes[masks.combined(size, without=key)], minlength=len(values))
        facets[key] = [
            FacetCount(value=value, label=labels[value], count=int(count), selected=value in chosen)
            for value, count in zip(values, counts, strict=True)
        ]

    for key, flag, label, selected in (
        (
            PARAM_LGBTQ2S_AFFIRMING,
            index.lgbtq2s_affirming,
            "LGBTQ2S+ affirming",
            query.lgbtq2s_affirming,
        ),
        (PARAM_INSURANCE, index.insurance, "Accepts insurance", query.insurance),
        (
            PARAM_DIRECT_BILLING,
            index.direct_billing,
            "Bills insurers directly",
            query.direct_billing,
        ),
        (PARAM_HAS_VIDEO, index.has_video, "Has a video introduction", query.has_video),
        (
            PARAM_CAPTIONED_VIDEO,
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

    sliding_mask = _fee_mask(index, query.max_fee_minor, sliding=True)
    sliding_count = (
        total
        if sliding_mask is None
        else int(np.count_nonzero(masks.combined(size, without="fee") & sliding_mask))
    )
    facets[PARAM_SLIDING_SCALE] = [
        FacetCount(
            value="1",
            label="Sliding scale within my budget",
            count=sliding_count,
            selected=query.sliding_scale,
        )
    ]
    facets[PARAM_ACCEPTING] = [
        FacetCount(
            value="0",
            label="Include therapists not taking new clients",
            count=int(np.count_nonzero(masks.combined(size, without=PARAM_ACCEPTING))),
            selected=not query.accepting_only,
        )
    ]

    # Accessibility: an office that counts (within the radius, with the chosen features) of a
    # therapist in the results, which also has the feature.
    features = index.accessibility
    if query.has_location or query.accessibility:
        positions = offices_fit.positions
        positions = positions[result_mask[index.office_row[positions]]]
        owner = index.office_row[positions]
        office_rows, feature_columns = np.nonzero(features.by_column[positions])
        pairs = np.unique(owner[office_rows] * len(features.slugs) + feature_columns)
        feature_counts = np.bincount(
            pairs % max(len(features.slugs), 1), minlength=len(features.slugs)
        )
    else:
        feature_counts = np.asarray(
            np.bitwise_count(index.office_feature_bits & result_bits).sum(axis=1, dtype=np.int64)
        )
    facets[PARAM_ACCESSIBILITY] = [
        FacetCount(value=slug, label=label, count=int(count), selected=slug in query.accessibility)
        for slug, label, count in zip(features.slugs, features.labels, feature_counts, strict=True)
    ]
    without_consultation = masks.combined(size, without=PARAM_CONSULTATION_WITHIN)
    now_microseconds = _epoch_microseconds(now)
    facets[PARAM_CONSULTATION_WITHIN] = [
        FacetCount(
            value=str(days),
            label=f"Within {days} days",
            count=int(
                np.count_nonzero(
                    without_consultation
                    & _consultation_mask(index.consultation_times.values, now_microseconds, days)
                )
            ),
            selected=query.consultation_within_days == days,
        )
        for days in CONSULTATION_WITHIN_OPTIONS
    ]
    return facets
