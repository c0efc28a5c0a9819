"""Video review for staff: a queue and a decision page.

Only video moderators reach these pages (everyone else gets a 404), and MfaRequiredMiddleware
makes sure they have two-factor authentication first (everything under /staff/).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.models import User
from rapport.videos import access, selectors, services
from rapport.videos.errors import VideoRejected
from rapport.videos.forms import ReviewDecisionForm
from rapport.videos.models import ReviewState


@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    if not access.can_moderate_videos(request.user):
        raise Http404("No such page.")
    queue = request.GET.get("queue", "waiting")
    if queue not in selectors.REVIEW_QUEUES:
        queue = "waiting"
    page = Paginator(selectors.videos_for_review(queue=queue), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "videos/staff/review_queue.html",
        {"page": page, "queue": queue, "queues": list(selectors.REVIEW_QUEUES)},
    )


@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    video = access.get_video_for_moderation(request.user, public_id)
    form = ReviewDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        try:
            if form.cleaned_data["decision"] == ReviewState.APPROVED:
                services.video_approve(video=video, reviewer=request.user)
                messages.success(request, f"Approved: {video.therapist.display_name}'s video.")
            else:
                services.video_reject(
                    video=video, reviewer=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, f"Not approved: {video.therapist.display_name}'s video.")
        except VideoRejected as refused:
            form.add_error("reason" if refused.code == "no_reason" else None, refused.message)
        else:
            return redirect("videos:review_queue")
    return render(
        request,
        "videos/staff/review_detail.html",
        {"video": video, "form": form},
        status=400 if form.errors else 200,
    )
