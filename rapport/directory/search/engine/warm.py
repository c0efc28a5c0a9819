"""Doing a server process's first-search work before it accepts requests.

A process builds its search index, loads the offline place tables (towns, postal and ZIP codes,
the list that typos are matched against) and compiles the search page's templates the first
time something needs them. On a small machine that is 1.5 to 4 seconds against tens of
milliseconds for the same search later, and it fell on the first person to search after each
start, once per server process (issue 17: the old results stayed on screen while it ran, and
looked like the answer). ``rapport.wsgi`` calls ``warm_up()`` as each process starts, which is
before ``runserver`` or a gunicorn worker listens for requests, so no request pays for it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import QueryDict
from django.template.loader import get_template
from django.utils import timezone

from rapport.directory.search.contract import SearchParam, SearchQueryError
from rapport.directory.search.engine.current import current_index
from rapport.directory.search.engine.query import search
from rapport.directory.search.params import parse_search_query

logger = logging.getLogger(__name__)

# One of each kind of place a person types, so every lazily loaded table is read: a town, a
# region, a postal code (its first three characters), a ZIP code, and a typo (the list that
# suggestions are matched against). Their answers are not kept.
WARM_UP_PLACES = ("Toronto", "Ontario", "M5V", "98101", "Torono")
WARM_UP_TEMPLATES = (
    "directory/therapist_list.html",
    "directory/_search_results.html",
    "directory/home.html",
)


def warm_up() -> float | None:
    """Build this process's index, load the place tables and compile the search templates;
    the seconds it took, or None when the database cannot be read yet (a server started
    before ``rapport migrate``: the first search then does the work, as before)."""
    started = time.perf_counter()
    try:
        index = current_index()
        now = timezone.now()
        for place in WARM_UP_PLACES:
            params = QueryDict(mutable=True)
            params[SearchParam.PLACE] = place
            try:
                query = parse_search_query(
                    params, page_size=settings.DIRECTORY_PAGE_SIZE, index=index
                )
            except SearchQueryError:
                continue  # a place the data does not know is still a warmed-up lookup
            search(query, now=now, index=index)
        for name in WARM_UP_TEMPLATES:
            get_template(name)
    except DatabaseError:
        logger.warning("Search warm-up skipped: the database cannot be read yet.")
        return None
    except Exception:
        # Warming up only saves the first visitor a wait: whatever goes wrong here must not
        # keep the server from starting. The same fault shows again, with its page, on the
        # first search that meets it.
        logger.exception("Search warm-up failed; the first search will do the work.")
        return None
    finally:
        # The requests run on other threads with their own connections; this one would
        # otherwise stay open, idle, for the life of the process.
        connections.close_all()
    seconds = time.perf_counter() - started
    logger.info("Search warmed up in %.1f s.", seconds)
    return seconds
