"""The two lock files: production installs requirements.lock alone, a working copy
requirements-dev.lock; the runtime packages must be the same versions in both, and no test or
lint tool may reach a production install."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {package.lower(): version for package, version in PIN.findall(text)}


def test_every_runtime_pin_is_the_same_in_the_development_lock():
    runtime = _pins("requirements.lock")
    development = _pins("requirements-dev.lock")
    assert runtime, "requirements.lock pins nothing"
    assert {name: development.get(name) for name in runtime} == runtime


def test_test_and_lint_tools_stay_out_of_the_runtime_lock():
    runtime = _pins("requirements.lock")
    for tool in ("pytest", "moto", "flask", "playwright", "hypothesis", "ruff", "mypy"):
        assert tool not in runtime, tool
        assert tool in _pins("requirements-dev.lock"), tool


def test_both_locks_carry_hashes_and_no_download_addresses():
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        hashed = re.findall(r"^[A-Za-z0-9_.-]+==\S+ \\\n\s+--hash=sha256:", text, re.MULTILINE)
        assert len(hashed) == len(PIN.findall(text)), name
        assert "://" not in text, name
        assert "--index-url" not in text, name
        assert "--find-links" not in text, name
