"""Uploading through the services, as the browser does through the views."""

from __future__ import annotations

import io
from pathlib import Path

from rapport.directory.models import TherapistProfile
from rapport.videos import services
from rapport.videos.models import Prompt, Video, VideoUpload


def upload_bytes(
    therapist: TherapistProfile,
    data: bytes,
    *,
    prompt: str = Prompt.APPROACH,
    chunk: int = 64 * 1024,
    filename: str = "intro.mp4",
) -> VideoUpload:
    """Start an upload and send all of ``data`` in chunks; the upload is not completed."""
    upload = services.video_upload_start(
        therapist=therapist, prompt=prompt, filename=filename, size_bytes=len(data)
    )
    for offset in range(0, len(data), chunk):
        piece = data[offset : offset + chunk]
        services.video_upload_append(
            upload=upload, offset=offset, stream=io.BytesIO(piece), length=len(piece)
        )
    return upload


def upload_video(
    therapist: TherapistProfile, path: Path, *, prompt: str = Prompt.APPROACH
) -> Video:
    """Upload, complete and (with the immediate task backend, on commit) process a file."""
    upload = upload_bytes(therapist, path.read_bytes(), prompt=prompt)
    return services.video_upload_complete(upload=upload)


def make_ready_video(
    therapist: TherapistProfile, processed: dict[str, Path], *, prompt: str = Prompt.APPROACH
) -> Video:
    """A video as processing leaves it (ready, waiting for review), without running the
    probe and transcoder again: copies of their output for ``clip_path``."""
    import av

    from rapport.videos.models import ProcessingState
    from rapport.videos.storage import save_local_file

    with av.open(str(processed["media"])) as played:
        stream = played.streams.video[0]
        duration = float(played.duration or 0) / 1_000_000
        width, height = stream.codec_context.width, stream.codec_context.height
    return Video.objects.create(
        therapist=therapist,
        prompt=prompt,
        state=ProcessingState.READY,
        media_name=save_local_file(processed["media"], suffix=".mp4"),
        poster_name=save_local_file(processed["poster"], suffix=".jpg"),
        media_size_bytes=processed["media"].stat().st_size,
        duration_seconds=duration,
        width=width,
        height=height,
        has_audio=True,
        original_filename="intro.mp4",
    )
