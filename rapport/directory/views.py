"""The directory's public pages: home, search and a therapist's profile (the shortlist and the
side-by-side comparison are in ``shortlist_views``).

Each view parses its input, asks a selector (or the search engine), and renders; what is shown
and who may be seen is decided in ``selectors`` and worded in ``display``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from rapport.directory.cards import ResultCard, result_cards_by_id
from rapport.directory.forms import (
    FORM_FIELDS,
    FREQUENCY_CHOICES,
    RADIUS_CHOICES_KM,
    SORT_LABELS,
    SearchForm,
    cost_plan,
    error_field,
)
from rapport.directory.profile_parts import profile_parts
from rapport.directory.search.contract import (
    SORT_BEST_FIT,
    SORT_DISTANCE,
    STYLE_PARAMS,
    SearchHit,
    SearchParam,
    SearchQuery,
    SearchQueryError,
    SearchResult,
)
from rapport.directory.search.engine import (
    SearchIndex,
    cached_answer,
    cached_rows,
    current_index,
    search,
)
from rapport.directory.search.numbers import NotANumber, NumberTooLong
from rapport.directory.search.params import (
    default_sort,
    page_number,
    parse_search_query,
    place_not_found_sentence,
)
from rapport.directory.selectors import therapist_listing, therapist_profile

# A page number beyond any real directory; larger ones are simply "past the end".
MAX_PAGE_NUMBER = 1_000_000


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


# --- search ------------------------------------------------------------------------------------


def distance_label(distance_km: float | None) -> str:
    """``3.24`` → ``"3.2 km away"``; whole kilometres from 10 km on, where tenths are noise."""
    if distance_km is None:
        return ""
    if distance_km < 0.1:
        return "Less than 0.1 km away"
    if distance_km < 10:
        return f"{distance_km:.1f} km away"
    return f"{distance_km:,.0f} km away"


def count_sentence(total: int) -> str:
    if total == 0:
        return "No therapists match"
    return "1 therapist matches" if total == 1 else f"{total:,} therapists match"


def _hit_cards(
    hits: list[SearchHit], *, now: dt.datetime, index: SearchIndex
) -> list[tuple[ResultCard, str]]:
    """The page's therapists with what a card shows, in the engine's order (cards read this
    minute are reused: see ``engine.cache.RecentRows``)."""
    by_id = cached_rows(
        index.recent_cards,
        [hit.therapist_id for hit in hits],
        now=now,
        read=lambda ids: result_cards_by_id(ids=ids, now=now),
    )
    return [
        (by_id[hit.therapist_id], distance_label(hit.distance_km))
        for hit in hits
        if hit.therapist_id in by_id  # hidden or deleted between the search and this read
    ]


@require_safe
def therapist_list(request: HttpRequest) -> HttpResponse:
    """The search page: filters, live counts and one page of results.

    A htmx request (the form changed) gets only the results region, plus the counts and
    error slots out of band, so the form a person is using is never replaced under them.
    """
    now = timezone.now()
    params, page_message = _page_params(request.GET)

    query: SearchQuery | None = None
    result: SearchResult | None = None
    errors: dict[str, str] = {}
    place_suggestions: list[tuple[str, str]] = []
    try:
        index = current_index()
        query = parse_search_query(params, page_size=settings.DIRECTORY_PAGE_SIZE, index=index)
        searched = query
        result = cached_answer(
            index,
            key=("search", searched),
            now=now,
            compute=lambda: search(searched, now=now, index=index),
        )
    except SearchQueryError as error:
        errors[error_field(error.field)] = error.message
        place_suggestions = _place_suggestions(request.GET, error)

    form = SearchForm(
        params=request.GET,
        facets=result.facets if result is not None else None,
        errors=errors,
        has_location=query.has_location if query is not None else False,
        has_style=bool(query.style)
        if query is not None
        else any(request.GET.get(name, "").strip() for name in STYLE_PARAMS),
    )
    status = 200
    cards: list[tuple[ResultCard, str]] = []
    past_end_message = None
    if result is None:
        status = 400
    elif result.page_past_end:
        status = 404
        past_end_message = (
            "There is only 1 page."
            if result.pages == 1
            else f"There are only {result.pages} pages."
        )
    else:
        cards = _hit_cards(result.hits, now=now, index=index)
    suggestions: list[tuple[str, str, str]] = []
    if query is not None and result is not None and result.total == 0:
        suggestions = _suggestions(request.GET, query=query, index=index, form=form, now=now)

    page_size = settings.DIRECTORY_PAGE_SIZE
    first_index = (result.page - 1) * page_size + 1 if result and cards else 0
    context: dict[str, Any] = {
        "form": form,
        "query": query,
        "result": result,
        "cards": cards,
        "count_sentence": count_sentence(result.total) if result else "",
        "page_message": page_message,
        "past_end_message": past_end_message,
        "page_range": _page_range(result) if result and cards else [],
        "first_index": first_index,
        "last_index": first_index + len(cards) - 1 if cards else 0,
        "form_fields": FORM_FIELDS,
        "live_text": _live_text(query, result),
        "sort_options": _sort_options(form, query),
        "suggestions": suggestions,
        "place_suggestions": place_suggestions,
        "place_not_found": _place_typed(request.GET) if place_suggestions else "",
        "freshness_days": settings.LISTING_FRESHNESS_DAYS,
        "now": now,
    }
    is_partial = bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
    template = "directory/_search_results.html" if is_partial else "directory/therapist_list.html"
    # htmx leaves 4xx answers out of the page, and the fragment is what says what went wrong,
    # so it is sent as 200 (it is never a page of its own); the full page keeps 400 or 404.
    response = render(request, template, context, status=200 if is_partial else status)
    # The same URL answers with a whole page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


# What "without ..." calls a filter that has no fieldset legend of its own.
_FILTER_WORDS: dict[str, str] = {
    SearchParam.TEXT: "the search words",
    SearchParam.MAX_FEE: "the budget",
    SearchParam.SLIDING_SCALE: "the sliding scale",
    SearchParam.INSURANCE: "accepts insurance",
    SearchParam.DIRECT_BILLING: "bills my insurer directly",
    SearchParam.HAS_VIDEO: "has a video introduction",
    SearchParam.CAPTIONED_VIDEO: "has captioned videos",
    SearchParam.LGBTQ2S_AFFIRMING: "2SLGBTQ+ affirming practice",
    **dict.fromkeys(STYLE_PARAMS, "a style preference"),
}
# Never dropped as a suggestion: where to search, and how the results are shown.
_KEPT_PARAMS = frozenset(
    {
        SearchParam.PLACE,
        SearchParam.LATITUDE,
        SearchParam.LONGITUDE,
        SearchParam.RADIUS,
        SearchParam.SORT,
        SearchParam.PAGE,
        SearchParam.ACCEPTING,
    }
)
MAX_SUGGESTIONS = 2


def _therapists(count: int) -> str:
    return "1 therapist" if count == 1 else f"{count:,} therapists"


def _suggestions(
    raw: QueryDict, *, query: SearchQuery, index: SearchIndex, form: SearchForm, now: dt.datetime
) -> list[tuple[str, str, str]]:
    """(what to change, its link, how many it would show) for a search that found nobody: the
    smallest wider distance that finds someone, and the filters whose removal finds the most.

    Each count is the engine's own answer to the changed search, so the link shows exactly it.
    """
    base = reverse("directory:therapist_list")
    found: list[tuple[str, str, str]] = []
    if query.has_location:
        for km in RADIUS_CHOICES_KM:
            if km <= query.radius_km:
                continue
            wider = dataclasses.replace(query, radius_km=float(km), page=1)
            # Probes of other radii: not searches of those places (engine.nearby).
            total = search(wider, now=now, index=index, nearby=False).total
            if total:
                params = raw.copy()
                params[SearchParam.RADIUS] = str(km)
                params.pop(SearchParam.PAGE, None)
                found.append(
                    (
                        f"Search within {km} km",
                        f"{base}?{params.urlencode()}#results",
                        _therapists(total),
                    )
                )
                break
    removals: list[tuple[int, str, str]] = []
    names = [name for name in dict.fromkeys(raw) if name not in _KEPT_PARAMS]
    for name in names:
        if not any(value.strip() for value in raw.getlist(name)):
            continue
        params = raw.copy()
        params.pop(name)
        params.pop(SearchParam.PAGE, None)
        searched, _note = _page_params(params)
        try:
            without = parse_search_query(
                searched, page_size=settings.DIRECTORY_PAGE_SIZE, index=index
            )
        except SearchQueryError:
            continue
        total = search(without, now=now, index=index).total
        if total:
            group = form.groups.get(name)
            words = group.legend if group is not None else _FILTER_WORDS.get(name, name)
            removals.append((total, f"Without “{words}”", f"{base}?{params.urlencode()}#results"))
    removals.sort(key=lambda removal: -removal[0])
    for total, label, url in removals[: MAX_SUGGESTIONS - len(found)]:
        found.append((label, url, _therapists(total)))
    return found


def _place_typed(raw: QueryDict) -> str:
    """The sentence saying the place typed was not found (the last one, as the parser reads)."""
    typed = [value.strip() for value in raw.getlist(SearchParam.PLACE) if value.strip()]
    return place_not_found_sentence(typed[-1] if typed else "")


def _place_suggestions(raw: QueryDict, error: SearchQueryError) -> list[tuple[str, str]]:
    """(place, link) for each place suggested instead of one not found: the same search, every
    other filter kept, with that place."""
    if error.field != SearchParam.PLACE or not error.suggestions:
        return []
    base = reverse("directory:therapist_list")
    links = []
    for label in error.suggestions:
        params = raw.copy()
        params[SearchParam.PLACE] = label
        for name in (SearchParam.LATITUDE, SearchParam.LONGITUDE, SearchParam.PAGE):
            params.pop(name, None)
        links.append((label, f"{base}?{params.urlencode()}#results"))
    return links


def _sort_options(form: SearchForm, query: SearchQuery | None) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for the sort menu.

    The default order for the search as it stands (nearest first with a place, otherwise the
    soonest free consultation) is sent as an empty value, never by name: the menu is part of
    the form, so a named default would stick after a place is typed (a person who searched
    with no place and then typed one would stay on the old order).
    """
    default = default_sort(has_location=form.has_location)
    chosen = query.sort if query is not None else (form.sort or default)
    selected = "" if chosen == default else chosen
    options = [("", SORT_LABELS[default])] + [
        (value, label) for value, label in form.sort_choices() if value != default
    ]
    return [(value, label, value == selected) for value, label in options]


def _page_params(raw: QueryDict) -> tuple[QueryDict, str | None]:
    """The query string as this page searches it, and a note about the page number if any.

    - Only therapists accepting new clients are shown here (the listing rule), whatever an
      ``accepting=0`` copied from an API URL says, so every card links to a profile that opens.
    - A bad ``?page=`` is an old link or a typo, never an error: page 1 and a sentence.
    - A sort that no longer applies (best fit after the last style preference was cleared,
      nearest after the place was) falls back to the default instead of failing the search:
      the sort menu offers only what applies, but the menu a person used a moment ago may not.
    """
    params = raw.copy()
    params[SearchParam.ACCEPTING] = "1"
    page, page_message = _requested_page(params.get(SearchParam.PAGE))
    if SearchParam.PAGE in params:
        params[SearchParam.PAGE] = str(page)
    sort = params.get(SearchParam.SORT, "").strip()
    has_style = any(params.get(name, "").strip() for name in STYLE_PARAMS)
    has_place = any(
        params.get(name, "").strip()
        for name in (SearchParam.PLACE, SearchParam.LATITUDE, SearchParam.LONGITUDE)
    )
    if (sort == SORT_BEST_FIT and not has_style) or (sort == SORT_DISTANCE and not has_place):
        del params[SearchParam.SORT]
    return params, page_message


def _requested_page(raw: str | None) -> tuple[int, str | None]:
    """The page to show for a ``?page=`` value, and a sentence when it could not be used as
    given. What counts as a number is the API's rule too (``page_number``): ASCII digits only,
    so "1_0" and "١" are not page numbers on either."""
    if raw is None or raw.strip() == "":
        return 1, None
    try:
        number = page_number(raw.strip())
    except NotANumber:
        return 1, "That page number was not recognised, so here is page 1."
    except NumberTooLong:
        return MAX_PAGE_NUMBER, None  # past the end, which says how many pages there are
    if number < 1:
        return 1, "Pages start at 1, so here is page 1."
    return min(number, MAX_PAGE_NUMBER), None


def _page_range(result: SearchResult) -> list[int | str]:
    # Paginator only for its elided range; the engine has already counted and sliced.
    paginator = Paginator(range(result.pages), 1)
    return [
        number if isinstance(number, int) else "…"
        for number in paginator.get_elided_page_range(result.page)
    ]


def _live_text(query: SearchQuery | None, result: SearchResult | None) -> str:
    """What the polite live region says after each search: the count, and where."""
    if query is None or result is None:
        return "One of your choices needs a change."
    sentence = count_sentence(result.total)
    if query.has_location:
        place = query.place_label or "your location"
        sentence += f" near {place}"
    return f"{sentence}."


# --- profile -----------------------------------------------------------------------------------


@require_safe
def therapist_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    now = timezone.now()
    therapist = therapist_profile(public_id=public_id, now=now)
    if therapist is None:
        raise Http404("No listed therapist has this address.")
    plan = cost_plan(therapist=therapist, params=request.GET)
    return render(
        request,
        "directory/therapist_detail.html",
        {
            "therapist": therapist,
            "now": now,
            "plan": plan,
            # Booking's link and the video introductions (rapport.directory.profile_parts).
            "parts": profile_parts(request=request, therapist=therapist),
            "frequency_choices": FREQUENCY_CHOICES,
        },
        status=400 if plan.error else 200,
    )
