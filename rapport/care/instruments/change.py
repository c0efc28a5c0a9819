"""Jacobson–Truax change statistics: is a difference between two totals more than measurement
noise (the reliable change index), and did it carry someone across the clinical cutoff?

Formulas (Jacobson & Truax, 1991), written out with a worked example in docs/instruments.md:

    SE      = SD_clinical × √(1 − rxx)
    S_diff  = √(2 × SE²)
    RCI     = (after − before) / S_diff          reliable when |RCI| > 1.96
    c       = (SD_clin × M_nonclin + SD_nonclin × M_clin) / (SD_clin + SD_nonclin)
    a       = M_clin ± 2 × SD_clin      (two SDs from the clinical mean, towards better)
    b       = M_nonclin ∓ 2 × SD_nonclin  (two SDs from the non-clinical mean, towards worse)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from rapport.care.instruments.errors import ChangeUnavailable
from rapport.care.instruments.model import Direction, Instrument, Norms

RELIABLE_CHANGE_THRESHOLD = 1.96


class ChangeCategory(StrEnum):
    IMPROVED = "improved"
    DETERIORATED = "deteriorated"
    NO_RELIABLE_CHANGE = "no reliable change"


class Outcome(StrEnum):
    """Jacobson–Truax's four classes of a before/after pair."""

    RECOVERED = "recovered"  # reliably better and now on the non-clinical side of the cutoff
    IMPROVED = "improved"  # reliably better, not (or not newly) across the cutoff
    UNCHANGED = "unchanged"  # no reliable change either way
    DETERIORATED = "deteriorated"  # reliably worse


@dataclass(frozen=True, slots=True)
class Change:
    before: float
    after: float
    difference: float
    standard_error: float
    standard_error_of_difference: float
    index: float  # the RCI
    reliable: bool
    category: ChangeCategory


@dataclass(frozen=True, slots=True)
class Cutoff:
    value: float
    # "published" (the definition's own cutoff) or the Jacobson–Truax criterion "a", "b" or "c".
    criterion: str


@dataclass(frozen=True, slots=True)
class Significance:
    change: Change
    cutoff: Cutoff
    before_in_clinical_range: bool
    after_in_clinical_range: bool
    outcome: Outcome


def _norms(instrument: Instrument) -> Norms:
    if instrument.norms is None:
        raise ChangeUnavailable(
            f"{instrument.slug} {instrument.version} gives no norms, so change statistics "
            "cannot be computed for it"
        )
    return instrument.norms


def cutoff_from_norms(norms: Norms) -> Cutoff:
    """The cutoff between the clinical and the non-clinical range of scores.

    A cutoff the definition publishes wins. Otherwise criterion c when the non-clinical sample is
    known (the point equally far, in SDs, from both means: Jacobson & Truax's choice when the two
    distributions overlap), and criterion a (two clinical SDs past the clinical mean, towards
    better) when it is not. A definition may ask for a or b by name.
    """
    if norms.cutoff is not None:
        return Cutoff(norms.cutoff, "published")
    clinical, nonclinical = norms.clinical, norms.nonclinical
    better = 1.0 if norms.direction is Direction.HIGHER_IS_BETTER else -1.0
    if norms.criterion == "c" and nonclinical is not None:
        value = (clinical.sd * nonclinical.mean + nonclinical.sd * clinical.mean) / (
            clinical.sd + nonclinical.sd
        )
        return Cutoff(value, "c")
    if norms.criterion == "b" and nonclinical is not None:
        return Cutoff(nonclinical.mean - better * 2 * nonclinical.sd, "b")
    return Cutoff(clinical.mean + better * 2 * clinical.sd, "a")


def clinical_cutoff(instrument: Instrument) -> float:
    """The clinical cutoff of the instrument's total (see `cutoff_from_norms`)."""
    return cutoff_from_norms(_norms(instrument)).value


def reliable_change(instrument: Instrument, before: float, after: float) -> Change:
    """The reliable change index from one total to a later one, read in the instrument's
    direction: |RCI| > 1.96 is a reliable change, an improvement or a deterioration."""
    norms = _norms(instrument)
    standard_error = norms.clinical.sd * math.sqrt(1 - norms.reliability)
    standard_error_of_difference = math.sqrt(2 * standard_error**2)
    difference = after - before
    index = difference / standard_error_of_difference
    reliable = abs(index) > RELIABLE_CHANGE_THRESHOLD
    if not reliable:
        category = ChangeCategory.NO_RELIABLE_CHANGE
    elif (index > 0) == (norms.direction is Direction.HIGHER_IS_BETTER):
        category = ChangeCategory.IMPROVED
    else:
        category = ChangeCategory.DETERIORATED
    return Change(
        before=before,
        after=after,
        difference=difference,
        standard_error=standard_error,
        standard_error_of_difference=standard_error_of_difference,
        index=index,
        reliable=reliable,
        category=category,
    )


def in_clinical_range(norms: Norms, score: float, cutoff: float) -> bool:
    """A score exactly at the cutoff still counts as clinical: crossing means passing it."""
    if norms.direction is Direction.HIGHER_IS_WORSE:
        return score >= cutoff
    return score <= cutoff


def clinically_significant(instrument: Instrument, before: float, after: float) -> Significance:
    """Jacobson–Truax's classes: "recovered" takes a reliable improvement AND a move from the
    clinical range across the cutoff; a reliable improvement alone is "improved"; a reliable
    worsening is "deteriorated"; anything else "unchanged"."""
    norms = _norms(instrument)
    change = reliable_change(instrument, before, after)
    cutoff = cutoff_from_norms(norms)
    before_clinical = in_clinical_range(norms, before, cutoff.value)
    after_clinical = in_clinical_range(norms, after, cutoff.value)
    if change.category is ChangeCategory.DETERIORATED:
        outcome = Outcome.DETERIORATED
    elif change.category is ChangeCategory.NO_RELIABLE_CHANGE:
        outcome = Outcome.UNCHANGED
    elif before_clinical and not after_clinical:
        outcome = Outcome.RECOVERED
    else:
        outcome = Outcome.IMPROVED
    return Significance(
        change=change,
        cutoff=cutoff,
        before_in_clinical_range=before_clinical,
        after_in_clinical_range=after_clinical,
        outcome=outcome,
    )
