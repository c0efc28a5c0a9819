"""Every change to video introductions: uploads, processing, captions, moderation, deletion.

Files and rows move together. A file the probe refuses leaves neither a partial file nor a row
nor a task; stored files are deleted only after the transaction that forgets them commits (so a
rolled-back change never points at a deleted file), and files stored for a change that then
fails are removed again.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.directory.models import TherapistProfile
from rapport.directory.services import therapist_video_facts_set
from rapport.videos import storage
from rapport.videos.captions import normalised_webvtt, parse_webvtt, transcript_from_cues
from rapport.videos.errors import VideoRejected
from rapport.videos.models import ProcessingState, Prompt, ReviewState, Video, VideoUpload
from rapport.videos.probe import ProbeReport, probe_video
from rapport.videos.transcode import transcode_video

logger = logging.getLogger(__name__)

# Reads from the request body and writes to the partial file in pieces this big, so neither
# a chunk nor the file is ever held in memory whole.
COPY_BUFFER_BYTES = 64 * 1024
# A therapist rarely needs more than one upload at a time; a cap stops a script from filling
# the upload disk with announced-but-never-sent files.
MAX_OPEN_UPLOADS = 4
MAX_TRANSCRIPT_CHARS = 20_000
MAX_REASON_CHARS = 2_000


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class UploadOffsetMismatch(Exception):
    """A chunk did not start where the upload stands (a retry of a chunk that did arrive, or
    two tabs uploading at once); ``expected`` is where the client should resume."""

    def __init__(self, expected: int) -> None:
        super().__init__(f"The upload continues at byte {expected}.")
        self.expected = expected


class UploadBusy(Exception):
    """Another request is writing to (or checking) this upload right now."""


class UploadGone(Exception):
    """The upload was completed, cancelled or cleared by another request meanwhile."""


@contextmanager
def _locked_partial(upload: VideoUpload) -> Iterator[BinaryIO]:
    """The upload's partial file, opened and exclusively locked, with the row re-read under
    the lock. Appends and completion take this lock, so a chunk never lands in a file that is
    being probed, and one upload never becomes two videos. A file lock, not a database lock: a
    slow client must not hold a transaction open (on SQLite that would stop every writer)."""
    try:
        partial = upload.partial_path.open("r+b")
    except FileNotFoundError:
        raise UploadGone() from None
    with partial:
        try:
            fcntl.flock(partial, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadBusy() from None
        try:
            upload.refresh_from_db(fields=["received_bytes", "size_bytes"])
        except VideoUpload.DoesNotExist:
            raise UploadGone() from None
        yield partial


# --- uploads -------------------------------------------------------------------------------


def size_label(size_bytes: int) -> str:
    """ "500 MB", "1.5 MB", "800 KB", "20 bytes": for messages about limits."""
    for unit, factor in (("MB", 2**20), ("KB", 2**10)):
        if size_bytes >= factor:
            return f"{size_bytes / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size_bytes} bytes"


def video_upload_start(
    *, therapist: TherapistProfile, prompt: str, filename: str, size_bytes: int
) -> VideoUpload:
    """Open a resumable upload of ``size_bytes`` for one of the prompts, or return the
    unfinished upload of the same file (prompt, name and size), to be resumed.

    Refuses (VideoRejected) an unknown prompt, an empty or over-cap size, and a fifth open
    upload. Side effects: a VideoUpload row and an empty partial file.
    """
    if prompt not in Prompt.values:
        raise VideoRejected("Choose which question this video answers.", code="invalid_prompt")
    if size_bytes <= 0:
        raise VideoRejected("The file is empty: there is no video in it.", code="empty")
    if size_bytes > settings.VIDEO_MAX_UPLOAD_BYTES:
        raise VideoRejected(
            f"The file is larger than {size_label(settings.VIDEO_MAX_UPLOAD_BYTES)}. A short "
            "video rarely needs more; try exporting it at a lower quality.",
            code="too_big",
        )
    # The same file announced again (another device, a cleared browser) continues where it
    # stopped. A different file that shares name and size would fail the probe at the end.
    unfinished = VideoUpload.objects.filter(
        therapist=therapist,
        prompt=prompt,
        filename=Path(filename).name[:255],
        size_bytes=size_bytes,
    ).first()
    if unfinished is not None:
        return unfinished
    if VideoUpload.objects.filter(therapist=therapist).count() >= MAX_OPEN_UPLOADS:
        raise VideoRejected(
            "You have several uploads that did not finish. Cancel one of them first.",
            code="too_many_uploads",
        )
    settings.VIDEO_UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    upload = VideoUpload(
        therapist=therapist,
        prompt=prompt,
        filename=Path(filename).name[:255],
        size_bytes=size_bytes,
    )
    with transaction.atomic():
        upload.save()
        # "x": a random id never names an existing file; if it did, refuse rather than share.
        upload.partial_path.open("xb").close()
    return upload


def video_upload_append(
    *, upload: VideoUpload, offset: int, stream: Readable, length: int
) -> VideoUpload:
    """Write the next ``length`` bytes of the upload, read from ``stream`` piece by piece.

    The chunk must start where the upload stands (``UploadOffsetMismatch`` says where) and may
    not run past the announced size (VideoRejected "too_big"). A connection that drops mid-
    chunk keeps what arrived: ``received_bytes`` is the resume point either way. Two writers at
    once get ``UploadBusy`` (a file lock, not a database lock: a slow client must not hold a
    transaction open); UploadGone when it was completed or cancelled meanwhile.
    Side effects: the partial file and ``received_bytes``.
    """
    if length < 0:
        raise VideoRejected("The chunk has no length.", code="invalid_chunk")
    with _locked_partial(upload) as partial:
        if offset != upload.received_bytes:
            raise UploadOffsetMismatch(upload.received_bytes)
        if offset + length > upload.size_bytes:
            raise VideoRejected(
                "The file is larger than announced when the upload started.", code="too_big"
            )
        partial.seek(offset)
        # Anything past the resume point is from an interrupted chunk that was never counted.
        partial.truncate()
        written = 0
        while written < length:
            piece = stream.read(min(COPY_BUFFER_BYTES, length - written))
            if not piece:
                break
            partial.write(piece)
            written += len(piece)
        partial.flush()
        VideoUpload.objects.filter(pk=upload.pk, received_bytes=offset).update(
            received_bytes=offset + written, updated_at=timezone.now()
        )
    upload.received_bytes = offset + written
    return upload


def video_upload_abandon(*, upload: VideoUpload) -> None:
    """Forget an upload and its partial file (the therapist cancelled, or it was left).

    Raises UploadBusy while another request writes or checks it (a cancel must not pull the
    file from under a completion). Side effects: the row and the partial file gone.
    """
    try:
        with _locked_partial(upload):
            _forget(upload)
    except UploadGone:
        # The file is gone already; make sure the row is too.
        VideoUpload.objects.filter(pk=upload.pk).delete()


def _forget(upload: VideoUpload) -> None:
    upload.partial_path.unlink(missing_ok=True)
    VideoUpload.objects.filter(pk=upload.pk).delete()


def video_upload_complete(*, upload: VideoUpload) -> Video:
    """Check the finished upload and accept it as a video, queued for processing.

    The probe (rapport.videos.probe: a sandboxed subprocess) decides from the content whether
    this is a video we can use; its refusal (VideoRejected) abandons the upload, so nothing is
    left behind. An unfinished upload is refused ("incomplete") and kept, to be resumed.
    UploadBusy while another request holds the upload; UploadGone when it was completed or
    cancelled meanwhile. Side effects: the original in the videos storage, a Video row, the
    processing task (on commit), and the upload row and partial file gone.
    """
    path = upload.partial_path
    with _locked_partial(upload):
        if not upload.is_complete:
            raise VideoRejected(
                f"The upload is not finished: {upload.received_bytes} of {upload.size_bytes} "
                "bytes arrived.",
                code="incomplete",
            )
        try:
            report = probe_video(path)
        except VideoRejected:
            _forget(upload)
            raise
        original_name = storage.save_local_file(path, suffix=_suffix_for(report.container))
        try:
            video = _accept(upload, report, original_name)
        except Exception:
            storage.delete_quietly(original_name)
            raise
        path.unlink(missing_ok=True)
    return video


def _accept(upload: VideoUpload, report: ProbeReport, original_name: str) -> Video:
    with transaction.atomic():
        # The row goes first, and must have been there: a second completion of the same upload
        # is refused even where the file lock does not reach (a shared disk without locks).
        if not VideoUpload.objects.filter(pk=upload.pk).delete()[0]:
            raise UploadGone()
        video = Video.objects.create(
            therapist=upload.therapist,
            prompt=upload.prompt,
            original_name=original_name,
            original_filename=upload.filename,
            source_container=report.container[:60],
            source_video_codec=report.video_codec[:30],
            source_audio_codec=(report.audio_codec or "")[:30],
            duration_seconds=report.duration_seconds,
            width=report.width,
            height=report.height,
            has_audio=report.audio_codec is not None,
        )
        transaction.on_commit(lambda: _enqueue_processing(video))
    return video


def _suffix_for(container: str) -> str:
    return ".mkv" if "matroska" in container else ".mp4"


def _enqueuer(video: Video) -> Callable[[], None]:
    return lambda: _enqueue_processing(video)


def _enqueue_processing(video: Video) -> None:
    # Imported here: tasks imports this module.
    from rapport.videos.tasks import process_video

    process_video.enqueue(video_id=video.pk)


def abandoned_uploads_clear(*, now: dt.datetime) -> int:
    """Remove uploads untouched for ``VIDEO_UPLOAD_ABANDON_HOURS``, and partial files no row
    names (left by a crash between the two). Returns how many uploads were removed."""
    cutoff = now - dt.timedelta(hours=settings.VIDEO_UPLOAD_ABANDON_HOURS)
    removed = 0
    for upload in VideoUpload.objects.filter(updated_at__lt=cutoff):
        try:
            video_upload_abandon(upload=upload)
        except UploadBusy:
            continue  # a request is working on it right now after all
        removed += 1
    folder: Path = settings.VIDEO_UPLOAD_DIR
    if folder.is_dir():
        known = {
            str(public_id) for public_id in VideoUpload.objects.values_list("public_id", flat=True)
        }
        for partial in folder.glob("*.part"):
            modified = dt.datetime.fromtimestamp(partial.stat().st_mtime, tz=dt.UTC)
            if partial.stem not in known and modified < cutoff:
                partial.unlink(missing_ok=True)
    return removed


# --- processing ----------------------------------------------------------------------------

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


# --- captions and transcript -----------------------------------------------------------------


def video_captions_set(*, video: Video, webvtt: str) -> Video:
    """Replace the video's captions with a validated WebVTT track (stored normalised).

    A transcript the therapist has not written yet is filled from the captions' text. On a
    live video the change waits for review (``pending_*``); the profile keeps the approved
    text until then. Side effects: captions (and maybe transcript), live or pending; the
    therapist's captioned-video fact.
    """
    cues = parse_webvtt(webvtt, duration_seconds=video.duration_seconds)
    # Stored re-written from the parsed cues: styling blocks, regions, notes and markup in the
    # therapist's file never reach a client's browser.
    captions = normalised_webvtt(cues)
    with transaction.atomic():
        current = _lock_for_change(video)
        text = _TextDraft.of(current)
        text.captions = captions
        if not text.transcript.strip():
            text.transcript = transcript_from_cues(cues)[:MAX_TRANSCRIPT_CHARS]
        text.save_to(current)
        _therapist_video_facts_refresh(current.therapist)
    return current


def video_captions_remove(*, video: Video) -> Video:
    """Take the captions off, at once even on a live video (less text needs no review).

    Side effects: captions, live and pending; the therapist's captioned-video fact.
    """
    with transaction.atomic():
        current = _lock_for_change(video)
        current.captions_vtt = ""
        current.pending_captions_vtt = ""
        current.save(update_fields=["captions_vtt", "pending_captions_vtt", "updated_at"])
        _therapist_video_facts_refresh(current.therapist)
    return current


def video_transcript_set(*, video: Video, transcript: str) -> Video:
    """The text shown under the player (for people who read rather than listen); on a live
    video it waits for review like captions. Side effects: the transcript, live or pending."""
    text = transcript.replace("\r\n", "\n").strip()
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise VideoRejected(
            f"The transcript is longer than {MAX_TRANSCRIPT_CHARS:,} characters.",
            code="transcript_too_long",
        )
    with transaction.atomic():
        current = _lock_for_change(video)
        draft = _TextDraft.of(current)
        draft.transcript = text
        draft.save_to(current)
    return current


@dataclass
class _TextDraft:
    """The captions and transcript a change starts from: the pending ones of a live video
    (or its live text, when nothing is pending yet), the live ones otherwise."""

    captions: str
    transcript: str

    @classmethod
    def of(cls, video: Video) -> _TextDraft:
        if video.has_pending_text:
            return cls(video.pending_captions_vtt, video.pending_transcript)
        return cls(video.captions_vtt, video.transcript)

    def save_to(self, video: Video) -> None:
        if video.is_published:
            video.pending_captions_vtt = self.captions
            video.pending_transcript = self.transcript
            video.has_pending_text = True
            fields = ["pending_captions_vtt", "pending_transcript", "has_pending_text"]
        else:
            # Not public yet: the whole video is reviewed before it goes live.
            video.captions_vtt = self.captions
            video.transcript = self.transcript
            fields = ["captions_vtt", "transcript"]
        video.save(update_fields=[*fields, "updated_at"])


# --- moderation ----------------------------------------------------------------------------


def video_approve(*, video: Video, reviewer: User | None) -> Video:
    """Approve a ready video and put it live, in place of the therapist's previous video for
    the same prompt (which is deleted, files after commit).

    ``reviewer`` is None only for the demo seeding, which has no person behind it.
    Side effects: review fields, publication, the replaced video gone, the therapist's video
    facts (search filters), an e-mail to the therapist.
    """
    now = timezone.now()
    with transaction.atomic():
        current = _lock_for_change(video)
        if current.state != ProcessingState.READY:
            raise VideoRejected(
                "Only a video that finished processing can be approved.", code="not_ready"
            )
        replaced = list(
            Video.objects.select_for_update()
            .filter(therapist_id=current.therapist_id, prompt=current.prompt, is_published=True)
            .exclude(pk=current.pk)
        )
        for old in replaced:
            _delete_with_files(old)
        text = (
            {
                "captions_vtt": current.pending_captions_vtt,
                "transcript": current.pending_transcript,
            }
            if current.has_pending_text
            else {}
        )
        Video.objects.filter(pk=current.pk).update(
            review=ReviewState.APPROVED,
            review_reason="",
            reviewed_by=reviewer,
            reviewed_at=now,
            is_published=True,
            published_at=current.published_at or now,
            has_pending_text=False,
            pending_captions_vtt="",
            pending_transcript="",
            updated_at=now,
            **text,
        )
        video.refresh_from_db()
        _therapist_video_facts_refresh(video.therapist)
        # Once per decision: approving an approved, live video again tells nobody anything.
        already_live = current.is_published and current.review == ReviewState.APPROVED
        if reviewer is not None and (current.has_pending_text or not already_live):
            transaction.on_commit(_review_emailer(video, approved=True))
    return video


def video_reject(*, video: Video, reviewer: User, reason: str) -> Video:
    """Refuse a video (or take down a published one), with a reason the therapist reads. For
    a live video with text changes waiting, only those changes are declined (a second
    rejection takes the video down).

    Side effects: review fields, unpublished (or the pending text dropped), the therapist's
    video facts, an e-mail.
    """
    reason = reason.strip()
    if not reason:
        raise VideoRejected("Say why, so the therapist knows what to change.", code="no_reason")
    if len(reason) > MAX_REASON_CHARS:
        raise VideoRejected(
            f"Keep the reason under {MAX_REASON_CHARS:,} characters.", code="reason_too_long"
        )
    now = timezone.now()
    with transaction.atomic():
        current = _lock_for_change(video)
        if current.is_published and current.has_pending_text:
            # Only the new text is declined: the approved video and its text stay live.
            Video.objects.filter(pk=video.pk).update(
                has_pending_text=False,
                pending_captions_vtt="",
                pending_transcript="",
                review_reason=reason,
                reviewed_by=reviewer,
                reviewed_at=now,
                updated_at=now,
            )
            video.refresh_from_db()
            transaction.on_commit(_review_emailer(video, approved=False, text_only=True))
            return video
        Video.objects.filter(pk=video.pk).update(
            review=ReviewState.REJECTED,
            review_reason=reason,
            reviewed_by=reviewer,
            reviewed_at=now,
            is_published=False,
            updated_at=now,
        )
        video.refresh_from_db()
        _therapist_video_facts_refresh(video.therapist)
        if current.review != ReviewState.REJECTED or current.review_reason != reason:
            transaction.on_commit(_review_emailer(video, approved=False))
    return video


def _review_emailer(video: Video, *, approved: bool, text_only: bool = False) -> Callable[[], None]:
    def enqueue() -> None:
        from rapport.videos.tasks import send_review_email

        send_review_email.enqueue(video_id=video.pk, approved=approved, text_only=text_only)

    return enqueue


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


# --- deletion ------------------------------------------------------------------------------


def video_delete(*, video: Video) -> None:
    """The therapist removes a video (live or not). Side effects: the row, its files after
    commit, the therapist's video facts."""
    with transaction.atomic():
        try:
            current = _lock_for_change(video)
        except VideoRejected:
            return  # deleted already
        # The names as they are now: processing may have stored files since the page loaded.
        _delete_with_files(current)
        _therapist_video_facts_refresh(video.therapist)


def _delete_with_files(video: Video) -> None:
    names = [name for name in (video.original_name, video.media_name, video.poster_name) if name]
    Video.objects.filter(pk=video.pk).delete()
    transaction.on_commit(_deleter(names))


def _deleter(names: list[str]) -> Callable[[], None]:
    def delete() -> None:
        for name in names:
            storage.delete_quietly(name)

    return delete


def _therapist_video_facts_refresh(therapist: TherapistProfile) -> None:
    published = Video.objects.filter(therapist=therapist, is_published=True)
    therapist_video_facts_set(
        therapist=therapist,
        has_video_introduction=published.exists(),
        has_captioned_video=published.exclude(captions_vtt="").exists(),
    )
