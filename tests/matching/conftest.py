"""Fixtures shared by matching's tests."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def simulation() -> ModuleType:
    """bench/matching_simulation.py as a module (the bench folder is not a package)."""
    sys.path.insert(0, str(BENCH))
    try:
        import matching_simulation
    finally:
        sys.path.remove(str(BENCH))
    return matching_simulation
