"""The learned component of matching: early alliance predicted from client × therapist
features, learned from every early answer, explored by Thompson sampling.

One module per concern:

- ``model``: the maths in memory (running sums, ridge solution, shrunk therapist effects,
  Thompson draws, a refit from every outcome); no database, so the simulation uses it too.
- ``outcomes``: an early answer (or an engagement ended as not the right fit) recorded once,
  encrypted, and added to the newest version's sums; the backfill; export and forgetting.
- ``versions``: the stored versions: the newest one locked for an update, a retrain, and the
  state ranking reads (``current_model``, cached per process).
- ``stored``: how an outcome's values are written and read back.

Everything other apps use is named here; callers go through this package
(``learning.current_model()``), which is also where tests replace ``current_model``.
"""

from __future__ import annotations

from rapport.care.hooks import register_check_in_answered_hook
from rapport.core.housekeeping import register_housekeeping_step
from rapport.core.privacy import register_export_section
from rapport.matching.features import FEATURES
from rapport.matching.learning.model import (
    EFFECT_VARIANCE_FLOOR,
    EFFECT_VARIANCE_PRIOR,
    LEARNED_WEIGHT_BOUND,
    LEARNED_WEIGHT_PRIOR,
    MAX_TABLE_ID,
    MEAN_PRIOR,
    NOISE_VARIANCE_FLOOR,
    NOISE_VARIANCE_PRIOR,
    RIDGE,
    Calibration,
    ModelState,
    ModelSums,
    SharedFit,
    Variances,
    fit,
    learned_weight_of,
    posterior,
    predict,
    prior_state,
    therapist_draws,
    variances_by_moments,
)
from rapport.matching.learning.outcomes import (
    EARLY_PARTS,
    MISFIT_ALLIANCE,
    check_in_answered,
    is_early_part,
    misfit_record,
    outcome_record,
    outcomes_backfill,
    outcomes_export,
    outcomes_forget,
    outcomes_of,
    pair_inputs,
    part_alliance,
)
from rapport.matching.learning.stored import outcome_values
from rapport.matching.learning.versions import (
    MODEL_MAX_AGE_SECONDS,
    RETRAIN_EVERY,
    current_model,
    locked_newest_model,
    model_cache_clear,
    model_retrain,
    model_retrain_if_due,
    sums_of,
)

__all__ = [
    "EARLY_PARTS",
    "EFFECT_VARIANCE_FLOOR",
    "EFFECT_VARIANCE_PRIOR",
    "FEATURES",
    "LEARNED_WEIGHT_BOUND",
    "LEARNED_WEIGHT_PRIOR",
    "MAX_TABLE_ID",
    "MEAN_PRIOR",
    "MISFIT_ALLIANCE",
    "MODEL_MAX_AGE_SECONDS",
    "NOISE_VARIANCE_FLOOR",
    "NOISE_VARIANCE_PRIOR",
    "RETRAIN_EVERY",
    "RIDGE",
    "Calibration",
    "ModelState",
    "ModelSums",
    "SharedFit",
    "Variances",
    "current_model",
    "fit",
    "is_early_part",
    "learned_weight_of",
    "locked_newest_model",
    "misfit_record",
    "model_cache_clear",
    "model_retrain",
    "model_retrain_if_due",
    "outcome_record",
    "outcome_values",
    "outcomes_backfill",
    "outcomes_export",
    "outcomes_forget",
    "outcomes_of",
    "pair_inputs",
    "part_alliance",
    "posterior",
    "predict",
    "prior_state",
    "register",
    "sums_of",
    "therapist_draws",
    "variances_by_moments",
]


def register() -> None:
    """care's check-in-answered hook (each early answer updates the model), the daily retrain
    and the export section. No erasure step: a client's outcomes go with their engagements
    (``care.services.client_engagements_erase`` deletes them, and outcomes cascade with the
    check-in parts and engagements they came from)."""
    register_check_in_answered_hook("matching_learning", check_in_answered)
    register_housekeeping_step(
        "matching models retrained", lambda now: model_retrain_if_due(now=now)
    )
    register_export_section("match_outcomes", outcomes_export)
