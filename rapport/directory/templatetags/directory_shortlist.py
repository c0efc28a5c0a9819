"""``{% saved_therapists as ids %}``: the public ids on this person's shortlist, for the Save
button on each result card.

Read once per request (the account's rows or the session) and kept on the request, so a page
of cards costs one query, and the search views need not pass it in.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import template

from rapport.directory.shortlist import shortlist_ids

register = template.Library()

_CACHE_ATTRIBUTE = "_rapport_shortlist_ids"


@register.simple_tag(takes_context=True)
def saved_therapists(context: template.Context) -> frozenset[uuid.UUID]:
    request: Any = context.get("request")
    if request is None or not hasattr(request, "session"):
        return frozenset()
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = frozenset(shortlist_ids(request.session, getattr(request, "user", None)))
        setattr(request, _CACHE_ATTRIBUTE, cached)
    return cached


@register.filter
def in_set(value: object, collection: frozenset[Any]) -> bool:
    """``{{ id|in_set:saved_ids }}``: membership, for an ``{% include ... with %}``."""
    return value in collection
