"""The learned model's maths: early alliance predicted from client × therapist features.

**What is predicted.** An outcome is an early answer about one (client's fit profile, therapist)
pair: a fit check, or an alliance check-in after sessions 1–3 (``care.signals.EARLY_SESSIONS``),
its total rescaled to 0–1 by the instrument's lowest and highest possible totals (flipped when
the instrument says higher is worse); or an engagement the client ended as not the right fit,
recorded once as ``outcomes.MISFIT_ALLIANCE``. The model is

    alliance ≈ mean + coefficients · x + b_therapist

with ``x = features.model_inputs(features.degrees(answers, index, rows))``: 2·degree − 1 for each
preference the client chose to match on, and 0 for every other one. A 0 input contributes
nothing whatever its coefficient, so a characteristic the client did not choose never moves
their prediction, and their outcomes never teach a coefficient about it either (a 0 input adds
nothing to that coefficient's sums).

**The shared part** is ridge regression with an intercept column, from running sums: with
``z = [1, x]``, ``xtx = Σ z zᵀ`` and ``xty = Σ z y``, the parameters are

    [mean, coefficients] = solve(xtx + ridge·I, xty + ridge·[MEAN_PRIOR, 0, …, 0])

i.e. one pseudo-outcome pulling the mean toward ``MEAN_PRIOR`` and each coefficient toward 0.
With no data that gives ``MEAN_PRIOR`` and zero coefficients. Each outcome adds to the sums, so
the shared part follows every answer at once; the sums are all that is kept (``MatchModel``).
Therapist effects are noise to this part: it is unbiased when they are unrelated to the
features, and a retrain refits it from every stored outcome.

**Therapist effects** are shrunk toward 0 (empirical Bayes): a therapist with ``n`` outcomes
whose residuals (answer − the shared prediction when it was recorded) add up to ``S`` has

    posterior mean     = S / (n + σ²/τ²)
    posterior variance = 1 / (n/σ² + 1/τ²)

with σ² the noise variance of one answer and τ² the variance of effects between therapists
(priors ``NOISE_VARIANCE_PRIOR``, ``EFFECT_VARIANCE_PRIOR`` until a retrain estimates them by
the method of moments, each floored so it never reaches 0). A therapist with no outcomes has
the prior: mean 0, variance τ².

**How much the learned part weighs** next to the preference score (``learned_weight``) is
estimated at each retrain from stored outcomes that recorded their pair's preference score
(``learned_weight_of``): a stacked regression of the answers on two predictors, the preference
score and the learned prediction of the same pair made without that answer (the shared part's
exact leave-one-out prediction and the therapist's effect from their other answers). The
ratio of the slopes puts the learned part in the preference score's units; it is shrunk
toward 1 (the two on one 0–1 scale) as far as the slopes are uncertain, and bounded so that
neither part weighs more than ``LEARNED_WEIGHT_BOUND`` times the other (a person's stated
preferences always keep a say). Answers between two retrains do not move it.

**Exploration** is Thompson sampling: ranking draws each therapist's effect from its posterior
(``therapist_draws``) with a seed that stays the same for one person all day, so a list does
not jump on reload, while a therapist with no data is drawn as widely as the prior says and
sometimes rises: new therapists are not starved.

This module is the maths alone, in memory (``SharedFit``, ``ModelSums``, ``ModelState``,
``predict``, ``therapist_draws``, ``fit``): the database-backed modules beside it
(``outcomes``, ``versions``) and the simulation (``bench/matching_simulation.py``, without a
database) both use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rapport.matching.features import FEATURES

# Priors on the 0–1 alliance scale, used until a retrain estimates the variances from data.
NOISE_VARIANCE_PRIOR = 0.04  # one answer around its pair's true value: sd 0.2
EFFECT_VARIANCE_PRIOR = 0.01  # therapists around the shared prediction: sd 0.1
MEAN_PRIOR = 0.7  # an early answer with nothing known: most first alliances are fairly good
RIDGE = 1.0  # one pseudo-outcome's worth of pull toward the prior, per parameter
# Floors for the method-of-moments estimates: a variance of 0 would make every therapist's
# effect certain (no exploration) or infinitely shrunk.
NOISE_VARIANCE_FLOOR = 1e-3
EFFECT_VARIANCE_FLOOR = 1e-4
# The learned part's weight next to the preference score: 1 until a retrain estimates it; never
# more than this many times the preference score's, nor less than its inverse.
LEARNED_WEIGHT_PRIOR = 1.0
LEARNED_WEIGHT_BOUND = 3.0
# The learned weight moves from 1 only as far as the outcomes show with this posterior
# probability (``learned_weight_of``), over these fixed draws of two standard normals.
WEIGHT_CREDIBILITY = 0.99
_SLOPE_DRAWS = np.random.default_rng(20261207).standard_normal((4000, 2))
# Each stacked slope's prior: N(0, 0.5²), in alliance (0-1) per unit of a 0-1 score: a slope
# of 0.5, half the alliance scale across the whole score, is already a strong predictor.
SLOPE_PRIOR_VARIANCE = 0.25
# Per-id lookup tables up to this id (two float arrays of 8 bytes per id: 32 MB at most);
# past it the draws search the sorted ids instead (a few milliseconds more).
MAX_TABLE_ID = 2_000_000


class SharedFit:
    """The shared part's running sums (intercept first) and its ridge solution."""

    def __init__(
        self,
        *,
        features: Sequence[str] = FEATURES,
        ridge: float = RIDGE,
        mean_prior: float = MEAN_PRIOR,
        xtx: np.ndarray | None = None,
        xty: np.ndarray | None = None,
    ) -> None:
        self.features = tuple(features)
        size = len(self.features) + 1
        self.ridge = float(ridge)
        self.mean_prior = float(mean_prior)
        self.xtx = np.zeros((size, size)) if xtx is None else np.array(xtx, dtype=np.float64)
        self.xty = np.zeros(size) if xty is None else np.array(xty, dtype=np.float64)
        if self.xtx.shape != (size, size) or self.xty.shape != (size,):
            raise ValueError("The sums do not match the features.")
        self._solution: np.ndarray | None = None

    @property
    def count(self) -> int:
        return round(float(self.xtx[0, 0]))

    @property
    def sum_y(self) -> float:
        return float(self.xty[0])

    def solution(self) -> np.ndarray:
        """[mean, coefficients…] from the sums (cached until the next ``add``)."""
        if self._solution is None:
            size = self.xty.size
            prior = np.zeros(size)
            prior[0] = self.mean_prior
            self._solution = np.linalg.solve(
                self.xtx + self.ridge * np.eye(size), self.xty + self.ridge * prior
            )
        return self._solution

    def predict(self, inputs: np.ndarray) -> np.ndarray | float:
        """The shared prediction for one input vector (a float) or rows of them."""
        solution = self.solution()
        value = solution[0] + np.asarray(inputs, dtype=np.float64) @ solution[1:]
        return float(value) if np.ndim(value) == 0 else np.asarray(value)

    def add(self, *, inputs: np.ndarray, alliance: float) -> float:
        """Add one outcome; returns its residual against the prediction *before* adding it
        (what the therapist's effect sums)."""
        z = np.concatenate(([1.0], np.asarray(inputs, dtype=np.float64)))
        if z.size != self.xty.size:
            raise ValueError("The inputs do not match the features.")
        residual = float(alliance) - float(self.predict(z[1:]))
        self.xtx += np.outer(z, z)
        self.xty += z * float(alliance)
        self._solution = None
        return residual


@dataclass(frozen=True)
class Calibration:
    """How much the learned part weighs next to the preference score (``weight``), and what
    it was estimated from: the number of outcomes and the stacked regression's two slopes
    (None before any estimate). Stored with the version, for staff to read."""

    weight: float = LEARNED_WEIGHT_PRIOR
    outcomes: int = 0
    preference_slope: float | None = None
    learned_slope: float | None = None
    # The slopes' posterior standard deviations.
    preference_slope_sd: float | None = None
    learned_slope_sd: float | None = None


@dataclass(frozen=True, eq=False)
class ModelState:
    """One model version, ready to rank with: the shared part and every therapist's sums.

    ``effect_ids`` is sorted; ``effect_counts`` and ``effect_sums`` follow it. The posterior of
    each therapist's effect (``effect_means``, ``effect_sds``) is computed once per state."""

    version: int
    mean: float
    coefficients: np.ndarray
    noise_variance: float
    effect_variance: float
    effect_ids: np.ndarray
    effect_counts: np.ndarray
    effect_sums: np.ndarray
    features: tuple[str, ...] = FEATURES
    learned_weight: float = LEARNED_WEIGHT_PRIOR
    effect_means: np.ndarray = field(init=False, repr=False, compare=False)
    effect_sds: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        counts = np.asarray(self.effect_counts, dtype=np.float64)
        sums = np.asarray(self.effect_sums, dtype=np.float64)
        means, variances = posterior(
            count=counts,
            residual_sum=sums,
            noise_variance=self.noise_variance,
            effect_variance=self.effect_variance,
        )
        object.__setattr__(self, "effect_means", np.asarray(means, dtype=np.float64))
        object.__setattr__(self, "effect_sds", np.sqrt(np.asarray(variances, dtype=np.float64)))

    @property
    def prior_sd(self) -> float:
        return math.sqrt(self.effect_variance)

    def posterior_of(self, therapist_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(posterior means, posterior sds) of the given therapists' effects, the prior's
        (0, τ) for those without outcomes."""
        ids = np.asarray(therapist_ids, dtype=np.int64)
        tables = self._tables()
        if tables is not None:
            # Ids past the largest one with outcomes land on the last entry: the prior.
            means_by_id, sds_by_id = tables
            at = np.minimum(ids, means_by_id.size - 1)
            return means_by_id[at], sds_by_id[at]
        if self.effect_ids.size == 0:
            return np.zeros(ids.size), np.full(ids.size, self.prior_sd)
        positions = np.searchsorted(self.effect_ids, ids)
        np.minimum(positions, self.effect_ids.size - 1, out=positions)
        known = self.effect_ids[positions] == ids
        return (
            np.where(known, self.effect_means[positions], 0.0),
            np.where(known, self.effect_sds[positions], self.prior_sd),
        )

    def _tables(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Posterior mean and sd indexed by therapist id (built once per state). A gather by
        id costs a fraction of a sorted search over 100,000 unsorted ids. None when the ids
        are too large for a table (then ``posterior_of`` searches instead)."""
        if self.effect_ids.size == 0 or int(self.effect_ids[-1]) > MAX_TABLE_ID:
            return None
        cached = self.__dict__.get("_by_id")
        if cached is None:
            size = int(self.effect_ids[-1]) + 2
            means_by_id = np.zeros(size)
            sds_by_id = np.full(size, self.prior_sd)
            means_by_id[self.effect_ids] = self.effect_means
            sds_by_id[self.effect_ids] = self.effect_sds
            cached = (means_by_id, sds_by_id)
            # Idempotent: two threads building it at once build the same arrays.
            object.__setattr__(self, "_by_id", cached)
        return cached

    def effect_of(self, therapist_id: int) -> tuple[float, float]:
        """(posterior mean, posterior sd) of one therapist's effect."""
        position = int(np.searchsorted(self.effect_ids, therapist_id))
        if position < self.effect_ids.size and self.effect_ids[position] == therapist_id:
            return float(self.effect_means[position]), float(self.effect_sds[position])
        return 0.0, self.prior_sd


def posterior(
    *,
    count: np.ndarray | float,
    residual_sum: np.ndarray | float,
    noise_variance: float,
    effect_variance: float,
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Empirical Bayes shrinkage: (mean, variance) of an effect given n outcomes and the sum of
    their residuals. ``S / (n + σ²/τ²)`` and ``1 / (n/σ² + 1/τ²)``; the prior (0, τ²) at n = 0."""
    mean = residual_sum / (count + noise_variance / effect_variance)
    variance = 1.0 / (count / noise_variance + 1.0 / effect_variance)
    return mean, variance


class ModelSums:
    """The whole model's running sums, in memory: the shared part and each therapist's count
    and residual sum. ``add`` one outcome at a time; ``state`` gives what ranking reads."""

    def __init__(
        self,
        *,
        features: Sequence[str] = FEATURES,
        noise_variance: float = NOISE_VARIANCE_PRIOR,
        effect_variance: float = EFFECT_VARIANCE_PRIOR,
        ridge: float = RIDGE,
        mean_prior: float = MEAN_PRIOR,
        shared: SharedFit | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.shared = shared or SharedFit(features=features, ridge=ridge, mean_prior=mean_prior)
        self.noise_variance = float(noise_variance)
        self.effect_variance = float(effect_variance)
        self.effects: dict[int, tuple[int, float]] = {}
        self.calibration = calibration or Calibration()

    @property
    def features(self) -> tuple[str, ...]:
        return self.shared.features

    def add(self, *, inputs: np.ndarray, alliance: float, therapist_id: int) -> float:
        """Record one outcome; returns its residual (the shared prediction before it)."""
        residual = self.shared.add(inputs=inputs, alliance=alliance)
        count, total = self.effects.get(int(therapist_id), (0, 0.0))
        self.effects[int(therapist_id)] = (count + 1, total + residual)
        return residual

    def state(self, version: int = 0) -> ModelState:
        ids = np.array(sorted(self.effects), dtype=np.int64)
        return self.state_with(
            version=version,
            effect_ids=ids,
            effect_counts=np.array([self.effects[i][0] for i in ids], dtype=np.int64),
            effect_sums=np.array([self.effects[i][1] for i in ids], dtype=np.float64),
        )

    def state_with(
        self,
        *,
        version: int,
        effect_ids: np.ndarray,
        effect_counts: np.ndarray,
        effect_sums: np.ndarray,
    ) -> ModelState:
        """The state from these shared sums and therapists' sums given as sorted arrays (how
        the database hands them over, without a dict of every therapist)."""
        solution = self.shared.solution()
        return ModelState(
            version=version,
            mean=float(solution[0]),
            coefficients=np.array(solution[1:], dtype=np.float64),
            noise_variance=self.noise_variance,
            effect_variance=self.effect_variance,
            effect_ids=effect_ids,
            effect_counts=effect_counts,
            effect_sums=effect_sums,
            features=self.features,
            learned_weight=self.calibration.weight,
        )

    def parameters(self) -> dict[str, Any]:
        """What ``MatchModel.parameters`` stores (therapist sums are rows of their own)."""
        solution = self.shared.solution()
        return {
            "features": list(self.features),
            "mean": float(solution[0]),
            "mean_prior": self.shared.mean_prior,
            "noise_variance": self.noise_variance,
            "effect_variance": self.effect_variance,
            "ridge": self.shared.ridge,
            "xtx": self.shared.xtx.tolist(),
            "xty": self.shared.xty.tolist(),
            "count": self.shared.count,
            "sum_y": self.shared.sum_y,
            "calibration": asdict(self.calibration),
        }

    @classmethod
    def from_parameters(
        cls, parameters: Mapping[str, Any], *, features: Sequence[str] = FEATURES
    ) -> ModelSums:
        """Sums stored by ``parameters``, in the order of ``features``: a feature the stored
        sums do not know starts at 0 (its coefficient stays at the prior until outcomes teach
        it), and one they know that is gone is dropped."""
        stored = list(parameters["features"])
        xtx = np.asarray(parameters["xtx"], dtype=np.float64)
        xty = np.asarray(parameters["xty"], dtype=np.float64)
        if stored != list(features):
            where = {name: position + 1 for position, name in enumerate(stored)}
            pick = [0] + [where.get(name, -1) for name in features]
            known = np.array([position >= 0 for position in pick])
            take = np.array([max(position, 0) for position in pick])
            xtx = np.where(np.outer(known, known), xtx[np.ix_(take, take)], 0.0)
            xty = np.where(known, xty[take], 0.0)
        shared = SharedFit(
            features=features,
            ridge=parameters["ridge"],
            mean_prior=parameters.get("mean_prior", MEAN_PRIOR),
            xtx=xtx,
            xty=xty,
        )
        return cls(
            noise_variance=parameters["noise_variance"],
            effect_variance=parameters["effect_variance"],
            shared=shared,
            # Versions stored before the weight was estimated had it at the prior.
            calibration=Calibration(**parameters.get("calibration", {})),
        )


def prior_state() -> ModelState:
    """The model before any outcome: the prior mean, no coefficients, every effect at its
    prior (version 0)."""
    return ModelSums().state(version=0)


def predict(state: ModelState, inputs: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Predicted alliance for rows of inputs (rows × features) with one effect per row (a
    Thompson draw, a posterior mean, or 0). Not clipped to 0–1: ranking compares them."""
    return np.asarray(state.mean + inputs @ state.coefficients + effects, dtype=np.float64)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _mixed(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over uint64s (wrapping on purpose): neighbouring inputs give
    unrelated outputs."""
    with np.errstate(over="ignore"):
        z = values * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
        return np.asarray(z ^ (z >> np.uint64(31)))


def _uniform_pairs(ids: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two uniforms in (0, 1) per id that depend on (seed, id) alone: the high and the low 32
    bits of one 64-bit hash (two SplitMix64 rounds), which is plenty for an exploration draw
    and half the hashing of two separate streams."""
    keyed = _mixed(np.asarray([seed & 0xFFFF_FFFF_FFFF_FFFF, 1], dtype=np.uint64))
    with np.errstate(over="ignore"):
        bits = _mixed(_mixed(ids.astype(np.uint64) ^ keyed[0]) + keyed[1])
    scale = 2.0**-32
    high = ((bits >> np.uint64(32)).astype(np.float64) + 0.5) * scale
    low = ((bits & np.uint64(0xFFFF_FFFF)).astype(np.float64) + 0.5) * scale
    return high, low


def standard_normals(ids: np.ndarray, *, seed: int) -> np.ndarray:
    """One standard normal per id from a hash of the seed and that id (Box–Muller): the same
    therapist under the same seed always gets the same number, whoever else is in the list
    and wherever it stands in it."""
    ids = np.asarray(ids, dtype=np.int64)
    first, second = _uniform_pairs(ids, seed)
    radius = np.sqrt(-2.0 * np.log(first))
    # The angle's cosine in single precision: numpy computes it with vector instructions,
    # about twenty times faster than in double precision here, and 7 digits are plenty for an
    # exploration draw.
    angle = (second * (2.0 * math.pi)).astype(np.float32)
    return np.asarray(radius * np.cos(angle).astype(np.float64))


def therapist_draws(
    state: ModelState, therapist_ids: np.ndarray, *, seed: int, spread: float = 1.0
) -> np.ndarray:
    """One Thompson draw of each therapist's effect from its posterior, in the order given;
    ``spread`` scales each posterior's standard deviation (1 is plain Thompson sampling, 0 the
    posterior means alone).

    Each draw's standard normal comes from the seed and the therapist's id alone
    (``standard_normals``), so the same seed gives the same draws (a person's list does not
    jump on reload) and one therapist's draw does not change when another joins or leaves the
    candidates (a changed budget does not reshuffle near-ties). A therapist with no outcomes
    is drawn from the prior, N(0, τ²): that spread is the exploration. Vectorised: two gathers
    from the state's per-id tables and a hash per id."""
    ids = np.asarray(therapist_ids, dtype=np.int64)
    normals = standard_normals(ids, seed=seed)
    if state.effect_ids.size == 0 or ids.size == 0:
        return normals * (state.prior_sd * spread)
    means, sds = state.posterior_of(ids)
    return means + (sds * spread) * normals


@dataclass(frozen=True)
class Variances:
    noise: float
    effect: float


def variances_by_moments(residuals: np.ndarray, therapist_ids: np.ndarray) -> Variances:
    """σ² and τ² from residuals grouped by therapist (one-way random effects, method of moments).

    σ² is the pooled variance within therapists (N − J degrees of freedom); τ² is
    ``(MSB − σ²) / n₀`` with ``MSB = Σ nⱼ (r̄ⱼ − r̄)² / (J − 1)`` and
    ``n₀ = (N − Σ nⱼ² / N) / (J − 1)``. Without enough data for one of them (no therapist with two
    outcomes; fewer than two therapists) its prior stays. Each is floored above 0."""
    residuals = np.asarray(residuals, dtype=np.float64)
    total = residuals.size
    noise = NOISE_VARIANCE_PRIOR
    effect = EFFECT_VARIANCE_PRIOR
    if total:
        _, groups, counts = np.unique(therapist_ids, return_inverse=True, return_counts=True)
        groups_n = counts.size
        sums = np.bincount(groups, weights=residuals, minlength=groups_n)
        group_means = sums / counts
        within = float(((residuals - group_means[groups]) ** 2).sum())
        if total > groups_n:
            noise = within / (total - groups_n)
        if groups_n > 1:
            grand = residuals.mean()
            between = float((counts * (group_means - grand) ** 2).sum()) / (groups_n - 1)
            n0 = (total - float((counts**2).sum()) / total) / (groups_n - 1)
            if n0 > 0:
                effect = (between - noise) / n0
    return Variances(
        noise=max(noise, NOISE_VARIANCE_FLOOR), effect=max(effect, EFFECT_VARIANCE_FLOOR)
    )


def learned_weight_of(
    *,
    preferences: np.ndarray,
    learned: np.ndarray,
    alliances: np.ndarray,
    groups: np.ndarray | None = None,
) -> Calibration:
    """How much the learned part should weigh next to the preference score, from outcomes:
    ``preferences`` (each pair's preference score), ``learned`` (the learned prediction for
    the pair, less the model's mean, made without that answer: ``fit``) and the ``alliances``
    answered; ``groups`` (the therapist of each outcome) when outcomes of one group are not
    independent of each other. Entries that are not finite are left out.

    A stacked regression ``alliance ≈ a + b·preference + c·learned`` says how much one unit
    of each predicts: least squares, then Bayesian with a N(0, ``SLOPE_PRIOR_VARIANCE``) prior
    on each slope, the least-squares slopes' uncertainty taken from their residuals grouped by
    ``groups`` (a cluster-robust "sandwich" covariance, with the usual small-sample factor),
    and never less than a noise variance of ``NOISE_VARIANCE_FLOOR`` would give. Grouping
    matters: each outcome's learned prediction is built from its therapist's other answers, so
    the outcomes of one therapist share errors, and treating them as independent would make
    the slopes look surer than they are. The
    weight that ranks as the answers say is ``c / b``, the learned part in preference units,
    bounded to [1/LEARNED_WEIGHT_BOUND, LEARNED_WEIGHT_BOUND] (a slope that is not positive has
    no ratio: the learned part's → the lower bound, the preference score's alone → the upper
    one, both → 1). The weight moves from 1 only as far as the outcomes show with
    ``WEIGHT_CREDIBILITY`` posterior probability: of the bounded ratio over draws of (b, c) from
    their posterior, the lower quantile when it is above 1, the upper one when it is below 1,
    else 1. So two slopes that are mostly noise, of any sign, leave the weight at 1, and a
    bound is reached only when the outcomes clearly say so. The draws are fixed (a seeded
    generator), so the same outcomes always give the same weight. Fewer than four outcomes, or
    a predictor or answer that never varies: the prior, 1, with no slopes."""
    preferences = np.asarray(preferences, dtype=np.float64)
    learned = np.asarray(learned, dtype=np.float64)
    alliances = np.asarray(alliances, dtype=np.float64)
    finite = np.isfinite(preferences) & np.isfinite(learned) & np.isfinite(alliances)
    preferences, learned, alliances = preferences[finite], learned[finite], alliances[finite]
    count = preferences.size
    if count < 4 or min(np.ptp(preferences), np.ptp(learned), np.ptp(alliances)) == 0:
        return Calibration(outcomes=count)
    # Centred, so the intercept drops out and only the slopes carry a prior.
    design = np.column_stack((preferences - preferences.mean(), learned - learned.mean()))
    answers = alliances - alliances.mean()
    gram = design.T @ design
    if np.linalg.cond(gram) > 1e12:  # the two predictors move together: no separate slopes
        return Calibration(outcomes=count)
    bread = np.linalg.inv(gram)
    least_squares = bread @ (design.T @ answers)
    residual = answers - design @ least_squares
    scores = design * residual[:, None]
    if groups is None:
        cluster_sums, clusters = scores, count
    else:
        _, cluster_of = np.unique(np.asarray(groups)[finite], return_inverse=True)
        clusters = int(cluster_of.max()) + 1
        cluster_sums = np.zeros((clusters, 2))
        np.add.at(cluster_sums, cluster_of, scores)
    factor = clusters / max(clusters - 1, 1) * (count - 1) / (count - 3)
    covariance = factor * bread @ (cluster_sums.T @ cluster_sums) @ bread
    covariance += NOISE_VARIANCE_FLOOR * bread  # an exact fit still leaves some doubt
    data_precision = np.linalg.inv(covariance)
    precision = data_precision + np.eye(2) / SLOPE_PRIOR_VARIANCE
    slope_preference, slope_learned = np.linalg.solve(precision, data_precision @ least_squares)
    sd_preference, sd_learned = np.sqrt(np.diag(np.linalg.inv(precision)))
    draws = _SLOPE_DRAWS @ np.linalg.cholesky(np.linalg.inv(precision)).T + (
        slope_preference,
        slope_learned,
    )
    log_bound = math.log(LEARNED_WEIGHT_BOUND)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(draws[:, 1] / draws[:, 0])
    log_ratio = np.where(
        draws[:, 1] <= 0,
        np.where(draws[:, 0] <= 0, 0.0, -log_bound),
        np.where(draws[:, 0] <= 0, log_bound, np.clip(log_ratio, -log_bound, log_bound)),
    )
    low, high = np.quantile(log_ratio, [1 - WEIGHT_CREDIBILITY, WEIGHT_CREDIBILITY])
    log_weight = float(low) if low > 0 else float(high) if high < 0 else 0.0
    return Calibration(
        weight=float(math.exp(log_weight)),
        outcomes=count,
        preference_slope=float(slope_preference),
        learned_slope=float(slope_learned),
        preference_slope_sd=float(sd_preference),
        learned_slope_sd=float(sd_learned),
    )


def fit(
    inputs: np.ndarray,
    alliances: np.ndarray,
    therapist_ids: np.ndarray,
    *,
    features: Sequence[str] = FEATURES,
    ridge: float = RIDGE,
    preferences: np.ndarray | None = None,
) -> ModelSums:
    """A fresh model from every outcome at once (what a retrain does): the ridge from all of
    them, σ² and τ² by moments from its residuals, each therapist's residual sum against the
    final shared part, and the learned part's weight (``learned_weight_of``) from the outcomes
    whose ``preferences`` entry is known (NaN where an outcome did not record one)."""
    inputs = np.asarray(inputs, dtype=np.float64).reshape(-1, len(features))
    alliances = np.asarray(alliances, dtype=np.float64)
    therapist_ids = np.asarray(therapist_ids, dtype=np.int64)
    z = np.hstack((np.ones((inputs.shape[0], 1)), inputs))
    shared = SharedFit(features=features, ridge=ridge, xtx=z.T @ z, xty=z.T @ alliances)
    residuals = alliances - np.asarray(shared.predict(inputs)).reshape(-1)
    variances = variances_by_moments(residuals, therapist_ids)
    sums = ModelSums(
        noise_variance=variances.noise, effect_variance=variances.effect, shared=shared
    )
    if residuals.size:
        ids, groups, counts = np.unique(therapist_ids, return_inverse=True, return_counts=True)
        totals = np.bincount(groups, weights=residuals, minlength=ids.size)
        sums.effects = {
            int(i): (int(n), float(s)) for i, n, s in zip(ids, counts, totals, strict=True)
        }
        if preferences is not None:
            known = np.isfinite(np.asarray(preferences, dtype=np.float64))
            # Each outcome's learned prediction without its own answer: its therapist's
            # posterior mean from the other answers,
            others_mean, _ = posterior(
                count=(counts - 1)[groups],
                residual_sum=totals[groups] - residuals,
                noise_variance=variances.noise,
                effect_variance=variances.effect,
            )
            # The shared part's prediction without the outcome too: for ridge regression the
            # exact leave-one-out prediction is y − r / (1 − h), h the outcome's leverage
            # zᵀ(ZᵀZ + ridge·I)⁻¹z (the same solve with one row removed, by Sherman–Morrison).
            # Without it the shared part, fitted to these very answers, would seem to predict
            # them whatever they are.
            solution = shared.solution()
            leverage = np.einsum(
                "ij,ij->i", z @ np.linalg.inv(shared.xtx + shared.ridge * np.eye(z.shape[1])), z
            )
            shared_without = alliances - residuals / (1.0 - leverage)
            learned = shared_without - solution[0] + np.asarray(others_mean)
            sums.calibration = learned_weight_of(
                preferences=np.asarray(preferences, dtype=np.float64)[known],
                learned=learned[known],
                alliances=alliances[known],
                groups=therapist_ids[known],
            )
    return sums
