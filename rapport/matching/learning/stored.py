"""How an outcome's values are stored: its inputs by feature name, with the pair's preference
score when it was recorded, and its alliance, both as JSON text in encrypted fields
(``MatchOutcome.features``, ``MatchOutcome.alliance``)."""

from __future__ import annotations

import json
import math

import numpy as np

from rapport.matching.features import FEATURES
from rapport.matching.models import MatchOutcome

# The key of the pair's preference score among the features (not a feature: the model's
# inputs are ``FEATURES``; the score only calibrates how much the learned part weighs).
PREFERENCE_KEY = "preference_score"


def outcome_features_json(inputs: np.ndarray, preference: float | None = None) -> str:
    """The inputs by feature name, and the preference score when known, as
    ``MatchOutcome.features`` holds them."""
    stored: dict[str, float] = dict(zip(FEATURES, inputs.tolist(), strict=True))
    if preference is not None:
        stored[PREFERENCE_KEY] = float(preference)
    return json.dumps(stored)


def outcome_values(outcome: MatchOutcome) -> tuple[np.ndarray, float]:
    """A stored outcome's inputs (in ``FEATURES`` order; a feature it predates reads 0) and
    its alliance."""
    inputs, alliance, _preference = outcome_record_values(outcome)
    return inputs, alliance


def outcome_record_values(outcome: MatchOutcome) -> tuple[np.ndarray, float, float]:
    """``outcome_values`` and the pair's preference score (NaN when the outcome predates it or
    the therapist was no longer listed when it was recorded)."""
    stored = json.loads(outcome.features)
    inputs = np.array([float(stored.get(name, 0.0)) for name in FEATURES])
    preference = stored.get(PREFERENCE_KEY)
    return (
        inputs,
        float(json.loads(outcome.alliance)),
        float(preference) if preference is not None else math.nan,
    )
