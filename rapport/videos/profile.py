"""The video introductions on a therapist's profile page (a directory profile part, registered
in ``VideosConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from rapport.directory.models import TherapistProfile
from rapport.videos.selectors import published_videos


def profile_videos_part(request: HttpRequest, therapist: TherapistProfile) -> dict[str, Any]:
    # The flag is kept with every publication change; it spares profiles without videos a query.
    videos = list(published_videos(therapist=therapist)) if therapist.has_video_introduction else []
    section = render_to_string(
        "videos/_profile_videos.html", {"videos": videos, "therapist": therapist}, request=request
    )
    return {"section": section}
