"""Run one step of video handling in a separate, resource-limited Python process.

Uploaded files are hostile until proven otherwise, and FFmpeg's demuxers and decoders are a
large C attack surface. So the probe and the transcoder never run in the web or worker
process: each runs as ``python -m <module>`` in its own session, with

- a CPU-time limit, an address-space limit, no core dumps, a cap on the size of any file it
  writes and on the number of files it may hold open (``resource`` limits);
- a wall-clock limit enforced from outside: on expiry the whole process group is killed;
- a minimal environment (nothing from the parent's, so no secrets or settings leak in), stdin
  closed, the working directory fixed;
- one JSON object as its only output, on one line of stdout. Whatever goes wrong inside, the
  child turns it into such an object; a crash, a kill or garbage output is reported to the
  caller as a plain result, never as a traceback.

The child applies its own limits first thing, before it opens the file it was given, rather
than the parent applying them between fork and exec (``preexec_fn``): that hook is unsafe in a
threaded parent such as a web server or task worker, and the child's code up to that point is
ours and reads nothing from the upload.

The child side of this module (``child_main`` and what it calls) imports nothing from Django,
so the children start fast and need no settings; the parent passes every limit as arguments.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)

# The folder that holds the ``rapport`` package: the child's working directory, so that
# ``python -m rapport.videos...`` imports this same code whether or not it is installed.
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
# Most of a child's stderr that is kept for the log when something goes wrong.
_STDERR_TAIL_CHARS = 4000
# Peak address space measured for the children (with MALLOC_ARENA_MAX=2, below) on 4K sources,
# the largest accepted: probe 160 MB (H.264) to 280 MB (HEVC 10-bit); transcode 470 MB (H.264)
# to 700 MB (HEVC 10-bit, three decoder threads). A limit under this floor would refuse good
# 4K uploads; VIDEO_SUBPROCESS_MEMORY_MB defaults to 2048, about three times the worst case.
MEMORY_FLOOR_MB = 1024
# The child's answer is one line of JSON; anything before it is noise and is not kept whole.
_STDOUT_TAIL_BYTES = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one child may use. Sizes are in bytes, times in seconds."""

    wall_seconds: float
    cpu_seconds: int
    memory_bytes: int
    # Largest file the child may write; 0 for a child that writes no files.
    file_size_bytes: int = 0
    open_files: int = 64


@dataclass(frozen=True)
class Outcome:
    """How a child ended, seen from the parent."""

    # The child's JSON object, or None when it printed none (it crashed or was killed).
    payload: dict[str, Any] | None
    # As ``subprocess`` reports it: negative for a signal, e.g. -9 for SIGKILL.
    returncode: int
    timed_out: bool
    seconds: float
    pid: int
    stderr_tail: str

    @property
    def killed_for_cpu(self) -> bool:
        """The kernel stopped the child at its CPU-time limit."""
        return self.returncode == -signal.SIGXCPU


def memory_limit_bytes(megabytes: int) -> int:
    """The RLIMIT_AS for a child from the VIDEO_SUBPROCESS_MEMORY_MB setting."""
    if megabytes < MEMORY_FLOOR_MB:
        logger.warning(
            "VIDEO_SUBPROCESS_MEMORY_MB=%s is below %s: 4K uploads may fail to convert",
            megabytes,
            MEMORY_FLOOR_MB,
        )
    return megabytes * 2**20


def run_child(module: str, arguments: list[str], *, limits: Limits) -> Outcome:
    """Run ``python -m module --limits ... arguments`` under ``limits`` and collect its answer."""
    command = [
        sys.executable,
        # No user site-packages, no .pyc files written (the child may have no writable folder).
        "-s",
        "-B",
        "-m",
        module,
        "--limits",
        json.dumps(
            {
                "cpu_seconds": limits.cpu_seconds,
                "memory_bytes": limits.memory_bytes,
                "file_size_bytes": limits.file_size_bytes,
                "open_files": limits.open_files,
            }
        ),
        *arguments,
    ]
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=_PACKAGE_ROOT,
        env=_child_environment(),
        # Its own session and process group, so a timeout kills everything it started.
        start_new_session=True,
        close_fds=True,
    )
    if process.stdout is None or process.stderr is None:  # Popen above asked for both pipes
        raise RuntimeError("the child's pipes were not opened")
    # Each pipe is drained by a thread that keeps only its end: FFmpeg logs straight to stderr
    # (see _ffmpeg_logs_to_stderr), and a hostile file must not fill the worker's memory with
    # error lines.
    stdout_tail = _PipeTail(process.stdout, _STDOUT_TAIL_BYTES)
    stderr_tail = _PipeTail(process.stderr, _STDERR_TAIL_CHARS * 4)
    timed_out = False
    try:
        process.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process.pid)
        process.wait()
    except BaseException:
        # Interrupted (e.g. the worker is shutting down): leave nothing running behind us.
        _kill_group(process.pid)
        process.wait()
        raise
    finally:
        # The child has exited; anything it might have left in its group goes too, which
        # closes the pipes' other ends and lets the readers finish.
        _kill_group(process.pid)
        stdout, stderr = stdout_tail.collect(), stderr_tail.collect()
    return Outcome(
        payload=None if timed_out else _last_json_line(stdout),
        returncode=process.returncode,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
        pid=process.pid,
        stderr_tail=stderr.decode("utf-8", "replace")[-_STDERR_TAIL_CHARS:],
    )


class _PipeTail:
    """Reads a pipe to its end in a thread, keeping only the last ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._tail = bytearray()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._stream:
            for chunk in iter(lambda: self._stream.read(65536), b""):
                self._tail += chunk
                del self._tail[: -self._limit]

    def collect(self) -> bytes:
        self._thread.join(timeout=10)
        return bytes(self._tail)


def _child_environment() -> dict[str, str]:
    """Just enough for Python and FFmpeg to run: no secrets, no settings, no proxies."""
    return {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        # glibc reserves up to 64 MiB of address space per thread arena; x264 and the frame-
        # threaded decoders start several threads, which would eat the RLIMIT_AS budget in
        # reservations that are never used. Two arenas are plenty for this workload.
        "MALLOC_ARENA_MAX": "2",
        # numpy, if anything imports it, must not start a BLAS thread pool per core.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }


def _kill_group(pid: int) -> None:
    # Already gone is fine (PermissionError: macOS says that of a group of zombies).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _last_json_line(stdout: bytes) -> dict[str, Any] | None:
    for line in reversed(stdout.decode("utf-8", "replace").splitlines()):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None
    return None


# --- the child's side -----------------------------------------------------------------------


class ChildRefusal(Exception):
    """Raised inside a child for a known reason to refuse the file; becomes ``{"ok": false}``.

    ``code`` is one of the caller's codes; ``facts`` are numbers the caller may put into the
    message (never text from the file itself).
    """

    def __init__(self, code: str, detail: str, **facts: float | int | str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.facts = facts


def child_main(
    work: Callable[[list[str]], dict[str, Any]], *, failure_code: str, argv: list[str]
) -> int:
    """Entry point of a child: apply the limits, run ``work`` on the remaining arguments, and
    print its result (or the reason it failed) as one JSON line. Returns the exit status."""
    # stdout carries only the answer: anything else that would print goes to stderr.
    answer_stream = sys.stdout
    sys.stdout = sys.stderr
    try:
        if len(argv) < 2 or argv[0] != "--limits":
            raise ValueError("usage: --limits JSON ARGUMENTS...")
        _apply_limits(json.loads(argv[1]))
        _ffmpeg_logs_to_stderr()
        result = work(argv[2:])
        payload = {"ok": True, **result}
    except ChildRefusal as refusal:
        payload = {"ok": False, "code": refusal.code, "detail": refusal.detail, **refusal.facts}
    except MemoryError as error:
        payload = {"ok": False, "code": failure_code, "detail": f"out of memory: {error!r}"}
    except BaseException as error:  # every failure, even SystemExit, must become an answer
        payload = {"ok": False, "code": failure_code, "detail": f"{type(error).__name__}: {error}"}
    payload["peak_rss_kb"] = _peak_rss_kb()
    payload["peak_address_space_kb"] = _status_kb("VmPeak")
    # What the child really ran under, so tests (and the log) can check the sandbox held.
    payload["limits_in_force"] = {
        name: resource.getrlimit(getattr(resource, name))[0]
        for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")
    }
    payload["environment_names"] = sorted(os.environ)
    answer_stream.write(json.dumps(payload) + "\n")
    answer_stream.flush()
    return 0


def _peak_rss_kb() -> int:
    """The most memory this process has had resident, in KiB.

    Linux's ``VmHWM``, the high-water mark of this process's own memory since it started the
    ``python`` program. Not ``ru_maxrss``: the kernel carries the parent's peak into a forked
    child and keeps it across ``exec``, so a child of a big worker would report the worker's
    peak, not its own. Without /proc (macOS, the BSDs) ``ru_maxrss`` is all there is; there it
    is an upper bound on the child's own peak, and macOS counts it in bytes.
    """
    own = _status_kb("VmHWM")
    if own is not None:
        return own
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _status_kb(field: str) -> int | None:
    """A ``kB`` figure of this process from Linux's /proc/self/status (``VmPeak``, the most
    address space held, which RLIMIT_AS limits; ``VmHWM``, the most memory resident); None
    where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _apply_limits(limits: dict[str, int]) -> None:
    cpu = int(limits["cpu_seconds"])
    # The soft limit sends SIGXCPU; the hard one, a little later, SIGKILL for a child that
    # somehow survives it.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    memory = int(limits["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    size = int(limits["file_size_bytes"])
    # Python ignores SIGXFSZ, so a write past this fails with an error instead of a kill.
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    files = int(limits["open_files"])
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))


def _ffmpeg_logs_to_stderr() -> None:
    """FFmpeg's errors (e.g. "moov atom not found") straight to stderr, for the parent's log,
    by FFmpeg's own C logger, never through PyAV's Python callback.

    A Python callback needs the GIL. Freeing a codec whose threads are still at work (the work
    stopped part way, say at a frame over the size limit, or the garbage collector freed a
    stream mid-way) joins those threads from a Python destructor, which holds the GIL; a thread
    that logs on its way out would then wait for it forever, and so would the child. FFmpeg's
    own logger needs no lock of ours and folds repeated lines; the parent keeps only the tail.
    """
    import av.logging

    av.logging.restore_default_callback()
    av.logging.set_libav_level(av.logging.ERROR)
