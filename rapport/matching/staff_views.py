"""Matching's staff page: each therapist's exposure on first pages of match lists
(/staff/matching/exposure/).

Staff only, as the platform figures (``directory.figures.can_see_platform_figures``): a
signed-out visitor is sent to sign in, anyone else gets the same 404 as a page that does not
exist, and MfaRequiredMiddleware asks staff for their second factor first (the page is under
/staff/). Read only; a period other than those offered is an error at the field (400).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.core.forms import AccessibleForm
from rapport.directory.figures import can_see_platform_figures
from rapport.matching.exposure import (
    DEFAULT_PERIOD_DAYS,
    PERIOD_DAYS,
    exposure_never_shown,
    exposure_period,
    exposure_shown,
)

PAGE_SIZE = 50


class PeriodForm(AccessibleForm):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[(days, f"Last {days} days") for days in PERIOD_DAYS],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Choose one of the periods offered: the last 7, 30 or 90 days."
        },
    )


@require_safe
def exposure(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_see_platform_figures(request.user):
        raise Http404("No such page.")
    data = request.GET.copy()
    data.setdefault("days", str(DEFAULT_PERIOD_DAYS))
    form = PeriodForm(data)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "matching/staff_exposure.html", context, status=400)
    days = form.cleaned_data["days"]
    now = timezone.now()
    today = timezone.localdate(now)
    period = exposure_period(days=days, today=today, now=now)
    shown = Paginator(exposure_shown(days=days, today=today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "name": row["therapist__display_name"],
            "appearances": row["appearances"],
            "share_percent": 100 * row["appearances"] / period.first_pages
            if period.first_pages
            else None,
        }
        for row in shown
    ]
    never = Paginator(exposure_never_shown(days=days, today=today, now=now), PAGE_SIZE).get_page(
        request.GET.get("never_page")
    )
    context.update(
        {
            "period": period,
            "page": shown,
            "page_range": shown.paginator.get_elided_page_range(shown.number),
            "rows": rows,
            "never": never,
        }
    )
    return render(request, "matching/staff_exposure.html", context)
