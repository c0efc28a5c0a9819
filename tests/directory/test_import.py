"""Bulk import: the documented examples import cleanly, re-imports update, and every kind of bad
input is reported at its line and field with nothing of that row written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rapport.directory.importing import therapists_import
from rapport.directory.models import TherapistProfile

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


@pytest.mark.parametrize(
    ("name", "file_format"), [("therapists.csv", "csv"), ("therapists.jsonl", "jsonl")]
)
def test_the_documented_example_imports_cleanly(name, file_format):
    report = therapists_import(
        source=io.BytesIO((EXAMPLES / name).read_bytes()), file_format=file_format
    )

    assert report.problems == [], [str(problem) for problem in report.problems]
    assert (report.created, report.updated, report.failed) == (3, 0, 0)
    assert TherapistProfile.objects.count() == 3
