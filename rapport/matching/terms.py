"""The taxonomy slugs a fit profile may name: the search index's active terms."""

from __future__ import annotations

from collections.abc import Mapping

from rapport.directory.search.engine import SearchIndex, active_term_slugs


def active_slugs(index: SearchIndex | None = None) -> Mapping[str, frozenset[str]]:
    """Per taxonomy ("concern", "language", "faith", "lived_experience", "population")."""
    return active_term_slugs(index)
