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
