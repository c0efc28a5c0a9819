"""The learned component: shrinkage and Thompson draws against hand numbers, a retrain that
recovers a known model, features the client did not choose that stay out of it, and each
early answer (or an engagement ended as not the right fit) becoming one encrypted outcome that
updates the stored model."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from rapport.accounts.services import account_delete
from rapport.care import hooks
from rapport.care import services as care_services
from rapport.care.models import (
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    Purpose,
    SessionStatus,
)
from rapport.directory.search.engine import current_index
from rapport.matching import features, learning
from rapport.matching import services as matching_services
from rapport.matching.answers import MisfitReason, Preference, Weight
from rapport.matching.models import MatchModel, MatchOutcome, TherapistEffect
from tests.accounts.factories import make_user
from tests.care.factories import make_engagement
from tests.directory.factories import make_therapist
from tests.json_leaves import leaves
from tests.matching.factories import fit_answers, fit_profile

D = len(learning.FEATURES)
CONCERNS = learning.FEATURES.index("concerns")
GENDER = learning.FEATURES.index("gender")

# The built-in fit check: four items on 1–5, summed (4–20). 4 + 5 + 3 + 4 = 16 → 12/16 = 0.75.
FIT = {"understood": 4, "open": 5, "focus": 3, "continue": 4}
FIT_ON_0_TO_1 = 0.75
PROGRESS = {
    "energy": 3,
    "getting-things-done": 3,
    "enjoyment": 3,
    "connection": 3,
    "looking-after-myself": 3,
    "safety": 0,
}
# The built-in alliance check-in: the mean of six items on 1–5 (one reversed: 2 reads 4),
# to one decimal: (4 + 4 + 3 + 3 + 5 + 4) / 6 = 3.83 → 3.8; on 0–1: (3.8 − 1) / 4 = 0.7.
ALLIANCE = {
    "bond-at-ease": 4,
    "bond-holding-back": 2,
    "goals-what-matters": 3,
    "goals-direction": 3,
    "tasks-makes-sense": 5,
    "tasks-take-away": 4,
}
ALLIANCE_ON_0_TO_1 = 0.7


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    learning.model_cache_clear()
    yield
    learning.model_cache_clear()


# --- the maths, by hand ------------------------------------------------------------------------


def _state(*, ids, counts, sums, noise=0.04, effect=0.01) -> learning.ModelState:
    return learning.ModelState(
        version=1,
        mean=0.7,
        coefficients=np.zeros(D),
        noise_variance=noise,
        effect_variance=effect,
        effect_ids=np.asarray(ids, dtype=np.int64),
        effect_counts=np.asarray(counts, dtype=np.int64),
        effect_sums=np.asarray(sums, dtype=np.float64),
    )


def test_a_therapist_with_one_outcome_is_shrunk_far_more_than_one_with_twenty():
    # σ² = 0.04, τ² = 0.01, so σ²/τ² = 4. Every residual is +0.1.
    # One outcome:   mean 0.1 / (1 + 4) = 0.02;   variance 1 / (1/0.04 + 1/0.01) = 1/125.
    # Twenty:        mean 2.0 / (20 + 4) = 1/12;  variance 1 / (20/0.04 + 100)   = 1/600.
    state = _state(ids=[7, 9], counts=[1, 20], sums=[0.1, 2.0])
    mean_one, sd_one = state.effect_of(7)
    mean_twenty, sd_twenty = state.effect_of(9)
    assert mean_one == pytest.approx(0.02)
    assert sd_one**2 == pytest.approx(1 / 125)
    assert mean_twenty == pytest.approx(1 / 12)
    assert sd_twenty**2 == pytest.approx(1 / 600)
    # No data: the prior, (0, τ²).
    assert state.effect_of(8) == (0.0, pytest.approx(0.1))


def test_each_residual_is_taken_against_the_prediction_before_the_outcome_is_added():
    # With inputs all 0 the shared part is just the mean: after k answers of 0.9 it is
    # (0.9 k + 0.7 · ridge) / (k + ridge), ridge = 1. The k-th residual is 0.9 minus the
    # mean before it: 0.2, 0.2 / 2, 0.2 / 3 → sum 0.2 · (1 + 1/2 + 1/3) = 0.36667.
    sums = learning.ModelSums()
    residuals = [sums.add(inputs=np.zeros(D), alliance=0.9, therapist_id=5) for _ in range(3)]
    assert residuals == pytest.approx([0.2, 0.1, 0.2 / 3])
    state = sums.state(version=3)
    assert state.mean == pytest.approx((0.9 * 3 + 0.7) / 4)
    assert np.all(state.coefficients == 0)
    assert state.effect_counts.tolist() == [3]
    assert state.effect_sums[0] == pytest.approx(0.2 * (1 + 1 / 2 + 1 / 3))
    # Posterior mean by hand: 0.36667 / (3 + 4).
    assert state.effect_of(5)[0] == pytest.approx(0.2 * (1 + 1 / 2 + 1 / 3) / 7)


def test_with_no_outcome_the_model_is_its_prior():
    state = learning.prior_state()
    assert state.version == 0
    assert state.mean == learning.MEAN_PRIOR
    assert np.all(state.coefficients == 0)
    assert state.effect_ids.size == 0
    inputs = np.ones((3, D))
    assert learning.predict(state, inputs, np.zeros(3)).tolist() == [learning.MEAN_PRIOR] * 3


def _synthetic(rng, *, n, therapists, beta, effect_sd, noise_sd, chosen_share=0.6):
    """Outcomes from a known model: each feature chosen with ``chosen_share`` (else 0)."""
    chosen = rng.random((n, D)) < chosen_share
    inputs = np.where(chosen, rng.uniform(-1, 1, (n, D)), 0.0)
    effects = rng.normal(0, effect_sd, therapists)
    ids = rng.integers(0, therapists, n) + 1000
    alliances = 0.6 + inputs @ beta + effects[ids - 1000] + rng.normal(0, noise_sd, n)
    return inputs, alliances, ids, effects


def test_a_retrain_recovers_the_coefficients_and_variances_it_was_generated_with():
    rng = np.random.default_rng(20261207)
    beta = np.linspace(-0.12, 0.12, D)
    inputs, alliances, ids, effects = _synthetic(
        rng, n=6000, therapists=300, beta=beta, effect_sd=0.1, noise_sd=0.05
    )
    state = learning.fit(inputs, alliances, ids).state(version=2)
    assert np.abs(state.coefficients - beta).max() < 0.01
    assert state.mean == pytest.approx(0.6 + effects.mean(), abs=0.01)
    assert state.noise_variance == pytest.approx(0.05**2, rel=0.1)
    assert state.effect_variance == pytest.approx(0.1**2, rel=0.3)
    # The shrunk effects track the true ones (each therapist has ~20 outcomes).
    recovered = np.array([state.effect_of(1000 + t)[0] for t in range(300)])
    centred = effects - effects.mean()
    assert np.corrcoef(recovered, centred)[0, 1] > 0.95


def test_the_running_sums_give_the_same_shared_part_as_a_retrain():
    rng = np.random.default_rng(3)
    beta = np.linspace(0.1, -0.1, D)
    inputs, alliances, ids, _ = _synthetic(
        rng, n=500, therapists=40, beta=beta, effect_sd=0.05, noise_sd=0.05
    )
    running = learning.ModelSums()
    for row, alliance, therapist_id in zip(inputs, alliances, ids, strict=True):
        running.add(inputs=row, alliance=alliance, therapist_id=int(therapist_id))
    online, batch = running.state(), learning.fit(inputs, alliances, ids).state()
    assert online.mean == pytest.approx(batch.mean)
    assert online.coefficients == pytest.approx(batch.coefficients)
    assert online.effect_counts.tolist() == batch.effect_counts.tolist()


def test_the_stacked_slopes_follow_the_hand_calculation():
    """Five outcomes on a 2 × 2 design plus the centre, answers exactly 0.5 + 0.1·preference
    + 0.2·learned. Centred, the design's columns are orthogonal with Σx² = 1 each, so least
    squares gives 0.1 and 0.2 and leaves no residual: the slopes' covariance is only the noise
    floor's, 0.001 · (XᵀX)⁻¹ = 0.001·I. With the prior's variance 0.25 each posterior slope is
    the least-squares one times (1/0.001) / (1/0.001 + 1/0.25) = 1000/1004, with a posterior
    sd of 1004^-½ = 0.0316."""
    preferences = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    learned = np.array([0.0, 0.0, 1.0, 1.0, 0.5])
    alliances = 0.5 + 0.1 * preferences + 0.2 * learned
    calibration = learning.learned_weight_of(
        preferences=preferences, learned=learned, alliances=alliances
    )
    assert calibration.preference_slope == pytest.approx(0.1 * 1000 / 1004)
    assert calibration.learned_slope == pytest.approx(0.2 * 1000 / 1004)
    assert calibration.outcomes == 5
    # The ratio is 2, but with sd 0.0316 on a slope of 0.1 a ratio below 1 is not ruled out
    # with 99 % probability (b could be 0.17 and c 0.13): the weight stays 1.
    assert calibration.weight == 1.0


def test_the_slopes_uncertainty_adds_up_each_groups_errors_first():
    """Errors shared within groups (four outcomes per group, one learned value and one error
    per group, as a therapist's effect is): the slopes' uncertainty is the cluster-robust
    sandwich, each group's scores x·e added before squaring, with the factor
    G/(G−1)·(n−1)/(n−3) and the noise floor, combined with the prior. Computed here group by
    group; the same outcomes taken one by one would look about twice as sure."""
    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(300), 4)
    preferences = rng.uniform(0, 1, groups.size)
    learned = np.repeat(rng.normal(0, 0.1, 300), 4)
    alliances = 0.6 + 0.1 * preferences + 0.3 * learned + np.repeat(rng.normal(0, 0.05, 300), 4)
    grouped = learning.learned_weight_of(
        preferences=preferences, learned=learned, alliances=alliances, groups=groups
    )
    alone = learning.learned_weight_of(
        preferences=preferences, learned=learned, alliances=alliances
    )
    x = np.column_stack((preferences - preferences.mean(), learned - learned.mean()))
    y = alliances - alliances.mean()
    bread = np.linalg.inv(x.T @ x)
    e = y - x @ (bread @ (x.T @ y))
    sums = np.array([(x[groups == g] * e[groups == g, None]).sum(axis=0) for g in range(300)])
    n = groups.size
    covariance = (300 / 299) * ((n - 1) / (n - 3)) * bread @ (sums.T @ sums) @ bread
    covariance += learning.NOISE_VARIANCE_FLOOR * bread
    posterior = np.linalg.inv(np.linalg.inv(covariance) + np.eye(2) / 0.25)
    assert grouped.learned_slope_sd == pytest.approx(math.sqrt(posterior[1, 1]))
    assert grouped.preference_slope_sd == pytest.approx(math.sqrt(posterior[0, 0]))
    assert alone.learned_slope_sd is not None
    assert grouped.learned_slope_sd is not None
    assert grouped.learned_slope_sd > 1.5 * alone.learned_slope_sd


def test_a_ratio_the_outcomes_pin_down_becomes_the_weight():
    """The same design repeated 2,000 times: the slopes are as sure as the data can make them
    (posterior sd ≈ 0.0007), so the weight is the ratio 2, less its 1 % credible margin."""
    preferences = np.tile([0.0, 1.0, 0.0, 1.0, 0.5], 2000)
    learned = np.tile([0.0, 0.0, 1.0, 1.0, 0.5], 2000)
    wiggle = np.tile([0.01, -0.01, -0.01, 0.01, 0.0], 2000)
    alliances = 0.5 + 0.1 * preferences + 0.2 * learned + wiggle
    calibration = learning.learned_weight_of(
        preferences=preferences, learned=learned, alliances=alliances
    )
    assert calibration.weight == pytest.approx(2.0, rel=0.05)
    assert calibration.weight < 2.0


@pytest.mark.parametrize(
    ("slope_preference", "slope_learned", "expected"),
    [
        (0.1, 0.05, 0.5),  # inside the bounds: the ratio itself
        (0.1, 0.9, 3.0),  # the learned part far stronger: the upper bound
        (-0.05, 0.2, 3.0),  # the preference score adds nothing beside it: the upper bound
        (0.2, 0.0, 1 / 3),  # the learned part predicts nothing: the lower bound
        (0.2, -0.1, 1 / 3),
        (-0.1, -0.1, 1.0),  # neither predicts: no ratio, 1
    ],
)
def test_clear_slopes_give_their_ratio_within_the_bounds(slope_preference, slope_learned, expected):
    rng = np.random.default_rng(11)
    n = 20_000  # enough that the slopes are known to within a few percent
    preferences = rng.uniform(0, 1, n)
    learned = rng.normal(0, 0.1, n)
    alliances = 0.6 + slope_preference * preferences + slope_learned * learned
    alliances += rng.normal(0, 0.01, n)
    calibration = learning.learned_weight_of(
        preferences=preferences, learned=learned, alliances=alliances
    )
    # Within the 1 % credible margin of the ratio, on the side toward 1.
    assert calibration.weight == pytest.approx(expected, rel=0.15)
    assert abs(math.log(calibration.weight)) <= abs(math.log(expected)) + 1e-9
    bound = learning.LEARNED_WEIGHT_BOUND
    assert 1 / bound - 1e-12 <= calibration.weight <= bound + 1e-12


def test_slopes_that_are_noise_leave_the_weight_at_one_whatever_their_signs():
    """Twenty worlds where neither predictor says anything about the answers: a ratio of
    two noisy slopes could be anything, so the weight stays 1 in all but a rare world."""
    weights = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n = 2000
        weights.append(
            learning.learned_weight_of(
                preferences=rng.uniform(0, 1, n),
                learned=rng.normal(0, 0.05, n),
                alliances=0.7 + rng.normal(0, 0.15, n),
            ).weight
        )
    assert sum(weight == 1.0 for weight in weights) >= 18, np.round(weights, 2)


def test_without_enough_outcomes_or_variation_the_learned_weight_is_its_prior():
    rng = np.random.default_rng(2)
    for preferences, learned, alliances in [
        (np.array([0.2, 0.8, 0.5]), np.array([0.0, 0.1, 0.2]), np.array([0.6, 0.9, 0.7])),
        (np.full(5, 0.7), np.linspace(-0.1, 0.1, 5), np.linspace(0.5, 0.9, 5)),
        (np.linspace(0, 1, 5), np.zeros(5), np.linspace(0.5, 0.9, 5)),
        (rng.uniform(0, 1, 2000), rng.normal(0, 0.05, 2000), np.full(2000, 0.7)),  # one answer
        (np.empty(0), np.empty(0), np.empty(0)),
    ]:
        calibration = learning.learned_weight_of(
            preferences=preferences, learned=learned, alliances=alliances
        )
        assert calibration.weight == learning.LEARNED_WEIGHT_PRIOR
        assert calibration.preference_slope is None


def test_answers_that_are_not_finite_are_left_out_of_the_weight():
    rng = np.random.default_rng(4)
    n = 20_000
    preferences = rng.uniform(0, 1, n)
    learned = rng.normal(0, 0.1, n)
    alliances = 0.6 + 0.1 * preferences + 0.05 * learned + rng.normal(0, 0.01, n)
    clean = learning.learned_weight_of(
        preferences=preferences, learned=learned, alliances=alliances
    )
    alliances[:3] = (np.nan, np.inf, -np.inf)
    preferences[3] = np.nan
    learned[4] = np.inf
    dirty = learning.learned_weight_of(
        preferences=preferences, learned=learned, alliances=alliances
    )
    assert dirty.outcomes == n - 5
    assert math.isfinite(dirty.weight)
    assert dirty.weight == pytest.approx(clean.weight, rel=0.01)


def _stacking_world(*, effect_sd: float, preference_slope: float, seed: int):
    """Outcomes whose answers follow the pair's preference score and the therapist's effect
    (no coefficients), 8 outcomes per therapist."""
    rng = np.random.default_rng(seed)
    therapists, n = 400, 3200
    ids = np.repeat(np.arange(therapists), n // therapists) + 5000
    effects = rng.normal(0, effect_sd, therapists) if effect_sd else np.zeros(therapists)
    preferences = rng.uniform(0, 1, n)
    alliances = 0.6 + preference_slope * preferences + effects[ids - 5000] + rng.normal(0, 0.1, n)
    return np.zeros((n, D)), alliances, ids, preferences


@pytest.mark.parametrize("seed", range(5))
def test_a_retrain_weighs_the_learned_part_up_when_therapist_effects_predict_the_answers(seed):
    inputs, alliances, ids, preferences = _stacking_world(
        effect_sd=0.1, preference_slope=0.02, seed=seed
    )
    sums = learning.fit(inputs, alliances, ids, preferences=preferences)
    assert sums.calibration.outcomes == ids.size
    # Each effect, predicted from its therapist's 7 other answers and shrunk, is a calibrated
    # prediction: one unit of it is worth about one unit of alliance.
    assert sums.calibration.learned_slope == pytest.approx(1.0, abs=0.25)
    assert sums.calibration.weight > 2.5
    assert sums.state().learned_weight == sums.calibration.weight


@pytest.mark.parametrize("own_therapist", [False, True])
def test_a_learned_part_fitted_to_the_same_answers_gets_no_credit_for_them(own_therapist):
    """Answers that are pure noise, with features: the shared part fitted to them would
    predict them in sample (a slope near 1 whatever the data); the leave-one-out predictions
    (the shared part's exact one, the therapist's effect from their other answers) earn no
    positive slope on average over forty worlds (a left-out answer pulls its own prediction
    the other way, so the average is slightly below 0), and the weight stays 1 in nearly all.
    With every outcome its own therapist no effect can be learned: only the shared part."""
    slopes: list[float] = []
    weights: list[float] = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = 2000
        chosen = rng.uniform(size=(n, D)) < 0.5
        inputs = np.where(chosen, rng.uniform(0, 1, (n, D)), 0.0)
        ids = np.arange(n) + 1 if own_therapist else rng.integers(1, n // 4 + 2, n)
        alliances = np.clip(0.7 + 0.2 * rng.standard_normal(n), 0, 1)
        preferences = rng.uniform(0, 1, n)
        calibration = learning.fit(inputs, alliances, ids, preferences=preferences).calibration
        assert calibration.learned_slope is not None
        slopes.append(calibration.learned_slope)
        weights.append(calibration.weight)
    assert float(np.mean(slopes)) < 0.1
    assert sum(weight == 1.0 for weight in weights) >= 36


def test_outcomes_without_a_preference_score_are_left_out_of_the_weight_only():
    inputs, alliances, ids, preferences = _stacking_world(
        effect_sd=0.1, preference_slope=0.02, seed=5
    )
    preferences[::2] = np.nan
    sums = learning.fit(inputs, alliances, ids, preferences=preferences)
    assert sums.calibration.outcomes == ids.size // 2
    assert sums.shared.count == ids.size
    # And without any: the prior, as a retrain of versions stored before scores were recorded.
    assert learning.fit(inputs, alliances, ids).calibration == learning.Calibration()


def test_the_learned_weight_is_stored_with_the_version_and_read_back():
    inputs, alliances, ids, preferences = _stacking_world(
        effect_sd=0.1, preference_slope=0.02, seed=5
    )
    sums = learning.fit(inputs, alliances, ids, preferences=preferences)
    parameters = json.loads(json.dumps(sums.parameters()))
    assert learning.ModelSums.from_parameters(parameters).calibration == sums.calibration
    # A version stored before the weight existed reads as the prior.
    del parameters["calibration"]
    assert learning.ModelSums.from_parameters(parameters).state().learned_weight == 1.0


def test_variances_never_reach_zero_and_keep_their_priors_without_the_data_to_estimate():
    # Identical answers: no spread at all; floored.
    floored = learning.variances_by_moments(np.zeros(10), np.repeat([1, 2], 5))
    assert (floored.noise, floored.effect) == (
        learning.NOISE_VARIANCE_FLOOR,
        learning.EFFECT_VARIANCE_FLOOR,
    )
    # One outcome per therapist: no within-therapist spread to read σ² from → its prior.
    single = learning.variances_by_moments(np.array([0.1, -0.1, 0.2]), np.array([1, 2, 3]))
    assert single.noise == learning.NOISE_VARIANCE_PRIOR
    # One therapist: no between-therapist spread → τ²'s prior. By hand, σ² = Σ(r − r̄)² / (3 − 1)
    # with r = 0.1, 0.2, 0.3: (0.01 + 0 + 0.01) / 2 = 0.01.
    one = learning.variances_by_moments(np.array([0.1, 0.2, 0.3]), np.array([4, 4, 4]))
    assert one.noise == pytest.approx(0.01)
    assert one.effect == learning.EFFECT_VARIANCE_PRIOR


def test_stored_sums_follow_the_features_by_name():
    sums = learning.ModelSums()
    rng = np.random.default_rng(1)
    for _ in range(30):
        sums.add(inputs=rng.uniform(-1, 1, D), alliance=rng.uniform(), therapist_id=1)
    parameters = sums.parameters()
    # Stored under an older feature list without "gender", in another order.
    old = [name for name in learning.FEATURES if name != "gender"][::-1]
    order = [0] + [learning.FEATURES.index(name) + 1 for name in old]
    parameters["features"] = old
    parameters["xtx"] = np.asarray(parameters["xtx"])[np.ix_(order, order)].tolist()
    parameters["xty"] = np.asarray(parameters["xty"])[order].tolist()
    again = learning.ModelSums.from_parameters(parameters)
    assert again.features == learning.FEATURES
    expected = sums.shared.xtx.copy()
    expected[GENDER + 1, :] = 0
    expected[:, GENDER + 1] = 0
    assert again.shared.xtx == pytest.approx(expected)
    # The unknown feature has no data: its coefficient is the prior's 0.
    assert again.state().coefficients[GENDER] == 0


# --- Thompson draws ----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_draws_and_another_seed_others():
    state = _state(ids=[3, 4], counts=[5, 50], sums=[0.2, -1.0])
    ids = np.array([4, 3, 99, 100])
    first = learning.therapist_draws(state, ids, seed=42)
    assert learning.therapist_draws(state, ids, seed=42).tolist() == first.tolist()
    assert learning.therapist_draws(state, ids, seed=43).tolist() != first.tolist()


def test_therapists_without_data_are_drawn_with_the_priors_spread():
    state = _state(ids=[1], counts=[50], sums=[0.5])
    draws = learning.therapist_draws(state, np.arange(10_000, 30_000), seed=7)
    assert draws.mean() == pytest.approx(0.0, abs=0.003)
    assert draws.std() == pytest.approx(math.sqrt(0.01), rel=0.03)


def test_a_therapist_with_fifty_outcomes_is_drawn_narrowly_around_its_shrunk_mean():
    # n = 50, S = 0.5: mean 0.5 / (50 + 4) = 0.009259; sd = sqrt(1 / (50/0.04 + 100)) = 0.02722.
    state = _state(ids=[1, 2], counts=[50, 0], sums=[0.5, 0.0])
    many = np.array(
        [learning.therapist_draws(state, np.array([1, 2]), seed=s) for s in range(4000)]
    )
    assert many[:, 0].mean() == pytest.approx(0.5 / 54, abs=0.002)
    assert many[:, 0].std() == pytest.approx(math.sqrt(1 / 1350), rel=0.06)
    # A row with count 0 is the prior, like no row at all.
    assert many[:, 1].std() == pytest.approx(0.1, rel=0.06)
    assert many[:, 0].std() < many[:, 1].std() / 3


def test_the_lookup_table_and_the_sorted_search_give_the_same_draws(monkeypatch):
    rng = np.random.default_rng(5)
    ids = np.sort(rng.choice(50_000, 2_000, replace=False)) + 1
    state = _state(ids=ids, counts=rng.integers(1, 30, ids.size), sums=rng.normal(0, 1, ids.size))
    asked = rng.permutation(np.arange(1, 60_000))
    by_table = learning.therapist_draws(state, asked, seed=11)
    monkeypatch.setattr(learning.model, "MAX_TABLE_ID", 0)
    searched = _state(ids=ids, counts=state.effect_counts, sums=state.effect_sums)
    assert learning.therapist_draws(searched, asked, seed=11).tolist() == by_table.tolist()


# --- features the client did not choose --------------------------------------------------------


@pytest.mark.usefixtures("reference_data")
def test_a_characteristic_the_client_did_not_choose_is_zero_and_cannot_move_the_prediction():
    woman = make_therapist(concerns=["anxiety"], gender_category="woman")
    man = make_therapist(concerns=["anxiety"], gender_category="man")
    index = current_index()
    unchosen = fit_answers(concerns=["anxiety"])
    chosen = fit_answers(
        concerns=["anxiety"],
        preferences={"gender": Preference(Weight.IMPORTANT, ("woman",))},
    )
    for therapist in (woman, man):
        inputs = learning.pair_inputs(answers=unchosen, therapist_id=therapist.pk, index=index)
        assert inputs[GENDER] == 0
        assert inputs[CONCERNS] == 1  # the one concern listed: degree 1 → 2·1 − 1
    assert learning.pair_inputs(answers=chosen, therapist_id=woman.pk, index=index)[GENDER] == 1
    assert learning.pair_inputs(answers=chosen, therapist_id=man.pk, index=index)[GENDER] == -1

    # Train where matching the chosen gender predicts a far better alliance.
    rng = np.random.default_rng(9)
    sums = learning.ModelSums()
    for _ in range(400):
        x = np.zeros(D)
        x[GENDER] = rng.choice([-1.0, 1.0])
        sums.add(inputs=x, alliance=0.6 + 0.3 * x[GENDER], therapist_id=int(rng.integers(1, 50)))
    state = sums.state()
    assert state.coefficients[GENDER] == pytest.approx(0.3, abs=0.01)
    rows, _ = index.locate(np.array([woman.pk, man.pk]))
    unchosen_prediction = learning.predict(
        state, features.model_inputs(features.degrees(unchosen, index, rows)), np.zeros(2)
    )
    assert unchosen_prediction[0] == unchosen_prediction[1]
    chosen_prediction = learning.predict(
        state, features.model_inputs(features.degrees(chosen, index, rows)), np.zeros(2)
    )
    assert chosen_prediction[0] - chosen_prediction[1] == pytest.approx(0.6, abs=0.02)


def test_an_unchosen_feature_learns_nothing_from_outcomes():
    # Every outcome with the gender input 0 (never chosen), whatever the alliance: its
    # coefficient stays exactly at the prior's 0.
    rng = np.random.default_rng(2)
    sums = learning.ModelSums()
    for _ in range(200):
        x = rng.uniform(-1, 1, D)
        x[GENDER] = 0.0
        sums.add(inputs=x, alliance=rng.uniform(), therapist_id=1)
    assert sums.state().coefficients[GENDER] == 0.0


# --- end to end through care -------------------------------------------------------------------


def _open(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


def _attend(engagement: Engagement) -> None:
    care_services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=2),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )


def _answer(engagement, answers, capture) -> None:
    with capture(execute=True):
        care_services.check_in_answer(check_in=_open(engagement), answers=answers)


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def pair(reference_data):
    """A client with a fit profile (anxiety) and an engagement with a therapist who lists it."""
    therapist = make_therapist(concerns=["anxiety"])
    profile = fit_profile(concerns=["anxiety"])
    engagement = make_engagement(client=profile.owner, therapist=therapist)
    return engagement


def test_the_fit_check_and_an_early_alliance_answer_each_become_one_encrypted_outcome(
    pair, django_capture_on_commit_callbacks
):
    engagement = pair
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    outcome = MatchOutcome.objects.select_related("check_in_part").get()
    assert outcome.check_in_part is not None
    assert outcome.check_in_part.purpose == Purpose.FIT  # the progress part is no outcome
    assert outcome.therapist_id == engagement.therapist_id
    assert json.loads(outcome.alliance) == pytest.approx(FIT_ON_0_TO_1)
    stored = json.loads(outcome.features)
    assert stored.pop("concerns") == 1.0
    # The pair's preference score: the one concern chosen, listed by the therapist.
    assert stored.pop("preference_score") == 1.0
    assert set(stored) == set(learning.FEATURES) - {"concerns"}
    assert all(value == 0.0 for value in stored.values())
    for column in ("alliance", "features"):
        raw = _raw("matching_matchoutcome", column, outcome.pk)
        assert "0.75" not in raw
        assert "concerns" not in raw

    # Version 1 from the priors, with one outcome in its sums; the residual is against the
    # prior mean: 0.75 − 0.7 = 0.05.
    model = MatchModel.objects.get()
    assert (model.version, model.parameters["count"]) == (1, 1)
    assert model.parameters["sum_y"] == pytest.approx(FIT_ON_0_TO_1)
    effect = TherapistEffect.objects.get(model=model)
    assert (effect.therapist_id, effect.count) == (engagement.therapist_id, 1)
    assert effect.residual_sum == pytest.approx(FIT_ON_0_TO_1 - learning.MEAN_PRIOR)
    state = learning.current_model()
    assert state.version == 1
    assert state.effect_ids.tolist() == [engagement.therapist_id]

    _attend(engagement)
    _answer(engagement, {"alliance": ALLIANCE}, django_capture_on_commit_callbacks)
    second = MatchOutcome.objects.exclude(pk=outcome.pk).get()
    assert second.check_in_part is not None
    assert second.check_in_part.purpose == Purpose.ALLIANCE
    assert json.loads(second.alliance) == pytest.approx(ALLIANCE_ON_0_TO_1)
    model.refresh_from_db()
    assert model.parameters["count"] == 2
    assert model.parameters["sum_y"] == pytest.approx(FIT_ON_0_TO_1 + ALLIANCE_ON_0_TO_1)
    effect.refresh_from_db()
    assert effect.count == 2
    # The ranking's next read follows the answer (at once in a process with no cached state;
    # within MODEL_MAX_AGE_SECONDS in one that has it).
    learning.model_cache_clear()
    assert learning.current_model().effect_counts.tolist() == [2]
    # Recording the same part again changes nothing.
    assert learning.outcome_record(part=second.check_in_part, now=timezone.now()) == second
    model.refresh_from_db()
    assert model.parameters["count"] == 2


def test_only_the_alliance_check_ins_after_sessions_1_to_3_are_outcomes(
    pair, django_capture_on_commit_callbacks
):
    engagement = pair
    by_purpose = {"fit": FIT, "alliance": ALLIANCE, "progress": PROGRESS}
    for attended in range(5):
        if attended:
            _attend(engagement)
        asked = _open(engagement).parts.values_list("purpose", flat=True)
        _answer(
            engagement,
            {purpose: by_purpose[purpose] for purpose in asked},
            django_capture_on_commit_callbacks,
        )
    # The fit check, and the alliance after sessions 1, 2 and 3; not after 4, no progress.
    recorded = MatchOutcome.objects.values_list(
        "check_in_part__purpose", "check_in_part__check_in__after_session"
    )
    assert sorted(recorded) == [("alliance", 1), ("alliance", 2), ("alliance", 3), ("fit", 0)]
    answered_alliance = CheckInPart.objects.filter(
        purpose=Purpose.ALLIANCE, check_in__status=CheckInStatus.COMPLETED
    )
    assert answered_alliance.count() == 4


def test_a_client_without_a_fit_profile_gives_no_outcome(
    reference_data, django_capture_on_commit_callbacks
):
    engagement = make_engagement(therapist=make_therapist(concerns=["anxiety"]))
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    assert not MatchOutcome.objects.exists()
    assert not MatchModel.objects.exists()
    assert learning.current_model().version == 0


def test_a_failing_hook_never_loses_the_answer_nor_logs_what_it_said(
    pair, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def failing(check_in, now):
        raise RuntimeError("the client answered 4 and 5")

    # Named to run before matching's hook, which must still run.
    monkeypatch.setitem(hooks._check_in_answered_hooks, "a_failing_hook", failing)
    engagement = pair
    with caplog.at_level(logging.ERROR, logger="rapport.care.hooks"):
        _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    check_in = CheckIn.objects.get(engagement=engagement, after_session=0)
    assert check_in.status == CheckInStatus.COMPLETED
    assert all(part.scores for part in check_in.parts.all())
    assert MatchOutcome.objects.count() == 1
    assert "a_failing_hook" in caplog.text
    assert "RuntimeError" in caplog.text
    assert "answered 4" not in caplog.text


def test_a_failing_learning_step_keeps_the_answer(
    pair, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**kwargs):
        raise ValueError("model broken")

    monkeypatch.setattr(learning.outcomes, "_record", broken)
    engagement = pair
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    assert CheckIn.objects.get(engagement=engagement, after_session=0).completed_at is not None
    assert not MatchOutcome.objects.exists()


def test_the_command_backfills_earlier_answers_and_trains_a_new_version(
    reference_data, django_capture_on_commit_callbacks
):
    therapist = make_therapist(concerns=["anxiety"])
    engagement = make_engagement(therapist=therapist)
    # Answered before the client had a fit profile: no outcome then.
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    assert not MatchOutcome.objects.exists()
    fit_profile(owner=engagement.client, concerns=["anxiety"])

    out = io.StringIO()
    call_command("retrain_matcher", stdout=out)
    # Backfilling made version 1 (from the priors) and the retrain version 2.
    model = MatchModel.objects.order_by("-version")[0]
    assert (model.version, model.trained_on) == (2, 1)
    assert "v2" in out.getvalue()
    assert "1 newly recorded" in out.getvalue()
    assert "weighs 1.00 × the preference score" in out.getvalue()
    assert MatchOutcome.objects.count() == 1
    effect = TherapistEffect.objects.get(model=model)
    assert effect.count == 1
    # One outcome: the ridge mean is (0.75 + 0.7 · 1) / 2 over the intercept (inputs: concerns
    # 1); residual against the new fit, as stored.
    state = learning.current_model()
    assert state.version == 2
    inputs, alliance = learning.outcome_values(MatchOutcome.objects.get())
    predicted = state.mean + inputs @ state.coefficients
    assert effect.residual_sum == pytest.approx(alliance - predicted)

    # The outcome recorded its pair's preference score (the one concern, listed) and the
    # version what its weight was estimated from: one outcome is too few, so the prior.
    assert json.loads(MatchOutcome.objects.get().features)["preference_score"] == 1.0
    assert model.parameters["calibration"]["outcomes"] == 1
    assert state.learned_weight == learning.LEARNED_WEIGHT_PRIOR

    # Again: nothing to backfill, one more version.
    again = io.StringIO()
    call_command("retrain_matcher", stdout=again)
    assert MatchModel.objects.order_by("-version")[0].version == 3
    assert "0 newly recorded" in again.getvalue()


def test_the_cached_model_costs_one_query_while_unchanged(pair, django_assert_num_queries):
    learning.current_model()
    with django_assert_num_queries(1):
        learning.current_model()


# --- an engagement ended as not the right fit --------------------------------------------------


def test_an_engagement_ended_as_not_the_right_fit_is_one_poor_outcome(pair):
    engagement = pair
    care_services.engagement_end_not_right_fit(engagement=engagement, by="client")
    engagement.refresh_from_db()
    now = timezone.now()
    matching_services.misfit_feedback_record(
        owner=engagement.client,
        engagement=engagement,
        reasons=[MisfitReason.FELT_JUDGED],
        now=now,
    )
    outcome = MatchOutcome.objects.get()
    assert outcome.engagement_id == engagement.pk
    assert outcome.check_in_part is None
    assert json.loads(outcome.alliance) == learning.MISFIT_ALLIANCE
    effect = TherapistEffect.objects.get()
    assert effect.residual_sum == pytest.approx(learning.MISFIT_ALLIANCE - learning.MEAN_PRIOR)
    # Feedback again: the same outcome, nothing added.
    matching_services.misfit_feedback_record(
        owner=engagement.client,
        engagement=engagement,
        reasons=[MisfitReason.TOO_DIRECTIVE],
        now=now,
    )
    assert learning.misfit_record(engagement=engagement, now=now) == outcome
    assert MatchOutcome.objects.count() == 1
    assert MatchModel.objects.get().parameters["count"] == 1
    effect.refresh_from_db()
    assert effect.count == 1


def test_a_misfit_outcome_records_the_pairs_score_without_its_own_feedbacks_lean(pair):
    """ "Too expensive" joins the profile just before the engagement's poor outcome is
    recorded; leaned, the one therapist would score 0.5 (the fee component at 0), tying the
    low score to this very outcome. The recorded score is what the person said: one concern,
    listed, 1.0."""
    engagement = pair
    care_services.engagement_end_not_right_fit(engagement=engagement, by="client")
    engagement.refresh_from_db()
    matching_services.misfit_feedback_record(
        owner=engagement.client,
        engagement=engagement,
        reasons=[MisfitReason.TOO_EXPENSIVE],
        now=timezone.now(),
    )
    stored = json.loads(MatchOutcome.objects.get().features)
    assert stored["preference_score"] == 1.0


@pytest.mark.usefixtures("reference_data")
def test_the_recorded_preference_score_is_what_ranking_shows_for_the_pair(monkeypatch):
    """Without leans the score an outcome records is the ranking's own for the same pair at
    the same moment (the fit shown on the card), for each therapist of a small list."""
    from rapport.matching import ranking
    from rapport.matching.preference import pair_preference

    state = learning.prior_state()
    monkeypatch.setattr(learning, "current_model", lambda: state)
    make_therapist(
        display_name="A", concerns=["anxiety", "grief"], languages=["pa"], style_structure=2
    )
    make_therapist(display_name="B", concerns=["anxiety"], languages=["en"], style_structure=4)
    make_therapist(display_name="C", concerns=[], languages=["en"], style_structure=5)
    answers = fit_answers(
        concerns=("anxiety", "grief"),
        preferences={"language": Preference(Weight.NICE_TO_HAVE, ("pa",))},
        style={"style_structure": 2},
        style_weight=Weight.IMPORTANT,
    )
    now = timezone.now()
    matches = ranking.rank(answers=answers, now=now, seed=7, page_size=50).matches
    assert len(matches) == 3
    index = current_index()
    scores = {
        match.therapist_id: pair_preference(
            answers=answers, therapist_id=match.therapist_id, index=index, now=now
        )
        for match in matches
    }
    assert scores == {
        match.therapist_id: pytest.approx(match.preference_score) for match in matches
    }
    assert len(set(scores.values())) == 3
    assert pair_preference(answers=answers, therapist_id=10**9, index=index, now=now) is None


def test_the_owner_sees_who_read_an_outcome_of_either_kind(
    pair, rf, django_capture_on_commit_callbacks
):
    """A misfit outcome has no check-in, only its engagement: it still names its owner, so a
    read of it shows on the person's "who viewed my data" list, as a check-in's outcome does."""
    from django.contrib.auth.models import AnonymousUser

    from rapport.core.audit import audit_entries_about_user, audit_read

    engagement = pair
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    care_services.engagement_end_not_right_fit(engagement=engagement, by="client")
    engagement.refresh_from_db()
    learning.misfit_record(engagement=engagement, now=timezone.now())
    outcomes = list(MatchOutcome.objects.order_by("pk"))
    assert [outcome.engagement_id is None for outcome in outcomes] == [True, False]
    request = rf.get("/")
    request.user = AnonymousUser()
    for outcome in outcomes:
        audit_read(request=request, instance=outcome, reason="review")
    seen = {entry.object_pk for entry in audit_entries_about_user(user=engagement.client)}
    assert {str(outcome.pk) for outcome in outcomes} <= seen
    assert not {
        entry.object_pk for entry in audit_entries_about_user(user=make_user(role="client"))
    }


def test_an_engagement_that_ended_otherwise_is_no_misfit_outcome(pair):
    engagement = pair
    care_services.engagement_end(engagement=engagement, by="client", reason="Moving away")
    engagement.refresh_from_db()
    assert learning.misfit_record(engagement=engagement, now=timezone.now()) is None
    assert not MatchOutcome.objects.exists()


# --- export and erasure ------------------------------------------------------------------------


def test_the_outcomes_are_exported_and_go_with_the_account(
    pair, django_capture_on_commit_callbacks
):
    engagement = pair
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    care_services.engagement_end_not_right_fit(engagement=engagement, by="client")
    engagement.refresh_from_db()
    learning.misfit_record(engagement=engagement, now=timezone.now())
    exported = learning.outcomes_export(engagement.client)
    assert [row["source"] for row in exported] == [
        "fit check",
        "engagement ended as not the right fit",
    ]
    assert exported[0]["alliance_0_to_1"] == FIT_ON_0_TO_1
    assert exported[0]["match_features"]["concerns"] == 1.0
    assert exported[0]["preference_score_0_to_1"] == 1.0
    assert learning.outcomes_export(make_user(role="client")) == []

    account_delete(user=engagement.client)
    assert not MatchOutcome.objects.exists()
    # The sums keep the aggregate until the next retrain, which drops it.
    assert MatchModel.objects.get().parameters["count"] == 2
    assert learning.model_retrain(now=timezone.now()).trained_on == 0


def test_forgetting_removes_only_that_persons_outcomes(pair, django_capture_on_commit_callbacks):
    engagement = pair
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    other = make_engagement(
        client=fit_profile(concerns=["anxiety"]).owner, therapist=engagement.therapist
    )
    _answer(other, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    assert learning.outcomes_forget(user=engagement.client) == 1
    kept = MatchOutcome.objects.get().check_in_part
    assert kept is not None
    assert kept.check_in.engagement_id == other.pk


@pytest.mark.django_db
def test_a_retrain_with_no_outcomes_is_the_prior():
    model = learning.model_retrain(now=timezone.now())
    assert (model.version, model.trained_on) == (1, 0)
    assert model.parameters["mean"] == learning.MEAN_PRIOR
    assert model.parameters["noise_variance"] == learning.NOISE_VARIANCE_PRIOR
    assert model.parameters["effect_variance"] == learning.EFFECT_VARIANCE_PRIOR
    state = learning.current_model()
    assert state.version == 1
    assert np.all(state.coefficients == 0)


def test_deleting_the_fit_profile_removes_the_outcomes_built_from_it(
    pair, django_capture_on_commit_callbacks
):
    from rapport.matching import services

    engagement = pair
    _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    other = make_engagement(
        client=fit_profile(concerns=["anxiety"]).owner, therapist=engagement.therapist
    )
    _answer(other, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    assert MatchOutcome.objects.count() == 2
    services.fit_profile_delete(profile=engagement.client.fit_profile)
    kept = MatchOutcome.objects.get().check_in_part
    assert kept is not None
    assert kept.check_in.engagement_id == other.pk
    # The care data itself stays: only what matching derived from the profile goes.
    assert engagement.check_ins.count() >= 1


def test_answers_under_the_same_version_are_followed_within_the_max_age(
    pair, django_capture_on_commit_callbacks, monkeypatch
):
    _answer(pair, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    first = learning.current_model()
    other = make_engagement(
        client=fit_profile(concerns=["anxiety"]).owner, therapist=pair.therapist
    )
    _answer(other, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    # Same version, newer sums: the cached state is kept while young...
    assert learning.current_model() is first
    # ... and read again once older than the limit.
    monkeypatch.setattr(learning.versions, "MODEL_MAX_AGE_SECONDS", 0.0)
    newer = learning.current_model()
    assert newer is not first
    assert newer.version == first.version
    assert int(newer.effect_counts.sum()) == int(first.effect_counts.sum()) + 1
    # A retrain (a new version) is read at once, whatever the age.
    monkeypatch.setattr(learning.versions, "MODEL_MAX_AGE_SECONDS", 3600.0)
    learning.model_retrain(now=timezone.now())
    assert learning.current_model().version == newer.version + 1


def test_housekeeping_retrains_once_a_day_only_when_answers_came_since(
    pair, django_capture_on_commit_callbacks
):
    from rapport.core.housekeeping import housekeeping_steps

    assert "matching models retrained" in dict(housekeeping_steps())
    start = timezone.now()
    assert learning.model_retrain_if_due(now=start) == 0  # no model yet: nothing to do
    _answer(pair, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
    first = MatchModel.objects.get()
    # Version 1 was made by that answer just now: not a day old yet.
    assert learning.model_retrain_if_due(now=start + dt.timedelta(hours=23)) == 0
    assert learning.model_retrain_if_due(now=start + dt.timedelta(hours=25)) == 1
    retrained = MatchModel.objects.order_by("-version").first()
    assert retrained is not None
    assert retrained.version == first.version + 1
    assert retrained.trained_on == 1
    # A day later with no answer since: nothing to learn, nothing done.
    assert learning.model_retrain_if_due(now=start + dt.timedelta(hours=50)) == 0
    assert MatchModel.objects.count() == 2


# --- the update's own statements ---------------------------------------------------------------


def _entry_content(entry) -> dict:
    """Every column of an audit entry but its own id and time."""
    return {
        field.attname: getattr(entry, field.attname)
        for field in type(entry)._meta.concrete_fields
        if field.attname not in ("id", "timestamp")
    }


def test_an_outcome_is_audited_exactly_as_auditlogs_own_receiver_audits_a_created_record(
    pair, django_capture_on_commit_callbacks
):
    from auditlog.context import set_actor
    from auditlog.models import LogEntry
    from auditlog.receivers import log_create
    from django.contrib.contenttypes.models import ContentType

    from rapport.core.audit import HEALTH_DATA_MASK

    engagement = pair
    client = engagement.client
    with set_actor(client, remote_addr="203.0.113.7"):
        _answer(engagement, {"fit": FIT, "progress": PROGRESS}, django_capture_on_commit_callbacks)
        outcome = MatchOutcome.objects.get()
        entries = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(MatchOutcome)
        )
        written = entries.get()
        # The reference: the library's receiver on the same record, through the ORM's save.
        log_create(sender=MatchOutcome, instance=outcome, created=True)
    reference = entries.exclude(pk=written.pk).get()
    assert _entry_content(written) == _entry_content(reference)
    # And what that content is, read independently: a create by the client, from their
    # address, naming the record by model and id, with the answers masked (the "before" too).
    assert written.action == LogEntry.Action.CREATE
    assert (written.actor_id, written.remote_addr) == (client.pk, "203.0.113.7")
    assert written.object_pk == str(outcome.pk)
    assert written.object_repr == f"match outcome {outcome.pk}"
    assert written.changes["features"] == [HEALTH_DATA_MASK, HEALTH_DATA_MASK]
    assert written.changes["alliance"] == [HEALTH_DATA_MASK, HEALTH_DATA_MASK]
    assert not {0.75, "0.75"} & set(leaves(written.changes))


def test_nothing_but_auditlog_listens_to_an_outcomes_save():
    # The update inserts outcomes with its own statement: a receiver added to their saves one
    # day would be skipped, so it must be added there too.
    modules = learning.statements.save_receivers(MatchOutcome)
    assert modules
    assert all(module.startswith("auditlog.") for module in modules), modules


def test_an_update_with_auditlog_switched_off_writes_no_entry(pair):
    from auditlog.context import disable_auditlog
    from auditlog.models import LogEntry

    part = _fit_part_answered_without_the_hook(pair)
    before = LogEntry.objects.count()
    with disable_auditlog():
        assert learning.outcome_record(part=part, now=timezone.now()) is not None
    assert LogEntry.objects.count() == before


def _fit_part_answered_without_the_hook(engagement: Engagement) -> CheckInPart:
    saved = dict(hooks._check_in_answered_hooks)
    hooks._check_in_answered_hooks.clear()
    try:
        care_services.check_in_answer(
            check_in=_open(engagement), answers={"fit": FIT, "progress": PROGRESS}
        )
    finally:
        hooks._check_in_answered_hooks.update(saved)
    return CheckInPart.objects.select_related("check_in__engagement", "instrument").get(
        check_in__engagement=engagement, purpose=Purpose.FIT
    )


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's in-memory test database refuses a second writer instead of making it wait",
)
# serialized_rollback: the tables are emptied afterwards, and the jurisdictions a migration
# loads must come back for the tests after this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_answers_for_one_therapist_at_once_both_count(reference_data):
    """Two threads (two connections) record an outcome for the same therapist at the same
    moment: the model row's lock makes the second wait for the first, so both are in the sums
    and the second's residual is against the sums with the first in them."""
    import threading

    from django.db import connections

    therapist = make_therapist(concerns=["anxiety"])
    parts = []
    for _ in range(3):
        profile = fit_profile(concerns=["anxiety"])
        engagement = make_engagement(client=profile.owner, therapist=therapist)
        parts.append(_fit_part_answered_without_the_hook(engagement))
    # Version 1 and the therapist's row exist first: the race is over adding to them.
    learning.outcome_record(part=parts.pop(), now=timezone.now())
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def record(part: CheckInPart) -> None:
        try:
            start.wait(timeout=10)
            learning.outcome_record(part=part, now=timezone.now())
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    model = MatchModel.objects.get()
    assert model.parameters["count"] == 3
    assert model.parameters["sum_y"] == pytest.approx(3 * FIT_ON_0_TO_1)
    effect = TherapistEffect.objects.get(model=model)
    assert effect.count == 3
    # By hand: three outcomes with inputs (concerns = 1, the rest 0) and answer 0.75. Before
    # the n-th (n = 0, 1, 2) the ridge solves [[n + 1, n], [n, n + 1]] · [m, c] =
    # [0.7 + 0.75n, 0.75n], predicting m + c: n = 0: 0.7, residual 0.05; n = 1: m = 2.15/3,
    # c = 0.05/3, residual 0.75 − 2.2/3 = 0.05/3; n = 2: m = 0.72, c = 0.02, residual 0.01.
    assert effect.residual_sum == pytest.approx(0.05 + 0.05 / 3 + 0.01)
    assert MatchOutcome.objects.count() == 3


def test_the_spread_scales_each_draw_around_its_posterior_mean():
    sums = learning.ModelSums()
    for _ in range(20):
        sums.add(inputs=np.zeros(len(learning.FEATURES)), alliance=0.9, therapist_id=1)
        sums.add(inputs=np.zeros(len(learning.FEATURES)), alliance=0.5, therapist_id=2)
    state = sums.state(version=1)
    ids = np.array([1, 2, 3])  # 3 has no data: drawn from the prior
    full = learning.therapist_draws(state, ids, seed=5)
    half = learning.therapist_draws(state, ids, seed=5, spread=0.5)
    means = learning.therapist_draws(state, ids, seed=5, spread=0.0)
    assert means[2] == 0.0
    assert means[0] == pytest.approx(state.effect_of(1)[0])
    assert half - means == pytest.approx((full - means) / 2)
