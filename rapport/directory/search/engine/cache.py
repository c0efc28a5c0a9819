"""Recent answers per index snapshot, so the same search within a minute is not worked out twice."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from rapport.directory.search.engine.index import SearchIndex


class AnswerCache:
    """Recent answers worked out from one index snapshot, most recently used kept.

    Many people run the same few searches (a city, a common concern), and a search page or API
    answer is the same for everyone within a minute. An entry lives inside its index, so a
    version bump (a new index) drops every entry at once, and re-reading the next-consultation
    column clears them too; the key carries the minute, so an answer is never reused after the
    minute it was worked out in (rules that depend on the clock, like listing freshness, are at
    most that much behind).
    """

    CAPACITY = 256

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        # Computed outside the lock: two requests may both compute a new answer, which is
        # harmless, while holding the lock would queue every search behind the slowest.
        value = compute()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.CAPACITY:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class NearbyIndexes:
    """An index's restricted copies for the places searched lately (``engine.nearby``), most
    recently used kept: at most CAPACITY places, and at most as many rows in all as the index
    itself has, so they never take more memory than one more index.

    A place is cut only once it comes back: a cut costs several searches' worth, which a place
    searched once (a person's own coordinates, an unusual radius) would never repay, and it
    would push out the cities that do come back. The places seen once are remembered (the
    last SIGHTINGS of them) to notice the second search.
    """

    CAPACITY = 8
    SIGHTINGS = 256

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def kept(self, key: Hashable) -> Any | None:
        """The entry of ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key][0]

    def seen_before(self, key: Hashable) -> bool:
        """Whether ``key`` was asked about before (and remember that it now has been)."""
        with self._lock:
            if key in self._seen:
                return True
            self._seen[key] = None
            while len(self._seen) > self.SIGHTINGS:
                self._seen.popitem(last=False)
            return False

    def keep(self, key: Hashable, value: Any, *, rows: int, budget: int) -> None:
        """Keep ``value`` for ``key``, weighing ``rows`` rows against ``budget`` (the oldest go
        first; the newest stays even alone over it)."""
        with self._lock:
            self._entries[key] = (value, rows)
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and (
                len(self._entries) > self.CAPACITY
                or sum(weight for _, weight in self._entries.values()) > budget
            ):
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def kept_keys(self) -> list[Hashable]:
        """The places kept, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._seen.clear()


def cached_answer(
    index: SearchIndex, *, key: Hashable, now: dt.datetime, compute: Callable[[], Any]
) -> Any:
    """``compute()``, or the answer it gave for the same ``key`` from this index in the same
    minute of ``now`` (see AnswerCache)."""
    minute = now.replace(second=0, microsecond=0)
    full_key = (key, minute, settings.LISTING_FRESHNESS_DAYS)
    return index.answers.get_or_compute(full_key, compute)


class RecentRows:
    """What a result page shows of each therapist, as read within the current minute from one
    index snapshot (at most CAPACITY of them).

    A search nobody ran before still shows mostly the same people as the searches before it
    (the nearest therapists of a city head most of its searches, whatever the budget), and
    reading a page's rows is a third of such a search. Kept per snapshot and per minute like
    AnswerCache, so a row is never older than an answer from that cache would be. A generation
    is a minute: nothing a row or card shows depends on the reader (a card's dates are in the
    therapist's zone).
    """

    CAPACITY = 4096

    def __init__(self) -> None:
        self._generation: Hashable = None
        self._rows: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get_or_read(
        self,
        ids: Sequence[int],
        *,
        generation: Hashable,
        read: Callable[[Sequence[int]], Mapping[int, Any]],
    ) -> dict[int, Any]:
        """The rows of ``ids`` (an id whose row is gone is absent), reading only those not
        read in this generation with ``read(ids)``."""
        with self._lock:
            if self._generation != generation:
                self._generation, self._rows = generation, {}
            found = {id_: self._rows[id_] for id_ in ids if id_ in self._rows}
        missing = [id_ for id_ in ids if id_ not in found]
        if missing:
            fresh = read(missing)
            found.update(fresh)
            with self._lock:
                if self._generation == generation:
                    if len(self._rows) + len(fresh) > self.CAPACITY:
                        self._rows = {}
                    self._rows.update(fresh)
        return found

    def clear(self) -> None:
        with self._lock:
            self._rows = {}


def cached_rows(
    rows: RecentRows,
    ids: Sequence[int],
    *,
    now: dt.datetime,
    read: Callable[[Sequence[int]], Mapping[int, Any]],
) -> dict[int, Any]:
    """``read(ids)``, reusing what ``rows`` (one of an index snapshot's RecentRows) read in the
    same minute of ``now``."""
    return rows.get_or_read(ids, generation=now.replace(second=0, microsecond=0), read=read)
