"""The transcoder: what it writes, and that it leaves nothing behind when it fails."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from rapport.videos.errors import VideoRejected
from rapport.videos.probe import probe_video
from rapport.videos.transcode import (
    TranscodeReport,
    check_output_length,
    output_size,
    transcode_video,
)
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
    """As processing does: with the duration the probe measured (none for a file it refuses)."""
    try:
        expected: float | None = probe_video(source).duration_seconds
    except VideoRejected:
        expected = None
    video, poster = folder / "out.mp4", folder / "poster.jpg"
    report = transcode_video(source, video_out=video, poster_out=poster, expected_seconds=expected)
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


def _rejection(source: Path, out: Path, *, expected_seconds: float) -> VideoRejected:
    """Transcode ``source`` into the new folder ``out``, which must be refused; the refusal."""
    out.mkdir()
    with pytest.raises(VideoRejected) as caught:
        transcode_video(
            source,
            video_out=out / "v.mp4",
            poster_out=out / "p.jpg",
            expected_seconds=expected_seconds,
        )
    return caught.value


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
            expected_seconds=2.0,
            timeout_seconds=0.05,
        )

    assert caught.value.code == "timeout"
    assert "took too long" in caught.value.message
    assert _files(tmp_path) == set()


# --- the frame-size limit, on every frame ----------------------------------------------------


def _boxes(data: bytes) -> dict[str, bytes]:
    """The ISO-BMFF boxes in ``data`` by type, each its body (after the 8-byte header)."""
    found, position = {}, 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        if size < 8:
            break
        found[data[position + 4 : position + 8].decode("latin-1")] = data[
            position + 8 : position + size
        ]
        position += size
    return found


def _played_seconds(path: Path) -> float:
    """How long ``path`` plays, as its movie header (``moov/mvhd``) tells a player."""
    header = _boxes(_boxes(path.read_bytes())["moov"])["mvhd"]
    if header[0] == 1:  # version 1: 64-bit times
        scale, duration = int.from_bytes(header[20:24], "big"), int.from_bytes(header[24:32], "big")
    else:
        scale, duration = int.from_bytes(header[12:16], "big"), int.from_bytes(header[16:20], "big")
    return duration / scale


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (3856, 2176),  # both sides over
        (2176, 3856),  # the same, upright
        (3840, 2176),  # the long side at the limit, the short one over
        (3856, 1080),  # the long side over, the short one well within
    ],
)
def test_a_frame_over_the_size_limit_part_way_through_fails_the_conversion(tmp_path, width, height):
    source = samples.grows_mid_stream(tmp_path, width=width, height=height)
    # The probe, which decodes only the first frames, sees a small clip: the transcoder is the
    # full check.
    assert (probe_video(source).width, probe_video(source).height) == (320, 180)
    out = tmp_path / "out"

    rejection = _rejection(source, out, expected_seconds=2.5)

    assert rejection.code == "too_large_frame"
    assert rejection.message == (
        f"Part of this video is {width}×{height} pixels, larger than we accept (3840×2160, "
        "either way round). Please export it at a smaller size; 1080p (1920×1080) is plenty."
    )
    assert _files(out) == set()


def test_a_frame_too_large_even_to_decode_part_way_through_fails_the_conversion(tmp_path, settings):
    # With a 640×360 limit the decoder's own guard (twice the limit's pixels) refuses to decode
    # 1280×720 frames at all: the same path an 8K frame takes under the 4K limit.
    settings.VIDEO_MAX_LONG_SIDE = 640
    settings.VIDEO_MAX_SHORT_SIDE = 360
    source = samples.grows_mid_stream(
        tmp_path, width=1280, height=720, name="grows.mkv", container="matroska"
    )
    out = tmp_path / "out"

    rejection = _rejection(source, out, expected_seconds=2.5)

    assert rejection.code == "too_large_frame"
    assert "1280×720 pixels, larger than we accept (640×360, either way round)" in (
        rejection.message
    )
    assert _files(out) == set()


def test_a_size_change_within_the_limit_is_converted_whole(tmp_path):
    source = samples.grows_mid_stream(tmp_path, width=3840, height=2160, large_frames=3)
    out = tmp_path / "out"
    out.mkdir()

    report = transcode_video(
        source, video_out=out / "v.mp4", poster_out=out / "p.jpg", expected_seconds=2.3
    )

    assert (report.width, report.height) == (320, 180)
    assert report.duration_seconds == pytest.approx(2.3, abs=0.01)
    with av.open(str(out / "v.mp4")) as container:
        assert len(list(container.decode(video=0))) == 23
    assert _played_seconds(out / "v.mp4") == pytest.approx(2.3, abs=0.01)


# --- output as long as the source ---------------------------------------------------------------


def test_output_that_ends_well_before_the_source_fails_the_conversion(tmp_path):
    source = samples.unreadable_after_one_second(tmp_path)
    # The probe reads every packet's timing and finds three seconds.
    assert probe_video(source).duration_seconds == pytest.approx(3.0)
    out = tmp_path / "out"

    rejection = _rejection(source, out, expected_seconds=3.0)

    assert rejection.code == "output_short"
    assert rejection.message == SHORT_OUTPUT_MESSAGE.format(made="0:01", whole="0:03")
    assert _files(out) == set()


SHORT_OUTPUT_MESSAGE = (
    "Only the first {made} of this {whole} video could be converted: the rest of the file "
    "seems to be damaged. Please export it again as an MP4 (H.264) and re-upload it."
)


@pytest.mark.parametrize(
    ("expected", "made", "refused"),
    [
        (5.0, 2.09, True),  # the outside test's 8K switch: 2.09 s of a 5 s clip
        (5.0, 4.49, True),
        (5.0, 4.5, False),  # half a second short is within the tolerance
        (5.0, 5.0, False),
        (5.0, 5.3, False),  # longer is not this check's business (the probe caps length)
        (180.0, 61.0, True),
        (None, 1.0, False),  # nothing probed to compare with
    ],
)
def test_output_length_is_checked_against_the_probed_duration(expected, made, refused):
    if not refused:
        check_output_length(expected_seconds=expected, output_seconds=made)
        return
    with pytest.raises(VideoRejected) as caught:
        check_output_length(expected_seconds=expected, output_seconds=made)
    assert caught.value.code == "output_short"
    whole = f"{int(expected) // 60}:{int(expected) % 60:02d}"
    assert caught.value.message == SHORT_OUTPUT_MESSAGE.format(
        made=f"{int(made) // 60}:{int(made) % 60:02d}", whole=whole
    )


def test_a_still_held_at_the_end_keeps_its_time(tmp_path):
    source = samples.held_last_frame(tmp_path)
    assert probe_video(source).duration_seconds == pytest.approx(3.9)
    out = tmp_path / "out"
    out.mkdir()

    report = transcode_video(
        source, video_out=out / "v.mp4", poster_out=out / "p.jpg", expected_seconds=3.9
    )

    assert report.duration_seconds == pytest.approx(3.9, abs=0.01)
    assert _played_seconds(out / "v.mp4") == pytest.approx(3.9, abs=0.01)
