"""Turn an accepted upload into the MP4 every browser plays, and a poster frame.

``transcode_video`` runs ``python -m rapport.videos.transcode`` in the same kind of sandbox
as the probe (see ``sandbox``) and, on success, moves its two outputs into place. The child
decodes, scales and encodes frame by frame with PyAV, so its memory stays flat however long
or large the upload is:

- video: H.264 (libx264, yuv420p, CRF 23, a keyframe every two seconds), at most 1280×720
  (720×1280 upright), the picture scaled down keeping its shape, never up, to even sizes;
  rotation metadata from phones is applied to the pixels;
- audio, when there is any: AAC-LC, 48 kHz stereo, 128 kb/s;
- MP4 with the index (``moov``) before the data (``+faststart``), so playback starts before
  the whole file has arrived;
- timestamps rebuilt on the way: video keeps the source's own timing (variable frame rate
  stays variable) on a fixed 1/90000 clock, strictly increasing; audio is timed by counting
  samples, so gaps or jitter in the source cannot produce non-monotonic timestamps;
- poster: a JPEG of the first frame at or after one second (the very first frame for shorter
  clips), at the output size.

The probe only samples the first frames, so the transcoder is the full check of the picture:
every decoded frame is held to the size limit (a stream may switch to a larger size part way),
and the output must run as long as the probe measured, within half a second (frames that
cannot be decoded would otherwise shorten the video without a word).

Outputs are written under temporary names beside the targets and renamed only when all went
well; on any failure both are removed.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapport.videos.errors import VideoRejected
from rapport.videos.probe import (
    DURATION_TOLERANCE_SECONDS,
    audio_stream,
    clock,
    frame_size_refusal,
    open_untrusted,
    pixel_budget,
    too_large_frame_message,
    video_stream,
)
from rapport.videos.sandbox import (
    ChildRefusal,
    Limits,
    Outcome,
    child_main,
    memory_limit_bytes,
    run_child,
)

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from av.audio.resampler import AudioResampler
    from av.audio.stream import AudioStream
    from av.container import InputContainer, OutputContainer
    from av.filter import Graph
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

OUTPUT_LONG_SIDE = 1280
OUTPUT_SHORT_SIDE = 720
# x264's speed/size trade-off. "veryfast" keeps a 1080p30 source above real time on two cores
# with room to spare for the decoder and the scaler (see bench/video_speed.py); slower presets
# save a little size on talking-head footage but not enough to miss that target.
X264_PRESET = "veryfast"
X264_CRF = 23
KEYFRAME_SECONDS = 2
# A source above this many frames per second is thinned to it: phones film at 120 or 240 for
# slow motion, and a talking head gains nothing from it.
MAX_FRAME_RATE = 60
AUDIO_RATE = 48_000
AUDIO_BIT_RATE = 128_000
AAC_FRAME_SAMPLES = 1024
POSTER_SECONDS = 1
POSTER_QUALITY = 85
# The output clock: a multiple of every common frame rate (24, 25, 30, 50, 60, 30000/1001).
VIDEO_TIME_BASE = Fraction(1, 90_000)
# Threads for the decoder and for x264. Memory grows with each (a frame-threaded decoder holds a
# frame per thread; x264 a slice of lookahead per thread), so it is capped: on a big server the
# child stays within its memory limit, and 720p needs no more to run well above real time.
MAX_THREADS = 4
# Damaged packets skipped (as players do) before the whole file is given up on, for the picture;
# for the sound, before the rest of the sound is given up on (the picture matters more).
MAX_DECODE_ERRORS = 50
# AV_PICTURE_TYPE_NONE: "no particular frame type", leaving the choice to the encoder.
_ANY_PICTURE_TYPE = 0
# CPU seconds per second of the longest accepted clip: decoding a 4K source and encoding 720p
# costs a few CPU-seconds per second of video on a small machine; this leaves a wide margin.
CPU_SECONDS_PER_VIDEO_SECOND = 15
# How much shorter than the probed duration the output may run: the probe measures the last
# packet's end across streams, the output ends with its last frame or sound, and the two differ
# by a frame or an audio priming delay, never by half a second unless something was lost.
OUTPUT_SHORTFALL_TOLERANCE_SECONDS = 0.5
# Refusals of the child that the therapist is told about as such; any other is "could not
# convert".
_CHILD_CODES_PASSED_ON = frozenset({"too_large_frame"})

_MESSAGES = {
    "transcode_failed": (
        "We could not convert this video for playback. Please export it again as an MP4 "
        "(H.264) and re-upload it."
    ),
    "timeout": (
        "Converting the video took too long, so we stopped. Please try again with a shorter or "
        "smaller video, exported as an MP4 (H.264)."
    ),
}


@dataclass(frozen=True)
class TranscodeReport:
    width: int
    height: int
    duration_seconds: float
    size_bytes: int
    has_audio: bool


def transcode_video(
    source: Path,
    *,
    video_out: Path,
    poster_out: Path,
    expected_seconds: float | None,
    timeout_seconds: float | None = None,
) -> TranscodeReport:
    """Write the playable MP4 to ``video_out`` and its poster JPEG to ``poster_out``.

    ``expected_seconds`` is the duration the probe measured (None: not known, not checked).
    ``VideoRejected`` when the source cannot be converted, has a frame over the size limit
    ("too_large_frame"), or converts to a video shorter than that ("output_short").
    """
    from django.conf import settings

    wall = float(
        settings.VIDEO_TRANSCODE_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    )
    max_duration = float(settings.VIDEO_MAX_DURATION_SECONDS)
    partial_video = video_out.with_name(f".{video_out.name}.partial")
    partial_poster = poster_out.with_name(f".{poster_out.name}.partial")
    limits = Limits(
        wall_seconds=wall,
        cpu_seconds=max(60, math.ceil(max_duration * CPU_SECONDS_PER_VIDEO_SECOND)),
        memory_bytes=memory_limit_bytes(int(settings.VIDEO_SUBPROCESS_MEMORY_MB)),
        # The output is smaller than the upload in all but freak cases; twice the upload cap
        # still stops a runaway writer long before it fills the disk.
        file_size_bytes=max(2**28, 2 * int(settings.VIDEO_MAX_UPLOAD_BYTES)),
        open_files=64,
    )
    arguments = [
        f"--max-duration={max_duration + DURATION_TOLERANCE_SECONDS}",
        f"--video-out={partial_video.absolute()}",
        f"--poster-out={partial_poster.absolute()}",
        f"--max-long-side={int(settings.VIDEO_MAX_LONG_SIDE)}",
        f"--max-short-side={int(settings.VIDEO_MAX_SHORT_SIDE)}",
        "--",
        str(source.absolute()),
    ]
    placed: list[Path] = []
    try:
        outcome = run_child(__name__, arguments, limits=limits)
        facts = _facts_from(outcome, source=source)
        check_output_length(
            expected_seconds=expected_seconds, output_seconds=float(facts["duration_seconds"])
        )
        os.replace(partial_video, video_out)
        placed.append(video_out)
        os.replace(partial_poster, poster_out)
        placed.append(poster_out)
    except BaseException:
        for leftover in (partial_video, partial_poster, *placed):
            leftover.unlink(missing_ok=True)
        raise
    return TranscodeReport(
        width=int(facts["width"]),
        height=int(facts["height"]),
        duration_seconds=float(facts["duration_seconds"]),
        size_bytes=video_out.stat().st_size,
        has_audio=bool(facts["has_audio"]),
    )


def _facts_from(outcome: Outcome, *, source: Path) -> dict[str, Any]:
    payload = outcome.payload
    if outcome.timed_out or outcome.killed_for_cpu:
        logger.warning(
            "transcode of %s stopped after %.1f s (exit %s)",
            source.name,
            outcome.seconds,
            outcome.returncode,
        )
        raise VideoRejected(_MESSAGES["timeout"], code="timeout")
    if payload is not None and payload.get("code") == "too_large_frame":
        logger.info(
            "transcode of %s refused: %s after %.1f s",
            source.name,
            payload.get("detail"),
            outcome.seconds,
        )
        raise VideoRejected(
            too_large_frame_message(
                int(payload["width"]), int(payload["height"]), what="Part of this video"
            ),
            code="too_large_frame",
        )
    if payload is None or not payload.get("ok"):
        logger.error(
            "transcode of %s failed (exit %s): %s; %s",
            source.name,
            outcome.returncode,
            None if payload is None else payload.get("detail"),
            outcome.stderr_tail.strip()[-1000:],
        )
        raise VideoRejected(_MESSAGES["transcode_failed"], code="transcode_failed")
    logger.info(
        "transcoded %s in %.1f s: %sx%s, %.1f s, audio %s, peak RSS %s KiB, address space %s KiB",
        source.name,
        outcome.seconds,
        payload.get("width"),
        payload.get("height"),
        payload.get("duration_seconds", 0.0),
        payload.get("has_audio"),
        payload.get("peak_rss_kb"),
        payload.get("peak_address_space_kb"),
    )
    return payload


def check_output_length(*, expected_seconds: float | None, output_seconds: float) -> None:
    """``VideoRejected`` ("output_short") when the converted video ends more than half a second
    before the duration the probe measured: part of the source could not be decoded, and a
    video that silently lost its end must not go out as if whole."""
    if expected_seconds is None:
        return
    if expected_seconds - output_seconds <= OUTPUT_SHORTFALL_TOLERANCE_SECONDS:
        return
    logger.warning("transcode made %.2f s of a %.2f s source", output_seconds, expected_seconds)
    made = clock(output_seconds) if output_seconds >= 1 else "split second"
    raise VideoRejected(
        f"Only the first {made} of this {clock(expected_seconds)} video could "
        "be converted: the rest of the file seems to be damaged. Please export it again as an "
        "MP4 (H.264) and re-upload it.",
        code="output_short",
    )


def output_size(width: int, height: int) -> tuple[int, int]:
    """The encoded size for a picture shown at ``width``×``height``: within 1280×720 either way
    round, the same shape, never larger, both sides even (yuv420p needs that)."""
    if width <= 0 or height <= 0:
        raise ValueError("the picture has no size")
    scale = min(
        Fraction(1),
        Fraction(OUTPUT_LONG_SIDE, max(width, height)),
        Fraction(OUTPUT_SHORT_SIDE, min(width, height)),
    )
    # Exact arithmetic, then down to even: 1080×1920 becomes 720×1280, not 718×1280.
    return max(2, math.floor(width * scale) // 2 * 2), max(2, math.floor(height * scale) // 2 * 2)


# --- the child's side -----------------------------------------------------------------------


def _threads() -> int:
    return max(1, min(MAX_THREADS, (os.cpu_count() or 1) + 1))


def _transpose_steps(rotation: int) -> list[tuple[str, str | None]]:
    """Filters that turn the stored picture upright, given the frame's display rotation
    (degrees counter-clockwise, as FFmpeg's display matrix states it)."""
    turn = rotation % 360
    if turn == 90:
        return [("transpose", "cclock")]
    if turn == 270:
        return [("transpose", "clock")]
    if turn == 180:
        return [("hflip", None), ("vflip", None)]
    return []


class _Transcoder:
    """One pass over the source: decode, scale, encode, mux, as the packets come."""

    def __init__(
        self,
        *,
        source: InputContainer,
        video: VideoStream,
        audio: AudioStream | None,
        video_out: Path,
        poster_out: Path,
        max_seconds: float,
        max_long_side: int,
        max_short_side: int,
    ) -> None:
        self.source = source
        self.sides = {"max_long_side": max_long_side, "max_short_side": max_short_side}
        self.max_pixels = pixel_budget(max_long_side, max_short_side)
        self.video = video
        self.audio = audio
        self.video_out = video_out
        self.poster_out = poster_out
        self.max_seconds = Fraction(max_seconds)
        rate = video.average_rate or video.guessed_rate or Fraction(30)
        self.frame_rate = min(max(Fraction(rate), Fraction(1)), Fraction(MAX_FRAME_RATE))
        # Ticks of the output clock per frame at the nominal rate, and the least spacing kept.
        self.frame_ticks = round(1 / (self.frame_rate * VIDEO_TIME_BASE))
        self.min_ticks = round(0.9 / (MAX_FRAME_RATE * VIDEO_TIME_BASE))
        self.output: OutputContainer | None = None
        self.video_encoder: VideoStream | None = None
        self.audio_encoder: AudioStream | None = None
        self.resampler: AudioResampler | None = None
        self.rotator: Graph | None = None
        self.size = (0, 0)
        self.scaled_size = (0, 0)
        self.origin: Fraction | None = None
        self.last_pts: int | None = None
        # Where the source's frames end on the output clock, by their own durations; and the
        # last picture written, to hold a still ending that long (``_hold_last_picture``).
        self.source_end = 0
        self.last_picture: VideoFrame | None = None
        self.audio_first: Fraction | None = None
        self.audio_next: int | None = None
        self.pending_audio: list[AudioFrame] = []
        self.first_frame: VideoFrame | None = None
        self.poster_saved = False
        self.decode_errors = {"video": 0, "audio": 0}
        self.audio_samples = 0
        self.video_done = False
        self.audio_done = False
        self.frames = 0

    # The whole run.

    def run(self) -> dict[str, Any]:
        import av

        context = self.video.codec_context
        context.thread_type = "AUTO"
        context.thread_count = _threads()
        # The decoder refuses frames far above the accepted size instead of allocating them.
        context.options = {"max_pixels": str(self.max_pixels)}
        streams = [s for s in (self.video, self.audio) if s is not None]
        try:
            for packet in self.source.demux(*streams):
                if self.video_done and (self.audio is None or self.audio_done):
                    break
                if packet.stream.index == self.video.index:
                    if not self.video_done:
                        for frame in self._decoded(self.video, packet):
                            self._on_video(frame)
                elif not self.audio_done and self.audio is not None:
                    for sound in self._decoded(self.audio, packet):
                        self._on_audio(sound)
        except av.error.FFmpegError as error:
            # A read error part-way: what was converted so far is kept only if it is most of
            # the clip, which the probe has already checked; here we stop and fail cleanly.
            raise ChildRefusal("transcode_failed", f"reading stopped: {error}") from None
        if self.output is None or self.video_encoder is None:
            raise ChildRefusal("transcode_failed", "no video frame could be decoded")
        self._finish_audio()
        self._hold_last_picture()
        self._mux_video(self.video_encoder.encode(None))
        if self.audio_encoder is not None:
            self._mux(self.audio_encoder.encode(None))
        self.output.close()
        if not self.poster_saved:
            assert self.first_frame is not None
            self._save_poster(self.first_frame)
        assert self.last_pts is not None
        video_seconds = (self.last_pts + self.frame_ticks) * VIDEO_TIME_BASE
        audio_seconds = Fraction(self.audio_next or 0, AUDIO_RATE)
        return {
            "width": self.size[0],
            "height": self.size[1],
            "duration_seconds": round(float(max(video_seconds, audio_seconds)), 3),
            "has_audio": self.audio_samples > 0,
            "frames": self.frames,
        }

    def _decoded(self, stream: VideoStream | AudioStream, packet: Any) -> list[Any]:
        import av

        try:
            return list(stream.decode(packet))
        except av.error.FFmpegError as error:
            kind = "video" if stream.index == self.video.index else "audio"
            if kind == "video":
                # A frame far over the size limit is refused by the decoder itself (its pixel
                # budget), which leaves the size it was asked for in the context: that is the
                # reason to give, not damage.
                context = self.video.codec_context
                refusal = frame_size_refusal(context.width, context.height, **self.sides)
                if refusal is not None:
                    raise refusal from None
            # A damaged packet: skip it, as players do, unless the stream is mostly damage.
            self.decode_errors[kind] += 1
            if self.decode_errors[kind] > MAX_DECODE_ERRORS:
                if kind == "audio":
                    self.audio_done = True
                    return []
                raise ChildRefusal(
                    "transcode_failed", f"{MAX_DECODE_ERRORS} damaged video packets: {error}"
                ) from None
            return []

    # Video.

    def _on_video(self, frame: VideoFrame) -> None:
        # Every frame, not just the first few the probe saw: a stream may change size part way.
        refusal = frame_size_refusal(frame.width, frame.height, **self.sides)
        if refusal is not None:
            raise refusal
        if frame.pts is not None and frame.time_base is not None:
            moment: Fraction | None = frame.pts * frame.time_base
        else:
            moment = None
        if self.output is None:
            self._start(frame, moment)
        assert self.origin is not None
        assert self.video_encoder is not None
        if moment is not None and frame.duration and frame.time_base is not None:
            end = moment + frame.duration * frame.time_base - self.origin
            self.source_end = max(self.source_end, round(end / VIDEO_TIME_BASE))
        if moment is None or self.last_pts is None:
            pts = 0 if self.last_pts is None else self.last_pts + self.frame_ticks
        else:
            pts = round((moment - self.origin) / VIDEO_TIME_BASE)
            if pts - self.last_pts < self.min_ticks and pts > self.last_pts:
                return  # above the frame-rate cap: thin it out
            if pts <= self.last_pts:
                # Repeated or backward timestamps (broken muxers, joined recordings): carry on
                # one frame later rather than hand the muxer a non-increasing timestamp.
                pts = self.last_pts + self.frame_ticks
        if pts * VIDEO_TIME_BASE > self.max_seconds:
            self.video_done = True
            return
        picture = frame.reformat(
            width=self.scaled_size[0],
            height=self.scaled_size[1],
            format="yuv420p",
            interpolation="BICUBIC",
            # One thread: the decoder and x264 already keep every core busy, and swscale's
            # own automatic threading fights them for it (measured: 4× slower per frame).
            threads=1,
        )
        if self.rotator is not None:
            self.rotator.vpush(picture)
            picture = self.rotator.vpull()
        picture.pts = pts
        picture.time_base = VIDEO_TIME_BASE
        # The decoder marks each frame with the type it had in the source, and x264 obeys such
        # marks: cleared, it picks its own (B-frames included) and places keyframes by our GOP.
        picture.pict_type = _ANY_PICTURE_TYPE
        self.last_pts = pts
        self.last_picture = picture
        self.frames += 1
        if self.first_frame is None:
            self.first_frame = picture
        if not self.poster_saved and pts * VIDEO_TIME_BASE >= POSTER_SECONDS:
            self._save_poster(picture)
        self._mux_video(self.video_encoder.encode(picture))

    def _hold_last_picture(self) -> None:
        """Repeat the last picture where the source's still ending stops, less one frame.

        A source may show its last frame for seconds (a still at the end of an edit, a screen
        recording): its length counts, but the encoder and the MP4 give every frame the same
        nominal length, so the still would shrink to one frame and the video end early.
        """
        if self.last_picture is None or self.last_pts is None or self.video_encoder is None:
            return
        latest = math.floor(self.max_seconds / VIDEO_TIME_BASE)
        pts = min(self.source_end - self.frame_ticks, latest)
        if pts - self.last_pts < self.frame_ticks:
            return
        # The encoder has its own reference to the frame it was given: changing ours is safe.
        self.last_picture.pts = pts
        self.last_pts = pts
        self.frames += 1
        self._mux_video(self.video_encoder.encode(self.last_picture))

    def _start(self, frame: VideoFrame, moment: Fraction | None) -> None:
        """Set up the output once the first frame shows the real size and orientation."""
        import av

        self.origin = moment if moment is not None else Fraction(0)
        # Non-square pixels (old camcorder formats) are shown wider or narrower than stored.
        ratio = self.video.codec_context.sample_aspect_ratio
        shown_width = frame.width * (Fraction(ratio) if ratio else 1)
        steps = _transpose_steps(frame.rotation)
        quarter_turn = bool(steps) and steps[0][0] == "transpose"
        upright = (
            (frame.height, round(shown_width))
            if quarter_turn
            else (round(shown_width), frame.height)
        )
        self.size = output_size(*upright)
        self.scaled_size = (self.size[1], self.size[0]) if quarter_turn else self.size
        if steps:
            graph = av.filter.Graph()
            nodes = [
                graph.add_buffer(
                    width=self.scaled_size[0],
                    height=self.scaled_size[1],
                    format=av.VideoFormat("yuv420p"),
                    time_base=VIDEO_TIME_BASE,
                )
            ]
            nodes += [graph.add(name, arguments) for name, arguments in steps]
            nodes.append(graph.add("buffersink"))
            graph.link_nodes(*nodes).configure()
            self.rotator = graph

        output = av.open(
            str(self.video_out), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        encoder = output.add_stream(
            "libx264",
            rate=self.frame_rate,
            options={"preset": X264_PRESET, "crf": str(X264_CRF)},
        )
        # Frame threads, as x264 uses by itself: PyAV otherwise asks for slice threads, which
        # cost ~15 % in size at the same quality.
        encoder.codec_context.thread_type = "FRAME"
        encoder.codec_context.thread_count = _threads()
        encoder.width, encoder.height = self.size
        encoder.pix_fmt = "yuv420p"
        encoder.codec_context.time_base = VIDEO_TIME_BASE
        encoder.time_base = VIDEO_TIME_BASE
        encoder.codec_context.gop_size = max(1, round(self.frame_rate * KEYFRAME_SECONDS))
        self.video_encoder = encoder
        if self.audio is not None:
            sound = output.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            sound.codec_context.bit_rate = AUDIO_BIT_RATE
            self.audio_encoder = sound
        self.output = output
        # Audio that arrived before the first picture can now be timed and written.
        pending, self.pending_audio = self.pending_audio, []
        for sound_frame in pending:
            self._write_audio(sound_frame)

    def _save_poster(self, picture: VideoFrame) -> None:
        picture.to_image().save(self.poster_out, format="JPEG", quality=POSTER_QUALITY)
        self.poster_saved = True

    # Audio.

    def _on_audio(self, sound: AudioFrame) -> None:
        import av

        if self.audio_first is None:
            if sound.pts is not None and sound.time_base is not None:
                self.audio_first = sound.pts * sound.time_base
            else:
                self.audio_first = Fraction(0)
        if self.resampler is None:
            self.resampler = av.AudioResampler(
                format="fltp", layout="stereo", rate=AUDIO_RATE, frame_size=AAC_FRAME_SAMPLES
            )
        try:
            chunks = self.resampler.resample(sound)
        except ValueError:
            # The source changed its sample rate or channel layout mid-stream: drain the old
            # resampler and start a new one for the new shape.
            chunks = self.resampler.resample(None)
            self.resampler = av.AudioResampler(
                format="fltp", layout="stereo", rate=AUDIO_RATE, frame_size=AAC_FRAME_SAMPLES
            )
            chunks += self.resampler.resample(sound)
        for chunk in chunks:
            self._write_audio(chunk)

    def _finish_audio(self) -> None:
        if self.resampler is not None and not self.audio_done:
            for chunk in self.resampler.resample(None):
                self._write_audio(chunk)
        # A clip whose audio ended before its first picture: nothing was timed, drop it.
        self.pending_audio = []

    def _write_audio(self, chunk: AudioFrame) -> None:
        if self.audio_done:
            return
        if self.audio_encoder is None or self.origin is None:
            self.pending_audio.append(chunk)
            return
        if self.audio_next is None:
            # Sound starts where the source puts it relative to the first picture; leading
            # sound from before the first picture is dropped (below).
            offset = (self.audio_first or Fraction(0)) - self.origin
            self.audio_next = round(offset * AUDIO_RATE)
        pts = self.audio_next
        self.audio_next += chunk.samples
        if pts < 0:
            return
        if Fraction(pts, AUDIO_RATE) > self.max_seconds:
            self.audio_done = True
            return
        chunk.pts = pts
        chunk.time_base = Fraction(1, AUDIO_RATE)
        self.audio_samples += chunk.samples
        self._mux(self.audio_encoder.encode(chunk))

    def _mux(self, packets: list[Any]) -> None:
        assert self.output is not None
        self.output.mux(packets)

    def _mux_video(self, packets: list[Any]) -> None:
        # x264 leaves packet durations unset and the MP4 muxer then guesses the last frame's;
        # stated, the video ends one nominal frame after its last picture, as reported.
        for packet in packets:
            packet.duration = self.frame_ticks
        self._mux(packets)


def _transcode(arguments: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="rapport.videos.transcode")
    parser.add_argument("--max-duration", type=float, required=True)
    parser.add_argument("--video-out", type=Path, required=True)
    parser.add_argument("--poster-out", type=Path, required=True)
    parser.add_argument("--max-long-side", type=int, required=True)
    parser.add_argument("--max-short-side", type=int, required=True)
    parser.add_argument("path", type=Path)
    options = parser.parse_args(arguments)
    try:
        with open_untrusted(options.path) as container:
            video = video_stream(container)
            if video is None:
                raise ChildRefusal("transcode_failed", "no video stream")
            transcoder = _Transcoder(
                source=container,
                video=video,
                audio=audio_stream(container),
                video_out=options.video_out,
                poster_out=options.poster_out,
                max_seconds=options.max_duration,
                max_long_side=options.max_long_side,
                max_short_side=options.max_short_side,
            )
            try:
                return transcoder.run()
            finally:
                if transcoder.output is not None:
                    transcoder.output.close()
    except ChildRefusal as refusal:
        if refusal.code in _CHILD_CODES_PASSED_ON:
            raise
        # Whatever the probe-style refusal, for the caller this step failed.
        raise ChildRefusal("transcode_failed", f"{refusal.code}: {refusal.detail}") from None
    except BaseException:
        options.video_out.unlink(missing_ok=True)
        options.poster_out.unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    sys.exit(child_main(_transcode, failure_code="transcode_failed", argv=sys.argv[1:]))
