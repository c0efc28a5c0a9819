"""The only way views fetch videos and uploads.

Three kinds of viewer: anyone, for a published video of a listed therapist; the therapist who
owns it, for everything of theirs (including what is still processing or was not approved);
and video moderators, for anything they are asked to review. Everyone else gets the same 404 as
for an id that never existed, so unpublished videos do not leak.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.signin import has_second_factor
from rapport.directory.access import get_practice_therapist
from rapport.directory.models import TherapistProfile
from rapport.directory.selectors import is_listed
from rapport.videos.models import Video, VideoUpload

MODERATE_PERMISSION = "videos.moderate_videos"


def can_moderate_videos(user: User | AnonymousUser) -> bool:
    # The second factor is checked here too: playback URLs lie outside the paths where the
    # middleware demands it, and unpublished videos are not public.
    return bool(
        user.is_authenticated
        and user.is_active
        and user.has_perm(MODERATE_PERMISSION)
        and has_second_factor(user)
    )


def get_video_therapist(user: User | AnonymousUser) -> TherapistProfile:
    """The signed-in therapist whose videos these pages manage; Http404 for anyone else."""
    return get_practice_therapist(user)


def get_video_for_owner(user: User | AnonymousUser, public_id: uuid.UUID) -> Video:
    therapist = get_practice_therapist(user)
    video = Video.objects.filter(therapist=therapist, public_id=public_id).first()
    if video is None:
        raise Http404("No such video.")
    video.therapist = therapist
    return video


def get_upload_for_owner(user: User | AnonymousUser, public_id: uuid.UUID) -> VideoUpload:
    therapist = get_practice_therapist(user)
    upload = VideoUpload.objects.filter(therapist=therapist, public_id=public_id).first()
    if upload is None:
        raise Http404("No such upload.")
    upload.therapist = therapist
    return upload


def get_video_for_moderation(user: User | AnonymousUser, public_id: uuid.UUID) -> Video:
    if not can_moderate_videos(user):
        raise Http404("No such video.")
    video = Video.objects.select_related("therapist", "reviewed_by").filter(public_id=public_id)
    found = video.first()
    if found is None:
        raise Http404("No such video.")
    return found


def get_video_for_viewer(user: User | AnonymousUser, public_id: uuid.UUID) -> Video:
    """A video this person may watch: published by a listed therapist, their own, or one they
    moderate."""
    video = Video.objects.select_related("therapist").filter(public_id=public_id).first()
    if video is None:
        raise Http404("No such video.")
    if video.is_published and is_listed(video.therapist, now=timezone.now()):
        return video
    if user.is_authenticated and video.therapist.user_id == user.pk and user.is_active:
        return video
    if can_moderate_videos(user):
        return video
    raise Http404("No such video.")
