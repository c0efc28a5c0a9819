"""Reads for the video pages: the therapist's own videos, the profile's, the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from rapport.directory.models import TherapistProfile
from rapport.videos.models import ProcessingState, Prompt, ReviewState, Video, VideoUpload

# The profile shows the prompts in the order Prompt declares them.
_PROMPT_ORDER = Case(
    *(When(prompt=value, then=Value(position)) for position, value in enumerate(Prompt.values)),
    output_field=IntegerField(),
)


@dataclass
class PromptVideos:
    """One prompt on the therapist's video page: what is live, and what is on its way."""

    prompt: str
    label: str
    live: Video | None = None
    others: list[Video] = field(default_factory=list)
    uploads: list[VideoUpload] = field(default_factory=list)


def therapist_videos_by_prompt(*, therapist: TherapistProfile) -> list[PromptVideos]:
    groups = {value: PromptVideos(prompt=value, label=label) for value, label in Prompt.choices}
    for video in Video.objects.filter(therapist=therapist).order_by("-created_at", "-id"):
        group = groups[video.prompt]
        if video.is_published:
            group.live = video
        else:
            group.others.append(video)
    for upload in VideoUpload.objects.filter(therapist=therapist):
        groups[upload.prompt].uploads.append(upload)
    return list(groups.values())


def published_videos(*, therapist: TherapistProfile) -> QuerySet[Video]:
    """The therapist's live videos in prompt order (the caller checks the listing is public)."""
    return (
        Video.objects.filter(therapist=therapist, is_published=True)
        .annotate(prompt_order=_PROMPT_ORDER)
        .order_by("prompt_order")
    )


REVIEW_QUEUES: dict[str, Q] = {
    # New videos, and text changes to live ones.
    "waiting": Q(review=ReviewState.PENDING, state=ProcessingState.READY)
    | Q(has_pending_text=True),
    "approved": Q(review=ReviewState.APPROVED),
    "rejected": Q(review=ReviewState.REJECTED),
}


def videos_for_review(*, queue: str) -> QuerySet[Video]:
    """Videos in one review queue, oldest first (first come, first reviewed)."""
    return (
        Video.objects.filter(REVIEW_QUEUES.get(queue, REVIEW_QUEUES["waiting"]))
        .select_related("therapist", "reviewed_by")
        .order_by("created_at", "id")
    )
