"""How an outcome's values are stored: its inputs by feature name and its alliance, both as
JSON text in encrypted fields (``MatchOutcome.features``, ``MatchOutcome.alliance``)."""

from __future__ import annotations

import json

import numpy as np

from rapport.matching.features import FEATURES
from rapport.matching.models import MatchOutcome


def outcome_features_json(inputs: np.ndarray) -> str:
    """The inputs by feature name, as ``MatchOutcome.features`` holds them."""
    return json.dumps(dict(zip(FEATURES, inputs.tolist(), strict=True)))


def outcome_values(outcome: MatchOutcome) -> tuple[np.ndarray, float]:
    """A stored outcome's inputs (in ``FEATURES`` order; a feature it predates reads 0) and
    its alliance."""
    stored = json.loads(outcome.features)
    inputs = np.array([float(stored.get(name, 0.0)) for name in FEATURES])
    return inputs, float(json.loads(outcome.alliance))
