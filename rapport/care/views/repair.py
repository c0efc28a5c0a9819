"""The client's one-click "this isn't the right fit" (offered after a low check-in).

POST only, signed in, the client's own engagement (another's is a 404). It ends the engagement
with ``ended_for`` = not the right fit (``services.engagement_end_not_right_fit``; the words are
optional) and answers with "find someone new": the step a higher app registered for an
engagement ended this way (``hooks.not_right_fit_step_url``: matching asks what did not fit
and suggests someone different), the directory's search and the guide on fit.
An engagement already ended says so (409) and still points to the search; nothing is written.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from rapport.care import access, hooks, services
from rapport.care.forms import NotRightFitForm
from rapport.care.models import CLOSED_STATUSES, Engagement, Side
from rapport.care.services.engagements import ALREADY_ENDED
from rapport.core import guides

TEMPLATE = "care/not_right_fit.html"


def _page(
    request: HttpRequest,
    engagement: Engagement,
    *,
    state: str,
    form: NotRightFitForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        TEMPLATE,
        {
            "engagement": engagement,
            # ended (just now), already_ended, or refused (the words were too long)
            "state": state,
            "form": form,
            "fit_guide": guides.WHY_FIT_MATTERS,
            "rematch_url": hooks.not_right_fit_step_url(engagement=engagement),
        },
        status=status,
    )


@login_required
@require_POST
def client_not_right_fit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    if engagement.status in CLOSED_STATUSES:
        return _page(request, engagement, state="already_ended", status=409)
    form = NotRightFitForm(request.POST)
    if not form.is_valid():
        return _page(request, engagement, state="refused", form=form, status=400)
    try:
        ended = services.engagement_end_not_right_fit(
            engagement=engagement, by=Side.CLIENT, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        if getattr(error, "code", None) == ALREADY_ENDED:
            # Ended by the other side (or another tab) since this request began.
            return _page(request, engagement, state="already_ended", status=409)
        form.add_error(None, error)
        return _page(request, engagement, state="refused", form=form, status=400)
    return _page(request, ended, state="ended")
