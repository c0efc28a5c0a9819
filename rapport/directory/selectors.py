"""Reads of the directory: who is listed, and everything a list card or a profile page shows.

Every page that shows therapists to the public starts from ``therapist_listing``, so "who may be
seen" is decided in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet

from rapport.core.models import Jurisdiction
from rapport.core.rawsql import (
    as_date,
    as_utc,
    as_uuid,
    fetch_row_sets,
    fetch_rows,
    instances_from_rows,
    model_columns,
    placeholders,
)
from rapport.directory.models import (
    AccessibilityFeature,
    Concern,
    Designation,
    Faith,
    Language,
    Licence,
    LivedExperience,
    Modality,
    Office,
    Population,
    Regulator,
    TherapistProfile,
    VerificationDecision,
    VerificationStatus,
)


def therapist_listing(*, now: dt.datetime) -> QuerySet[TherapistProfile]:
    """Therapists a client may see: verified, listed by their own switch, accepting new clients,
    and having confirmed that within ``settings.LISTING_FRESHNESS_DAYS`` of ``now``.

    A stale confirmation hides the listing because writing to someone whose practice filled up
    months ago is the most common dead end in therapist directories.

    In id order, not by name: SQL compares names by code point (É after Z), differently per
    database. A list shown in name order comes from the search engine, which sorts by
    ``search.collation.name_sort_key``.
    """
    freshness_floor = now - dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
    return TherapistProfile.objects.filter(
        verification_status=VerificationStatus.VERIFIED,
        is_listed=True,
        accepting_new_clients=True,
        accepting_confirmed_at__gte=freshness_floor,
    ).order_by("id")


def _current_licences(*, now: dt.datetime) -> QuerySet[Licence]:
    # An expired licence must not be shown as "licensed in …": a client reads that line as the
    # legal permission to treat them.
    return (
        Licence.objects.current(on=now.date())
        .select_related("jurisdiction", "designation", "regulator")
        .order_by("jurisdiction__name", "id")
    )


def current_licence_sql(alias: str) -> str:
    """``LicenceQuerySet.current`` for hand-written SQL over the licence table as ``alias``
    (one parameter: the day). tests/directory/test_selectors_sql.py holds the two to the same
    answers."""
    return f"({alias}.expires_on IS NULL OR {alias}.expires_on >= %s)"


def is_listed(therapist: TherapistProfile, *, now: dt.datetime) -> bool:
    """``therapist_listing``'s rule for one profile already in memory (kept in step with it by
    tests/directory/test_selectors.py)."""
    return is_listed_values(
        verification_status=therapist.verification_status,
        is_listed=therapist.is_listed,
        accepting_new_clients=therapist.accepting_new_clients,
        accepting_confirmed_at=therapist.accepting_confirmed_at,
        now=now,
    )


def is_listed_values(
    *,
    verification_status: str,
    is_listed: bool,
    accepting_new_clients: bool,
    accepting_confirmed_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """``is_listed`` for values read without the ORM (rapport.directory.cards)."""
    freshness_floor = now - dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
    return (
        verification_status == VerificationStatus.VERIFIED
        and is_listed
        and accepting_new_clients
        and accepting_confirmed_at is not None
        and accepting_confirmed_at >= freshness_floor
    )


def therapist_cards(*, now: dt.datetime) -> QuerySet[TherapistProfile]:
    """The listing with what a directory card shows, in a fixed number of queries per page
    whatever the page size."""
    return _with_card_fields(therapist_listing(now=now), now=now)


def _with_card_fields(
    therapists: QuerySet[TherapistProfile], *, now: dt.datetime
) -> QuerySet[TherapistProfile]:
    return therapists.select_related("designation").prefetch_related(
        Prefetch("licences", queryset=_current_licences(now=now)),
        # A card shows only the first office's city, so the rest of the address stays home.
        Prefetch(
            "offices", queryset=Office.objects.only("id", "therapist_id", "city").order_by("id")
        ),
        Prefetch("concerns", queryset=Concern.objects.order_by("sort_order", "name")),
    )


def therapist_profile(*, public_id: uuid.UUID, now: dt.datetime) -> TherapistProfile | None:
    """One listed therapist with everything the profile page reads, or None when the therapist
    is not (or no longer) listed, so a hidden profile is indistinguishable from a missing one."""
    return _with_profile_page_data(
        therapist_listing(now=now).filter(public_id=public_id), now=now
    ).first()


def therapist_profile_preview(*, therapist: TherapistProfile, now: dt.datetime) -> TherapistProfile:
    """The therapist's own profile read exactly as ``therapist_profile`` reads it for clients,
    whether or not it is listed yet (the onboarding preview)."""
    return _with_profile_page_data(TherapistProfile.objects.filter(pk=therapist.pk), now=now).get()


def _with_profile_page_data(
    therapists: QuerySet[TherapistProfile], *, now: dt.datetime
) -> QuerySet[TherapistProfile]:
    return therapists.select_related("designation").prefetch_related(
        Prefetch("licences", queryset=_current_licences(now=now)),
        Prefetch(
            "offices",
            queryset=Office.objects.select_related("jurisdiction")
            .prefetch_related(
                Prefetch(
                    "accessibility_features",
                    queryset=AccessibilityFeature.objects.order_by("sort_order", "name"),
                )
            )
            .order_by("id"),
        ),
        *[
            Prefetch(name, queryset=model.objects.order_by("sort_order", "name"))
            for name, model in (
                ("concerns", Concern),
                ("modalities", Modality),
                ("populations", Population),
                ("languages", Language),
                ("faiths", Faith),
                ("lived_experiences", LivedExperience),
            )
        ],
    )


def therapists_similar_to(
    *,
    therapist: TherapistProfile,
    now: dt.datetime,
    limit: int,
    with_consultation_after: dt.datetime | None = None,
) -> QuerySet[TherapistProfile]:
    """Listed therapists sharing a concern or an approach with ``therapist`` (not them), most
    shared concerns first, then most shared approaches, then the soonest free consultation.
    With ``with_consultation_after``, only those with a free consultation after that time."""
    concern_ids = list(therapist.concerns.values_list("id", flat=True))
    modality_ids = list(therapist.modalities.values_list("id", flat=True))
    candidates = (
        therapist_listing(now=now)
        .exclude(pk=therapist.pk)
        .filter(Q(concerns__in=concern_ids) | Q(modalities__in=modality_ids))
    )
    if with_consultation_after is not None:
        candidates = candidates.filter(next_consultation_at__gt=with_consultation_after)
    return (
        candidates.annotate(
            shared_concerns=Count("concerns", filter=Q(concerns__in=concern_ids), distinct=True),
            shared_modalities=Count(
                "modalities", filter=Q(modalities__in=modality_ids), distinct=True
            ),
        )
        # No known free time goes last on every database (SQLite puts NULL first, PostgreSQL
        # last).
        .order_by(
            "-shared_concerns",
            "-shared_modalities",
            F("next_consultation_at").asc(nulls_last=True),
            "id",
        )
        .distinct()[:limit]
    )


@dataclass(frozen=True)
class ResultRow:
    """What one search result of the API shows about a therapist."""

    public_id: uuid.UUID
    display_name: str
    pronouns: str
    designation_code: str
    fee_minor: int
    currency: str
    sliding_scale_min_minor: int | None
    offers_in_person: bool
    offers_video: bool
    offers_phone: bool
    accepting_new_clients: bool
    next_consultation_at: dt.datetime | None
    has_video_introduction: bool
    has_captioned_video: bool
    licensed_in: list[str]  # jurisdiction codes of current licences, each once
    languages: list[str]  # language slugs in display order


def therapist_result_rows(*, ids: Sequence[int], now: dt.datetime) -> dict[int, ResultRow]:
    """A page of search results by therapist id, in three statements whatever the page size. An
    id whose row is gone (removed between the search and this read) is simply absent.

    Plain SQL rather than the ORM (see ``rapport.core.rawsql``): this runs for every search
    nobody ran before, and compiling three value queries cost ten times running them. The
    licence condition is ``LicenceQuerySet.current`` written out; a test holds the two to the
    same answers.
    """
    if not ids:
        return {}
    profile, designation = TherapistProfile._meta.db_table, Designation._meta.db_table
    licence, language = Licence._meta.db_table, Language._meta.db_table
    languages_through = TherapistProfile.languages.through._meta.db_table
    # Table names come from model metadata and every value is a parameter (S608 below).
    in_ids = placeholders(len(ids))
    rows = fetch_rows(
        "SELECT p.id, p.public_id, p.display_name, p.pronouns, d.code, p.fee_minor, p.currency,"  # noqa: S608
        " p.sliding_scale_min_minor, p.offers_in_person, p.offers_video, p.offers_phone,"
        " p.accepting_new_clients, p.next_consultation_at, p.has_video_introduction,"
        f" p.has_captioned_video FROM {profile} p JOIN {designation} d ON d.id = p.designation_id"
        f" WHERE p.id IN ({in_ids})",
        ids,
    )
    licensed_in: dict[int, list[str]] = {row[0]: [] for row in rows}
    # Only current licences: "licensed in" reads as the legal permission to treat.
    for therapist_id, jurisdiction in fetch_rows(
        f"SELECT l.therapist_id, l.jurisdiction_id FROM {licence} l"  # noqa: S608
        f" WHERE l.therapist_id IN ({in_ids}) AND {current_licence_sql('l')}"
        " ORDER BY l.jurisdiction_id, l.id",
        [*ids, now.date()],
    ):
        if therapist_id in licensed_in and jurisdiction not in licensed_in[therapist_id]:
            licensed_in[therapist_id].append(jurisdiction)
    languages: dict[int, list[str]] = {row[0]: [] for row in rows}
    for therapist_id, slug in fetch_rows(
        f"SELECT t.therapistprofile_id, l.slug FROM {languages_through} t"  # noqa: S608
        f" JOIN {language} l ON l.id = t.language_id WHERE t.therapistprofile_id IN ({in_ids})"
        " ORDER BY l.sort_order, l.name, l.id",
        ids,
    ):
        if therapist_id in languages:
            languages[therapist_id].append(slug)
    return {
        row[0]: ResultRow(
            public_id=as_uuid(row[1]),
            display_name=row[2],
            pronouns=row[3],
            designation_code=row[4],
            fee_minor=row[5],
            currency=row[6],
            sliding_scale_min_minor=row[7],
            offers_in_person=bool(row[8]),
            offers_video=bool(row[9]),
            offers_phone=bool(row[10]),
            accepting_new_clients=bool(row[11]),
            next_consultation_at=as_utc(row[12]),
            has_video_introduction=bool(row[13]),
            has_captioned_video=bool(row[14]),
            licensed_in=licensed_in[row[0]],
            languages=languages[row[0]],
        )
        for row in rows
    }


def therapist_main_licence(*, therapist: TherapistProfile) -> Licence | None:
    """The licence the therapist edits in onboarding: their first (staff or an import may add
    others). Its title is the one shown by the name."""
    return therapist.licences.order_by("id").first()


def therapist_licences_for_review(*, therapist: TherapistProfile) -> QuerySet[Licence]:
    """Every licence of ``therapist``, current or not, with what a reviewer reads."""
    return therapist.licences.select_related("designation", "regulator")


def therapist_verification_decisions(
    *, therapist: TherapistProfile
) -> QuerySet[VerificationDecision]:
    """Every verification decision about ``therapist``, with its reviewer."""
    return therapist.verification_decisions.select_related("reviewer")


# The taxonomies a public profile lists, by the profile's M2M field name, in answer order.
PROFILE_TAXONOMIES = (
    "concerns",
    "modalities",
    "populations",
    "languages",
    "faiths",
    "lived_experiences",
)


@dataclass(frozen=True)
class ProfileOffice:
    """One office as a public profile shows it."""

    label: str
    street_address: str
    city: str
    jurisdiction_id: str
    jurisdiction_name: str
    postal_code: str
    accessibility_note: str
    accessibility_features: list[tuple[str, str]]  # (slug, name) in display order


@dataclass(frozen=True)
class ProfileLicence:
    """One current licence as a public profile shows it."""

    jurisdiction_id: str
    jurisdiction_name: str
    designation_code: str
    regulator_name: str
    regulator_abbreviation: str
    number: str
    expires_on: dt.date | None


@dataclass(frozen=True)
class PublicProfile:
    """What the API's public profile shows, read in four statements."""

    therapist: TherapistProfile  # with its designation
    licences: list[ProfileLicence]  # current ones, by jurisdiction name
    offices: list[ProfileOffice]  # in id order
    terms: dict[str, list[tuple[str, str]]]  # PROFILE_TAXONOMIES name -> (slug, name) pairs


def therapist_profile_for_api(*, public_id: uuid.UUID, now: dt.datetime) -> PublicProfile | None:
    """``therapist_profile`` for the API, read with plain SQL (``rapport.core.rawsql``; the
    profile row through ``instances_from_rows``, so its values are converted as the ORM's
    are): building and compiling the ORM queries cost several times running them. Each of the
    four statements finds the therapist by public id itself, so they go to the database
    together (``fetch_row_sets``). "Who is listed" is ``is_listed``, the listing rule for a row
    in memory. None when the therapist is not (or no longer) listed."""
    profile_table, designation_table = TherapistProfile._meta.db_table, Designation._meta.db_table
    licence, jurisdiction = Licence._meta.db_table, Jurisdiction._meta.db_table
    designation, regulator = Designation._meta.db_table, Regulator._meta.db_table
    office, feature = Office._meta.db_table, AccessibilityFeature._meta.db_table
    office_features = Office.accessibility_features.through._meta.db_table
    owner = f"(SELECT id FROM {profile_table} WHERE public_id = %s)"  # noqa: S608
    key = TherapistProfile._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    profile_rows, licence_rows, office_rows, term_rows = fetch_row_sets(
        [
            (
                f"SELECT {model_columns(TherapistProfile, 'p')}, d.code, d.name"  # noqa: S608
                f" FROM {profile_table} p JOIN {designation_table} d ON d.id = p.designation_id"
                " WHERE p.public_id = %s",
                [key],
            ),
            (
                "SELECT l.jurisdiction_id, j.name, d.code, r.name, r.abbreviation, l.number,"  # noqa: S608
                f" l.expires_on FROM {licence} l"
                f" JOIN {jurisdiction} j ON j.code = l.jurisdiction_id"
                f" JOIN {designation} d ON d.id = l.designation_id"
                f" JOIN {regulator} r ON r.id = l.regulator_id"
                f" WHERE l.therapist_id = {owner} AND {current_licence_sql('l')}"
                " ORDER BY j.name, l.id",
                [key, now.date()],
            ),
            (
                # Offices and their features in one statement: an office without features
                # comes once, with NULLs for the feature.
                "SELECT o.id, o.label, o.street_address, o.city, o.jurisdiction_id, j.name,"  # noqa: S608
                f" o.postal_code, o.accessibility_note, f.slug, f.name FROM {office} o"
                f" JOIN {jurisdiction} j ON j.code = o.jurisdiction_id"
                f" LEFT JOIN {office_features} of ON of.office_id = o.id"
                f" LEFT JOIN {feature} f ON f.id = of.accessibilityfeature_id"
                f" WHERE o.therapist_id = {owner} ORDER BY o.id, f.sort_order, f.name, f.id",
                [key],
            ),
            (_terms_sql(owner), [key] * len(PROFILE_TAXONOMIES)),
        ]
    )
    found = instances_from_rows(TherapistProfile, profile_rows)
    if not found or not is_listed(found[0][0], now=now):
        return None
    therapist, (designation_code, designation_name) = found[0]
    therapist.designation = Designation(
        id=therapist.designation_id, code=designation_code, name=designation_name
    )
    licences = [
        ProfileLicence(
            jurisdiction_id=code,
            jurisdiction_name=name,
            designation_code=designation_code,
            regulator_name=regulator_name,
            regulator_abbreviation=abbreviation,
            number=number,
            expires_on=as_date(expires_on),
        )
        for code, name, designation_code, regulator_name, abbreviation, number, expires_on in (
            licence_rows
        )
    ]
    offices: dict[int, ProfileOffice] = {}
    for row in office_rows:
        office_id, *fields, feature_slug, feature_name = row
        if office_id not in offices:
            label, street_address, city, code, jurisdiction_name, postal_code, note = fields
            offices[office_id] = ProfileOffice(
                label=label,
                street_address=street_address,
                city=city,
                jurisdiction_id=code,
                jurisdiction_name=jurisdiction_name,
                postal_code=postal_code,
                accessibility_note=note,
                accessibility_features=[],
            )
        if feature_slug is not None:
            offices[office_id].accessibility_features.append((feature_slug, feature_name))
    return PublicProfile(
        therapist=therapist,
        licences=licences,
        offices=list(offices.values()),
        terms=_terms_from_rows(term_rows),
    )


@functools.cache
def _terms_sql(owner: str) -> str:
    """One UNION ALL over the six taxonomy link tables for the therapist whose id ``owner``
    (SQL) gives, ordered as each taxonomy displays."""
    quote = connection.ops.quote_name
    parts = []
    for number, name in enumerate(PROFILE_TAXONOMIES):
        relation = TherapistProfile._meta.get_field(name)
        through = relation.remote_field.through  # type: ignore[union-attr]
        term = relation.related_model
        assert term is not None
        assert not isinstance(term, str)
        owner_column = relation.m2m_column_name()  # type: ignore[union-attr]
        linked = relation.m2m_reverse_name()  # type: ignore[union-attr]
        parts.append(
            f"SELECT {number}, t.{quote('slug')}, t.{quote('name')}, t.{quote('sort_order')} "  # noqa: S608 - names from the models
            f"FROM {quote(through._meta.db_table)} l JOIN {quote(term._meta.db_table)} t "
            f"ON t.{quote('id')} = l.{quote(linked)} WHERE l.{quote(owner_column)} = {owner}"
        )
    return " UNION ALL ".join(parts) + " ORDER BY 1, 4, 3"


def _terms_from_rows(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[tuple[str, str]]]:
    """Every taxonomy term of one therapist as (slug, name), per PROFILE_TAXONOMIES name, each
    in display order (sort order, then name): ``_terms_sql``'s rows."""
    terms: dict[str, list[tuple[str, str]]] = {name: [] for name in PROFILE_TAXONOMIES}
    for number, slug, name, _sort_order in rows:
        terms[PROFILE_TAXONOMIES[number]].append((slug, name))
    return terms
