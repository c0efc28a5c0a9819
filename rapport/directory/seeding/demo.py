"""Writes the generated demo directory (`rapport seed`): the reference fixtures, then the
therapists ``generate`` builds, in batches, and deletes them again on request. Generated rows
carry a seed key, so hand-made profiles are never touched."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

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
)
from rapport.directory.seeding.generate import (
    GeneratedTherapist,
    ReferenceData,
    TherapistGenerator,
)
from rapport.directory.services import search_index_version_bump

SEED_BATCH_SIZE = 2000
TaxonomyTerm = (
    Concern | Modality | Population | Language | Faith | LivedExperience | AccessibilityFeature
)


@dataclass(frozen=True)
class SeedResult:
    created: int
    already_present: int
    seconds: float


def reference_data_load() -> None:
    """Load (or refresh) the taxonomy and credential fixtures. Safe to run any number of times:
    rows are matched by their natural keys (slugs, codes)."""
    with transaction.atomic():
        call_command("loaddata", "taxonomies", "credentials", verbosity=0)
        search_index_version_bump()


def _reference_data() -> ReferenceData:
    def slugs(model: type[TaxonomyTerm]) -> dict[str, int]:
        return dict(model.objects.filter(is_active=True).values_list("slug", "id"))

    regulators: dict[str, list[tuple[int, str, list[str]]]] = {}
    for regulator in Regulator.objects.prefetch_related("designations").order_by("id"):
        titles = sorted(designation.code for designation in regulator.designations.all())
        if titles:
            regulators.setdefault(regulator.jurisdiction_id, []).append(
                (regulator.id, regulator.abbreviation, titles)
            )
    return ReferenceData(
        concern_ids=slugs(Concern),
        modality_ids=slugs(Modality),
        population_ids=slugs(Population),
        language_ids=slugs(Language),
        faith_ids=slugs(Faith),
        lived_experience_ids=slugs(LivedExperience),
        accessibility_ids=slugs(AccessibilityFeature),
        designation_ids=dict(Designation.objects.values_list("code", "id")),
        regulators=regulators,
        concern_names=dict(Concern.objects.values_list("slug", "name")),
        modality_names=dict(Modality.objects.values_list("slug", "name")),
    )


def demo_directory_seed(
    *,
    therapists: int,
    seed: int,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Make sure the first ``therapists`` generated therapists of ``seed`` exist.

    Idempotent: therapists already present (found by their seed key) are left alone, so running
    the same command twice adds nothing, and a larger count adds only the difference.
    Side effects: loads the reference fixtures; writes profiles, licences, offices and their
    taxonomy links in batches, each batch in its own transaction (an interrupted run leaves
    whole therapists only, and the next run fills the gap); each batch bumps the search index
    version, and database triggers (SQLite) or an expression index (PostgreSQL) keep the
    free-text index complete.
    """
    if therapists < 0:
        raise ValueError("therapists must not be negative")
    started = time.perf_counter()
    reference_data_load()
    generator = TherapistGenerator(
        seed=seed, reference=_reference_data(), now=now or timezone.now()
    )
    prefix = f"seed{seed}-"
    existing = set(
        TherapistProfile.objects.filter(seed_key__startswith=prefix).values_list(
            "seed_key", flat=True
        )
    )
    missing = [index for index in range(therapists) if generator.seed_key(index) not in existing]
    for start in range(0, len(missing), SEED_BATCH_SIZE):
        batch = [generator.generate(index) for index in missing[start : start + SEED_BATCH_SIZE]]
        _write_batch(batch)
        if progress is not None:
            progress(start + len(batch), len(missing))
    return SeedResult(
        created=len(missing),
        already_present=therapists - len(missing),
        seconds=time.perf_counter() - started,
    )


def demo_directory_clear(*, seed: int | None = None) -> int:
    """Delete generated therapists (of one seed, or all); hand-made profiles are never touched.
    Returns how many were deleted. Side effect: bumps the search index version."""
    rows = TherapistProfile.objects.filter(seed_key__isnull=False)
    if seed is not None:
        rows = rows.filter(seed_key__startswith=f"seed{seed}-")
    with transaction.atomic():
        _, by_model = rows.delete()
        search_index_version_bump()
    return by_model.get(TherapistProfile._meta.label, 0)


def _write_batch(batch: list[GeneratedTherapist]) -> None:
    with transaction.atomic():
        profiles = TherapistProfile.objects.bulk_create(
            [TherapistProfile(**item.fields) for item in batch]
        )
        links = (
            (TherapistProfile.concerns.through, "concern_id", "concern_ids"),
            (TherapistProfile.modalities.through, "modality_id", "modality_ids"),
            (TherapistProfile.populations.through, "population_id", "population_ids"),
            (TherapistProfile.languages.through, "language_id", "language_ids"),
            (TherapistProfile.faiths.through, "faith_id", "faith_ids"),
            (TherapistProfile.lived_experiences.through, "livedexperience_id",
             "lived_experience_ids"),
        )  # fmt: skip
        for link_model, column, attribute in links:
            link_model.objects.bulk_create(
                _link_rows(link_model, column, profiles, batch, attribute),  # type: ignore[arg-type]
                batch_size=5000,
            )
        Licence.objects.bulk_create(
            [
                Licence(
                    therapist_id=profile.pk,
                    jurisdiction_id=jurisdiction,
                    designation_id=designation_id,
                    regulator_id=regulator_id,
                    number=number,
                )
                for profile, item in zip(profiles, batch, strict=True)
                for jurisdiction, designation_id, regulator_id, number in item.licences
            ]
        )
        office_specs = [
            (profile, office)
            for profile, item in zip(profiles, batch, strict=True)
            for office in item.offices
        ]
        offices = Office.objects.bulk_create(
            [Office(therapist_id=profile.pk, **office.fields) for profile, office in office_specs]
        )
        feature_link = Office.accessibility_features.through
        feature_link.objects.bulk_create(
            [
                feature_link(office_id=office.pk, accessibilityfeature_id=feature_id)
                for office, (_, spec) in zip(offices, office_specs, strict=True)
                for feature_id in spec.accessibility_ids
            ],
            batch_size=5000,
        )
        search_index_version_bump()


def _link_rows(
    through: type, column: str, profiles: list[TherapistProfile],
    batch: list[GeneratedTherapist], attribute: str,
) -> Iterable[object]:  # fmt: skip
    return [
        through(therapistprofile_id=profile.pk, **{column: term_id})
        for profile, item in zip(profiles, batch, strict=True)
        for term_id in getattr(item, attribute)
    ]
