"""Processing in the task worker: the sandboxed transcode to the playback file and poster,
and queueing again videos whose task was lost or whose worker died."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.videos import storage
from rapport.videos.errors import VideoRejected
from rapport.videos.models import ProcessingState, Video
from rapport.videos.services._common import _enqueuer
from rapport.videos.transcode import transcode_video

logger = logging.getLogger(__name__)

# A transcode failing for a reason that is not the file's (a bug, a full disk) still tells the
# therapist something true and useful.
GENERIC_FAILURE = (
    "Something went wrong while preparing this video. Please try uploading it again; if it "
    "keeps failing, export it as an MP4 and try once more."
)


def video_process(*, video_id: int) -> Video | None:
    """Transcode a queued video to the playback file and poster (in the task worker).

    Claims the video (queued → processing) so a duplicate task does nothing; the transcode runs
    in a sandboxed subprocess, so a hostile or broken file fails this video, never the worker.
    Side effects: media and poster in the videos storage and the video ready, or the video
    failed with the reason; the original deleted unless ``VIDEO_KEEP_ORIGINALS``.
    Returns the video, or None when there was nothing to do.
    """
    claimed = Video.objects.filter(pk=video_id, state=ProcessingState.QUEUED).update(
        state=ProcessingState.PROCESSING, updated_at=timezone.now()
    )
    if not claimed:
        return None
    video = Video.objects.get(pk=video_id)
    stored: list[str] = []
    try:
        with (
            storage.local_copy(video.original_name) as source,
            tempfile.TemporaryDirectory(prefix="rapport-transcode-") as work,
        ):
            media_path = Path(work) / "video.mp4"
            poster_path = Path(work) / "poster.jpg"
            report = transcode_video(
                source,
                video_out=media_path,
                poster_out=poster_path,
                # As the probe measured it: a shorter result lost part of the video.
                expected_seconds=video.duration_seconds,
            )
            stored.append(storage.save_local_file(media_path, suffix=".mp4"))
            stored.append(storage.save_local_file(poster_path, suffix=".jpg"))
    except VideoRejected as refused:
        return _processing_failed(video, refused.message, stored)
    except Exception:
        logger.exception("Processing video %s failed", video.public_id)
        return _processing_failed(video, GENERIC_FAILURE, stored)

    media_name, poster_name = stored
    keep_original = settings.VIDEO_KEEP_ORIGINALS
    updated = Video.objects.filter(pk=video.pk, state=ProcessingState.PROCESSING).update(
        state=ProcessingState.READY,
        media_name=media_name,
        poster_name=poster_name,
        width=report.width,
        height=report.height,
        duration_seconds=report.duration_seconds,
        media_size_bytes=report.size_bytes,
        has_audio=report.has_audio,
        original_name=video.original_name if keep_original else "",
        failure_reason="",
        processed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not updated:
        # Deleted (or reset) while we worked: nothing points at the new files.
        for name in stored:
            storage.delete_quietly(name)
        return None
    if not keep_original:
        storage.delete_quietly(video.original_name)
    video.refresh_from_db()
    return video


def _processing_failed(video: Video, reason: str, stored: list[str]) -> Video:
    for name in stored:
        storage.delete_quietly(name)
    Video.objects.filter(pk=video.pk).update(
        state=ProcessingState.FAILED,
        failure_reason=reason,
        original_name="",
        processed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    # A file that cannot be transcoded is of no further use, and it is the therapist's data.
    storage.delete_quietly(video.original_name)
    video.refresh_from_db()
    return video


# A queued video whose task has not started after this long is queued again: the enqueue after
# the commit may have been lost (a crash, a locked database). Duplicates are harmless: the
# claim in video_process lets only one task work on a video.
QUEUED_RESEND_AFTER = dt.timedelta(minutes=15)


def stuck_videos_requeue(*, now: dt.datetime) -> int:
    """Queue again videos whose worker died mid-transcode (processing for longer than the
    transcode may take) and queued videos whose task never started. Returns how many."""
    processing_cutoff = now - dt.timedelta(seconds=settings.VIDEO_TRANSCODE_TIMEOUT_SECONDS + 300)
    stuck = Video.objects.filter(
        state=ProcessingState.PROCESSING, updated_at__lt=processing_cutoff
    ) | Video.objects.filter(state=ProcessingState.QUEUED, updated_at__lt=now - QUEUED_RESEND_AFTER)
    requeued = 0
    for video_id, state in stuck.values_list("pk", "state"):
        with transaction.atomic():
            # Conditional on the state read above: a worker that moved it on meanwhile wins.
            if Video.objects.filter(pk=video_id, state=state).update(
                state=ProcessingState.QUEUED, updated_at=now
            ):
                transaction.on_commit(_enqueuer(Video(pk=video_id)))
                requeued += 1
    return requeued
