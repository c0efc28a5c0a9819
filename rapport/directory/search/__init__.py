"""Directory search: filters, facet counts and ranking over a compact per-process index.

``contract`` holds the shared types; ``engine`` builds and queries the index; ``params`` turns
query strings into a ``SearchQuery``.
"""
