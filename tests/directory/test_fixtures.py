"""The taxonomies and credentials fixtures: idempotent to load, and internally consistent."""

from __future__ import annotations

import pytest
from django.db import models

from rapport.core.jurisdictions import JURISDICTIONS
from rapport.core.models import Jurisdiction
from rapport.directory.models import (
    AccessibilityFeature,
    Concern,
    Designation,
    Faith,
    Language,
    LivedExperience,
    Modality,
    Population,
    Regulator,
)
from tests.factories import load_reference_data

pytestmark = pytest.mark.django_db

RegulatorDesignation = Regulator.designations.through

EXPECTED_ROWS: dict[type[models.Model], int] = {
    Concern: 32,
    Modality: 22,
    Population: 6,
    Language: 26,
    Faith: 10,
    LivedExperience: 12,
    AccessibilityFeature: 9,
    Designation: 18,
    Regulator: 175,
    RegulatorDesignation: 283,
}


def _row_counts() -> dict[type[models.Model], int]:
    return {model: model._default_manager.count() for model in EXPECTED_ROWS}


def test_reference_tables_hold_exactly_the_fixtures_rows():
    # The suite loads the fixtures once when it starts (tests/conftest.py); nothing else may
    # add reference rows, or the exact counts below could come from somewhere else.
    assert _row_counts() == EXPECTED_ROWS


def test_loading_into_empty_tables_gives_exactly_the_fixtures_rows():
    # Emptied inside this test's transaction, so the rest of the suite keeps its rows.
    for model in reversed(EXPECTED_ROWS):
        model._default_manager.all().delete()
    assert set(_row_counts().values()) == {0}
    load_reference_data()
    assert _row_counts() == EXPECTED_ROWS


def test_loading_the_fixtures_twice_does_not_duplicate_rows():
    load_reference_data()
    assert _row_counts() == EXPECTED_ROWS
    load_reference_data()
    assert _row_counts() == EXPECTED_ROWS


def test_reloading_the_fixtures_updates_rows_in_place():
    load_reference_data()
    anxiety = Concern.objects.get(slug="anxiety")
    Concern.objects.filter(pk=anxiety.pk).update(name="Renamed in the admin")
    crpo = Regulator.objects.get(jurisdiction_id="CA-ON", abbreviation="CRPO")
    crpo.designations.clear()

    load_reference_data()

    assert Concern.objects.get(slug="anxiety").pk == anxiety.pk
    assert Concern.objects.get(pk=anxiety.pk).name == "Anxiety"
    assert list(crpo.designations.values_list("code", flat=True)) == ["RP"]


def test_every_regulators_jurisdiction_exists(reference_data):
    regulator_codes = set(Regulator.objects.values_list("jurisdiction_id", flat=True))
    known_codes = set(Jurisdiction.objects.values_list("code", flat=True))
    assert regulator_codes - known_codes == set()
    assert known_codes == {jurisdiction.code for jurisdiction in JURISDICTIONS}


def test_every_designation_is_granted_by_some_regulator(reference_data):
    unused = Designation.objects.filter(regulators__isnull=True).values_list("code", flat=True)
    assert list(unused) == []


def test_every_canadian_and_us_jurisdiction_has_a_regulator(reference_data):
    jurisdictions = Jurisdiction.objects.filter(country_code__in=("CA", "US"))
    assert jurisdictions.count() == 13 + 51  # provinces and territories; states and DC
    unregulated = jurisdictions.filter(regulator__isnull=True).values_list("code", flat=True)
    assert list(unregulated) == []


def test_regulators_grant_only_their_own_countrys_titles(reference_data):
    mismatched = [
        f"{row.regulator.jurisdiction_id} {row.regulator.abbreviation} grants "
        f"{row.designation.code} ({row.designation.country_code})"
        for row in RegulatorDesignation.objects.select_related(
            "regulator__jurisdiction", "designation"
        )
        if row.designation.country_code != row.regulator.jurisdiction.country_code
    ]
    assert mismatched == []
