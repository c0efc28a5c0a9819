"""Test media, made on the spot into a folder the caller gives (usually pytest's tmp_path).

Each function writes one file and returns its path. All are small or cheap to make: the
"long" and "huge" ones get their size from duration or frame dimensions, not from content, so
the whole set takes a second or two on a small machine.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from rapport.videos.synth import synthesise_clip

AUDIO_RATE = 48_000


def good_mp4(folder: Path, *, name: str = "good.mp4", seconds: float = 2.0) -> Path:
    """A small, valid H.264 + AAC MP4 (320×180, 12 fps)."""
    path = folder / name
    synthesise_clip(
        path, title="Sample", subtitle="for tests", seconds=seconds, width=320, height=180, fps=12
    )
    return path


def silent_mp4(folder: Path, *, name: str = "silent.mp4") -> Path:
    """A valid MP4 with a video stream and no audio at all."""
    path = folder / name
    synthesise_clip(
        path, title="No sound", seconds=1.5, width=320, height=180, fps=12, with_audio=False
    )
    return path


def portrait_mp4(folder: Path, *, name: str = "portrait.mp4") -> Path:
    """Upright phone footage: 1080×1920, stored that way (no rotation flag), half a second."""
    path = folder / name
    _encode(path, width=1080, height=1920, frames=6, fps=12)
    return path


def rotated_mp4(folder: Path, *, name: str = "rotated.mp4") -> Path:
    """A 320×240 landscape recording flagged to be shown turned a quarter turn, as phones do.

    The flag is the track header's transformation matrix, which is patched in place after
    encoding: the matrix FFmpeg reads as "rotate 90° counter-clockwise" (what its own
    ``-display_rotation 90`` writes).
    """
    path = folder / name
    _encode(path, width=320, height=240, frames=12, fps=12)
    data = bytearray(path.read_bytes())
    box = data.find(b"tkhd") - 4
    assert box > 0, "no track header"
    assert data[box + 8] == 0, "expected a version-0 track header"
    # size, type, version+flags, created, modified, track, reserved, duration, reserved (8),
    # layer, group, volume, reserved: 48 bytes, then the 3×3 matrix.
    matrix = (0, -(1 << 16), 0, 1 << 16, 0, 0, 0, 0, 1 << 30)
    data[box + 48 : box + 84] = struct.pack(">9i", *matrix)
    path.write_bytes(bytes(data))
    return path


def variable_rate_mkv(folder: Path, *, name: str = "vfr.mkv") -> Path:
    """Matroska H.264 whose frames are unevenly spaced (30 fps, then gaps of up to 0.3 s)."""
    path = folder / name
    gaps = [1, 1, 1, 3, 1, 9, 2, 1, 1, 5, 1, 1, 1, 1, 2, 1, 7, 1, 1, 1] * 2
    times = np.cumsum([0, *gaps[:-1]])
    _encode(path, width=320, height=180, frames=len(gaps), fps=30, container="matroska", pts=times)
    return path


def audio_only_mp4(folder: Path, *, name: str = "voice-memo.mp4") -> Path:
    """An MP4 (M4A-style) holding only AAC audio, one second of it."""
    path = folder / name
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        for chunk in _tone_chunks(seconds=1.0):
            output.mux(stream.encode(chunk))
        output.mux(stream.encode(None))
    return path


def empty_file(folder: Path, *, name: str = "empty.mp4") -> Path:
    path = folder / name
    path.write_bytes(b"")
    return path


def text_file(folder: Path, *, name: str = "notes.mp4") -> Path:
    path = folder / name
    path.write_text("Dear reader, this is a letter, not a video.\n" * 20, encoding="utf-8")
    return path


def truncated_half(folder: Path, *, name: str = "cut-in-half.mp4") -> Path:
    """A good MP4 (index first) cut off half way through the media data."""
    whole = good_mp4(folder, name=f"whole-{name}")
    data = whole.read_bytes()
    whole.unlink()
    path = folder / name
    path.write_bytes(data[: len(data) // 2])
    return path


def truncated_head(folder: Path, *, name: str = "first-2k.mp4") -> Path:
    """Only the first 2 KiB of a good MP4: the ftyp box and the start of the index."""
    whole = good_mp4(folder, name=f"whole-{name}")
    data = whole.read_bytes()
    whole.unlink()
    path = folder / name
    path.write_bytes(data[:2048])
    return path


def missing_index(folder: Path, *, name: str = "no-moov.mp4") -> Path:
    """An MP4 written index-last whose recording stopped before the index was written: every
    byte of media is there, the ``moov`` box is not."""
    whole = folder / f"whole-{name}"
    _encode(whole, width=320, height=180, frames=12, fps=12, faststart=False)
    data = whole.read_bytes()
    whole.unlink()
    moov = data.rfind(b"moov") - 4
    assert moov > 0
    path = folder / name
    path.write_bytes(data[:moov])
    return path


def hls_playlist(folder: Path, *, name: str = "playlist.mp4") -> Path:
    """An HLS playlist, named .mp4, pointing at a real local video beside it: FFmpeg's HLS
    demuxer would happily open that file (or a URL) if it were ever let near this."""
    target = good_mp4(folder, name="segment.mp4")
    path = folder / name
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
        f"#EXTINF:2.0,\n{target}\n#EXT-X-ENDLIST\n",
        encoding="utf-8",
    )
    return path


def ffconcat_playlist(folder: Path, *, name: str = "concat.mp4") -> Path:
    """An ffconcat script, named .mp4, that lists a local file (and a system file)."""
    target = good_mp4(folder, name="part.mp4")
    path = folder / name
    path.write_text(
        f"ffconcat version 1.0\nfile '{target}'\nfile '/etc/passwd'\n", encoding="utf-8"
    )
    return path


def twenty_minutes(folder: Path, *, name: str = "twenty-minutes.mp4") -> Path:
    """Twenty real minutes of video: 1,200 tiny (64×64) frames at one frame per second."""
    path = folder / name
    _encode(path, width=64, height=64, frames=20 * 60, fps=1)
    return path


def eight_k(folder: Path, *, name: str = "8k.mp4") -> Path:
    """One 7680×4320 frame: beyond the 4K cap however it is turned."""
    path = folder / name
    _encode(path, width=7680, height=4320, frames=1, fps=1)
    return path


def webm_vp9(folder: Path, *, name: str = "clip.webm") -> Path:
    """A valid WebM: VP9 video (320×180, 1 s) with Opus audio."""
    path = folder / name
    with av.open(str(path), "w", format="webm") as output:
        video = output.add_stream(
            "libvpx-vp9", rate=12, options={"deadline": "realtime", "cpu-used": "8"}
        )
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        audio = output.add_stream("libopus", rate=AUDIO_RATE, layout="stereo")
        for frame in _pictures(320, 180, frames=12, fps=12):
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        for chunk in _tone_chunks(seconds=1.0, samples=960):
            output.mux(audio.encode(chunk))
        output.mux(audio.encode(None))
    return path


def lying_duration_mkv(folder: Path, *, name: str = "claims-five-seconds.mkv") -> Path:
    """Matroska whose header says 5 seconds while its frames run for 200 (64×64, 1 fps).

    The Segment ``Duration`` element (ID 0x4489, an 8-byte float in milliseconds here) is
    overwritten after muxing; the frames and their timestamps are untouched.
    """
    path = folder / name
    _encode(path, width=64, height=64, frames=200, fps=1, container="matroska")
    data = bytearray(path.read_bytes())
    marker = data.find(b"\x44\x89\x88")
    assert marker > 0, "no 8-byte Duration element"
    data[marker + 3 : marker + 11] = struct.pack(">d", 5000.0)
    path.write_bytes(bytes(data))
    return path


def grows_mid_stream(
    folder: Path,
    *,
    width: int,
    height: int,
    name: str = "grows.mp4",
    container: str = "mp4",
    small_frames: int = 20,
    large_frames: int = 5,
    fps: int = 10,
) -> Path:
    """H.264 that starts at 320×180 and switches to ``width``×``height`` after
    ``small_frames`` frames, no sound: a second encoding's raw Annex-B stream (its own
    parameter sets first) appended to the first's, then muxed. Its header and first frames
    show only the small size."""
    stream = _annex_b(320, 180, frames=small_frames, fps=fps)
    stream += _annex_b(width, height, frames=large_frames, fps=fps)
    path = folder / name
    _mux_annex_b(stream, path, container=container, fps=fps)
    return path


def unreadable_after_one_second(folder: Path, *, name: str = "unreadable-tail.mp4") -> Path:
    """Three seconds of H.264 (320×180, 10 fps, no sound) whose packets after the first second
    hold no picture a decoder can use (a reserved NAL unit type, then filler bytes). Every
    packet is there with its timestamps, so the file measures three seconds without decoding."""
    fps = 10
    stream = _annex_b(320, 180, frames=3 * fps, fps=fps)
    path = folder / name
    _mux_annex_b(
        stream,
        path,
        container="mp4",
        fps=fps,
        replace=lambda index, data: data if index < fps else b"\0\0\0\x01\x17" + b"\xa5" * 200,
    )
    return path


def held_last_frame(folder: Path, *, name: str = "held-last-frame.mp4") -> Path:
    """Ten frames at 10 fps, the last shown for three seconds (as screen recorders and some
    editors store a still ending): 3.9 s of video in ten samples, no sound."""
    path = folder / name
    fps = 10
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        packets = []
        for frame in _pictures(320, 180, frames=10, fps=fps):
            packets += stream.encode(frame)
        packets += stream.encode(None)
        # The last sample's duration is what a muxer writes for the still.
        packets[-1].duration = 30
        for packet in packets:
            output.mux(packet)
    return path


# --- building blocks ------------------------------------------------------------------------


def _encode(
    path: Path,
    *,
    width: int,
    height: int,
    frames: int,
    fps: int,
    container: str = "mp4",
    faststart: bool = True,
    pts: np.ndarray | None = None,
) -> None:
    options = {"movflags": "+faststart"} if container == "mp4" and faststart else {}
    with av.open(str(path), "w", format=container, options=options) as output:
        stream = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index, frame in enumerate(_pictures(width, height, frames=frames, fps=fps)):
            if pts is not None:
                frame.pts = int(pts[index])
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def _pictures(width: int, height: int, *, frames: int, fps: int) -> Iterator[av.VideoFrame]:
    """Flat grey frames with a bright band that moves, so consecutive frames differ."""
    base = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
    band = max(2, height // 8)
    for index in range(frames):
        planes = base.copy()
        top = (index * band) % max(1, height - band)
        planes[top : top + band, :] = 220
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = index
        frame.time_base = Fraction(1, fps)
        yield frame


def _tone_chunks(*, seconds: float, samples: int = 1024) -> Iterator[av.AudioFrame]:
    total = round(seconds * AUDIO_RATE)
    for start in range(0, total, samples):
        count = min(samples, total - start)
        moment = np.arange(start, start + count) / AUDIO_RATE
        wave = (0.1 * np.sin(2 * np.pi * 440 * moment)).astype(np.float32)
        chunk = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
        chunk.sample_rate = AUDIO_RATE
        chunk.pts = start
        chunk.time_base = Fraction(1, AUDIO_RATE)
        yield chunk


def _annex_b(width: int, height: int, *, frames: int, fps: int) -> bytes:
    """A raw H.264 stream (Annex B: start codes, parameter sets in band), no B-frames."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="h264") as output:
        stream = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in _pictures(width, height, frames=frames, fps=fps):
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def _mux_annex_b(
    data: bytes,
    path: Path,
    *,
    container: str,
    fps: int,
    replace: Callable[[int, bytes], bytes] | None = None,
) -> None:
    """Put a raw H.264 stream into ``container``, one frame per packet at ``fps``; ``replace``
    may swap a packet's bytes (by frame index) for others."""
    with (
        av.open(io.BytesIO(data), mode="r", format="h264") as source,
        av.open(str(path), "w", format=container) as output,
    ):
        raw = source.streams.video[0]
        stream = output.add_stream_from_template(raw)
        stream.time_base = Fraction(1, fps)
        index = 0
        for read in source.demux(raw):
            if read.size == 0:
                continue  # the demuxer's end-of-stream marker
            packet = read if replace is None else av.Packet(replace(index, bytes(read)))
            # Stored in presentation order (no B-frames), so both stamps are the frame index.
            packet.stream = stream
            packet.pts = packet.dts = index
            packet.duration = 1
            packet.time_base = Fraction(1, fps)
            output.mux(packet)
            index += 1
