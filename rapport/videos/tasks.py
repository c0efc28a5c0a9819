"""Background work for video introductions, run by `rapport db_worker` (immediately in tests)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from rapport.videos import services
from rapport.videos.models import ReviewState, Video


@task()
def process_video(*, video_id: int) -> None:
    """Transcode one uploaded video (the service never raises for a bad file: it marks the
    video failed with the reason)."""
    services.video_process(video_id=video_id)


@task()
def send_review_email(*, video_id: int, approved: bool, text_only: bool = False) -> None:
    """Tell the therapist that staff approved or declined their video (unless a later
    decision changed it meanwhile: that one sends its own e-mail)."""
    video = Video.objects.select_related("therapist__user").filter(pk=video_id).first()
    if video is None or video.therapist.user is None:
        return
    # Declined text leaves the video approved; any other decision must still stand.
    expected = ReviewState.APPROVED if approved or text_only else ReviewState.REJECTED
    if video.review != expected:
        return
    send_mail(
        "[Rapport] Your video introduction is live"
        if approved
        else "[Rapport] Your changes to a video's text were not approved"
        if text_only
        else "[Rapport] Your video introduction was not approved",
        render_to_string(
            "videos/email/review_decided.txt",
            {
                "video": video,
                "approved": approved,
                "text_only": text_only,
                "videos_url": settings.SITE_URL + reverse("videos:practice_videos"),
            },
        ),
        settings.DEFAULT_FROM_EMAIL,
        [video.therapist.user.email],
    )
