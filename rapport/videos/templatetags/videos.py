"""``{% profile_videos therapist %}``: the published video introductions on a profile page.

A template tag, so the directory's profile page shows videos without the directory importing
the videos app (which depends on the directory)."""

from __future__ import annotations

from typing import Any

from django import template

from rapport.directory.models import TherapistProfile
from rapport.videos.selectors import published_videos

register = template.Library()


@register.inclusion_tag("videos/_profile_videos.html")
def profile_videos(therapist: TherapistProfile) -> dict[str, Any]:
    # The flag is kept with every publication change; it spares profiles without videos a query.
    videos = list(published_videos(therapist=therapist)) if therapist.has_video_introduction else []
    return {"videos": videos, "therapist": therapist}
