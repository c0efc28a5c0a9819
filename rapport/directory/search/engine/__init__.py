"""The directory search engine: a compact columnar index per process, queried with numpy.

Every listable therapist (verified and listed) is one row of a set of numpy arrays: fees, flags
(among them whether a video introduction, and a captioned one, is published), style placements,
gender and contact-policy codes, when they last confirmed they are accepting, one boolean matrix
per taxonomy (therapist × term), the licences per jurisdiction, and a flat array of their offices
(coordinates, accessibility features, owning row). A search is a handful of vectorised mask
operations over those arrays; every facet count comes from the same masks.

The database stays the source of truth. ``directory.SearchIndexVersion`` is bumped in the same
transaction as every change to indexed data; a search reads it (one primary-key query) when this
process's last read is older than ``SEARCH_INDEX_VERSION_MAX_AGE_MS`` (a second; at once after
a change made in this process) and rebuilds this process's index when it moved, so any number
of processes and machines stay correct. Freshness (a listing hides once its
accepting-confirmation is older than ``LISTING_FRESHNESS_DAYS``) and licence expiry depend on
the clock, so they are compared with ``now`` at query time, never baked in at build time.

Rows are kept in name order (``collation.name_sort_key`` of the display name, then id), so a
row's position is its name rank and the name sort needs no sorting at all.

The package, by concept: ``index`` (the snapshot's shape), ``build`` (reading it from the
database), ``current`` (the per-process holder), ``cache`` (answers per snapshot), ``masks``
(one boolean mask per filter), ``query`` (``search``), ``nearby`` (a search near a place run
over the rows that can meet the client there, cut once per place), ``facets`` (every option's
count) and ``warm`` (a server process's first-search work, done before it listens; not imported
here).
"""

from rapport.directory.search.engine.build import build_index, index_version
from rapport.directory.search.engine.cache import AnswerCache, cached_answer, cached_rows
from rapport.directory.search.engine.current import (
    active_term_slugs,
    current_index,
    reset_index,
)
from rapport.directory.search.engine.facets import DELIVERY_LABELS
from rapport.directory.search.engine.index import (
    ALL_OF_TAXONOMIES,
    FAITH_TAXONOMY,
    NO_CONFIRMATION,
    NO_CONSULTATION,
    NO_EXPIRY,
    STYLE_FIELDS,
    STYLE_TOLERANCE,
    ConsultationTimes,
    SearchIndex,
    TermColumns,
    pack_columns,
    pack_mask,
)
from rapport.directory.search.engine.query import search

__all__ = [
    "ALL_OF_TAXONOMIES",
    "DELIVERY_LABELS",
    "FAITH_TAXONOMY",
    "NO_CONFIRMATION",
    "NO_CONSULTATION",
    "NO_EXPIRY",
    "STYLE_FIELDS",
    "STYLE_TOLERANCE",
    "AnswerCache",
    "ConsultationTimes",
    "SearchIndex",
    "TermColumns",
    "active_term_slugs",
    "build_index",
    "cached_answer",
    "cached_rows",
    "current_index",
    "index_version",
    "pack_columns",
    "pack_mask",
    "reset_index",
    "search",
]
