"""Resumable uploads: start, append chunks, cancel, and completion, where the sandboxed
probe decides whether the file is a video we can use. Also clears uploads left unfinished."""

from __future__ import annotations

import datetime as dt
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.directory.models import TherapistProfile
from rapport.videos import storage
from rapport.videos.errors import VideoRejected
from rapport.videos.models import Prompt, Video, VideoUpload
from rapport.videos.probe import ProbeReport, probe_video
from rapport.videos.services._common import _enqueuer

# Reads from the request body and writes to the partial file in pieces this big, so neither
# a chunk nor the file is ever held in memory whole.
COPY_BUFFER_BYTES = 64 * 1024
# A therapist rarely needs more than one upload at a time; a cap stops a script from filling
# the upload disk with announced-but-never-sent files.
MAX_OPEN_UPLOADS = 4


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
        transaction.on_commit(_enqueuer(video))
    return video


def _suffix_for(container: str) -> str:
    return ".mkv" if "matroska" in container else ".mp4"


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
