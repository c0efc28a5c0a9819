"""The directory's public pages: the home page, the paged list and a therapist's profile.

Each view parses its input, asks a selector, and renders; what is shown and who may be seen is
decided in ``selectors`` and worded in ``display``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.core.pagination import paginate
from rapport.directory.selectors import therapist_cards, therapist_listing, therapist_profile


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    # The home page lives here rather than in core because its one live figure is the
    # directory's, and core may not import from the apps below it.
    listed_count = therapist_listing(now=timezone.now()).count()
    return render(
        request,
        "directory/home.html",
        {
            "listed_count": listed_count,
            "freshness_days": settings.LISTING_FRESHNESS_DAYS,
        },
    )


@require_safe
def therapist_list(request: HttpRequest) -> HttpResponse:
    result = paginate(
        therapist_cards(now=timezone.now()),
        raw_page=request.GET.get("page"),
        page_size=settings.DIRECTORY_PAGE_SIZE,
    )
    # A page past the end is a page that does not exist (404), but the visitor still gets the
    # directory's own page with a way to the last real page rather than a bare error.
    return render(
        request,
        "directory/therapist_list.html",
        {"result": result, "page": result.page, "paginator": result.paginator},
        status=404 if result.is_past_end else 200,
    )


@require_safe
def therapist_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    now = timezone.now()
    therapist = therapist_profile(public_id=public_id, now=now)
    if therapist is None:
        raise Http404("No listed therapist has this address.")
    return render(
        request,
        "directory/therapist_detail.html",
        {"therapist": therapist, "now": now},
    )
