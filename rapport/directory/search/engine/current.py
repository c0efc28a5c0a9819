"""The per-process holder: this process's index, rebuilt when the database's version stamp moved."""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings

from rapport.directory.search.contract import SearchParam
from rapport.directory.search.engine.build import (
    build_index,
    index_version,
    read_consultation_times,
)
from rapport.directory.search.engine.index import SearchIndex

_lock = threading.Lock()
_current: SearchIndex | None = None
# When this process last read the version stamp (time.monotonic()); -inf: read it next time.
_version_read_at = -math.inf
# Moved by read_version_next_time(), so that a read which began before a change made here
# cannot mark itself as recent once the change is committed.
_changes_made_here = 0


def current_index() -> SearchIndex:
    """This process's index, rebuilt first when the database's version stamp has moved (read
    again once the last read is older than SEARCH_INDEX_VERSION_MAX_AGE_MS), with its
    next-consultation column re-read when that is older than allowed."""
    global _current, _version_read_at
    index = _current
    started = time.monotonic()
    if index is None or (started - _version_read_at) * 1000 >= (
        settings.SEARCH_INDEX_VERSION_MAX_AGE_MS
    ):
        changes = _changes_made_here
        version = index_version()
        if index is None or index.version != version:
            with _lock:
                # Read again under the lock: another thread may have built a newer index
                # since this thread's read, which must not be replaced by an older one.
                version = index_version()
                index = _current
                if index is None or index.version != version:
                    index = build_index(version=version)
                    _current = index
        if changes == _changes_made_here:
            _version_read_at = started
    times = index.consultation_times
    max_age = settings.SEARCH_CONSULTATION_TIMES_MAX_AGE_SECONDS
    if time.monotonic() - times.read_at > max_age:
        with _lock:
            if time.monotonic() - times.read_at > max_age:
                # Swapped in whole: a search running meanwhile keeps the array it started with.
                times.values = read_consultation_times(index)
                times.read_at = time.monotonic()
                index.answers.clear()
                index.recent_cards.clear()
                index.recent_row_texts.clear()
                if index.nearby is not None:
                    index.nearby.clear()
    return index


def reset_index() -> None:
    """Forget this process's index (tests whose rows change without a version bump)."""
    global _current, _version_read_at
    with _lock:
        _current = None
        _version_read_at = -math.inf


def read_version_next_time() -> None:
    """Make this process's next search read the version stamp, however recent the last read:
    a change made here then shows in the next search here at once."""
    global _version_read_at, _changes_made_here
    _changes_made_here += 1
    _version_read_at = -math.inf


def active_term_slugs(index: SearchIndex | None = None) -> dict[str, frozenset[str]]:
    """The slugs a search may name, per facet key (taxonomies and accessibility features)."""
    index = index or current_index()
    slugs = {key: frozenset(columns.slugs) for key, columns in index.taxonomies.items()}
    slugs[SearchParam.ACCESSIBILITY] = frozenset(index.accessibility.slugs)
    return slugs
