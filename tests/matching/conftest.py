"""Fixtures shared by matching's tests."""

from __future__ import annotations

import dataclasses
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


@pytest.fixture
def preferences_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rankings from the preference score alone, so a hand table or a test saying who comes
    first holds exactly: the model at its priors with the learned part weighing nothing (the
    learned part and its exploration are tested in test_learning and test_ranking)."""
    from rapport.matching import learning

    state = dataclasses.replace(learning.prior_state(), learned_weight=0.0)
    monkeypatch.setattr(learning, "current_model", lambda: state)
