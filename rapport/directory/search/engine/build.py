"""Reading every listable therapist from the database into a fresh ``SearchIndex``."""

from __future__ import annotations

import itertools
import time
import uuid

import numpy as np
from django.db import connection
from django.db.models import Model

from rapport.core.rawsql import as_uuid, fetch_rows
from rapport.directory.models import (
    AccessibilityFeature,
    BetweenSessionContact,
    GenderCategory,
    Licence,
    Office,
    SearchIndexVersion,
    TherapistProfile,
    VerificationStatus,
)
from rapport.directory.search.collation import name_sort_key
from rapport.directory.search.contract import (
    DELIVERY_IN_PERSON,
    DELIVERY_PHONE,
    DELIVERY_VIDEO,
)
from rapport.directory.search.engine.index import (
    ALL_OF_TAXONOMIES,
    FAITH_TAXONOMY,
    NO_CONFIRMATION,
    NO_CONSULTATION,
    NO_EXPIRY,
    STYLE_FIELDS,
    ConsultationTimes,
    SearchIndex,
    TermColumns,
    epoch_microseconds,
    office_feature_bits,
    pack_columns,
    with_all_of_bits,
)


def index_version() -> tuple[int, uuid.UUID | None]:
    """The stamp in the database (one primary-key read); (0, None) before the first bump."""
    # Read before every search: plain SQL, since compiling the ORM query cost more than the
    # read (rapport.core.rawsql).
    rows = fetch_rows(
        f"SELECT version, stamp FROM {SearchIndexVersion._meta.db_table} WHERE id = %s",  # noqa: S608 (table names from model metadata)
        [SearchIndexVersion.SINGLETON_ID],
    )
    return (0, None) if not rows else (int(rows[0][0]), as_uuid(rows[0][1]))


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
            NO_CONFIRMATION if moment is None else epoch_microseconds(moment)
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
    taxonomies, all_of_bits = with_all_of_bits(taxonomies)

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
        all_of_bits=all_of_bits,
        licences=licences,
        office_row=owner_rows,
        office_latitude=latitudes,
        office_phi=phi,
        office_lambda=np.radians(longitudes),
        office_cos_phi=np.cos(phi),
        accessibility=accessibility,
        office_feature_bits=office_feature_bits(size, owner_rows, accessibility.by_column),
        office_feature_code=feature_codes(accessibility.by_column),
        consultation_times=ConsultationTimes(np.full(size, NO_CONSULTATION, dtype=np.int64)),
        built_seconds=time.perf_counter() - started,
    )
    index.consultation_times.values = read_consultation_times(index)
    return index


def feature_codes(by_column: np.ndarray) -> np.ndarray:
    """Each row of a rows × features boolean matrix as bits (feature f is bit f % 64 of word
    f // 64, as ``np.packbits(..., bitorder="little")`` lays them out): rows × words uint64,
    at least one word."""
    rows, features = by_column.shape
    packed = np.zeros((rows, 8 * max(1, -(-features // 64))), dtype=np.uint8)
    packed[:, : -(-features // 8)] = np.packbits(by_column, axis=1, bitorder="little")
    return packed.view(np.uint64)


def read_consultation_times(index: SearchIndex) -> np.ndarray:
    """The next free consultation of every row, from the database (one query)."""
    values = np.full(index.size, NO_CONSULTATION, dtype=np.int64)
    known = [
        (therapist_id, epoch_microseconds(moment))
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


def _integer_pairs(model: type[Model], first: str, second: str) -> np.ndarray:
    """Two integer columns of a whole (link) table as an n × 2 array, without building a
    Python object per value: the links of 100,000 therapists run to a million rows."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in (first, second))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608 - names from the model
        flat = np.fromiter(itertools.chain.from_iterable(cursor.fetchall()), dtype=np.int64)
    return flat.reshape(-1, 2)
