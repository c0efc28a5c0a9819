"""The shortlist, its Save button on each result card, and the side-by-side comparison.

Kept apart from ``views`` (search and profile pages). A signed-in person's shortlist is the
account's (``shortlist.ShortlistEntry`` rows); a visitor's is the session's. Save and remove are
plain POST forms that redirect back; with htmx (``HX-Request``) the card's Save form is
swapped in place instead, so the page keeps its scroll position and focus.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from rapport.directory import display
from rapport.directory import shortlist as shortlist_store
from rapport.directory.models import STYLE_DIMENSIONS, TherapistProfile


def _redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return HttpResponseRedirect(target)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def _save_fragment(
    request: HttpRequest, *, public_id: uuid.UUID, name: str, saved: bool, note: str = ""
) -> HttpResponse:
    """The card's Save form in its new state, for htmx to swap in place of the old one."""
    response = render(
        request,
        "directory/_card_save.html",
        {
            "save_id": public_id,
            "save_name": name,
            "saved": saved,
            "save_note": note,
            # Without the card's fragment, which the template adds again.
            "next_url": request.POST.get("next", "").split("#", 1)[0],
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
def shortlist_add(request: HttpRequest) -> HttpResponse:
    public_id = shortlist_store.parse_public_id(request.POST.get("public_id"))
    if public_id is None:
        raise Http404("No listed therapist has this id.")
    outcome = shortlist_store.shortlist_add(
        session=request.session, user=request.user, public_id=public_id, now=timezone.now()
    )
    if outcome is shortlist_store.AddOutcome.NOT_LISTED:
        raise Http404("No listed therapist has this id.")
    full = (
        f"Your shortlist holds up to {shortlist_store.SHORTLIST_LIMIT} therapists. "
        "Remove one to make room."
    )
    if _is_htmx(request):
        saved = outcome is not shortlist_store.AddOutcome.FULL
        name = request.POST.get("name", "")[:200]
        return _save_fragment(
            request, public_id=public_id, name=name, saved=saved, note="" if saved else full
        )
    if outcome is shortlist_store.AddOutcome.ADDED:
        messages.success(request, "Saved to your shortlist.")
    elif outcome is shortlist_store.AddOutcome.ALREADY_THERE:
        messages.info(request, "Already on your shortlist.")
    else:
        messages.warning(request, full)
    return _redirect_back(request, reverse("directory:therapist_detail", args=[public_id]))


@require_POST
def shortlist_remove(request: HttpRequest) -> HttpResponse:
    public_id = shortlist_store.parse_public_id(request.POST.get("public_id"))
    removed = public_id is not None and shortlist_store.shortlist_remove(
        session=request.session, user=request.user, public_id=public_id
    )
    if public_id is not None and _is_htmx(request):
        name = request.POST.get("name", "")[:200]
        return _save_fragment(request, public_id=public_id, name=name, saved=False)
    if removed:
        messages.success(request, "Removed from your shortlist.")
    return _redirect_back(request, reverse("directory:shortlist"))


@never_cache
@require_safe
def shortlist(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    saved = shortlist_store.shortlist_ids(request.session, request.user)
    therapists = shortlist_store.shortlisted_cards(public_ids=saved, now=now)
    return render(
        request,
        "directory/shortlist.html",
        {
            "therapists": therapists,
            "hidden_count": len(saved) - len(therapists),
            "shortlist_limit": shortlist_store.SHORTLIST_LIMIT,
            "compare_min": shortlist_store.COMPARE_MIN,
            "compare_max": shortlist_store.COMPARE_MAX,
            "with_account": request.user.is_authenticated,
            "now": now,
        },
    )


@never_cache
@require_safe
def compare(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    requested: list[uuid.UUID] = []
    unreadable = 0
    for raw in request.GET.getlist("id"):
        public_id = shortlist_store.parse_public_id(raw)
        if public_id is None:
            unreadable += 1
        elif public_id not in requested:
            requested.append(public_id)

    low, high = shortlist_store.COMPARE_MIN, shortlist_store.COMPARE_MAX
    problem = None
    therapists: list[TherapistProfile] = []
    if len(requested) < low:
        problem = (
            f"Choose at least {low} therapists to compare"
            f"{'; you chose 1' if len(requested) == 1 else ''}."
        )
    elif len(requested) > high:
        problem = f"You can compare up to {high} therapists at a time; you chose {len(requested)}."
    else:
        therapists = shortlist_store.comparison_profiles(public_ids=requested, now=now)
    dropped = (len(requested) - len(therapists) if problem is None else 0) + unreadable
    if problem is None and len(therapists) < low:
        problem = "There are not enough listed therapists here to compare."
    rows = comparison_rows(therapists, now=now) if problem is None else []
    shown = therapists if problem is None else []
    return render(
        request,
        "directory/compare.html",
        {
            "therapists": shown,
            "problem": problem,
            "dropped": dropped,
            "rows": rows,
            # The same rows turned round, one block per therapist, for narrow screens.
            "blocks": [
                (therapist, [(label, cells[index]) for label, cells in rows])
                for index, therapist in enumerate(shown)
            ],
            "compare_min": low,
            "compare_max": high,
        },
        status=400 if problem else 200,
    )


def comparison_rows(therapists: list[TherapistProfile], *, now: Any) -> list[tuple[str, list[str]]]:
    """The comparison's rows: (label, one phrase per therapist, in order)."""

    def words(items: Any) -> str:
        return display.join_words(item.name for item in items.all()) or "Not stated"

    rows: list[tuple[str, list[str]]] = [
        ("Fee per session", [f"{t.fee_display} ({t.session_minutes} minutes)" for t in therapists]),
        (
            "Sliding scale",
            [
                f"From {t.sliding_scale_display}" if t.sliding_scale_display else "No"
                for t in therapists
            ],
        ),
        (
            "Insurance",
            [
                ("Accepts insurance" if t.accepts_insurance else "Does not accept insurance")
                + ("; bills your insurer directly" if t.direct_billing else "")
                for t in therapists
            ],
        ),
        ("Sessions", [display.delivery_modes_label(t) for t in therapists]),
        ("Location", [display.location_label(t) or "Ask for the address" for t in therapists]),
        ("Languages", [words(t.languages) for t in therapists]),
        ("Can help with", [words(t.concerns) for t in therapists]),
        ("Approaches", [words(t.modalities) for t in therapists]),
    ]
    for index, (_field, low, high) in enumerate(STYLE_DIMENSIONS):
        rows.append(
            (
                f"Style: {low.lower()} or {high.lower()}",
                [display.style_words(t.style_placements()[index]) for t in therapists],
            )
        )
    rows += [
        ("Contact policy", [display.contact_policy(t) for t in therapists]),
        ("Experience", [display.years_in_practice_label(t) for t in therapists]),
        (
            "Free consultation",
            [
                f"{t.consultation_minutes} minutes" if t.consultation_minutes else "Not offered"
                for t in therapists
            ],
        ),
        (
            "Next free consultation",
            [
                (display.next_consultation_label(t, now=now) or "No free time open right now")
                if t.consultation_minutes
                else "Not offered"
                for t in therapists
            ],
        ),
    ]
    return rows
