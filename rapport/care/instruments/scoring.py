"""Scoring answers: check them, then totals, subscales, bands and critical items.

Answers map item ids to the chosen option's value; a missing key and None both mean "not
answered". Pure functions of (instrument, answers): nothing is stored or logged here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from rapport.care.instruments._numbers import from_units, to_units
from rapport.care.instruments.errors import AnswerError
from rapport.care.instruments.model import Instrument, Scale

Answers = Mapping[str, int | None]


class CriticalStatus(StrEnum):
    """What a critical item's answer says. There is deliberately no "safe" or "no risk": an
    answer below the threshold is only "not flagged"."""

    FLAGGED = "flagged"
    NOT_FLAGGED = "not flagged"
    NOT_ANSWERED = "not answered"


@dataclass(frozen=True, slots=True)
class CriticalFlag:
    item_id: str
    threshold: int
    answer: int | None
    status: CriticalStatus

    @property
    def flagged(self) -> bool:
        return self.status is CriticalStatus.FLAGGED


@dataclass(frozen=True, slots=True)
class ScaleScore:
    """One scale's result. `value` is None when more items are missing than the scale's
    prorating rule allows ("no score": `enough_answers` is False), never a guess."""

    id: str
    label: str
    value: float | None
    band: str | None
    prorated: bool
    missing: tuple[str, ...]
    max_missing: int

    @property
    def enough_answers(self) -> bool:
        return self.value is not None


@dataclass(frozen=True, slots=True)
class Scores:
    """Everything one submission scores to, tied to the exact definition it was scored with."""

    slug: str
    version: str
    content_hash: str
    total: ScaleScore
    subscales: tuple[ScaleScore, ...]
    missing_items: tuple[str, ...]
    critical: tuple[CriticalFlag, ...]

    @property
    def prorated(self) -> bool:
        return self.total.prorated

    @property
    def any_critical(self) -> bool:
        return any(flag.flagged for flag in self.critical)

    def subscale(self, subscale_id: str) -> ScaleScore:
        for result in self.subscales:
            if result.id == subscale_id:
                return result
        raise KeyError(subscale_id)


def validate_answers(instrument: Instrument, answers: Answers) -> None:
    """Refuse answers that name unknown items, are not integers, or are not one of the item's
    option values; each problem names its item. Blank scored items are not refused here:
    whether there are enough answers is the prorating rule's call, made by `score`.

    Answers usually come straight from a request, so anything at all is handled (a list, a
    float, a boolean, a non-text key) and refused as AnswerError, never another exception."""
    untrusted: Any = answers
    if not isinstance(untrusted, Mapping):
        raise AnswerError([("", "answers must map item ids to answer values")])
    problems: list[tuple[str, str]] = []
    option_values = instrument.option_values
    for key, value in answers.items():
        if not isinstance(key, str) or key not in option_values:
            problems.append((str(key), "is not an item of this questionnaire"))
        elif value is None:
            continue
        elif type(value) is not int:
            problems.append((key, "the answer must be one of the item's option values"))
        elif value not in option_values[key]:
            allowed = ", ".join(str(v) for v in sorted(option_values[key]))
            problems.append((key, f"{value} is not one of this item's answers ({allowed})"))
    if problems:
        raise AnswerError(problems)


def _band(scale: Scale, units: int, decimals: int) -> str | None:
    scale_factor = 10**decimals
    for band in scale.bands:
        if round(band.lower * scale_factor) <= units <= round(band.upper * scale_factor):
            return band.label
    return None


def _score_scale(
    instrument: Instrument, scale: Scale, scored_values: Mapping[str, int]
) -> ScaleScore:
    answered = [scored_values[item_id] for item_id in scale.item_ids if item_id in scored_values]
    missing = tuple(item_id for item_id in scale.item_ids if item_id not in scored_values)
    if len(missing) > scale.max_missing or not answered:
        return ScaleScore(scale.id, scale.label, None, None, False, missing, scale.max_missing)
    if instrument.method == "mean" or missing:
        # A prorated sum is the mean of the answered items times the number of items.
        exact = Fraction(sum(answered), len(answered))
        if instrument.method == "sum":
            exact *= len(scale.item_ids)
    else:
        exact = Fraction(sum(answered))
    units = to_units(exact, instrument.decimals)
    return ScaleScore(
        id=scale.id,
        label=scale.label,
        value=from_units(units, instrument.decimals),
        band=_band(scale, units, instrument.decimals),
        prorated=bool(missing),
        missing=missing,
        max_missing=scale.max_missing,
    )


def score(instrument: Instrument, answers: Answers) -> Scores:
    """Validate `answers`, then score them. Reverse-scored items count as
    (response min + response max − answer); critical items compare the raw answer."""
    validate_answers(instrument, answers)
    reverse_sum = instrument.response_min + instrument.response_max
    scored_values: dict[str, int] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is not None and item.scored:
            scored_values[item.id] = reverse_sum - value if item.reverse_scored else value
    critical = []
    for rule in instrument.critical_items:
        answer = answers.get(rule.item_id)
        if answer is None:
            status = CriticalStatus.NOT_ANSWERED
        elif answer >= rule.threshold:
            status = CriticalStatus.FLAGGED
        else:
            status = CriticalStatus.NOT_FLAGGED
        critical.append(CriticalFlag(rule.item_id, rule.threshold, answer, status))
    total = _score_scale(instrument, instrument.total, scored_values)
    return Scores(
        slug=instrument.slug,
        version=instrument.version,
        content_hash=instrument.content_hash,
        total=total,
        subscales=tuple(
            _score_scale(instrument, subscale, scored_values) for subscale in instrument.subscales
        ),
        missing_items=tuple(
            item.id for item in instrument.items if item.scored and answers.get(item.id) is None
        ),
        critical=tuple(critical),
    )
