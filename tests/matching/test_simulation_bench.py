"""The matching simulation's own arithmetic (bench/matching_simulation.py): the figures in
docs/matching.md rest on its Gini coefficient, its per-pair noise and its alliance draw."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Everyone equal: 0. One of n takes everything: (n - 1) / n.
        ([5, 5, 5, 5], 0.0),
        ([0, 0, 0, 8], 0.75),
        # By hand, mean absolute difference over all ordered pairs / (2 × mean):
        # pairs |1-2|,|1-3|,|2-3| = 1, 2, 1, each twice → 8 / 9 pairs; mean 2 → (8/9) / 4.
        ([1, 2, 3], 2 / 9),
        ([3, 1, 2], 2 / 9),
        ([], 0.0),
        ([0, 0], 0.0),
    ],
)
def test_gini_against_hand_computed_values(
    simulation: ModuleType, counts: list[int], expected: float
) -> None:
    assert simulation.gini(np.array(counts)) == pytest.approx(expected)


def test_gini_agrees_with_the_staff_page(simulation: ModuleType) -> None:
    from rapport.matching.exposure import gini as staff_gini

    counts = np.random.default_rng(1).integers(0, 50, 300)
    assert simulation.gini(counts) == pytest.approx(staff_gini(counts.tolist()))


def _client(simulation: ModuleType, pair_key: int) -> object:
    return simulation.Client(
        number=0,
        answers=None,
        true_style=np.full(5, 3.0),
        style_matters=0.5,
        concern_columns=np.array([0]),
        matters={},
        pair_key=pair_key,
    )


def test_pair_noise_is_fixed_per_pair_and_normal(simulation: ModuleType) -> None:
    ids = np.arange(1, 20_001, dtype=np.int64)
    client = _client(simulation, 12345)
    first = simulation._pair_noise(client, ids, seed=7)
    # The same pair always gets the same noise, in any order and any company.
    again = simulation._pair_noise(client, ids[::-1], seed=7)[::-1]
    np.testing.assert_array_equal(first, again)
    alone = simulation._pair_noise(client, ids[100:101], seed=7)
    assert alone[0] == first[100]
    # Another client, or another seed, draws afresh.
    other = simulation._pair_noise(_client(simulation, 12346), ids, seed=7)
    assert abs(np.corrcoef(first, other)[0, 1]) < 0.03
    reseeded = simulation._pair_noise(client, ids, seed=8)
    assert abs(np.corrcoef(first, reseeded)[0, 1]) < 0.03
    # Normal with the stated spread: mean 0, sd PAIR_NOISE, about 68 % within one sd.
    assert abs(first.mean()) < 0.01
    assert first.std() == pytest.approx(simulation.PAIR_NOISE, rel=0.03)
    within = np.mean(np.abs(first) < simulation.PAIR_NOISE)
    assert within == pytest.approx(0.6827, abs=0.015)


def test_alliance_rises_with_compatibility_and_stays_within_0_and_1(
    simulation: ModuleType,
) -> None:
    rng = np.random.default_rng(3)
    low = [simulation.alliance(-3.0, rng) for _ in range(2000)]
    high = [simulation.alliance(3.0, rng) for _ in range(2000)]
    at_threshold = [simulation.alliance(simulation.GOOD_FIT_THRESHOLD, rng) for _ in range(2000)]
    assert min(low + high + at_threshold) >= 0.0
    assert max(low + high + at_threshold) <= 1.0
    assert np.mean(low) < np.mean(at_threshold) < np.mean(high)
    assert np.mean(at_threshold) == pytest.approx(simulation.ALLIANCE_BASE, abs=0.01)
