"""Jacobson–Truax reliable change and the clinical cutoff, against the worked examples of
docs/instruments.md (every number below is worked out by hand there), in both directions."""

from __future__ import annotations

import math

import pytest

from rapport.care.instruments import (
    ChangeCategory,
    ChangeUnavailable,
    Outcome,
    clinical_cutoff,
    clinically_significant,
    cutoff_from_norms,
    load_definition,
    reliable_change,
)
from tests.care.instrument_definitions import (
    nine_item,
    twelve_item,
    twelve_item_summed_higher_is_better,
)

# Higher is worse: clinical mean 15, SD 5; non-clinical mean 4, SD 3; rxx 0.84.
#   SE = 5 × √(1 − 0.84) = 5 × 0.4 = 2.0;  S_diff = √(2 × 2.0²) = √8 = 2.828427…
#   c = (5 × 4 + 3 × 15) / (5 + 3) = 65 / 8 = 8.125;  a = 15 − 2 × 5 = 5;  b = 4 + 2 × 3 = 10
WORSE = load_definition(nine_item())
# Higher is better: clinical mean 20, SD 6; non-clinical mean 32, SD 4; rxx 0.75.
#   SE = 6 × √0.25 = 3.0;  S_diff = √18 = 4.242641…
#   c = (6 × 32 + 4 × 20) / (6 + 4) = 272 / 10 = 27.2;  a = 20 + 2 × 6 = 32;  b = 32 − 2 × 4 = 24
BETTER = load_definition(twelve_item_summed_higher_is_better())


def test_standard_errors_of_the_worked_examples():
    change = reliable_change(WORSE, 18, 10)
    assert change.standard_error == pytest.approx(2.0)
    assert change.standard_error_of_difference == pytest.approx(2.8284271247)
    change = reliable_change(BETTER, 18, 29)
    assert change.standard_error == pytest.approx(3.0)
    assert change.standard_error_of_difference == pytest.approx(4.2426406871)


# before, after, RCI by hand, category
HIGHER_IS_WORSE_TABLE = [
    (18, 10, -2.8284271, ChangeCategory.IMPROVED),  # −8 / 2.828427
    (18, 7, -3.8890873, ChangeCategory.IMPROVED),  # −11 / 2.828427
    (18, 14, -1.4142136, ChangeCategory.NO_RELIABLE_CHANGE),  # −4 / 2.828427
    (10, 16, 2.1213203, ChangeCategory.DETERIORATED),  # +6 / 2.828427
    (10, 15.5, 1.9445436, ChangeCategory.NO_RELIABLE_CHANGE),  # just under 1.96
    (10, 15.6, 1.9798990, ChangeCategory.DETERIORATED),  # just over 1.96
]
HIGHER_IS_BETTER_TABLE = [
    (18, 29, 2.5927249, ChangeCategory.IMPROVED),  # 11 / 4.242641
    (22, 26, 0.9428090, ChangeCategory.NO_RELIABLE_CHANGE),  # 4 / 4.242641
    (28, 20, -1.8856181, ChangeCategory.NO_RELIABLE_CHANGE),  # −8 / 4.242641
    (30, 21, -2.1213203, ChangeCategory.DETERIORATED),  # −9 / 4.242641
]


@pytest.mark.parametrize(("before", "after", "index", "category"), HIGHER_IS_WORSE_TABLE)
def test_reliable_change_when_higher_is_worse(before, after, index, category):
    change = reliable_change(WORSE, before, after)
    assert change.index == pytest.approx(index, abs=1e-7)
    assert change.difference == pytest.approx(after - before)
    assert change.category is category
    assert change.reliable is (category is not ChangeCategory.NO_RELIABLE_CHANGE)


@pytest.mark.parametrize(("before", "after", "index", "category"), HIGHER_IS_BETTER_TABLE)
def test_reliable_change_when_higher_is_better(before, after, index, category):
    change = reliable_change(BETTER, before, after)
    assert change.index == pytest.approx(index, abs=1e-7)
    assert change.category is category


def test_cutoffs_by_criterion():
    assert clinical_cutoff(WORSE) == pytest.approx(8.125)
    assert clinical_cutoff(BETTER) == pytest.approx(27.2)
    for instrument, expected in ((WORSE, {"a": 5, "b": 10}), (BETTER, {"a": 32, "b": 24})):
        for criterion, value in expected.items():
            definition = (
                nine_item() if instrument is WORSE else twelve_item_summed_higher_is_better()
            )
            definition["norms"]["criterion"] = criterion
            norms = load_definition(definition).norms
            assert norms is not None
            cutoff = cutoff_from_norms(norms)
            assert (cutoff.criterion, cutoff.value) == (criterion, pytest.approx(value))


def test_without_non_clinical_norms_the_cutoff_falls_back_to_criterion_a():
    definition = nine_item()
    del definition["norms"]["nonclinical"]
    instrument = load_definition(definition)
    assert instrument.norms is not None
    assert instrument.norms.criterion == "a"
    assert clinical_cutoff(instrument) == pytest.approx(5.0)


def test_a_published_cutoff_wins():
    definition = nine_item()
    definition["norms"]["cutoff"] = 10
    instrument = load_definition(definition)
    assert instrument.norms is not None
    assert cutoff_from_norms(instrument.norms).criterion == "published"
    assert clinical_cutoff(instrument) == 10


# before, after, outcome (cutoff 8.125, higher is worse)
SIGNIFICANCE_WORSE = [
    (18, 7, Outcome.RECOVERED),  # reliable improvement, 18 clinical → 7 below 8.125
    (18, 10, Outcome.IMPROVED),  # reliable improvement, 10 still above the cutoff
    (18, 14, Outcome.UNCHANGED),
    (10, 16, Outcome.DETERIORATED),
    (7, 1, Outcome.IMPROVED),  # reliable, but already below the cutoff before
]
# before, after, outcome (cutoff 27.2, higher is better)
SIGNIFICANCE_BETTER = [
    (18, 29, Outcome.RECOVERED),
    (18, 27.2, Outcome.IMPROVED),  # RCI 2.168…, but exactly at the cutoff is still clinical
    (22, 26, Outcome.UNCHANGED),
    (30, 21, Outcome.DETERIORATED),
]


@pytest.mark.parametrize(("before", "after", "outcome"), SIGNIFICANCE_WORSE)
def test_clinically_significant_change_when_higher_is_worse(before, after, outcome):
    result = clinically_significant(WORSE, before, after)
    assert result.outcome is outcome
    assert result.cutoff.value == pytest.approx(8.125)


@pytest.mark.parametrize(("before", "after", "outcome"), SIGNIFICANCE_BETTER)
def test_clinically_significant_change_when_higher_is_better(before, after, outcome):
    result = clinically_significant(BETTER, before, after)
    assert result.outcome is outcome
    assert result.cutoff.value == pytest.approx(27.2)


def test_exactly_at_the_cutoff_counts_as_clinical():
    result = clinically_significant(BETTER, 18, 27.2)
    assert result.change.index == pytest.approx(9.2 / math.sqrt(18))
    assert (result.before_in_clinical_range, result.after_in_clinical_range) == (True, True)


def test_change_statistics_need_norms():
    twelve = load_definition(twelve_item())
    with pytest.raises(ChangeUnavailable):
        reliable_change(twelve, 2.0, 4.0)
    with pytest.raises(ChangeUnavailable):
        clinical_cutoff(twelve)
    with pytest.raises(ChangeUnavailable):
        clinically_significant(twelve, 2.0, 4.0)
