"""Demo videos: real clips through the real pipeline, only for generated, listed therapists."""

from __future__ import annotations

import av
import pytest

from rapport.videos.models import ProcessingState, ReviewState, Video
from rapport.videos.seeding import demo_videos_clear, demo_videos_seed
from rapport.videos.storage import video_storage
from tests.factories import make_therapist
from tests.videos.conftest import stored_files

pytestmark = pytest.mark.django_db


def test_demo_videos_are_playable_approved_and_captioned_for_half(
    reference_data, video_dirs, django_capture_on_commit_callbacks
):
    generated = make_therapist(seed_key="demo-1")
    make_therapist(seed_key="demo-2", is_listed=False)  # hidden: would show nothing
    hand_made = make_therapist()

    result = demo_videos_seed(seed=1, therapists=2)

    assert result.therapists == 1
    videos = list(Video.objects.all())
    assert {video.therapist_id for video in videos} == {generated.pk}
    assert len(videos) == 2
    for video in videos:
        assert video.state == ProcessingState.READY
        assert video.review == ReviewState.APPROVED
        assert video.is_published
        assert video.captions_vtt.startswith("WEBVTT")  # the first therapist is captioned
        with av.open(video_storage().path(video.media_name)) as played:
            assert played.streams.video[0].codec_context.name == "h264"
            assert played.duration is not None
    generated.refresh_from_db()
    assert generated.has_video_introduction
    assert generated.has_captioned_video
    hand_made.refresh_from_db()
    assert not hand_made.has_video_introduction

    assert demo_videos_seed(seed=1, therapists=2).videos == 0  # idempotent

    with django_capture_on_commit_callbacks(execute=True):
        assert demo_videos_clear() == 2
    assert stored_files(video_dirs) == []
    generated.refresh_from_db()
    assert not generated.has_video_introduction
