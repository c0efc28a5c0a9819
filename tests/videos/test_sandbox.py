"""The sandbox's own figures, where the platform gives less than Linux does."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from rapport.videos import sandbox

pytestmark = pytest.mark.media


@pytest.mark.parametrize(
    ("platform", "ru_maxrss", "expected_kb"),
    [
        ("freebsd14", 204_800, 204_800),  # the BSDs count KiB, as Linux does
        ("darwin", 209_715_200, 204_800),  # macOS counts bytes
    ],
)
def test_without_proc_the_peak_falls_back_to_ru_maxrss_in_kib(
    monkeypatch, platform, ru_maxrss, expected_kb
):
    monkeypatch.setattr(sandbox, "_status_kb", lambda field: None)
    monkeypatch.setattr(
        sandbox.resource, "getrusage", lambda who: SimpleNamespace(ru_maxrss=ru_maxrss)
    )
    monkeypatch.setattr(sys, "platform", platform)

    assert sandbox._peak_rss_kb() == expected_kb


def test_a_child_that_floods_stderr_is_read_to_its_end_keeping_only_the_tail():
    """FFmpeg logs straight to stderr in the child (never through a Python callback, which
    could deadlock a codec freed with work in flight); the parent keeps only the tail."""
    outcome = sandbox.run_child(
        "tests.videos.noisy_child",
        ["64"],
        limits=sandbox.Limits(wall_seconds=60, cpu_seconds=60, memory_bytes=1 << 30),
    )

    assert outcome.timed_out is False
    assert outcome.payload is not None
    assert outcome.payload["ok"] is True
    assert outcome.payload["written_megabytes"] == 64
    assert len(outcome.stderr_tail) == sandbox._STDERR_TAIL_CHARS
    assert outcome.stderr_tail.endswith("the last line\n")


def test_a_pipe_tail_never_holds_more_than_its_limit():
    import os
    import threading

    read_end, write_end = os.pipe()
    sizes: list[int] = []
    tail = sandbox._PipeTail(os.fdopen(read_end, "rb"), 1000)

    def write() -> None:
        with os.fdopen(write_end, "wb") as stream:
            for number in range(2000):
                stream.write(f"{number:08d} ".encode() * 100)
                sizes.append(len(tail._tail))

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    collected = tail.collect()

    assert max(sizes) <= 1000
    assert len(collected) == 1000
    assert collected.endswith(b"00001999 ")
