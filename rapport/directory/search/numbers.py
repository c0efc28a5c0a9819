"""Numbers from query strings, read the same way by the search page, the API and the cost planner.

A number in a URL is only ASCII digits (with a sign, a decimal point and a short exponent where a
fraction makes sense): ``int()`` and ``Decimal()`` would also take other scripts' digits (“١”)
and underscores (“1_0”), so a value could be a number on one page and not on another.

Every value's length is bounded before it is converted: Python refuses to convert an integer of
more than 4,300 digits (a ValueError, i.e. a server error), and Decimal arithmetic on an amount
of 27 digits or more overflows its 28-digit context. Whoever calls these turns the two
exceptions into their own words (a 400 problem, a message beside a form field).
"""

from __future__ import annotations

import re
from decimal import Decimal

# Longer than any real coordinate, distance or amount, written out in full.
MAX_NUMBER_LENGTH = 32

_WHOLE = re.compile(r"[0-9]+")
# The exponent is at most three digits so that Decimal arithmetic on the value stays in range.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


class NotANumber(ValueError):
    """The text is not a number in the form this parameter takes."""


class NumberTooLong(ValueError):
    """A number, but longer than any sensible value of this parameter."""


def bounded(text: str, max_length: int) -> str:
    """``text``, once it is known to be short enough to convert; the one length check every
    reader below goes through."""
    if len(text) > max_length:
        raise NumberTooLong(text[:40])
    return text


def whole_number(raw: str, *, max_digits: int) -> int:
    """A whole number of ASCII digits, at most ``max_digits`` of them after any leading zeros.

    No sign: a page, a number of days or a style placement is never negative, and "-1" is not
    a page number anywhere.
    """
    if not _WHOLE.fullmatch(raw):
        raise NotANumber(raw[:40])
    return int(bounded(raw.lstrip("0") or "0", max_digits))


def decimal_number(raw: str, *, max_length: int = MAX_NUMBER_LENGTH) -> Decimal:
    """A finite decimal such as ``150``, ``-79.38`` or ``1e3``."""
    if not _DECIMAL.fullmatch(raw):
        raise NotANumber(raw[:40])
    return Decimal(bounded(raw, max_length))


def float_number(raw: str, *, max_length: int = MAX_NUMBER_LENGTH) -> float:
    """As ``decimal_number``, as a float (infinite when the exponent is too large for one)."""
    if not _DECIMAL.fullmatch(raw):
        raise NotANumber(raw[:40])
    return float(bounded(raw, max_length))
