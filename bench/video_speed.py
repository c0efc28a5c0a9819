"""How fast video introductions are converted, and how much memory it takes.

    .venv/bin/python bench/video_speed.py [--quick]

In a temporary folder, with a throwaway database (for the upload path), the bundled FFmpeg
binary (imageio-ffmpeg) makes H.264 + AAC 1080p30 test sources from its lavfi ``testsrc2``
picture and ``sine`` tone. Then, each case in a fresh process so that peak memory figures do
not mix:

  probe       probe_video on the 60 s source and on the largest one (median of three)
  ours        transcode_video on a 60 s source: speed as a multiple of real time (target ≥ 1×)
  ffmpeg      the FFmpeg command line with the same settings (scale to 720p with bicubic,
              libx264 with our preset, CRF and keyframe interval, AAC 128 kb/s 48 kHz stereo,
              +faststart), for the ratio of our time to its time
  memory      the transcode child's peak RSS for a ~50 MB and a ~500 MB 1080p source of the
              same length (~175 s, bit rates ~2.2 and ~22 Mbit/s): the target is < 400 MB and
              no growth with the file size
  upload      the upload path's peak RSS: the ~500 MB file sent as 8 MiB chunks through
              rapport.videos.services.video_upload_append (which writes in 64 KiB pieces)

--quick uses 10 s and 30 s sources instead (a smoke run of a minute or so); its memory
figures then compare ~9 MB and ~86 MB files. A full run takes about five minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from throwaway import RAPPORT, ROOT, prepared_environment

SPEED_TARGET = 1.0  # × real time
RSS_TARGET_MB = 400
UPLOAD_CHUNK_BYTES = 8 * 2**20
FRAME_RATE = 30


@dataclass(frozen=True)
class Source:
    path: Path
    seconds: int
    video_bit_rate: str
    size_mb: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short sources: a smoke run")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: one measurement
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.case:
        _run_case(arguments.case, source=arguments.source, out=arguments.out)
        return

    import imageio_ffmpeg  # type: ignore[import-untyped]

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    speed_seconds, memory_seconds = (10, 30) if arguments.quick else (60, 175)
    with tempfile.TemporaryDirectory(prefix="rapport-bench-video-") as folder_name:
        folder = Path(folder_name)
        started = time.perf_counter()
        environment = prepared_environment(
            folder=folder_name, database_url=None, seed=1, LOG_LEVEL="WARNING"
        )
        subprocess.run(
            [*RAPPORT, "seed", "-v0", "--therapists=1", "--seed=1"],
            env=environment, check=True, cwd=ROOT,
        )  # fmt: skip
        print(f"throwaway database ready in {time.perf_counter() - started:.0f} s")

        started = time.perf_counter()
        speed_source = _make_source(ffmpeg, folder / "speed.mp4", speed_seconds, "8M")
        small = _make_source(ffmpeg, folder / "small.mp4", memory_seconds, "2200k")
        large = _make_source(ffmpeg, folder / "large.mp4", memory_seconds, "22M")
        print(f"sources made in {time.perf_counter() - started:.0f} s")
        for source in (speed_source, small, large):
            print(
                f"  {source.path.name:<10} {source.seconds:>4} s 1080p{FRAME_RATE} "
                f"H.264 at {source.video_bit_rate + 'bit/s':<10} + AAC {source.size_mb:8.1f} MB"
            )
        print()

        def case(name: str, source: Source) -> dict[str, Any]:
            output = subprocess.run(
                [sys.executable, __file__, f"--case={name}", f"--source={source.path}",
                 f"--out={folder}"],
                env=environment, check=True, cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            return dict(json.loads(output.stdout.strip().splitlines()[-1]))

        probe_speed = case("probe", speed_source)
        probe_large = case("probe", large)
        ours = case("transcode", speed_source)
        theirs = _ffmpeg_transcode(ffmpeg, speed_source, folder / "ffmpeg.mp4")
        memory_small = case("transcode", small)
        memory_large = case("transcode", large)
        upload = case("upload", large)

    _print_table(
        speed_source=speed_source,
        small=small,
        large=large,
        probe_speed=probe_speed,
        probe_large=probe_large,
        ours=ours,
        theirs=theirs,
        memory_small=memory_small,
        memory_large=memory_large,
        upload=upload,
    )


def _make_source(ffmpeg: str, path: Path, seconds: int, video_bit_rate: str) -> Source:
    """A 1080p30 test picture and a tone, encoded the cheap way (x264 ultrafast) at a set
    bit rate, so the file's size comes from the rate and the length."""
    subprocess.run(
        [
            ffmpeg, "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate={FRAME_RATE}:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-b:v", video_bit_rate, "-maxrate", video_bit_rate, "-bufsize", video_bit_rate,
            "-g", str(2 * FRAME_RATE),
            "-c:a", "aac", "-b:a", "128k", "-ac", "2",
            "-movflags", "+faststart", str(path),
        ],
        check=True,
    )  # fmt: skip
    return Source(
        path=path,
        seconds=seconds,
        video_bit_rate=video_bit_rate,
        size_mb=path.stat().st_size / 1e6,
    )


def _ffmpeg_transcode(ffmpeg: str, source: Source, output: Path) -> dict[str, Any]:
    """The command line doing what transcode_video does, timed, with its own peak RSS."""
    from rapport.videos.transcode import (
        AUDIO_BIT_RATE,
        AUDIO_RATE,
        KEYFRAME_SECONDS,
        X264_CRF,
        X264_PRESET,
    )

    command = [
        ffmpeg, "-v", "error", "-y", "-i", str(source.path),
        "-vf", "scale=1280:720:flags=bicubic",
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF),
        "-g", str(KEYFRAME_SECONDS * FRAME_RATE), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", str(AUDIO_BIT_RATE), "-ar", str(AUDIO_RATE), "-ac", "2",
        "-movflags", "+faststart", str(output),
    ]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"ffmpeg failed with exit status {process.returncode}")
    return {
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "size_mb": output.stat().st_size / 1e6,
    }


# --- one case, in its own process -----------------------------------------------------------


def _run_case(name: str, *, source: Path, out: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    result: dict[str, Any]
    if name == "probe":
        from rapport.videos.probe import probe_video

        timings = []
        for _ in range(3):
            started = time.perf_counter()
            facts = probe_video(source)
            timings.append(time.perf_counter() - started)
        result = {"seconds": statistics.median(timings), "duration": facts.duration_seconds}
    elif name == "transcode":
        from rapport.videos.transcode import transcode_video

        started = time.perf_counter()
        report = transcode_video(
            source,
            video_out=out / f"{source.stem}-out.mp4",
            poster_out=out / "poster.jpg",
            # Timing only: the length check is the probe's figure against ours, cost nil.
            expected_seconds=None,
        )
        result = {
            "seconds": time.perf_counter() - started,
            "duration": report.duration_seconds,
            "size_mb": report.size_bytes / 1e6,
            "width": report.width,
            "height": report.height,
            # The transcode child is this process's only child: its peak is this figure.
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        }
    elif name == "upload":
        result = _upload(source)
    else:
        raise SystemExit(f"unknown case {name!r}")
    print(json.dumps(result))


def _upload(source: Path) -> dict[str, Any]:
    """Send ``source`` through the upload path in 8 MiB chunks; report this process's peak."""
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = source.stat().st_size
    started = time.perf_counter()
    try:
        from rapport.videos import services
        from rapport.videos.models import Prompt

        append = services.video_upload_append
    except (ImportError, AttributeError):
        # The upload service is not there (yet): measure the same streaming copy ourselves.
        copied = out_path = Path(tempfile.mkstemp(suffix=".part")[1])
        with source.open("rb") as body, copied.open("r+b") as partial:
            for offset in range(0, size, UPLOAD_CHUNK_BYTES):
                remaining = min(UPLOAD_CHUNK_BYTES, size - offset)
                while remaining:
                    piece = body.read(min(64 * 1024, remaining))
                    partial.write(piece)
                    remaining -= len(piece)
        out_path.unlink()
        via = "own streaming copy (services.video_upload_append not found)"
    else:
        from rapport.directory.models import TherapistProfile

        therapist = TherapistProfile.objects.order_by("pk").first()
        assert therapist is not None, "the throwaway database has no therapist"
        upload = services.video_upload_start(
            therapist=therapist, prompt=Prompt.values[0], filename=source.name, size_bytes=size
        )
        with source.open("rb") as body:
            for offset in range(0, size, UPLOAD_CHUNK_BYTES):
                upload = append(
                    upload=upload,
                    offset=offset,
                    stream=body,
                    length=min(UPLOAD_CHUNK_BYTES, size - offset),
                )
        assert upload.is_complete
        services.video_upload_abandon(upload=upload)
        via = "rapport.videos.services.video_upload_append"
    return {
        "seconds": time.perf_counter() - started,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "via": via,
    }


# --- the report -------------------------------------------------------------------------------


def _print_table(
    *,
    speed_source: Source,
    small: Source,
    large: Source,
    probe_speed: dict[str, Any],
    probe_large: dict[str, Any],
    ours: dict[str, Any],
    theirs: dict[str, Any],
    memory_small: dict[str, Any],
    memory_large: dict[str, Any],
    upload: dict[str, Any],
) -> None:
    def verdict(met: bool) -> str:
        return "met" if met else "MISSED"

    ours_speed = speed_source.seconds / ours["seconds"]
    theirs_speed = speed_source.seconds / theirs["seconds"]
    growth = memory_large["peak_rss_mb"] - memory_small["peak_rss_mb"]
    rows = [
        (
            f"probe, {speed_source.seconds} s source ({speed_source.size_mb:.0f} MB)",
            f"{probe_speed['seconds']:.2f} s",
            "",
        ),
        (
            f"probe, {large.seconds} s source ({large.size_mb:.0f} MB)",
            f"{probe_large['seconds']:.2f} s",
            "",
        ),
        (
            f"ours: {speed_source.seconds} s 1080p30 → {ours['width']}×{ours['height']}",
            f"{ours['seconds']:.1f} s = {ours_speed:.2f}× real time",
            f"≥ {SPEED_TARGET:.0f}×  {verdict(ours_speed >= SPEED_TARGET)}",
        ),
        (
            "ffmpeg command line, same settings",
            f"{theirs['seconds']:.1f} s = {theirs_speed:.2f}× real time",
            "",
        ),
        ("ours / ffmpeg (time)", f"{ours['seconds'] / theirs['seconds']:.2f}", ""),
        (
            "output size: ours / ffmpeg",
            f"{ours['size_mb']:.1f} MB / {theirs['size_mb']:.1f} MB",
            "",
        ),
        (
            f"peak RSS, transcode child, {small.size_mb:.0f} MB source",
            f"{memory_small['peak_rss_mb']:.0f} MB",
            f"< {RSS_TARGET_MB} MB  {verdict(memory_small['peak_rss_mb'] < RSS_TARGET_MB)}",
        ),
        (
            f"peak RSS, transcode child, {large.size_mb:.0f} MB source",
            f"{memory_large['peak_rss_mb']:.0f} MB",
            f"< {RSS_TARGET_MB} MB  {verdict(memory_large['peak_rss_mb'] < RSS_TARGET_MB)}",
        ),
        (
            "  growth with 10× the file size",
            f"{growth:+.0f} MB",
            f"flat  {verdict(growth < 50)}",
        ),
        (
            f"peak RSS, ffmpeg command line ({speed_source.seconds} s)",
            f"{theirs['peak_rss_mb']:.0f} MB",
            "",
        ),
        (
            f"peak RSS, upload path, {large.size_mb:.0f} MB in 8 MiB chunks",
            f"{upload['peak_rss_mb']:.0f} MB "
            f"({upload['peak_rss_mb'] - upload['baseline_rss_mb']:+.0f} over Django idle)",
            f"flat  {verdict(upload['peak_rss_mb'] - upload['baseline_rss_mb'] < 50)}",
        ),
    ]
    width = max(len(row[0]) for row in rows) + 2
    value_width = max(len(row[1]) for row in rows) + 2
    print(f"{'case':<{width}}{'figure':<{value_width}}target")
    for label, value, target in rows:
        print(f"{label:<{width}}{value:<{value_width}}{target}")
    print()
    print(f"upload measured through {upload['via']} ({upload['seconds']:.1f} s)")
    print("peak RSS is the transcode child's own (RUSAGE_CHILDREN of a fresh process per case)")


if __name__ == "__main__":
    main()
