"""Private helpers that more than one video service module needs: queueing the processing
task, the lock every change to what is published takes, and the therapist's video facts."""

from __future__ import annotations

from collections.abc import Callable

from rapport.directory.models import TherapistProfile
from rapport.directory.services import therapist_video_facts_set
from rapport.videos.errors import VideoRejected
from rapport.videos.models import Video


def _enqueuer(video: Video) -> Callable[[], None]:
    return lambda: _enqueue_processing(video)


def _enqueue_processing(video: Video) -> None:
    # Imported here: tasks imports the services package.
    from rapport.videos.tasks import process_video

    process_video.enqueue(video_id=video.pk)


def _lock_for_change(video: Video) -> Video:
    """Lock the therapist's profile row, then re-read the video under it.

    Every change that affects what is published takes the profile lock first, so on
    PostgreSQL two of them for one therapist run one after the other: two approvals of the same
    question cannot both publish, and the "has a video" facts are computed from what the
    other committed (on SQLite, write transactions are serial anyway). VideoRejected "gone"
    when the video was deleted meanwhile.
    """
    TherapistProfile.objects.select_for_update().filter(pk=video.therapist_id).exists()
    current = Video.objects.select_for_update().filter(pk=video.pk).first()
    if current is None:
        raise VideoRejected("This video was deleted meanwhile.", code="gone")
    return current


def _therapist_video_facts_refresh(therapist: TherapistProfile) -> None:
    published = Video.objects.filter(therapist=therapist, is_published=True)
    therapist_video_facts_set(
        therapist=therapist,
        has_video_introduction=published.exists(),
        has_captioned_video=published.exclude(captions_vtt="").exists(),
    )
