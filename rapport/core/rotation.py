"""A tie order that rotates daily, for lists where equal places must not always go to the same
people: the directory's search (therapists with the same next free time) and the matcher
(equal scores).

Ties broken by name would always favour the start of the alphabet, and ties broken by id the
earliest sign-ups; a pseudo-random order of ids under a seed that changes each day spreads the
first places evenly over time, while one day's order stays put (a list does not jump on reload,
and pages of one search neither repeat nor lose anyone).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)


def rotating_seed(*, day: dt.date, key: str) -> int:
    """The seed for ``key`` on ``day``: the same all day, different the next day (no one
    keeps a tie forever). ``key`` separates lists that should not share one order (one
    person's matches, the directory's public search)."""
    digest = hashlib.blake2b(f"{day.isoformat()}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def tie_breaks(ids: np.ndarray, seed: int) -> np.ndarray:
    """A per-seed pseudo-random rank for each id (a 64-bit mix, wrapping on purpose): sort by
    it, after the real key, to order ties. The same id and seed always give the same value, so
    the order does not depend on which other ids are in the list."""
    with np.errstate(over="ignore"):
        mixed = (ids.astype(np.uint64) + np.uint64(seed)) * _MIX
        mixed ^= mixed >> np.uint64(31)
        mixed *= _MIX
        mixed ^= mixed >> np.uint64(29)
    return mixed
