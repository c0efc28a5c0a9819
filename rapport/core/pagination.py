"""Paging for list pages, forgiving about the ``?page=`` value people and crawlers send.

A bad page number is the visitor's typo or an old link, never a server error: they get page 1 or
a clear way to the last page, and a sentence saying what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


@dataclass(frozen=True)
class PageNumberRequest:
    number: int
    problem: str | None  # set when the requested value could not be used as given


def parse_page_number(raw: str | None) -> PageNumberRequest:
    """Read a ``?page=`` value. Missing or empty means page 1 without comment."""
    if raw is None or raw.strip() == "":
        return PageNumberRequest(1, None)
    value = raw.strip()
    # isascii() first: int() would accept other scripts' digits ("٣") and a sign or underscores.
    if not (value.isascii() and value.isdigit()):
        return PageNumberRequest(1, "That page number was not recognised, so here is page 1.")
    number = int(value)
    if number < 1:
        return PageNumberRequest(1, "Pages start at 1, so here is page 1.")
    return PageNumberRequest(number, None)


@dataclass(frozen=True)
class PageResult:
    paginator: Paginator
    page: Page | None  # None when the request was past the last page
    message: str | None

    @property
    def is_past_end(self) -> bool:
        return self.page is None

    @property
    def page_range(self) -> list[int | str]:
        """Page numbers around the current one, with ``Paginator.ELLIPSIS`` for the gaps."""
        if self.page is None:
            return []
        return list(self.paginator.get_elided_page_range(self.page.number))


def paginate(object_list: QuerySet[Any], *, raw_page: str | None, page_size: int) -> PageResult:
    """One page of ``object_list``, or no page and a message when the number is past the end.

    Costs one COUNT, plus the page's own query when the page's rows are read.
    """
    requested = parse_page_number(raw_page)
    paginator = Paginator(object_list, page_size)
    if requested.number > paginator.num_pages:
        pages = paginator.num_pages
        message = "There is only 1 page." if pages == 1 else f"There are only {pages} pages."
        return PageResult(paginator=paginator, page=None, message=message)
    return PageResult(
        paginator=paginator, page=paginator.page(requested.number), message=requested.problem
    )
