"""Synthesised clips and caption tracks: real media, made quickly, the same for a seed."""

from __future__ import annotations

import itertools

import av
import numpy as np
import pytest

from rapport.videos.captions import parse_webvtt
from rapport.videos.synth import synthesise_clip, synthesise_webvtt

# Media code with no database behaviour: the PostgreSQL run skips it (Makefile).
pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def default_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "intro.mp4"
    synthesise_clip(path, title="Dr. Amina Okafor", subtitle="Anxiety, grief, life changes")
    return path


def test_the_default_clip_is_eight_seconds_of_h264_and_aac(default_clip):
    path = default_clip

    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (640, 360)
        assert video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac"
        assert audio.codec_context.sample_rate == 48_000
        assert container.duration is not None
        assert container.duration / 1_000_000 == pytest.approx(8.0, abs=0.1)
        assert sum(1 for _ in container.decode(video=0)) == 8 * 24


def test_the_index_comes_first(default_clip):
    path = default_clip

    data = path.read_bytes()
    assert data[4:8] == b"ftyp"
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_the_audio_is_a_soft_audible_tone(default_clip):
    path = default_clip

    with av.open(str(path)) as container:
        sound = np.concatenate(
            [frame.to_ndarray()[0] for frame in container.decode(audio=0)]
        ).astype(np.float64)
    middle = sound[len(sound) // 3 : 2 * len(sound) // 3]
    rms = float(np.sqrt(np.mean(middle**2)))
    assert 0.01 < rms < 0.2  # heard, but gently
    assert abs(float(sound[0])) < 0.01  # fades in rather than clicking on


def test_the_background_moves_and_the_title_is_drawn(default_clip):
    path = default_clip

    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    first, middle = frames[0].astype(int), frames[len(frames) // 2].astype(int)
    # Drifting colour: the edges change over time.
    assert np.abs(first[:, :40] - middle[:, :40]).mean() > 2
    # Near-white text in the centre band, brighter than anything at the top edge.
    centre = first[140:220, 100:540].max(axis=2)
    assert centre.max() > 220
    assert first[:20].max() < 220


def test_the_seed_picks_the_colours(tmp_path):
    def first_frame(seed: int) -> np.ndarray:
        path = tmp_path / f"seed-{seed}.mp4"
        synthesise_clip(path, title="", seconds=0.5, width=160, height=90, seed=seed)
        with av.open(str(path)) as container:
            return next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)

    frames = [first_frame(seed) for seed in range(4)]

    assert np.abs(frames[3] - first_frame(3)).mean() < 1
    for index, frame in enumerate(frames):
        for other in frames[index + 1 :]:
            assert np.abs(frame - other).mean() > 2


def test_a_silent_clip_has_no_audio_stream(tmp_path):
    path = tmp_path / "silent.mp4"

    synthesise_clip(path, title="Quiet", seconds=1, width=320, height=180, with_audio=False)

    with av.open(str(path)) as container:
        assert not container.streams.audio
        assert container.streams.video


def test_names_the_font_lacks_are_still_drawn(tmp_path):
    """Accents and dashes the default font has no glyph for do not break or box the title."""
    path = tmp_path / "accents.mp4"

    synthesise_clip(path, title="Zoë Brontë — Montréal", seconds=0.5, width=320, height=180)

    assert path.stat().st_size > 1000


@pytest.mark.parametrize(
    "arguments",
    [{"seconds": 0}, {"width": 641}, {"height": 9}, {"fps": 0}],
)
def test_impossible_requests_are_refused(tmp_path, arguments):
    with pytest.raises(ValueError, match="must be"):
        synthesise_clip(tmp_path / "x.mp4", title="x", **arguments)


# --- captions -----------------------------------------------------------------------------------


def _cues(track: str) -> list[tuple[float, float, str]]:
    """The track read back by the validator therapists' caption files go through."""
    return [(cue.start, cue.end, cue.text) for cue in parse_webvtt(track)]


def test_captions_spread_the_lines_over_the_clip():
    track = synthesise_webvtt(
        seconds=8.0, lines=["Hello, I'm Amina.", "I work with grief.", "Let's talk."]
    )

    cues = _cues(track)
    assert [text for _, _, text in cues] == [
        "Hello, I'm Amina.",
        "I work with grief.",
        "Let's talk.",
    ]
    assert cues[0][0] == 0
    assert cues[-1][1] == 8.0
    for (_, end, _), (start, _, _) in itertools.pairwise(cues):
        assert end == pytest.approx(start)
    assert all(start < end for start, end, _ in cues)


def test_caption_text_cannot_break_the_format():
    track = synthesise_webvtt(seconds=61.5, lines=["a <b> & c --> d", "", "two\n\nlines"])

    cues = _cues(track)
    assert [text for _, _, text in cues] == ["a <b> & c --> d", "two lines"]
    assert "a &lt;b&gt; &amp; c --&gt; d" in track
    assert cues[-1][1] == 61.5
    assert "01:01.500" in track


def test_captions_without_lines_are_an_empty_valid_track():
    assert synthesise_webvtt(seconds=3, lines=[]).startswith("WEBVTT")
    with pytest.raises(ValueError, match="must be"):
        synthesise_webvtt(seconds=0, lines=["x"])
