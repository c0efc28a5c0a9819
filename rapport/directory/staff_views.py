"""Staff pages: licence review (a queue and a decision page) and the platform figures.

Only licence reviewers reach the review pages and only staff the figures (everyone else gets a
404, as if they did not exist), and MfaRequiredMiddleware makes sure they have two-factor
authentication on first.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.models import User
from rapport.directory.access import can_review_licences, get_therapist_for_review
from rapport.directory.completeness import is_draft
from rapport.directory.figures import (
    VERIFICATION_WINDOW,
    can_see_platform_figures,
    platform_figures,
)
from rapport.directory.licence_review import changes_since_last_decision, last_review
from rapport.directory.models import (
    Licence,
    TherapistProfile,
    VerificationDecision,
    VerificationStatus,
)
from rapport.directory.services import StaleDecision, therapist_verification_decide

QUEUE_STATUSES = {
    "pending": VerificationStatus.PENDING,
    "verified": VerificationStatus.VERIFIED,
    "rejected": VerificationStatus.REJECTED,
    "suspended": VerificationStatus.SUSPENDED,
}


class VerificationDecisionForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (VerificationStatus.VERIFIED, "Verify: the licence checks out"),
            (VerificationStatus.REJECTED, "Reject: the licence could not be verified"),
            (VerificationStatus.SUSPENDED, "Suspend: hide the listing now"),
        ],
        widget=forms.RadioSelect,
    )
    # The status the reviewer saw, so a decision made meanwhile by someone else is not
    # silently overridden.
    expected_status = forms.ChoiceField(
        choices=VerificationStatus.choices, widget=forms.HiddenInput, required=False
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
        help_text="Required to reject or suspend. The therapist reads it.",
    )


def _licences_to_check() -> Any:
    return Prefetch(
        "licences",
        queryset=Licence.objects.select_related("jurisdiction", "designation", "regulator"),
    )


@require_safe
def verification_queue(request: HttpRequest) -> HttpResponse:
    if not can_review_licences(request.user):
        raise Http404("No such page.")
    status = QUEUE_STATUSES.get(request.GET.get("status", "pending"), VerificationStatus.PENDING)
    therapists = TherapistProfile.objects.filter(verification_status=status)
    if status == VerificationStatus.PENDING:
        # A draft (never sent for review) is not the reviewers' yet: its therapist is still
        # filling it in, and verifying it would list an unfinished profile.
        therapists = therapists.exclude(submitted_for_review_at=None)
    therapists = (
        therapists.select_related("designation")
        .prefetch_related(
            _licences_to_check(),
            # Reviewers' decisions, newest first: the first is what "changed since" compares
            # with.
            Prefetch(
                "verification_decisions",
                queryset=VerificationDecision.objects.exclude(
                    status=VerificationStatus.PENDING
                ).order_by("-decided_at"),
                to_attr="reviews_newest_first",
            ),
        )
        .order_by("created_at", "id")
    )
    page = Paginator(therapists, 50).get_page(request.GET.get("page"))
    rows = [
        {
            "therapist": therapist,
            "licences": list(therapist.licences.all()),
            "changes": changes_since_last_decision(
                therapist=therapist,
                licences=therapist.licences.all(),
                last_decision=last_review(therapist.reviews_newest_first),  # type: ignore[attr-defined]
            ),
        }
        for therapist in page.object_list
    ]
    return render(
        request,
        "directory/staff/verification_queue.html",
        {"page": page, "rows": rows, "status": status, "statuses": VerificationStatus.choices},
    )


@require_http_methods(["GET", "POST"])
def verification_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    therapist = get_therapist_for_review(request.user, public_id)
    form = VerificationDecisionForm(
        request.POST or None, initial={"expected_status": therapist.verification_status}
    )
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        try:
            therapist_verification_decide(
                therapist=therapist,
                reviewer=request.user,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                expected_status=form.cleaned_data["expected_status"] or None,
            )
        except StaleDecision as conflict:
            therapist.refresh_from_db()
            form.add_error(None, str(conflict))
            # Show the page as it is now, so a second submit is a decision on what they see.
            form.data = {
                **{key: request.POST.get(key) for key in request.POST},
                "expected_status": therapist.verification_status,
            }
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            status = therapist.get_verification_status_display().lower()
            messages.success(request, f"{therapist.display_name} is now {status}.")
            return redirect("directory:verification_queue")
    licences = list(therapist.licences.select_related("jurisdiction", "designation", "regulator"))
    decisions = list(therapist.verification_decisions.select_related("reviewer"))
    return render(
        request,
        "directory/staff/verification_detail.html",
        {
            "therapist": therapist,
            "licences": licences,
            "decisions": decisions,
            "changes": changes_since_last_decision(
                therapist=therapist,
                licences=licences,
                last_decision=last_review(decisions),
            ),
            "form": form,
            # A draft gets a notice instead of the form (the service refuses to decide it).
            "draft": is_draft(therapist),
        },
        status=(409 if form.non_field_errors() else 400) if form.errors else 200,
    )


@require_safe
def staff_figures(request: HttpRequest) -> HttpResponse:
    """The platform at a glance: listings by state, how long verification takes, and the
    booking facts across therapists."""
    if not can_see_platform_figures(request.user):
        raise Http404("No such page.")
    return render(
        request,
        "directory/staff/figures.html",
        {
            "figures": platform_figures(now=timezone.now()),
            "verification_window_days": VERIFICATION_WINDOW.days,
            "freshness_days": settings.LISTING_FRESHNESS_DAYS,
            "can_review_licences": can_review_licences(request.user),
        },
    )
