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
