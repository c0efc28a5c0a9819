"""The issue's list of bad input, end to end through the upload protocol: each gets a clear
message and leaves no file, no row and no task behind; a failure in the worker fails the video,
never the worker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rapport.videos import services
from rapport.videos.models import ProcessingState, Video, VideoUpload
from tests.factories import make_therapist, make_user
from tests.videos import samples
from tests.videos.conftest import partial_files, stored_files
from tests.videos.helpers import upload_video

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad-input")
    for make in (
        samples.good_mp4,
        samples.text_file,
        samples.truncated_half,
        samples.hls_playlist,
        samples.ffconcat_playlist,
        samples.audio_only_mp4,
        samples.twenty_minutes,
        samples.eight_k,
    ):
        make(folder)
    return folder


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """Every processing task queued."""
    seen: list[int] = []
    monkeypatch.setattr(services._common, "_enqueue_processing", lambda v: seen.append(v.pk))
    return seen


@pytest.fixture
def browser(therapist) -> Client:
    client = Client()
    client.force_login(therapist.user)
    return client


def send_file(browser: Client, data: bytes, commits):
    """The browser's side of the protocol, with on-commit work run as after a real commit;
    returns the last answer."""
    with commits(execute=True):
        return _send_file(browser, data)


def _send_file(browser: Client, data: bytes):
    started = browser.post(
        reverse("videos:upload_start"),
        data=json.dumps({"prompt": "approach", "filename": "mine.mp4", "size": len(data)}),
        content_type="application/json",
    )
    if started.status_code != 201:
        return started
    upload = started.json()
    chunk = browser.put(
        upload["upload_url"],
        data=data,
        content_type="application/offset+octet-stream",
        headers={"Upload-Offset": "0"},
    )
    assert chunk.status_code == 200
    return browser.post(upload["complete_url"])


def assert_nothing_left(video_dirs, enqueued: list[int]) -> None:
    assert not VideoUpload.objects.exists()
    assert not Video.objects.exists()
    assert partial_files(video_dirs) == []
    assert stored_files(video_dirs) == []
    assert enqueued == []


@pytest.mark.parametrize(
    ("sample", "status", "code", "words"),
    [
        (lambda media: b"", 422, "empty", "empty"),
        (lambda media: (media / "notes.mp4").read_bytes(), 422, "not_video", "not a video"),
        (lambda media: (media / "cut-in-half.mp4").read_bytes(), 422, "undecodable", "cut off"),
        (lambda media: (media / "playlist.mp4").read_bytes(), 422, "not_video", "not a video"),
        (lambda media: (media / "concat.mp4").read_bytes(), 422, "not_video", "not a video"),
        (lambda media: (media / "voice-memo.mp4").read_bytes(), 422, "no_video", "no picture"),
        (lambda media: (media / "twenty-minutes.mp4").read_bytes(), 422, "too_long", "3:00"),
        (lambda media: (media / "8k.mp4").read_bytes(), 422, "too_large_frame", "7680×4320"),
    ],
    ids=["zero-byte", "text", "truncated", "hls", "concat", "audio-only", "20-minute", "8k"],
)
def test_a_bad_file_gets_a_clear_message_and_leaves_nothing(
    browser,
    media,
    video_dirs,
    enqueued,
    django_capture_on_commit_callbacks,
    sample: Callable[[Path], bytes],
    status,
    code,
    words,
):
    response = send_file(browser, sample(media), django_capture_on_commit_callbacks)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert words in problem["detail"]
    assert "Traceback" not in problem["detail"]
    assert_nothing_left(video_dirs, enqueued)


def test_a_file_over_the_cap_gets_a_clear_message_and_leaves_nothing(
    browser, media, video_dirs, enqueued, settings, django_capture_on_commit_callbacks
):
    data = (media / "good.mp4").read_bytes()
    settings.VIDEO_MAX_UPLOAD_BYTES = len(data) - 1
    response = send_file(browser, data, django_capture_on_commit_callbacks)
    assert response.status_code == 413
    assert response.json()["code"] == "too_big"
    assert_nothing_left(video_dirs, enqueued)


def test_a_probe_that_runs_too_long_is_stopped_and_leaves_nothing(
    browser, media, video_dirs, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_PROBE_TIMEOUT_SECONDS = 0.05  # stands in for a file that decodes forever
    response = send_file(
        browser, (media / "good.mp4").read_bytes(), django_capture_on_commit_callbacks
    )
    assert response.status_code == 422
    assert response.json()["code"] == "timeout"
    assert "took too long" in response.json()["detail"]
    assert_nothing_left(video_dirs, enqueued)


def test_a_transcode_that_runs_too_long_fails_the_video_not_the_worker(
    therapist, media, video_dirs, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_TRANSCODE_TIMEOUT_SECONDS = 0.05
    with django_capture_on_commit_callbacks(execute=True):
        video = upload_video(therapist, media / "good.mp4")  # the task returns normally
    video.refresh_from_db()
    assert video.state == ProcessingState.FAILED
    assert "too long" in video.failure_reason
    assert video.original_name == ""
    assert stored_files(video_dirs) == []  # the original is gone too


def test_invalid_webvtt_gets_a_clear_message_and_changes_nothing(
    browser, therapist, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        video = upload_video(therapist, media / "good.mp4")
    response = browser.post(
        reverse("videos:video_captions", args=[video.public_id]),
        {"captions": SimpleUploadedFile("c.vtt", b"1\n00:00:01,000 --> 00:00:02,000\nHi\n")},
    )
    assert response.status_code == 400
    assert "this looks like an SRT caption file" in response.content.decode()
    video.refresh_from_db()
    assert video.captions_vtt == ""


def test_an_upload_by_someone_who_is_not_that_therapist_is_not_found(
    therapist, media, video_dirs, enqueued
):
    started = Client()
    started.force_login(therapist.user)
    upload = started.post(
        reverse("videos:upload_start"),
        data=json.dumps({"prompt": "approach", "filename": "a.mp4", "size": 10}),
        content_type="application/json",
    ).json()
    intruder = Client()
    other = make_user(role="therapist", mfa=True)
    make_therapist(user=other)  # with videos of their own to manage
    intruder.force_login(other)

    chunk = intruder.put(
        upload["upload_url"],
        data=b"0123456789",
        content_type="application/offset+octet-stream",
        headers={"Upload-Offset": "0"},
    )
    assert chunk.status_code == 404
    assert intruder.post(upload["complete_url"]).status_code == 404
    assert VideoUpload.objects.get().received_bytes == 0
    assert enqueued == []


def test_the_control_a_good_file_is_accepted_and_queued(
    browser, media, video_dirs, enqueued, django_capture_on_commit_callbacks
):
    """The same steps with a good file: so the refusals above are about the files."""
    response = send_file(
        browser, (media / "good.mp4").read_bytes(), django_capture_on_commit_callbacks
    )
    assert response.status_code == 201
    assert enqueued == [Video.objects.get().pk]
    assert len(stored_files(video_dirs)) == 1  # the original, waiting for the worker
