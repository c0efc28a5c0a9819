"""A sandboxed child for tests/videos/test_sandbox.py: it writes ``MEGABYTES`` of error lines
to stderr (as FFmpeg can on a damaged file), then answers like any child."""

from __future__ import annotations

import sys
from typing import Any

from rapport.videos.sandbox import child_main


def _work(arguments: list[str]) -> dict[str, Any]:
    line = b"[h264 @ 0x0] error while decoding MB 12 34, bytestream -5\n"
    for _ in range(int(arguments[0]) * (1 << 20) // len(line)):
        sys.stderr.buffer.write(line)
    sys.stderr.buffer.write(b"the last line\n")
    sys.stderr.flush()
    return {"written_megabytes": int(arguments[0])}


if __name__ == "__main__":
    sys.exit(child_main(_work, failure_code="noisy", argv=sys.argv[1:]))
