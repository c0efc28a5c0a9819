"""The probe: what it accepts, what it refuses and how it says so, and its sandbox."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from rapport.videos import probe as probe_module
from rapport.videos.errors import VideoRejected
from rapport.videos.probe import ProbeReport, probe_video, sniff_demuxer
from rapport.videos.sandbox import Outcome
from tests.videos import samples

# Media code with no database behaviour: the PostgreSQL run skips it (Makefile).
pytestmark = pytest.mark.media

CUT_OFF = "seems to be cut off"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder with every sample, made once for the module."""
    folder = tmp_path_factory.mktemp("probe-media")
    for make in (
        samples.good_mp4,
        samples.silent_mp4,
        samples.portrait_mp4,
        samples.webm_vp9,
        samples.variable_rate_mkv,
        samples.audio_only_mp4,
        samples.empty_file,
        samples.text_file,
        samples.truncated_half,
        samples.truncated_head,
        samples.missing_index,
        samples.hls_playlist,
        samples.ffconcat_playlist,
        samples.twenty_minutes,
        samples.eight_k,
        samples.lying_duration_mkv,
    ):
        make(folder)
    return folder


def _refusal(path: Path) -> VideoRejected:
    with pytest.raises(VideoRejected) as caught:
        probe_video(path)
    return caught.value


# --- accepted ---------------------------------------------------------------------------------


def test_a_good_mp4_is_described(media):
    report = probe_video(media / "good.mp4")

    assert report.container == "mov,mp4,m4a,3gp,3g2,mj2"
    assert (report.video_codec, report.audio_codec) == ("h264", "aac")
    assert (report.width, report.height) == (320, 180)
    assert report.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_a_webm_with_vp9_and_opus_is_described(media):
    report = probe_video(media / "clip.webm")

    assert report == ProbeReport(
        container="matroska,webm",
        video_codec="vp9",
        audio_codec="opus",
        width=320,
        height=180,
        duration_seconds=report.duration_seconds,
    )
    assert report.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_audio_is_optional(media):
    report = probe_video(media / "silent.mp4")

    assert report.audio_codec is None
    assert report.duration_seconds == pytest.approx(1.5, abs=0.1)


def test_a_variable_frame_rate_matroska_file_is_measured_by_its_frames(media):
    report = probe_video(media / "vfr.mkv")

    assert report.container == "matroska,webm"
    # 40 frames, the last starting at 2.7 s and lasting one tick of 1/30 s.
    assert report.duration_seconds == pytest.approx(2.8, abs=0.05)


def test_the_frame_size_limit_holds_either_way_round(media, settings):
    settings.VIDEO_MAX_LONG_SIDE = 1920
    settings.VIDEO_MAX_SHORT_SIDE = 1080
    report = probe_video(media / "portrait.mp4")
    assert (report.width, report.height) == (1080, 1920)

    settings.VIDEO_MAX_SHORT_SIDE = 1000
    refusal = _refusal(media / "portrait.mp4")
    assert refusal.code == "too_large_frame"
    assert "1080×1920" in refusal.message


# --- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("empty.mp4", "empty", "empty"),
        ("notes.mp4", "not_video", "not a video"),
        ("playlist.mp4", "not_video", "not a video"),
        ("concat.mp4", "not_video", "not a video"),
        ("voice-memo.mp4", "no_video", "no picture"),
        ("cut-in-half.mp4", "undecodable", CUT_OFF),
        ("first-2k.mp4", "undecodable", CUT_OFF),
        ("no-moov.mp4", "undecodable", CUT_OFF),
        ("twenty-minutes.mp4", "too_long", "3:00"),
        ("claims-five-seconds.mkv", "too_long", "3:00"),
        ("8k.mp4", "too_large_frame", "7680×4320"),
    ],
)
def test_bad_uploads_are_refused_in_plain_words(media, name, code, words):
    refusal = _refusal(media / name)

    assert refusal.code == code
    assert words in refusal.message
    # Plain language for the therapist: no FFmpeg jargon, paths or stack traces.
    for jargon in ("Traceback", "moov", "Errno", "FFmpeg", str(media)):
        assert jargon not in refusal.message


def test_a_file_longer_than_the_limit_is_refused_with_its_length(media, settings):
    settings.VIDEO_MAX_DURATION_SECONDS = 1

    refusal = _refusal(media / "good.mp4")

    assert refusal.code == "too_long"
    assert "0:02" in refusal.message
    assert "0:01" in refusal.message


def test_a_header_that_understates_the_duration_is_not_believed(media):
    path = media / "claims-five-seconds.mkv"
    with av.open(str(path)) as container:
        assert container.duration is not None
        assert container.duration / 1_000_000 == pytest.approx(5.0)  # what the header says

    refusal = _refusal(path)

    assert refusal.code == "too_long"
    assert "more than 3:00" in refusal.message


def test_something_that_is_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)

    # A FIFO with no writer would block a careless reader forever.
    assert _refusal(fifo).code == "not_video"
    assert _refusal(tmp_path).code == "not_video"


def test_a_missing_file_is_unreadable(tmp_path):
    refusal = _refusal(tmp_path / "gone.mp4")

    assert refusal.code == "unreadable"
    assert refusal.message


@pytest.mark.parametrize(
    ("head", "demuxer"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mov"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81", "matroska"),
        (b"#EXTM3U\n#EXT-X-VE", None),
        (b"ffconcat version", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None),
        (b"RIFF\x24\x00\x00\x00AVI LIST", None),
        (b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01", None),  # MPEG program stream
        (b"ftyp", None),
        (b"", None),
    ],
)
def test_only_iso_media_and_matroska_are_let_through(head, demuxer):
    assert sniff_demuxer(head) == demuxer


def test_the_demuxer_options_forbid_nested_opens(media):
    """Belt and braces behind the sniffing: even FFmpeg's HLS demuxer, given our options,
    cannot open the local file a playlist names."""
    playlist = media / "playlist.mp4"
    options = probe_module._demuxer_options("hls")

    with av.open(playlist.open("rb"), format="hls") as unrestricted:
        assert unrestricted.streams.video  # without the options, it reaches the segment
    with pytest.raises(av.error.FFmpegError), playlist.open("rb") as file:
        av.open(file, format="hls", options=options)


# --- the sandbox ------------------------------------------------------------------------------


@pytest.fixture
def outcomes(monkeypatch) -> list[Outcome]:
    """Every child the probe runs, as the sandbox reported it."""
    seen: list[Outcome] = []
    real: Callable[..., Outcome] = probe_module.run_child

    def spy(*args: object, **kwargs: object) -> Outcome:
        outcome = real(*args, **kwargs)
        seen.append(outcome)
        return outcome

    monkeypatch.setattr(probe_module, "run_child", spy)
    return seen


def test_a_probe_that_takes_too_long_is_stopped_and_its_process_is_gone(media, settings, outcomes):
    settings.VIDEO_PROBE_TIMEOUT_SECONDS = 0.05

    refusal = _refusal(media / "good.mp4")

    assert refusal.code == "timeout"
    assert "took too long" in refusal.message
    [outcome] = outcomes
    assert outcome.timed_out
    assert outcome.seconds < 5
    with pytest.raises(ProcessLookupError):
        os.kill(outcome.pid, 0)
    with pytest.raises(ProcessLookupError):
        os.killpg(outcome.pid, 0)


def test_a_child_that_runs_out_of_memory_is_unreadable_not_a_traceback(media, settings, outcomes):
    # Too little address space for Python and FFmpeg even to load.
    settings.VIDEO_SUBPROCESS_MEMORY_MB = 40

    refusal = _refusal(media / "good.mp4")

    assert refusal.code == "unreadable"
    assert "Traceback" not in refusal.message
    [outcome] = outcomes
    assert not outcome.timed_out


def test_the_child_runs_with_limits_and_a_bare_environment(media, outcomes):
    probe_video(media / "good.mp4")

    [outcome] = outcomes
    assert outcome.returncode == 0
    payload = outcome.payload
    assert payload is not None
    assert payload["ok"] is True
    # It reports its own peak use, which must sit well inside the limit it was given.
    assert 0 < payload["peak_address_space_kb"] < 2048 * 1024
    # The limits it ran under: CPU backing up the 30 s timer, the configured address space,
    # no files written, few files open, no core dumps.
    assert payload["limits_in_force"] == {
        "RLIMIT_CPU": 30,
        "RLIMIT_AS": 2048 * 2**20,
        "RLIMIT_FSIZE": 0,
        "RLIMIT_NOFILE": 32,
        "RLIMIT_CORE": 0,
    }
    # Nothing from the server's environment (secrets, DATABASE_URL, proxies) reaches it.
    assert not {"SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "HOME"} & set(
        payload["environment_names"]
    )
    assert "MALLOC_ARENA_MAX" in payload["environment_names"]


def _own_status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_the_peak_memory_reported_is_the_childs_own_not_the_parents(media, outcomes):
    # The parent touches 300 MiB and keeps it: a forked child's ru_maxrss starts from the
    # parent's peak, so a figure taken from it would be at least this.
    held = bytearray(b"\x01") * (300 * 2**20)
    parent_peak_kb = _own_status_kb("VmHWM")
    assert parent_peak_kb > 300 * 1024

    probe_video(media / "good.mp4")

    [outcome] = outcomes
    assert outcome.payload is not None
    child_peak_kb = outcome.payload["peak_rss_kb"]
    # Python, FFmpeg and a small clip: tens of MiB, far below what the parent holds.
    assert 0 < child_peak_kb < 150 * 1024
    assert child_peak_kb < parent_peak_kb / 2
    assert len(held) == 300 * 2**20


def test_the_child_needs_no_django_settings(media):
    """The child is started with a bare environment; run it by hand the same way."""
    from rapport.videos import sandbox
    from rapport.videos.sandbox import Limits, run_child

    outcome = run_child(
        "rapport.videos.probe",
        [
            "--max-duration=180",
            "--max-long-side=3840",
            "--max-short-side=2160",
            "--",
            str(media / "good.mp4"),
        ],
        limits=Limits(wall_seconds=30, cpu_seconds=30, memory_bytes=2**31),
    )

    assert outcome.payload is not None
    assert outcome.payload["ok"] is True
    assert outcome.payload["video_codec"] == "h264"
    assert "DJANGO_SETTINGS_MODULE" not in sandbox._child_environment()


def test_a_broken_box_structure_is_damaged_not_cut_off(tmp_path):
    path = tmp_path / "broken.mp4"
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    path.write_bytes(ftyp + b"\x00\x00\x00\x03\xff\xfe\xfd\xfc" + bytes(200))

    refusal = _refusal(path)

    assert refusal.code == "undecodable"
    assert CUT_OFF not in refusal.message
    assert "could not read the picture" in refusal.message


def test_padding_after_a_complete_movie_is_ignored(media, tmp_path):
    path = tmp_path / "padded.mp4"
    path.write_bytes((media / "good.mp4").read_bytes() + b"\xff" * 37)

    assert probe_video(path).duration_seconds == pytest.approx(2.0, abs=0.1)


def test_a_child_stopped_at_its_cpu_limit_counts_as_too_slow():
    import signal

    stopped = Outcome(
        payload=None,
        returncode=-signal.SIGXCPU,
        timed_out=False,
        seconds=1.0,
        pid=1,
        stderr_tail="",
    )

    with pytest.raises(VideoRejected) as caught:
        probe_module._report_from(stopped, path=Path("slow.mp4"))

    assert caught.value.code == "timeout"


def test_a_child_that_crashes_is_unreadable():
    import signal

    crashed = Outcome(
        payload=None,
        returncode=-signal.SIGSEGV,
        timed_out=False,
        seconds=0.2,
        pid=1,
        stderr_tail="Fatal Python error: Segmentation fault",
    )

    with pytest.raises(VideoRejected) as caught:
        probe_module._report_from(crashed, path=Path("crash.mp4"))

    assert caught.value.code == "unreadable"
    assert "Segmentation" not in caught.value.message
