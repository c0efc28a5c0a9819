"""The video life cycle through the services: upload, probe, transcode, captions, review."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import av
import pytest
from django.core import mail
from django.utils import timezone

from rapport.directory.models import SearchIndexVersion
from rapport.videos import services
from rapport.videos.errors import VideoRejected
from rapport.videos.models import ProcessingState, Prompt, ReviewState, Video, VideoUpload
from rapport.videos.storage import video_storage
from rapport.videos.synth import synthesise_webvtt
from tests.factories import make_user
from tests.videos import samples
from tests.videos.conftest import partial_files, stored_files
from tests.videos.helpers import make_ready_video, upload_bytes, upload_video

pytestmark = pytest.mark.django_db

CAPTIONS = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello, I am a test therapist.\n"


@pytest.fixture
def reviewer():
    return make_user(role="staff", mfa=True, permissions=("videos.moderate_videos",))


def ready_video(therapist, clip_path, django_capture_on_commit_callbacks, **kwargs) -> Video:
    """Through the whole pipeline: upload, probe, and (on commit) transcode."""
    with django_capture_on_commit_callbacks(execute=True):
        video = upload_video(therapist, clip_path, **kwargs)
    video.refresh_from_db()
    assert video.state == ProcessingState.READY, video.failure_reason
    return video


def index_version() -> int:
    row = SearchIndexVersion.objects.first()
    return row.version if row else 0


# --- the happy path ------------------------------------------------------------------------


def test_an_upload_becomes_a_playable_video_waiting_for_review(
    therapist, clip_path, video_dirs, django_capture_on_commit_callbacks
):
    video = ready_video(therapist, clip_path, django_capture_on_commit_callbacks)

    assert video.review == ReviewState.PENDING
    assert not video.is_published
    assert video.original_name == ""  # deleted after success (VIDEO_KEEP_ORIGINALS off)
    assert (video.width, video.height) == (320, 180)
    assert video.duration_seconds == pytest.approx(2.0, abs=0.2)
    assert video.has_audio
    storage = video_storage()
    with av.open(storage.path(video.media_name)) as played:
        assert played.streams.video[0].codec_context.name == "h264"
        assert played.streams.audio[0].codec_context.name == "aac"
    assert storage.open(video.poster_name).read(3) == b"\xff\xd8\xff"  # a JPEG
    assert stored_files(video_dirs) == sorted(
        Path(storage.path(name)) for name in (video.media_name, video.poster_name)
    )
    assert partial_files(video_dirs) == []
    assert not VideoUpload.objects.exists()
    therapist.refresh_from_db()
    assert not therapist.has_video_introduction  # not before a moderator approves it


def test_keeping_originals_is_configurable(
    therapist, clip_path, video_dirs, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_KEEP_ORIGINALS = True
    video = ready_video(therapist, clip_path, django_capture_on_commit_callbacks)
    assert video.original_name
    assert video_storage().open(video.original_name).read() == clip_path.read_bytes()


def test_approval_publishes_and_updates_the_search_facts(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    before = index_version()

    with django_capture_on_commit_callbacks(execute=True):
        services.video_approve(video=video, reviewer=reviewer)

    video.refresh_from_db()
    assert video.is_published
    assert video.review == ReviewState.APPROVED
    assert video.reviewed_by == reviewer
    therapist.refresh_from_db()
    assert therapist.has_video_introduction
    assert not therapist.has_captioned_video
    assert index_version() > before
    assert len(mail.outbox) == 1
    assert "is live" in mail.outbox[0].subject
    assert mail.outbox[0].to == [therapist.user.email]
    assert "no captions yet" in mail.outbox[0].body


def test_a_replacement_goes_live_only_once_approved(
    therapist, clip_path, processed_clip, video_dirs, reviewer, django_capture_on_commit_callbacks
):
    first = make_ready_video(therapist, processed_clip)
    with django_capture_on_commit_callbacks(execute=True):
        services.video_approve(video=first, reviewer=reviewer)
    second = make_ready_video(therapist, processed_clip)

    first.refresh_from_db()
    assert first.is_published
    assert not second.is_published

    with django_capture_on_commit_callbacks(execute=True):
        services.video_approve(video=second, reviewer=reviewer)

    assert list(Video.objects.filter(is_published=True)) == [second]
    assert not Video.objects.filter(pk=first.pk).exists()
    storage = video_storage()
    assert not storage.exists(first.media_name)
    assert not storage.exists(first.poster_name)
    assert stored_files(video_dirs) == sorted(
        Path(storage.path(name)) for name in (second.media_name, second.poster_name)
    )


def test_other_prompts_stay_live_when_one_is_replaced(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    approach = make_ready_video(therapist, processed_clip)
    first_session = make_ready_video(therapist, processed_clip, prompt=Prompt.FIRST_SESSION)
    services.video_approve(video=approach, reviewer=reviewer)
    services.video_approve(video=first_session, reviewer=reviewer)
    assert Video.objects.filter(is_published=True).count() == 2


def test_rejection_needs_a_reason_and_takes_a_live_video_down(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    services.video_approve(video=video, reviewer=reviewer)
    mail.outbox.clear()

    with pytest.raises(VideoRejected) as refused:
        services.video_reject(video=video, reviewer=reviewer, reason="   ")
    assert refused.value.code == "no_reason"
    video.refresh_from_db()
    assert video.is_published

    with django_capture_on_commit_callbacks(execute=True):
        services.video_reject(
            video=video, reviewer=reviewer, reason="The sound cuts out after a minute."
        )
    video.refresh_from_db()
    assert not video.is_published
    assert video.review == ReviewState.REJECTED
    therapist.refresh_from_db()
    assert not therapist.has_video_introduction
    assert "not approved" in mail.outbox[0].subject
    assert "The sound cuts out after a minute." in mail.outbox[0].body


def test_a_video_still_processing_cannot_be_approved(therapist, clip_path, reviewer):
    # No on-commit callbacks run: the video stays queued.
    video = upload_video(therapist, clip_path)
    with pytest.raises(VideoRejected) as refused:
        services.video_approve(video=video, reviewer=reviewer)
    assert refused.value.code == "not_ready"
    video.refresh_from_db()
    assert not video.is_published
    assert video.review == ReviewState.PENDING


# --- captions and transcript -----------------------------------------------------------------


def test_captions_fill_an_empty_transcript_and_mark_the_therapist_captioned(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    services.video_captions_set(video=video, webvtt=CAPTIONS)
    therapist.refresh_from_db()
    assert not therapist.has_captioned_video  # not before the video is live

    services.video_approve(video=video, reviewer=reviewer)

    video.refresh_from_db()
    assert video.captions_vtt == CAPTIONS
    assert video.transcript == "Hello, I am a test therapist."
    therapist.refresh_from_db()
    assert therapist.has_captioned_video

    services.video_captions_remove(video=video)
    therapist.refresh_from_db()
    assert therapist.has_video_introduction
    assert not therapist.has_captioned_video


def test_captions_keep_a_transcript_the_therapist_wrote(
    therapist, clip_path, processed_clip, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    services.video_transcript_set(video=video, transcript="  My own words.\r\n")
    services.video_captions_set(video=video, webvtt=CAPTIONS)
    video.refresh_from_db()
    assert video.transcript == "My own words."


def test_invalid_captions_change_nothing(
    therapist, clip_path, processed_clip, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    services.video_captions_set(video=video, webvtt=CAPTIONS)

    bad = "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nBackwards\n"
    with pytest.raises(VideoRejected) as refused:
        services.video_captions_set(video=video, webvtt=bad)
    assert refused.value.code == "invalid_captions"
    assert "Line 3" in refused.value.message
    video.refresh_from_db()
    assert video.captions_vtt == CAPTIONS


def test_captions_past_the_end_of_the_video_are_refused(
    therapist, clip_path, processed_clip, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    late = synthesise_webvtt(seconds=60, lines=["One", "Two", "Three"])
    with pytest.raises(VideoRejected):
        services.video_captions_set(video=video, webvtt=late)


def test_an_overlong_transcript_is_refused(
    therapist, clip_path, processed_clip, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    with pytest.raises(VideoRejected):
        services.video_transcript_set(
            video=video, transcript="x" * (services.MAX_TRANSCRIPT_CHARS + 1)
        )
    video.refresh_from_db()
    assert video.transcript == ""


# --- uploads: chunks, resuming, limits -------------------------------------------------------


def test_a_chunk_must_start_where_the_upload_stands(therapist):
    upload = upload_bytes(therapist, b"x" * 100, chunk=40)
    assert upload.received_bytes == 100
    assert upload.is_complete

    fresh = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=10
    )
    services.video_upload_append(upload=fresh, offset=0, stream=io.BytesIO(b"abcd"), length=4)
    with pytest.raises(services.UploadOffsetMismatch) as mismatch:
        services.video_upload_append(upload=fresh, offset=0, stream=io.BytesIO(b"abcd"), length=4)
    assert mismatch.value.expected == 4
    assert fresh.partial_path.read_bytes() == b"abcd"


def test_a_dropped_connection_keeps_what_arrived_and_resumes(therapist):
    upload = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=10
    )
    # The client announced 8 bytes but the connection dropped after 3.
    services.video_upload_append(upload=upload, offset=0, stream=io.BytesIO(b"abc"), length=8)
    upload.refresh_from_db()
    assert upload.received_bytes == 3

    services.video_upload_append(upload=upload, offset=3, stream=io.BytesIO(b"defghij"), length=7)
    assert upload.partial_path.read_bytes() == b"abcdefghij"
    assert upload.is_complete


def test_more_bytes_than_announced_are_refused(therapist):
    upload = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=4
    )
    with pytest.raises(VideoRejected) as refused:
        services.video_upload_append(
            upload=upload, offset=0, stream=io.BytesIO(b"abcdef"), length=6
        )
    assert refused.value.code == "too_big"
    upload.refresh_from_db()
    assert upload.received_bytes == 0


@pytest.mark.parametrize(
    ("size", "code"), [(0, "empty"), (-5, "empty"), (500 * 2**20 + 1, "too_big")]
)
def test_sizes_out_of_bounds_never_start(therapist, video_dirs, size, code):
    with pytest.raises(VideoRejected) as refused:
        services.video_upload_start(
            therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=size
        )
    assert refused.value.code == code
    assert not VideoUpload.objects.exists()
    assert partial_files(video_dirs) == []


def test_the_size_cap_is_configurable(therapist, settings):
    settings.VIDEO_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(VideoRejected) as refused:
        services.video_upload_start(
            therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=1001
        )
    assert refused.value.code == "too_big"
    assert "larger than 1000 bytes" in refused.value.message
    assert services.size_label(500 * 2**20) == "500 MB"
    assert services.size_label(int(1.5 * 2**20)) == "1.5 MB"


def test_an_unknown_prompt_is_refused(therapist):
    with pytest.raises(VideoRejected) as refused:
        services.video_upload_start(
            therapist=therapist, prompt="favourite_food", filename="a.mp4", size_bytes=10
        )
    assert refused.value.code == "invalid_prompt"


def test_open_uploads_are_capped(therapist):
    for number in range(services.MAX_OPEN_UPLOADS):
        services.video_upload_start(
            therapist=therapist, prompt=Prompt.APPROACH, filename=f"{number}.mp4", size_bytes=10
        )
    with pytest.raises(VideoRejected) as refused:
        services.video_upload_start(
            therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=10
        )
    assert refused.value.code == "too_many_uploads"


def test_an_unfinished_upload_cannot_be_completed(therapist):
    upload = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=10
    )
    with pytest.raises(VideoRejected) as refused:
        services.video_upload_complete(upload=upload)
    assert refused.value.code == "incomplete"
    assert VideoUpload.objects.filter(pk=upload.pk).exists()  # can still be resumed


def test_the_file_name_is_kept_for_display_only(therapist, clip_path, video_dirs):
    upload = upload_bytes(therapist, clip_path.read_bytes(), filename="../../etc/passwd.mp4")
    assert upload.filename == "passwd.mp4"
    assert upload.partial_path.parent == video_dirs["uploads"]
    video = services.video_upload_complete(upload=upload)
    assert video.original_filename == "passwd.mp4"
    assert "passwd" not in video.original_name


# --- bad files leave nothing behind ----------------------------------------------------------


def _refused_without_trace(therapist, data: bytes, video_dirs, expected_code: str) -> None:
    upload = upload_bytes(therapist, data)
    with pytest.raises(VideoRejected) as refused:
        services.video_upload_complete(upload=upload)
    assert refused.value.code == expected_code, refused.value.message
    assert refused.value.message
    assert not VideoUpload.objects.exists()
    assert not Video.objects.exists()
    assert partial_files(video_dirs) == []
    assert stored_files(video_dirs) == []


def test_text_renamed_mp4_leaves_nothing_behind(therapist, video_dirs):
    _refused_without_trace(
        therapist, b"Just some notes, not a video.\n" * 50, video_dirs, "not_video"
    )


def test_a_playlist_leaves_nothing_behind(therapist, video_dirs, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the probe")
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{secret}\n#EXT-X-ENDLIST\n"
    _refused_without_trace(therapist, playlist.encode(), video_dirs, "not_video")


def test_a_truncated_video_leaves_nothing_behind(therapist, clip_path, video_dirs):
    data = clip_path.read_bytes()
    _refused_without_trace(therapist, data[: len(data) // 3], video_dirs, "undecodable")


# --- processing failures ---------------------------------------------------------------------


def test_a_transcode_refusal_fails_the_video_with_the_reason(
    therapist, clip_path, video_dirs, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise VideoRejected("Preparing the video took too long.", code="timeout")

    monkeypatch.setattr(services.processing, "transcode_video", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        video = upload_video(therapist, clip_path)
    video.refresh_from_db()
    assert video.state == ProcessingState.FAILED
    assert video.failure_reason == "Preparing the video took too long."
    assert video.original_name == ""
    assert stored_files(video_dirs) == []


def test_a_picture_that_grows_past_the_size_limit_part_way_fails_the_video(
    therapist, video_dirs, tmp_path, django_capture_on_commit_callbacks
):
    # 320×180 for two seconds, then 3856×2176: the probe's sample of the first frames passes.
    source = samples.grows_mid_stream(tmp_path, width=3856, height=2176)

    with django_capture_on_commit_callbacks(execute=True):
        video = upload_video(therapist, source)
    video.refresh_from_db()

    assert video.state == ProcessingState.FAILED
    assert video.failure_reason == (
        "Part of this video is 3856×2176 pixels, larger than we accept (3840×2160, either way "
        "round). Please export it at a smaller size; 1080p (1920×1080) is plenty."
    )
    assert video.original_name == ""
    assert stored_files(video_dirs) == []


def test_a_video_converted_only_in_part_fails_with_the_reason(
    therapist, video_dirs, tmp_path, django_capture_on_commit_callbacks
):
    # Every packet is there, so the probe measures 3 s; only the first second decodes.
    source = samples.unreadable_after_one_second(tmp_path)

    with django_capture_on_commit_callbacks(execute=True):
        video = upload_video(therapist, source)
    video.refresh_from_db()

    assert video.state == ProcessingState.FAILED
    assert video.failure_reason == (
        "Only the first 0:01 of this 0:03 video could be converted: the rest of the file seems "
        "to be damaged. Please export it again as an MP4 (H.264) and re-upload it."
    )
    assert video.duration_seconds == pytest.approx(3.0)  # as probed, not silently changed
    assert stored_files(video_dirs) == []


def test_an_unexpected_error_fails_the_video_not_the_worker(
    therapist, clip_path, video_dirs, monkeypatch, django_capture_on_commit_callbacks
):
    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services.processing, "transcode_video", explode)
    with django_capture_on_commit_callbacks(execute=True):
        video = upload_video(therapist, clip_path)  # no exception reaches the caller
    video.refresh_from_db()
    assert video.state == ProcessingState.FAILED
    assert video.failure_reason == services.GENERIC_FAILURE
    assert "disk" not in video.failure_reason
    assert stored_files(video_dirs) == []


def test_processing_twice_does_nothing_the_second_time(
    therapist, clip_path, django_capture_on_commit_callbacks
):
    video = ready_video(therapist, clip_path, django_capture_on_commit_callbacks)
    assert services.video_process(video_id=video.pk) is None


def test_a_video_deleted_behind_the_services_back_keeps_only_its_original(
    therapist, clip_path, video_dirs, monkeypatch
):
    video = upload_video(therapist, clip_path)
    real = services.processing.transcode_video

    def transcode_then_delete(*args, **kwargs):
        report = real(*args, **kwargs)
        Video.objects.filter(pk=video.pk).delete()
        return report

    monkeypatch.setattr(services.processing, "transcode_video", transcode_then_delete)
    assert services.video_process(video_id=video.pk) is None
    # The original stays until the row's deletion removes it; here the row was deleted behind
    # the service's back, so only the original can remain.
    leftovers = stored_files(video_dirs)
    assert [path.suffix for path in leftovers] == [".mp4"]
    assert str(leftovers[0]).endswith(video.original_name)


def test_deleting_a_video_removes_its_files_after_commit(
    therapist, clip_path, processed_clip, video_dirs, reviewer, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    services.video_approve(video=video, reviewer=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        services.video_delete(video=video)
    assert stored_files(video_dirs) == []
    therapist.refresh_from_db()
    assert not therapist.has_video_introduction


# --- housekeeping --------------------------------------------------------------------------


def test_abandoned_uploads_and_orphan_partials_are_removed(therapist, video_dirs):
    old = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="a.mp4", size_bytes=10
    )
    fresh = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="b.mp4", size_bytes=10
    )
    long_ago = timezone.now() - dt.timedelta(hours=25)
    VideoUpload.objects.filter(pk=old.pk).update(updated_at=long_ago)
    orphan = video_dirs["uploads"] / "0123.part"
    orphan.write_bytes(b"left by a crash")
    os.utime(orphan, (long_ago.timestamp(), long_ago.timestamp()))

    assert services.abandoned_uploads_clear(now=timezone.now()) == 1

    assert list(VideoUpload.objects.all()) == [fresh]
    assert partial_files(video_dirs) == [fresh.partial_path]


def test_a_video_whose_worker_died_is_processed_again(
    therapist, clip_path, django_capture_on_commit_callbacks
):
    video = upload_video(therapist, clip_path)
    Video.objects.filter(pk=video.pk).update(
        state=ProcessingState.PROCESSING, updated_at=timezone.now() - dt.timedelta(hours=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.stuck_videos_requeue(now=timezone.now()) == 1
    video.refresh_from_db()
    assert video.state == ProcessingState.READY


def test_captions_are_stored_without_styling_or_markup(
    therapist, clip_path, processed_clip, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    styled = (
        "WEBVTT\n\nSTYLE\n::cue { background: url(https://tracker.example/x.png) }\n\n"
        "NOTE private remark\n\n00:00.000 --> 00:01.000\n<v Dana><b>Hello</b> &amp; welcome\n"
    )
    services.video_captions_set(video=video, webvtt=styled)
    video.refresh_from_db()
    assert video.captions_vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello &amp; welcome\n"
    assert video.transcript == "Hello & welcome"


# --- one upload, several requests ------------------------------------------------------------


def test_a_chunk_or_completion_while_another_request_holds_the_upload_is_busy(therapist):
    import fcntl

    upload = upload_bytes(therapist, b"x" * 10)
    with upload.partial_path.open("r+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a request probing or writing it would
        with pytest.raises(services.UploadBusy):
            services.video_upload_append(upload=upload, offset=10, stream=io.BytesIO(b""), length=0)
        with pytest.raises(services.UploadBusy):
            services.video_upload_complete(upload=upload)
    assert VideoUpload.objects.filter(pk=upload.pk).exists()


def test_completing_an_upload_twice_makes_one_video(therapist, clip_path, video_dirs):
    upload = upload_bytes(therapist, clip_path.read_bytes())
    stale_copy = VideoUpload.objects.get(pk=upload.pk)  # what a second request had loaded
    services.video_upload_complete(upload=upload)

    with pytest.raises(services.UploadGone):
        services.video_upload_complete(upload=stale_copy)
    with pytest.raises(services.UploadGone):
        services.video_upload_append(
            upload=stale_copy, offset=0, stream=io.BytesIO(b"late"), length=4
        )
    assert Video.objects.count() == 1
    assert len(stored_files(video_dirs)) == 1  # one original, nothing from the second call


def test_a_completion_that_finds_its_row_gone_keeps_no_file(
    therapist, clip_path, video_dirs, monkeypatch
):
    """Where the file lock does not reach (a shared disk without locks), the row decides."""
    upload = upload_bytes(therapist, clip_path.read_bytes())
    real_probe = services.uploads.probe_video

    def probe_then_lose_the_row(path):
        report = real_probe(path)
        VideoUpload.objects.filter(pk=upload.pk).delete()  # another machine completed it
        return report

    monkeypatch.setattr(services.uploads, "probe_video", probe_then_lose_the_row)
    with pytest.raises(services.UploadGone):
        services.video_upload_complete(upload=upload)
    assert not Video.objects.exists()
    assert stored_files(video_dirs) == []


def test_cancelling_while_another_request_holds_the_upload_is_busy(therapist):
    import fcntl

    upload = upload_bytes(therapist, b"x" * 10)
    with upload.partial_path.open("r+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(services.UploadBusy):
            services.video_upload_abandon(upload=upload)
        # Housekeeping leaves it for the next round instead of pulling the file away.
        VideoUpload.objects.filter(pk=upload.pk).update(
            updated_at=timezone.now() - dt.timedelta(days=2)
        )
        assert services.abandoned_uploads_clear(now=timezone.now()) == 0
    assert upload.partial_path.exists()
    services.video_upload_abandon(upload=upload)
    assert not upload.partial_path.exists()
    assert not VideoUpload.objects.exists()


def test_the_same_file_announced_again_resumes_its_upload(therapist):
    first = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="intro.mp4", size_bytes=10
    )
    services.video_upload_append(upload=first, offset=0, stream=io.BytesIO(b"abcd"), length=4)

    again = services.video_upload_start(
        therapist=therapist, prompt=Prompt.APPROACH, filename="intro.mp4", size_bytes=10
    )
    other_prompt = services.video_upload_start(
        therapist=therapist, prompt=Prompt.BEST_WITH, filename="intro.mp4", size_bytes=10
    )

    assert again.pk == first.pk
    assert again.received_bytes == 4
    assert other_prompt.pk != first.pk


def test_a_decision_on_a_video_deleted_meanwhile_is_refused(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    stale = Video.objects.get(pk=video.pk)
    services.video_delete(video=video)
    for decide in (
        lambda: services.video_approve(video=stale, reviewer=reviewer),
        lambda: services.video_reject(video=stale, reviewer=reviewer, reason="No"),
    ):
        with pytest.raises(VideoRejected) as refused:
            decide()
        assert refused.value.code == "gone"
    services.video_delete(video=stale)  # deleting twice is quiet
    therapist.refresh_from_db()
    assert not therapist.has_video_introduction


def test_deleting_a_video_that_finished_meanwhile_removes_its_new_files(
    therapist, clip_path, video_dirs, django_capture_on_commit_callbacks
):
    video = upload_video(therapist, clip_path)
    loaded = Video.objects.get(pk=video.pk)
    services.video_process(video_id=video.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.video_delete(video=loaded)
    assert stored_files(video_dirs) == []


def test_each_decision_sends_one_email(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    with django_capture_on_commit_callbacks(execute=True):
        services.video_approve(video=video, reviewer=reviewer)
        services.video_approve(video=video, reviewer=reviewer)
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.video_reject(video=video, reviewer=reviewer, reason="Sound is missing.")
        services.video_reject(video=video, reviewer=reviewer, reason="Sound is missing.")
    assert [message.subject for message in mail.outbox] == [
        "[Rapport] Your video introduction is live",
        "[Rapport] Your video introduction was not approved",
    ]


def test_a_queued_video_whose_task_was_lost_is_queued_again(
    therapist, clip_path, django_capture_on_commit_callbacks
):
    video = upload_video(therapist, clip_path)  # the on-commit enqueue never ran
    assert services.stuck_videos_requeue(now=timezone.now()) == 0  # not yet: may be waiting
    later = timezone.now() + services.QUEUED_RESEND_AFTER + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.stuck_videos_requeue(now=later) == 1
    video.refresh_from_db()
    assert video.state == ProcessingState.READY


# --- text changes to a live video are reviewed like the video ------------------------------------


def test_text_changes_to_a_live_video_wait_for_review(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    from rapport.videos.selectors import videos_for_review

    video = make_ready_video(therapist, processed_clip)
    services.video_transcript_set(video=video, transcript="Approved words.")
    services.video_approve(video=video, reviewer=reviewer)

    services.video_transcript_set(video=video, transcript="Call me on 555-0100 any time!")
    services.video_captions_set(video=video, webvtt=CAPTIONS)

    video.refresh_from_db()
    assert video.transcript == "Approved words."  # what clients see
    assert video.captions_vtt == ""
    assert video.has_pending_text
    assert video.pending_transcript == "Call me on 555-0100 any time!"
    assert video.pending_captions_vtt == CAPTIONS
    therapist.refresh_from_db()
    assert not therapist.has_captioned_video
    assert list(videos_for_review(queue="waiting")) == [video]

    with django_capture_on_commit_callbacks(execute=True):
        services.video_reject(video=video, reviewer=reviewer, reason="No phone numbers, please.")
    video.refresh_from_db()
    assert video.is_published  # only the text was declined
    assert video.review == ReviewState.APPROVED
    assert video.transcript == "Approved words."
    assert not video.has_pending_text
    assert video.pending_transcript == ""
    assert "were not approved" in mail.outbox[-1].subject
    assert "No phone numbers, please." in mail.outbox[-1].body

    services.video_captions_set(video=video, webvtt=CAPTIONS)
    with django_capture_on_commit_callbacks(execute=True):
        services.video_approve(video=video, reviewer=reviewer)
    video.refresh_from_db()
    assert video.captions_vtt == CAPTIONS
    assert video.transcript == "Approved words."  # the captions did not replace it
    assert not video.has_pending_text
    therapist.refresh_from_db()
    assert therapist.has_captioned_video
    assert "is live" in mail.outbox[-1].subject


def test_removing_captions_from_a_live_video_is_immediate(
    therapist, clip_path, processed_clip, reviewer, django_capture_on_commit_callbacks
):
    video = make_ready_video(therapist, processed_clip)
    services.video_captions_set(video=video, webvtt=CAPTIONS)
    services.video_approve(video=video, reviewer=reviewer)
    services.video_captions_remove(video=video)
    video.refresh_from_db()
    assert video.captions_vtt == ""
    therapist.refresh_from_db()
    assert not therapist.has_captioned_video
