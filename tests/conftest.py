"""Fixtures shared across the suite."""

from __future__ import annotations

import pytest

from tests.factories import load_reference_data


@pytest.fixture
def reference_data(db: None) -> None:
    """Taxonomies and credentials, loaded from the same fixtures `rapport seed` uses."""
    load_reference_data()
