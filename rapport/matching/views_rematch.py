"""Re-matching after an engagement the client ended as not the right fit (/match/rematch/<id>/).

Signed in, the client's own engagement (care's access: another's is a 404), and only one that
ended as not the right fit (any other is the same 404: there is nothing to re-match). The page
asks what did not fit in a few taps (``answers.MisfitReason``); a POST hands them to
``services.misfit_feedback_record`` (they join the fit profile's ``did_not_fit``, and the ended
engagement becomes a poor outcome for the learned model) and sends the person to the results,
which leave out past therapists and lean away from what did not fit. An unknown reason is shown
at the field and nothing is written. The reasons travel in the POST body only, never in a URL.

Care links here without naming matching: ``register`` puts this page in care's
``hooks`` registry.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rapport.care import access as care_access
from rapport.care.hooks import register_not_right_fit_step
from rapport.care.models import EndedFor, Engagement
from rapport.core.forms import AccessibleForm
from rapport.matching import services
from rapport.matching.answers import MISFIT_LABELS, FitAnswersError, MisfitReason

TEMPLATE = "matching/rematch.html"
RESULTS = "matching:results"


class MisfitForm(AccessibleForm):
    reasons = forms.MultipleChoiceField(
        label="What didn't fit?",
        choices=[(reason.value, MISFIT_LABELS[reason]) for reason in MisfitReason],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=(
            "Choose any that apply, or none. Only you and the matching see these: "
            "your past therapist never does."
        ),
        error_messages={
            "invalid_choice": "“%(value)s” is not one of the reasons we know.",
            "invalid_list": "Choose from the reasons listed.",
        },
    )


def _misfit_engagement(request: HttpRequest, public_id: uuid.UUID) -> Engagement:
    engagement = care_access.get_engagement_for_client(request.user, public_id)
    if engagement.ended_for != EndedFor.NOT_THE_RIGHT_FIT:
        # Nothing to re-match: the same answer as an engagement that does not exist.
        raise Http404("No such engagement.")
    return engagement


def _page(
    request: HttpRequest, engagement: Engagement, form: MisfitForm, *, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {"engagement": engagement, "form": form}
    return render(request, TEMPLATE, context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rematch(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = _misfit_engagement(request, public_id)
    if request.method != "POST":
        return _page(request, engagement, MisfitForm())
    form = MisfitForm(request.POST)
    if not form.is_valid():
        return _page(request, engagement, form, status=400)
    user = engagement.client  # the signed-in person: care's access fetched it for them
    try:
        services.misfit_feedback_record(
            owner=user, engagement=engagement, reasons=form.cleaned_data["reasons"]
        )
    except FitAnswersError as error:
        form.add_error("reasons", error.message)
        form.describe_fields()
        return _page(request, engagement, form, status=400)
    except services.NotAMisfit as error:
        # Checked above; only a change between the two reads gets here.
        raise Http404("No such engagement.") from error
    return redirect(RESULTS)


def _rematch_url(engagement: Engagement) -> str | None:
    return reverse("matching:rematch", args=[engagement.public_id])


def register() -> None:
    """Care's page for an engagement ended as not the right fit links here."""
    register_not_right_fit_step("matching", _rematch_url)
