"""Exact score arithmetic: answers are integers, so sums and means are fractions, rounded once,
halves upwards, to the definition's decimals. Bands compare whole "units" (a score times
10**decimals), so a band edge never misses a score by a floating-point hair."""

from __future__ import annotations

import math
from fractions import Fraction


def exact(number: float | int | Fraction) -> Fraction:
    """A number as written (2.4 is 12/5, not the nearest binary fraction)."""
    if isinstance(number, Fraction | int):
        return Fraction(number)
    return Fraction(repr(number))


def to_units(value: Fraction, decimals: int) -> int:
    """`value` rounded to `decimals` places, halves upwards, as a whole count of the last place."""
    return math.floor(value * 10**decimals + Fraction(1, 2))


def from_units(units: int, decimals: int) -> float:
    return units / 10**decimals


def show(number: float | Fraction, decimals: int = 3) -> str:
    """A number for a message: no trailing zeros, no float noise."""
    rounded = round(float(number), decimals)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")
