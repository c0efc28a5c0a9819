"""The taxonomies and credentials fixtures: idempotent to load with ``loaddata`` (as `rapport
seed` loads them), internally consistent, and written exactly alike by the tests' own faster
loader (``load_reference_data``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
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
from tests.directory.factories import REFERENCE_FIXTURES
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


def _loaddata() -> None:
    call_command("loaddata", *REFERENCE_FIXTURES, verbosity=0)


def _empty_reference_tables() -> None:
    # Inside the test's transaction, so the rest of the suite keeps its rows.
    for model in reversed(EXPECTED_ROWS):
        model._default_manager.all().delete()
    assert set(_row_counts().values()) == {0}


def _reference_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every reference row's columns but its id, and each regulator's designations by code:
    what two loaders must agree on (ids are the database's to choose)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in EXPECTED_ROWS:
        if model is RegulatorDesignation:
            columns = ["regulator__jurisdiction_id", "regulator__abbreviation", "designation__code"]
        else:
            columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        rows[model._meta.label] = sorted(model._default_manager.values_list(*columns))
    return rows


def test_loading_into_empty_tables_gives_exactly_the_fixtures_rows():
    _empty_reference_tables()
    _loaddata()
    assert _row_counts() == EXPECTED_ROWS


def test_loading_the_fixtures_twice_does_not_duplicate_rows():
    _loaddata()
    assert _row_counts() == EXPECTED_ROWS
    _loaddata()
    assert _row_counts() == EXPECTED_ROWS


def test_reloading_the_fixtures_updates_rows_in_place():
    _loaddata()
    anxiety = Concern.objects.get(slug="anxiety")
    Concern.objects.filter(pk=anxiety.pk).update(name="Renamed in the admin")
    crpo = Regulator.objects.get(jurisdiction_id="CA-ON", abbreviation="CRPO")
    crpo.designations.clear()

    _loaddata()

    assert Concern.objects.get(slug="anxiety").pk == anxiety.pk
    assert Concern.objects.get(pk=anxiety.pk).name == "Anxiety"
    assert list(crpo.designations.values_list("code", flat=True)) == ["RP"]


def test_the_tests_loader_writes_what_loaddata_writes():
    _empty_reference_tables()
    _loaddata()
    expected = _reference_rows()
    assert sum(len(rows) for rows in expected.values()) == sum(EXPECTED_ROWS.values())

    _empty_reference_tables()
    load_reference_data()
    assert _reference_rows() == expected
    # Again: nothing doubles.
    load_reference_data()
    assert _reference_rows() == expected


def test_the_tests_loader_fills_in_what_is_missing_and_leaves_the_rest():
    crpo = Regulator.objects.get(jurisdiction_id="CA-ON", abbreviation="CRPO")
    crpo.designations.clear()
    Concern.objects.filter(slug="grief").delete()
    Concern.objects.filter(slug="anxiety").update(name="Renamed in the admin")

    load_reference_data()

    assert _row_counts() == EXPECTED_ROWS
    assert list(crpo.designations.values_list("code", flat=True)) == ["RP"]
    assert Concern.objects.get(slug="anxiety").name == "Renamed in the admin"  # left as it was


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
