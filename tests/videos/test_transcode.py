"""The transcoder: what it writes, and that it leaves nothing behind when it fails."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from rapport.videos.errors import VideoRejected
from rapport.videos.transcode import TranscodeReport, output_size, transcode_video
from tests.videos import samples

# Media code with no database behaviour: the PostgreSQL run skips it (Makefile).
pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("transcode-media")
    for make in (
        samples.good_mp4,
        samples.silent_mp4,
        samples.portrait_mp4,
        samples.rotated_mp4,
        samples.webm_vp9,
        samples.variable_rate_mkv,
        samples.text_file,
        samples.truncated_half,
    ):
        make(folder)
    return folder


def _transcode(source: Path, folder: Path) -> tuple[TranscodeReport, Path, Path]:
    video, poster = folder / "out.mp4", folder / "poster.jpg"
    report = transcode_video(source, video_out=video, poster_out=poster)
    return report, video, poster


def top_level_boxes(path: Path) -> list[str]:
    """The ISO-BMFF boxes at the top of ``path``, in file order."""
    data = path.read_bytes()
    kinds, position = [], 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        if size == 1:
            size = int.from_bytes(data[position + 8 : position + 16], "big")
        kinds.append(data[position + 4 : position + 8].decode("latin-1"))
        if size < 8:
            break
        position += size
    return kinds


@pytest.fixture(scope="module")
def good_result(media, tmp_path_factory):
    return _transcode(media / "good.mp4", tmp_path_factory.mktemp("good-out"))


def test_the_output_is_h264_and_aac_in_a_fast_start_mp4(good_result):
    report, video, _ = good_result

    with av.open(str(video)) as container:
        assert container.format.name.startswith("mov,mp4")
        [picture] = container.streams.video
        [sound] = container.streams.audio
        assert picture.codec_context.name == "h264"
        assert picture.codec_context.pix_fmt == "yuv420p"
        assert sound.codec_context.name == "aac"
        assert sound.codec_context.sample_rate == 48_000
        assert sound.codec_context.layout.name == "stereo"
        bit_rate = sound.codec_context.bit_rate
        assert bit_rate is not None
        assert 96_000 <= bit_rate <= 160_000
    boxes = top_level_boxes(video)
    # Fast start: the index comes before the media, so playback can begin while loading.
    assert boxes.index("moov") < boxes.index("mdat")
    assert report.size_bytes == video.stat().st_size
    assert report.has_audio


def test_a_small_source_is_not_scaled_up_and_keeps_its_length(good_result):
    report, video, _ = good_result

    assert (report.width, report.height) == (320, 180)
    assert report.duration_seconds == pytest.approx(2.0, abs=0.1)
    with av.open(str(video)) as container:
        frames = list(container.decode(video=0))
    assert (frames[0].width, frames[0].height) == (320, 180)
    assert len(frames) == 24  # 2 s at 12 fps: none dropped, none invented


def test_timestamps_only_go_forward(good_result):
    _, video, _ = good_result

    with av.open(str(video)) as container:
        for stream in container.streams:
            stamps = [packet.dts for packet in container.demux(stream) if packet.dts is not None]
            container.seek(0)
            assert stamps == sorted(set(stamps)), f"{stream.type} timestamps repeat or go back"


def test_the_poster_is_a_jpeg_of_the_output_size(good_result):
    report, _, poster = good_result

    with Image.open(poster) as image:
        assert image.format == "JPEG"
        assert image.size == (report.width, report.height)
        # A real picture, not a blank: the synthesised clip has text over a colour wash.
        low, high = image.convert("L").getextrema()
        assert isinstance(low, int)
        assert isinstance(high, int)
        assert high - low > 50


def test_tall_sources_are_scaled_to_720_by_1280(media, tmp_path):
    report, video, poster = _transcode(media / "portrait.mp4", tmp_path)

    assert (report.width, report.height) == (720, 1280)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (720, 1280)
    with Image.open(poster) as image:
        assert image.size == (720, 1280)


def test_rotation_metadata_is_applied_to_the_pixels(media, tmp_path):
    report, video, poster = _transcode(media / "rotated.mp4", tmp_path)

    # Stored 320×240 with "turn a quarter"; shown upright, so encoded upright.
    assert (report.width, report.height) == (240, 320)
    with av.open(str(video)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (240, 320)
        assert frame.rotation == 0
    with Image.open(poster) as image:
        assert image.size == (240, 320)


def test_a_source_without_sound_gives_an_output_without_sound(media, tmp_path):
    report, video, _ = _transcode(media / "silent.mp4", tmp_path)

    assert not report.has_audio
    with av.open(str(video)) as container:
        assert not container.streams.audio
        assert len(container.streams.video) == 1


def test_webm_becomes_h264_and_aac(media, tmp_path):
    report, video, _ = _transcode(media / "clip.webm", tmp_path)

    assert report.has_audio
    with av.open(str(video)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"


def test_variable_frame_rate_timing_is_kept(media, tmp_path):
    report, video, _ = _transcode(media / "vfr.mkv", tmp_path)

    with av.open(str(video)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    with av.open(str(media / "vfr.mkv")) as container:
        source_times = [frame.time for frame in container.decode(video=0)]
    assert len(times) == len(source_times)
    start = source_times[0]
    assert times == pytest.approx([moment - start for moment in source_times], abs=0.002)
    assert report.duration_seconds == pytest.approx(2.8, abs=0.05)


# --- sizes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((1920, 1080), (1280, 720)),
        ((1080, 1920), (720, 1280)),
        ((3840, 2160), (1280, 720)),
        ((2160, 3840), (720, 1280)),
        ((1440, 1080), (960, 720)),
        ((2560, 1080), (1280, 540)),
        ((1280, 720), (1280, 720)),
        ((320, 180), (320, 180)),
        ((641, 361), (640, 360)),
        ((1000, 1000), (720, 720)),
    ],
)
def test_output_size(source, expected):
    assert output_size(*source) == expected


@pytest.mark.parametrize("source", [(1920, 1080), (1366, 768), (3000, 1000), (1080, 1350)])
def test_output_size_keeps_the_shape_and_even_sides(source):
    width, height = output_size(*source)

    assert width % 2 == 0
    assert height % 2 == 0
    assert max(width, height) <= 1280
    assert min(width, height) <= 720
    assert Fraction(width, height) == pytest.approx(Fraction(*source), rel=0.01)


# --- failures -----------------------------------------------------------------------------------


def _files(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


@pytest.mark.parametrize("name", ["notes.mp4", "cut-in-half.mp4"])
def test_a_failed_transcode_leaves_no_output(media, tmp_path, name):
    with pytest.raises(VideoRejected) as caught:
        _transcode(media / name, tmp_path)

    assert caught.value.code == "transcode_failed"
    assert "convert" in caught.value.message
    assert _files(tmp_path) == set()


def test_a_transcode_that_takes_too_long_is_stopped_and_cleaned_up(media, tmp_path):
    # As if a child had been killed half way through writing.
    (tmp_path / ".out.mp4.partial").write_bytes(b"\0" * 1000)

    with pytest.raises(VideoRejected) as caught:
        transcode_video(
            media / "good.mp4",
            video_out=tmp_path / "out.mp4",
            poster_out=tmp_path / "poster.jpg",
            timeout_seconds=0.05,
        )

    assert caught.value.code == "timeout"
    assert "took too long" in caught.value.message
    assert _files(tmp_path) == set()
