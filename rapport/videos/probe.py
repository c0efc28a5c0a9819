"""Is this upload a video we can use? Inspected in a sandboxed child process.

``probe_video(path)`` runs ``python -m rapport.videos.probe`` (see ``sandbox``) and turns its
answer into a ``ProbeReport`` or a ``VideoRejected`` whose message speaks to the therapist.

What the child does, in order, and why:

1. Opens the path itself as a regular local file (no FIFOs or devices, which could block or
   never end) and refuses an empty one.
2. Sniffs the container from the first bytes: an ISO-BMFF ``ftyp`` box (MP4, MOV, M4V) or the
   EBML magic of Matroska/WebM. Nothing else reaches FFmpeg, so playlists (HLS, ffconcat),
   images, text and FFmpeg's many exotic demuxers are refused before any parsing.
3. For MP4/MOV, walks the top-level boxes: a box that runs past the end of the file, or no
   ``moov`` (the index every player needs), means the file was cut off.
4. Opens the file with PyAV from a Python file object, with the demuxer named explicitly and
   FFmpeg told to open no protocol and no other format (so no nested playlist, segment or
   data reference can make it read anything else).
5. Checks the frame size from the header before decoding anything (an 8K frame costs memory),
   and the duration the header claims.
6. Reads every packet of the video and audio streams once, without decoding, to measure the
   real duration from the last packet's end (a header can lie), decoding the first few video
   frames for real on the way (a stream that cannot be decoded is refused). That is a quick
   sample: the transcoder decodes every frame and holds each to the size limit.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapport.videos.errors import VideoRejected
from rapport.videos.sandbox import (
    ChildRefusal,
    Limits,
    Outcome,
    child_main,
    memory_limit_bytes,
    run_child,
)

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

# The demuxers an upload may use, by the short name FFmpeg is given, with the full name FFmpeg
# reports for it when it detects the format itself (which is what ``ProbeReport`` carries).
DEMUXERS = {"mov": "mov,mp4,m4a,3gp,3g2,mj2", "matroska": "matroska,webm"}
# A clip may run this much past the limit: exports of "3:00" often end a few frames later.
DURATION_TOLERANCE_SECONDS = 0.5
# Video frames decoded for real; more than one, so a stream whose first frame happens to decode
# but whose following frames do not is still caught.
FRAMES_TO_DECODE = 3
# Video packets the decoder may swallow without producing a frame before we give up on it
# (frame-threaded or long-delay streams need a few; a broken one never produces any).
PACKETS_BEFORE_FIRST_FRAME = 120
# If the packets stop this far short of the duration the header declares, the file was cut off.
CUT_OFF_FRACTION = 0.9
CUT_OFF_SLACK_SECONDS = 1.0
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"


@dataclass(frozen=True)
class ProbeReport:
    container: str  # demuxer name as FFmpeg reports it, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    video_codec: str  # e.g. "h264", "hevc", "vp9", "av1"
    audio_codec: str | None  # None when there is no audio stream (audio is optional)
    width: int  # of the stored frames, before any rotation a player applies
    height: int
    duration_seconds: float


# --- the parent's side ----------------------------------------------------------------------

_MESSAGES = {
    "empty": "The file is empty (0 bytes). Please choose the video again and re-upload it.",
    "not_video": (
        "This file is not a video we can use. Please upload an MP4, MOV or WebM video file."
    ),
    "no_video": (
        "This file has no picture, only sound. Please upload a video, not an audio recording."
    ),
    "undecodable": (
        "We could not read the picture in this video: the file may be damaged or use a format "
        "we do not support. Please export it again as an MP4 (H.264) and re-upload it."
    ),
    "timeout": (
        "Reading the file took too long, so we stopped. Please try again with a shorter or "
        "smaller video, exported as an MP4 (H.264)."
    ),
    "unreadable": (
        "We could not read this file. It may be damaged, or in a format we do not support. "
        "Please export it again as an MP4 (H.264) and re-upload it."
    ),
}
_CUT_OFF_MESSAGE = (
    "The file seems to be cut off: part of it is missing, perhaps because the recording, the "
    "export or the upload did not finish. Please export the video again and upload the whole "
    "file."
)


def probe_video(path: Path) -> ProbeReport:
    """What ``path`` holds, if it is a video introduction we can accept; else ``VideoRejected``."""
    from django.conf import settings

    try:
        info = path.stat()
    except OSError:
        logger.exception("video probe: cannot stat %s", path)
        raise VideoRejected(_MESSAGES["unreadable"], code="unreadable") from None
    if stat.S_ISREG(info.st_mode) and info.st_size == 0:
        raise VideoRejected(_MESSAGES["empty"], code="empty")

    timeout = float(settings.VIDEO_PROBE_TIMEOUT_SECONDS)
    limits = Limits(
        wall_seconds=timeout,
        # Reading is single-threaded, so it cannot use more CPU than wall-clock time; the CPU
        # limit only backs up the timer should this process die before it fires.
        cpu_seconds=max(2, math.ceil(timeout)),
        memory_bytes=memory_limit_bytes(int(settings.VIDEO_SUBPROCESS_MEMORY_MB)),
        file_size_bytes=0,
        open_files=32,
    )
    arguments = [
        f"--max-duration={float(settings.VIDEO_MAX_DURATION_SECONDS)}",
        f"--max-long-side={int(settings.VIDEO_MAX_LONG_SIDE)}",
        f"--max-short-side={int(settings.VIDEO_MAX_SHORT_SIDE)}",
        "--",
        str(path.absolute()),
    ]
    outcome = run_child(__name__, arguments, limits=limits)
    return _report_from(outcome, path=path)


def _report_from(outcome: Outcome, *, path: Path) -> ProbeReport:
    payload = outcome.payload
    if outcome.timed_out or outcome.killed_for_cpu:
        logger.warning(
            "video probe of %s stopped after %.1f s (exit %s)",
            path.name,
            outcome.seconds,
            outcome.returncode,
        )
        raise VideoRejected(_MESSAGES["timeout"], code="timeout")
    if payload is None:
        logger.error(
            "video probe of %s crashed (exit %s): %s",
            path.name,
            outcome.returncode,
            outcome.stderr_tail,
        )
        raise VideoRejected(_MESSAGES["unreadable"], code="unreadable")
    if not payload.get("ok"):
        code = str(payload.get("code", "unreadable"))
        logger.info(
            "video probe refused %s: %s (%s) in %.2f s; %s",
            path.name,
            code,
            payload.get("detail"),
            outcome.seconds,
            outcome.stderr_tail.strip()[-500:],
        )
        raise VideoRejected(_message(code, payload), code=code)
    logger.info(
        "video probe accepted %s in %.2f s (peak RSS %s KiB, address space %s KiB)",
        path.name,
        outcome.seconds,
        payload.get("peak_rss_kb"),
        payload.get("peak_address_space_kb"),
    )
    return ProbeReport(
        container=str(payload["container"]),
        video_codec=str(payload["video_codec"]),
        audio_codec=None if payload["audio_codec"] is None else str(payload["audio_codec"]),
        width=int(payload["width"]),
        height=int(payload["height"]),
        duration_seconds=float(payload["duration_seconds"]),
    )


def _message(code: str, payload: dict[str, Any]) -> str:
    """The therapist-facing sentence for a refusal. Only numbers from the child go into it."""
    from django.conf import settings

    if code == "undecodable" and payload.get("reason") == "cut_off":
        return _CUT_OFF_MESSAGE
    if code == "too_long":
        limit = int(settings.VIDEO_MAX_DURATION_SECONDS)
        if payload.get("at_least"):
            return (
                f"The video runs for more than {clock(limit)}, the most an introduction can "
                "be. Please trim it and upload it again."
            )
        return (
            f"The video is {clock(float(payload.get('duration_seconds', 0)))} long; an "
            f"introduction can be at most {clock(limit)}. Please trim it and upload it again."
        )
    if code == "too_large_frame":
        return too_large_frame_message(
            int(payload.get("width", 0)), int(payload.get("height", 0)), what="The picture"
        )
    return _MESSAGES.get(code, _MESSAGES["unreadable"])


def too_large_frame_message(width: int, height: int, *, what: str) -> str:
    """The therapist-facing sentence for frames over the size limit; ``what`` names the part
    of the video that has them ("The picture", "Part of this video")."""
    from django.conf import settings

    long_side = int(settings.VIDEO_MAX_LONG_SIDE)
    short_side = int(settings.VIDEO_MAX_SHORT_SIDE)
    return (
        f"{what} is {width}×{height} pixels, larger than we accept ({long_side}×{short_side}, "
        "either way round). Please export it at a smaller size; 1080p (1920×1080) is plenty."
    )


def clock(seconds: float) -> str:
    """``seconds`` as the m:ss a player shows, rounded down."""
    whole = max(0, math.floor(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


# --- shared with the transcoder's child ----------------------------------------------------


@contextmanager
def open_untrusted(path: Path) -> Iterator[InputContainer]:
    """Open an upload with PyAV the careful way (steps 1–4 of the module docstring).

    Raises ``ChildRefusal`` ("empty", "not_video", "unreadable", "undecodable"). Meant for the
    sandboxed children only: it parses the file with FFmpeg.
    """
    import av

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        # O_NOFOLLOW: an upload is a plain file we wrote, never a link to somewhere else.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as error:
        raise ChildRefusal("unreadable", f"cannot open: {error}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise ChildRefusal("not_video", "not a regular file")
    with os.fdopen(descriptor, "rb") as file:
        if info.st_size == 0:
            raise ChildRefusal("empty", "zero bytes")
        demuxer = sniff_demuxer(file.read(16))
        if demuxer is None:
            raise ChildRefusal("not_video", "neither an ISO-BMFF ftyp box nor EBML")
        if demuxer == "mov":
            problem = _mov_box_problem(file, size=info.st_size)
            if problem is not None:
                reason, detail = problem
                raise ChildRefusal("undecodable", detail, reason=reason)
        file.seek(0)
        try:
            container = av.open(file, mode="r", format=demuxer, options=_demuxer_options(demuxer))
        except av.error.FFmpegError as error:
            raise ChildRefusal("undecodable", f"FFmpeg cannot open it: {error}") from None
        try:
            yield container
        finally:
            container.close()


def sniff_demuxer(head: bytes) -> str | None:
    """The demuxer for a file that starts with ``head`` (16 bytes), or None to refuse it."""
    # ISO base media (MP4, MOV, M4V, 3GP): the first box is "ftyp", its type at offset 4.
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mov"
    # Matroska and WebM: the EBML header element's ID.
    if head.startswith(_EBML_MAGIC):
        return "matroska"
    return None


def _demuxer_options(demuxer: str) -> dict[str, str]:
    options = {
        # No protocol at all: the file comes in through our file object, and a demuxer that
        # wants to open another URL (a playlist entry, a segment, a reference) is refused.
        "protocol_whitelist": "none",
        # Only the demuxer we chose, for the file and anything nested in it.
        "format_whitelist": demuxer,
    }
    if demuxer == "mov":
        # Data references point at other files; FFmpeg leaves them off by default, and we say
        # so explicitly rather than rely on the default.
        options |= {"enable_drefs": "0", "use_absolute_path": "0"}
    return options


def _mov_box_problem(file: Any, *, size: int) -> tuple[str, str] | None:
    """What is wrong with the top level of an ISO-BMFF file, as (reason, detail): "cut_off"
    or "damaged"; None when it looks whole."""
    position = 0
    seen: set[bytes] = set()
    for _ in range(100_000):  # more top-level boxes than any real file has: stop looking
        if position >= size:
            break
        file.seek(position)
        header = file.read(16)
        if len(header) < 8:
            return "cut_off", f"a box header at {position} is cut short"
        box_size = int.from_bytes(header[:4], "big")
        kind = header[4:8]
        header_size = 8
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return "cut_off", f"a box header at {position} is cut short"
            box_size = int.from_bytes(header[8:16], "big")
            header_size = 16
        elif box_size == 0:  # "runs to the end of the file"
            box_size = size - position
        well_formed = box_size >= header_size and all(32 <= byte < 127 for byte in kind)
        if not well_formed and {b"moov", b"mdat"} <= seen:
            # Junk after a complete movie (some tools pad files): players ignore it, so do we.
            break
        if not well_formed:
            return "damaged", f"malformed box at {position}"
        if position + box_size > size:
            overrun = position + box_size - size
            return "cut_off", f"box {kind!r} at {position} runs {overrun} bytes past the end"
        seen.add(kind)
        position += box_size
    if b"moov" not in seen:
        # Recorders write the index last: a recording that stopped abruptly has none.
        return "cut_off", "no moov box"
    return None


def video_stream(container: InputContainer) -> VideoStream | None:
    """The first real video stream: cover art and still images in a video slot do not count."""
    from av.stream import Disposition

    for stream in container.streams.video:
        if stream.disposition & (Disposition.attached_pic | Disposition.still_image):
            continue
        return stream
    return None


def audio_stream(container: InputContainer) -> AudioStream | None:
    for stream in container.streams.audio:
        if stream.codec_context is not None and stream.codec_context.sample_rate > 0:
            return stream
    return None


def pixel_budget(max_long_side: int, max_short_side: int) -> int:
    """A decoder's ``max_pixels``: a guard against absurd frames, not the size limit itself."""
    return 2 * max_long_side * max_short_side


def frame_size_refusal(
    width: int, height: int, *, max_long_side: int, max_short_side: int
) -> ChildRefusal | None:
    if max(width, height) > max_long_side or min(width, height) > max_short_side:
        return ChildRefusal(
            "too_large_frame", f"{width}x{height} frames", width=width, height=height
        )
    return None


# --- the child's side -----------------------------------------------------------------------


def _inspect(arguments: list[str]) -> dict[str, Any]:
    import av

    parser = argparse.ArgumentParser(prog="rapport.videos.probe")
    parser.add_argument("--max-duration", type=float, required=True)
    parser.add_argument("--max-long-side", type=int, required=True)
    parser.add_argument("--max-short-side", type=int, required=True)
    parser.add_argument("path", type=Path)
    options = parser.parse_args(arguments)
    longest = options.max_duration + DURATION_TOLERANCE_SECONDS
    sides = {"max_long_side": options.max_long_side, "max_short_side": options.max_short_side}

    with open_untrusted(options.path) as container:
        video = video_stream(container)
        if video is None:
            raise ChildRefusal("no_video", "no video stream")
        audio = audio_stream(container)
        context = video.codec_context
        if context is None:
            raise ChildRefusal("undecodable", f"no decoder for {video.codec_tag!r}")
        refusal = frame_size_refusal(context.width, context.height, **sides)
        if refusal is not None:
            raise refusal
        declared = _declared_seconds(container, video, audio)
        if declared > longest:
            raise ChildRefusal(
                "too_long", f"header says {declared:.1f} s", duration_seconds=declared
            )

        # One thread: a few frames need no more, and frame threads would each hold frames.
        context.thread_count = 1
        # The decoder refuses a frame far above the size limit instead of allocating for it,
        # in case the header understated the size. Twice the budget: decoders count the coded
        # size, padded to whole macroblocks (1080 rows are coded as 1088); our own exact check
        # of each decoded frame follows.
        context.options = {
            "max_pixels": str(pixel_budget(options.max_long_side, options.max_short_side))
        }

        first_start: float | None = None
        last_end: float | None = None
        decoded: list[tuple[int, int]] = []
        video_packets = 0
        decode_failure = ""
        try:
            for packet in container.demux(*[s for s in (video, audio) if s is not None]):
                is_video = packet.stream.index == video.index
                if packet.pts is not None or packet.dts is not None:
                    start = packet.pts if packet.pts is not None else packet.dts
                    assert start is not None
                    time_base = packet.time_base
                    if time_base is None:
                        continue
                    begin = float(start * time_base)
                    end = float((start + max(packet.duration or 0, 0)) * time_base)
                    first_start = begin if first_start is None else min(first_start, begin)
                    last_end = end if last_end is None else max(last_end, end)
                    if last_end - first_start > longest:
                        # No need to read on: it is too long, whatever its full length.
                        raise ChildRefusal(
                            "too_long",
                            f"packets run past {longest:.1f} s",
                            duration_seconds=last_end - first_start,
                            at_least=1,
                        )
                if not is_video or len(decoded) >= FRAMES_TO_DECODE or decode_failure:
                    continue
                video_packets += 1
                try:
                    frames = video.decode(packet)
                except av.error.FFmpegError as error:
                    decode_failure = f"decoding failed: {error}"
                    continue
                for frame in frames:
                    refusal = frame_size_refusal(frame.width, frame.height, **sides)
                    if refusal is not None:
                        raise refusal
                    decoded.append((frame.width, frame.height))
                if not decoded and video_packets >= PACKETS_BEFORE_FIRST_FRAME:
                    decode_failure = f"no frame from the first {video_packets} packets"
        except av.error.FFmpegError as error:
            # Reading stopped part-way: the rest of the file is damaged or missing.
            raise ChildRefusal(
                "undecodable", f"reading stopped: {error}", reason="cut_off"
            ) from None
        if not decoded:
            raise ChildRefusal("undecodable", decode_failure or "no frame could be decoded")

        span = 0.0 if first_start is None or last_end is None else last_end - first_start
        if declared and span < declared * CUT_OFF_FRACTION - CUT_OFF_SLACK_SECONDS:
            raise ChildRefusal(
                "undecodable",
                f"packets end at {span:.1f} s of a declared {declared:.1f} s",
                reason="cut_off",
            )
        duration = max(declared, span)
        if duration > longest:
            raise ChildRefusal("too_long", f"{duration:.1f} s", duration_seconds=duration)
        width, height = decoded[0]
        return {
            "container": DEMUXERS[_demuxer_name(container)],
            "video_codec": video.codec.canonical_name,
            "audio_codec": None if audio is None else audio.codec.canonical_name,
            "width": width,
            "height": height,
            "duration_seconds": round(duration, 3),
        }


def _demuxer_name(container: InputContainer) -> str:
    # A demuxer given by name is reported under that name ("mov"); the full name is in DEMUXERS.
    name = container.format.name
    return name if name in DEMUXERS else next(k for k, v in DEMUXERS.items() if v == name)


def _declared_seconds(
    container: InputContainer, video: VideoStream, audio: AudioStream | None
) -> float:
    """The longest duration the header states, for the file or either stream (0 if none)."""
    candidates = [0.0]
    if container.duration is not None and container.duration > 0:
        candidates.append(container.duration / 1_000_000)
    for stream in (video, audio):
        if stream is not None and stream.duration and stream.time_base is not None:
            candidates.append(float(stream.duration * stream.time_base))
    return max(candidates)


if __name__ == "__main__":
    sys.exit(child_main(_inspect, failure_code="unreadable", argv=sys.argv[1:]))
