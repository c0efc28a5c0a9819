"""The per-process holder: this process's index, rebuilt when the database's version stamp moved."""

from __future__ import annotations

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


def current_index() -> SearchIndex:
    """This process's index, rebuilt first when the database's version stamp has moved, with
    its next-consultation column re-read when that is older than allowed."""
    global _current
    version = index_version()
    index = _current
    if index is None or index.version != version:
        with _lock:
            index = _current
            if index is None or index.version != version:
                index = build_index(version=version)
                _current = index
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
    global _current
    with _lock:
        _current = None


def active_term_slugs(index: SearchIndex | None = None) -> dict[str, frozenset[str]]:
    """The slugs a search may name, per facet key (taxonomies and accessibility features)."""
    index = index or current_index()
    slugs = {key: frozenset(columns.slugs) for key, columns in index.taxonomies.items()}
    slugs[SearchParam.ACCESSIBILITY] = frozenset(index.accessibility.slugs)
    return slugs
