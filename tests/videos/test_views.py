"""The video pages and endpoints as a browser uses them: the upload protocol, the therapist's
page, playback with its access rules, the profile, and staff review."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.videos import services
from rapport.videos.models import ProcessingState, Prompt, ReviewState, Video, VideoUpload
from rapport.videos.views import CHUNK_BYTES
from tests.factories import make_therapist, make_user
from tests.videos.conftest import partial_files, stored_files
from tests.videos.helpers import make_ready_video, upload_video

pytestmark = pytest.mark.django_db

CAPTIONS = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello from the captions.\n"


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def browser(therapist) -> Client:
    return signed_in(therapist.user)


@pytest.fixture
def moderator():
    return make_user(role="staff", mfa=True, permissions=("videos.moderate_videos",))


@pytest.fixture
def ready(therapist, processed_clip) -> Video:
    return make_ready_video(therapist, processed_clip)


@pytest.fixture
def published(ready, moderator) -> Video:
    services.video_approve(video=ready, reviewer=moderator)
    ready.refresh_from_db()
    return ready


def start(browser: Client, size: int, prompt: str = Prompt.APPROACH, **extra):
    body = {"prompt": prompt, "filename": "intro.mp4", "size": size, **extra}
    return browser.post(
        reverse("videos:upload_start"), data=json.dumps(body), content_type="application/json"
    )


def put_chunk(browser: Client, url: str, offset: int, data: bytes):
    return browser.put(
        url,
        data=data,
        content_type="application/offset+octet-stream",
        headers={"Upload-Offset": str(offset)},
    )


# --- the upload protocol -------------------------------------------------------------------


def test_a_file_uploads_in_chunks_resumes_and_completes(
    browser, clip_path, video_dirs, django_capture_on_commit_callbacks
):
    data = clip_path.read_bytes()
    started = start(browser, len(data))
    assert started.status_code == 201
    upload = started.json()
    assert upload["offset"] == 0
    assert upload["chunk_bytes"] == CHUNK_BYTES
    third = len(data) // 3

    first = put_chunk(browser, upload["upload_url"], 0, data[:third])
    assert first.json()["offset"] == third
    # The same chunk again (a retry after a lost response): told where to continue.
    again = put_chunk(browser, upload["upload_url"], 0, data[:third])
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["offset"] == third
    # A reload asks where the upload stands.
    assert browser.get(upload["upload_url"]).json()["offset"] == third
    rest = put_chunk(browser, upload["upload_url"], third, data[third:])
    assert rest.json()["offset"] == len(data)

    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post(upload["complete_url"])
    assert done.status_code == 201
    video = Video.objects.get(public_id=done.json()["id"])
    assert video.state == ProcessingState.READY
    status = browser.get(done.json()["status_url"]).json()
    assert status["state"] == "ready"
    assert status["review"] == "pending"
    assert partial_files(video_dirs) == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"prompt": "approach"}),
        json.dumps({"prompt": "approach", "size": "12"}),
        json.dumps({"prompt": "approach", "size": True}),
        json.dumps({"prompt": 3, "size": 12}),
        json.dumps([1, 2]),
    ],
)
def test_a_malformed_start_is_a_clear_400(browser, body):
    response = browser.post(
        reverse("videos:upload_start"), data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "prompt" in response.json()["detail"]
    assert not VideoUpload.objects.exists()


def test_a_file_over_the_cap_is_refused_before_any_byte(browser, settings):
    response = start(browser, settings.VIDEO_MAX_UPLOAD_BYTES + 1)
    assert response.status_code == 413
    assert response.json()["code"] == "too_big"
    assert "500 MB" in response.json()["detail"]
    assert not VideoUpload.objects.exists()


def test_a_zero_byte_file_is_refused(browser):
    response = start(browser, 0)
    assert response.status_code == 422
    assert response.json()["detail"] == "The file is empty: there is no video in it."


def test_chunks_must_be_well_formed(browser):
    upload = start(browser, 100).json()
    missing = browser.put(
        upload["upload_url"], data=b"abc", content_type="application/offset+octet-stream"
    )
    assert missing.status_code == 400
    negative = put_chunk(browser, upload["upload_url"], -1, b"abc")
    assert negative.status_code == 400
    too_much = put_chunk(browser, upload["upload_url"], 0, b"x" * 101)
    assert too_much.status_code == 413
    assert browser.get(upload["upload_url"]).json()["offset"] == 0


def test_a_chunk_larger_than_the_protocol_allows_is_refused(browser, settings):
    settings.VIDEO_MAX_UPLOAD_BYTES = 4 * CHUNK_BYTES
    upload = start(browser, 2 * CHUNK_BYTES).json()
    response = put_chunk(browser, upload["upload_url"], 0, b"x" * (CHUNK_BYTES + 1))
    assert response.status_code == 413
    assert browser.get(upload["upload_url"]).json()["offset"] == 0


def test_a_full_size_chunk_streams_to_disk(browser, settings):
    """8 MB bodies are far above Django's in-memory request limit: the view must stream them
    (request.read), never touch request.body."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    upload = start(browser, CHUNK_BYTES + 10).json()
    response = put_chunk(browser, upload["upload_url"], 0, b"v" * CHUNK_BYTES)
    assert response.status_code == 200
    assert response.json()["offset"] == CHUNK_BYTES
    saved = VideoUpload.objects.get().partial_path
    assert saved.stat().st_size == CHUNK_BYTES


def test_a_bad_file_is_refused_at_completion_and_leaves_nothing(browser, video_dirs):
    data = b"This is a text file renamed to .mp4\n" * 20
    upload = start(browser, len(data)).json()
    put_chunk(browser, upload["upload_url"], 0, data)

    response = browser.post(upload["complete_url"])

    assert response.status_code == 422
    assert response.json()["code"] == "not_video"
    assert response.json()["detail"]
    assert not VideoUpload.objects.exists()
    assert not Video.objects.exists()
    assert partial_files(video_dirs) == []
    assert stored_files(video_dirs) == []
    assert browser.get(upload["upload_url"]).status_code == 404


def test_cancelling_an_upload_removes_it(browser, video_dirs):
    upload = start(browser, 100).json()
    put_chunk(browser, upload["upload_url"], 0, b"x" * 50)
    assert browser.delete(upload["upload_url"]).status_code == 204
    assert not VideoUpload.objects.exists()
    assert partial_files(video_dirs) == []


def test_another_therapists_upload_is_not_found(browser, therapist, video_dirs):
    other = make_therapist(user=make_user(role="therapist", mfa=True))
    upload = start(signed_in(other.user), 100).json()

    assert browser.get(upload["upload_url"]).status_code == 404
    assert put_chunk(browser, upload["upload_url"], 0, b"x" * 10).status_code == 404
    assert browser.post(upload["complete_url"]).status_code == 404
    assert browser.delete(upload["upload_url"]).status_code == 404
    assert VideoUpload.objects.get().received_bytes == 0


@pytest.mark.parametrize("role", ["anonymous", "client"])
def test_only_therapists_can_upload(role, therapist):
    browser = Client() if role == "anonymous" else signed_in(make_user(role="client"))
    response = start(browser, 100)
    assert response.status_code in (302, 404)
    assert not VideoUpload.objects.exists()


def test_a_therapist_without_two_factor_authentication_cannot_upload(reference_data, video_dirs):
    therapist = make_therapist(user=make_user(role="therapist", mfa=False))
    response = start(signed_in(therapist.user), 100)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not VideoUpload.objects.exists()


# --- the therapist's page ------------------------------------------------------------------


def test_the_page_shows_each_prompt_with_its_videos_and_states(
    browser, therapist, ready, clip_path, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        from rapport.videos.errors import VideoRejected

        raise VideoRejected("The picture could not be read after 0:41.", code="transcode_failed")

    monkeypatch.setattr(services.processing, "transcode_video", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        upload_video(therapist, clip_path, prompt=Prompt.FIRST_SESSION)

    page = browser.get(reverse("videos:practice_videos")).content.decode()

    for label in Prompt.labels:
        assert label in page
    assert "Ready, waiting for review." in page
    assert "The picture could not be read after 0:41." in page
    assert reverse("videos:video_media", args=[ready.public_id]) in page
    assert 'data-prompt="best_with"' in page


def test_captions_upload_through_the_page(browser, ready):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = browser.post(
        reverse("videos:video_captions", args=[ready.public_id]),
        {"captions": SimpleUploadedFile("c.vtt", CAPTIONS.encode(), content_type="text/vtt")},
    )
    assert response.status_code == 302
    ready.refresh_from_db()
    assert ready.captions_vtt == CAPTIONS

    bad = browser.post(
        reverse("videos:video_captions", args=[ready.public_id]),
        {"captions": SimpleUploadedFile("c.vtt", b"WEBVTT\n\nnot a cue timing\n")},
    )
    assert bad.status_code == 400
    assert "Line 3" in bad.content.decode()
    ready.refresh_from_db()
    assert ready.captions_vtt == CAPTIONS


def test_the_transcript_is_edited_through_the_page(browser, ready):
    response = browser.post(
        reverse("videos:video_transcript", args=[ready.public_id]),
        {"transcript": "Hello. I work with adults."},
    )
    assert response.status_code == 302
    ready.refresh_from_db()
    assert ready.transcript == "Hello. I work with adults."


def test_another_therapists_video_is_not_found(browser, reference_data, clip_path, video_dirs):
    other = make_therapist(user=make_user(role="therapist", mfa=True))
    video = upload_video(other, clip_path)
    for name, method, data in [
        ("videos:video_status", "get", None),
        ("videos:video_captions_remove", "post", {}),
        ("videos:video_transcript", "post", {"transcript": "Mine now"}),
        ("videos:video_delete", "post", {}),
    ]:
        url = reverse(name, args=[video.public_id])
        response = browser.get(url) if method == "get" else browser.post(url, data)
        assert response.status_code == 404, name
    video.refresh_from_db()
    assert video.transcript == ""


def test_deleting_through_the_page(browser, published, video_dirs):
    response = browser.post(reverse("videos:video_delete", args=[published.public_id]))
    assert response.status_code == 302
    assert not Video.objects.exists()


# --- playback and its access rules -----------------------------------------------------------


def test_a_published_video_plays_for_anyone_with_ranges(published):
    anyone = Client()
    url = reverse("videos:video_media", args=[published.public_id])
    whole = anyone.get(url)
    assert whole.status_code == 200
    body = b"".join(whole.streaming_content)  # type: ignore[attr-defined]
    assert len(body) == published.media_size_bytes

    part = anyone.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{published.media_size_bytes}"
    assert b"".join(part.streaming_content) == body[100:200]  # type: ignore[attr-defined]
    assert anyone.get(reverse("videos:video_poster", args=[published.public_id])).status_code == 200


def test_an_unpublished_video_is_private(ready, therapist, moderator):
    url = reverse("videos:video_media", args=[ready.public_id])
    assert Client().get(url).status_code == 404
    assert signed_in(make_user(role="client")).get(url).status_code == 404
    other = make_therapist(user=make_user(role="therapist", mfa=True))
    assert signed_in(other.user).get(url).status_code == 404
    assert signed_in(therapist.user).get(url).status_code == 200
    assert signed_in(moderator).get(url).status_code == 200


def test_a_video_of_a_hidden_listing_is_private(published, therapist):
    therapist.is_listed = False
    therapist.save()
    for name in ("videos:video_media", "videos:video_poster"):
        assert Client().get(reverse(name, args=[published.public_id])).status_code == 404


def test_captions_are_served_as_webvtt(published, moderator):
    services.video_captions_set(video=published, webvtt=CAPTIONS)
    services.video_approve(video=published, reviewer=moderator)  # text changes are reviewed
    response = Client().get(reverse("videos:captions", args=[published.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response.content.decode() == CAPTIONS


# --- the profile ---------------------------------------------------------------------------


def test_the_profile_shows_published_videos_with_captions_and_transcript(
    published, therapist, moderator
):
    services.video_captions_set(video=published, webvtt=CAPTIONS)
    page = Client().get(f"/therapists/{therapist.public_id}/").content.decode()
    assert "<track" not in page  # waiting for review
    services.video_approve(video=published, reviewer=moderator)
    page = Client().get(f"/therapists/{therapist.public_id}/").content.decode()
    assert f"Meet {therapist.display_name}" in page
    assert reverse("videos:video_media", args=[published.public_id]) in page
    assert '<track kind="captions"' in page
    assert "Hello from the captions." in page  # the transcript, filled from the captions


def test_the_profile_says_when_a_video_has_no_captions(published, therapist):
    page = Client().get(f"/therapists/{therapist.public_id}/").content.decode()
    assert "No captions" in page
    assert "<track" not in page


def test_unapproved_videos_never_reach_the_profile(ready, therapist):
    page = Client().get(f"/therapists/{therapist.public_id}/").content.decode()
    assert str(ready.public_id) not in page
    assert "Meet " not in page


# --- staff review --------------------------------------------------------------------------


def test_moderators_review_from_the_queue(ready, moderator, therapist):
    staff = signed_in(moderator)
    queue = staff.get(reverse("videos:review_queue")).content.decode()
    assert reverse("videos:review_detail", args=[ready.public_id]) in queue

    refused = staff.post(
        reverse("videos:review_detail", args=[ready.public_id]), {"decision": "rejected"}
    )
    assert refused.status_code == 400
    assert "Say why" in refused.content.decode()

    approved = staff.post(
        reverse("videos:review_detail", args=[ready.public_id]), {"decision": "approved"}
    )
    assert approved.status_code == 302
    ready.refresh_from_db()
    assert ready.is_published
    assert ready.review == ReviewState.APPROVED
    therapist.refresh_from_db()
    assert therapist.has_video_introduction


@pytest.mark.parametrize("role", ["client", "therapist", "staff-without-permission"])
def test_only_moderators_reach_the_review_pages(ready, role):
    user = {
        "client": lambda: make_user(role="client", mfa=True),
        "therapist": lambda: ready.therapist.user,
        "staff-without-permission": lambda: make_user(role="staff", mfa=True),
    }[role]()
    browser = signed_in(user)
    assert browser.get(reverse("videos:review_queue")).status_code == 404
    response = browser.post(
        reverse("videos:review_detail", args=[ready.public_id]), {"decision": "approved"}
    )
    assert response.status_code == 404
    ready.refresh_from_db()
    assert not ready.is_published


def test_deeply_nested_json_is_a_clear_400(browser):
    response = browser.post(
        reverse("videos:upload_start"), data="[" * 3000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_the_same_file_from_another_device_resumes(browser, therapist):
    upload = start(browser, 100).json()
    put_chunk(browser, upload["upload_url"], 0, b"x" * 40)
    elsewhere = signed_in(therapist.user)

    again = start(elsewhere, 100)

    assert again.status_code == 200
    assert again.json()["upload_url"] == upload["upload_url"]
    assert again.json()["offset"] == 40


def test_an_unfinished_upload_is_cancelled_from_the_page(browser, video_dirs):
    upload = start(browser, 100).json()
    page = browser.get(reverse("videos:practice_videos")).content.decode()
    cancel_url = reverse("videos:upload_cancel", args=[upload["id"]])
    assert cancel_url in page

    response = browser.post(cancel_url)

    assert response.status_code == 302
    assert not VideoUpload.objects.exists()
    assert partial_files(video_dirs) == []


def test_a_moderator_without_a_second_factor_cannot_play_unpublished_videos(ready):
    moderator = make_user(role="staff", mfa=False, permissions=("videos.moderate_videos",))
    url = reverse("videos:video_media", args=[ready.public_id])
    assert signed_in(moderator).get(url).status_code == 404


def test_the_profile_reads_its_videos_in_one_query_however_many(
    published, therapist, processed_clip, moderator, django_assert_num_queries
):
    url = f"/therapists/{therapist.public_id}/"
    client = Client()
    client.get(url)  # warm the search index and sessions
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_video:
        client.get(url)
    for prompt in (Prompt.FIRST_SESSION, Prompt.BEST_WITH, Prompt.INTRODUCTION):
        video = make_ready_video(therapist, processed_clip, prompt=prompt)
        services.video_approve(video=video, reviewer=moderator)
    with django_assert_num_queries(len(one_video.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("<video") == 4


def test_editing_a_live_videos_transcript_says_it_waits_for_review(browser, published):
    response = browser.post(
        reverse("videos:video_transcript", args=[published.public_id]),
        {"transcript": "New words."},
        follow=True,
    )
    assert "once our staff approve it" in response.content.decode()
    published.refresh_from_db()
    assert published.transcript == ""
    assert published.pending_transcript == "New words."


def test_the_practice_page_writes_upload_times_in_the_therapists_own_zone(
    browser, therapist, processed_clip
):
    therapist.time_zone = "America/Vancouver"
    therapist.save(update_fields=["time_zone"])
    video = make_ready_video(therapist, processed_clip)
    # 03:30 UTC on Tuesday is 7:30 p.m. on Monday in Vancouver (PST, UTC-8).
    Video.objects.filter(pk=video.pk).update(
        created_at=dt.datetime(2026, 12, 8, 3, 30, tzinfo=dt.UTC)
    )

    page = html.unescape(browser.get(reverse("videos:practice_videos")).content.decode())

    assert "Monday, December 7, 2026 at 7:30 p.m. Pacific Time (Vancouver)" in page
    # As a word: the page's CSRF token may contain the letters.
    assert re.search(r"\bUTC\b", page) is None
    # The zone ends with the request: the next page for nobody in particular reads in UTC.
    assert timezone.get_current_timezone_name() == "UTC"
