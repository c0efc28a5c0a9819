"""Fixtures for the videos app: a private upload folder and storage per test, one real clip
per session, and therapists who own videos."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapport.directory.models import TherapistProfile
from rapport.videos.synth import synthesise_clip
from tests.factories import make_therapist, make_user


@pytest.fixture(scope="session")
def clip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2-second H.264/AAC clip (made once: every test copies bytes from it)."""
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    synthesise_clip(path, title="Test clip", seconds=2.0, width=320, height=180, fps=12)
    return path


@pytest.fixture
def video_dirs(settings, tmp_path: Path) -> dict[str, Path]:
    """Uploads and stored videos in this test's own folders (Django resets its storages when
    the STORAGES setting changes)."""
    uploads = tmp_path / "uploads"
    stored = tmp_path / "videos"
    settings.VIDEO_UPLOAD_DIR = uploads
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(stored)},
        },
    }
    return {"uploads": uploads, "stored": stored}


@pytest.fixture
def therapist(reference_data: None, video_dirs: dict[str, Path]) -> TherapistProfile:
    return make_therapist(user=make_user(role="therapist", mfa=True))


def stored_files(video_dirs: dict[str, Path]) -> list[Path]:
    """Every file in the videos storage."""
    root = video_dirs["stored"]
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def partial_files(video_dirs: dict[str, Path]) -> list[Path]:
    root = video_dirs["uploads"]
    return sorted(root.glob("*")) if root.exists() else []


@pytest.fixture(scope="session")
def processed_clip(clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The playback file and poster the real transcoder makes of ``clip_path``, once: tests
    about what happens after processing start from copies of them (tests/videos/helpers)."""
    from rapport.videos.transcode import transcode_video

    folder = tmp_path_factory.mktemp("processed")
    media, poster = folder / "video.mp4", folder / "poster.jpg"
    transcode_video(clip_path, video_out=media, poster_out=poster, expected_seconds=2.0)
    return {"media": media, "poster": poster}
