"""A person's own account pages: correct details, consents, export, deletion.

Everything here is about the signed-in person only, so no view takes an object id: there is
nothing of anyone else's to ask for. Export and deletion need a recent sign-in (allauth's
reauthentication), because a borrowed, unlocked laptop must not hand over a health history.
"""

from __future__ import annotations

import datetime as dt
import json

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts import services
from rapport.accounts.forms import AccountDetailsForm
from rapport.accounts.models import User
from rapport.accounts.sections import account_page_shows_health_data, account_sections_render
from rapport.accounts.selectors import account_export_data, consents_of
from rapport.core.audit import audit_entries_about_user
from rapport.core.middleware import mark_health_data
from rapport.core.timezones import moment_day_label


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # guaranteed by login_required
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def account_overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = AccountDetailsForm(request.POST or None, initial={"name": user.name})
    if request.method == "POST" and form.is_valid():
        services.account_correct(user=user, name=form.cleaned_data["name"])
        messages.success(request, "Your details were saved.")
        return redirect("accounts:overview")
    # What the apps above accounts keep for this person (booking: their consultations).
    sections = account_sections_render(request=request, user=user)
    response = render(
        request,
        "accounts/overview.html",
        {"form": form, "sections": sections},
        status=400 if form.errors else 200,
    )
    if account_page_shows_health_data():
        mark_health_data(response)
    return response


@login_required
@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "accounts/privacy.html",
        {
            "consents": consents_of(user=user),
            "views_of_my_data": audit_entries_about_user(user=user)[:50],
            "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS,
        },
    )


@login_required
@reauthentication_required
@require_safe
def export_json(request: HttpRequest) -> HttpResponse:
    data = account_export_data(user=_user(request))
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="rapport-export-{stamp}.json"'
    return response


@login_required
@reauthentication_required
@require_safe
def export_html(request: HttpRequest) -> HttpResponse:
    data = account_export_data(user=_user(request))
    return render(
        request,
        "accounts/export.html",
        {"data": data, "pretty": json.dumps(data, indent=2, ensure_ascii=False)},
    )


@login_required
@reauthentication_required
@require_POST
def deletion_request(request: HttpRequest) -> HttpResponse:
    user = services.account_deletion_request(user=_user(request))
    assert user.deletion_due_at is not None
    messages.info(
        request,
        f"Your account will be deleted on {moment_day_label(user.deletion_due_at, dt.UTC)} "
        "(UTC). "
        "You can keep it until then from this page.",
    )
    return redirect("accounts:privacy")


@login_required
@require_POST
def deletion_cancel(request: HttpRequest) -> HttpResponse:
    services.account_deletion_cancel(user=_user(request))
    messages.success(request, "Your account will not be deleted.")
    return redirect("accounts:privacy")
