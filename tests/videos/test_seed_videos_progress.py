"""`rapport seed_videos` says how long it will take and how far it is (the encoding itself is
tested in test_seeding; here the clips are stood in for, so the test takes no encoding time)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from rapport.videos import seeding
from rapport.videos.management.commands import seed_videos
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db


def test_the_seeding_reports_after_each_therapist(reference_data, monkeypatch):
    for number in range(3):
        make_therapist(seed_key=f"demo-{number}")
    published: list[str] = []

    def fake_clip(path: Path, **_: Any) -> None:
        path.write_bytes(b"stand-in")

    monkeypatch.setattr(seeding, "synthesise_clip", fake_clip)
    monkeypatch.setattr(
        seeding, "_publish", lambda therapist, prompt, clip, lines: published.append(prompt)
    )
    reports: list[tuple[int, int]] = []

    result = seeding.demo_videos_seed(
        seed=1, therapists=2, progress=lambda done, total, seconds: reports.append((done, total))
    )

    assert reports == [(1, 2), (2, 2)]
    assert result.therapists == 2
    assert len(published) == 4  # two prompts each


def test_the_command_announces_the_wait_then_counts(monkeypatch):
    def fake_seed(*, seed: int, therapists: int, progress: Any) -> seeding.VideoSeedResult:
        for done in range(1, therapists + 1):
            progress(done, therapists, 3.3 * done)
        return seeding.VideoSeedResult(therapists=therapists, videos=2 * therapists, seconds=39.6)

    monkeypatch.setattr(seed_videos, "demo_videos_seed", fake_seed)
    output = io.StringIO()

    call_command("seed_videos", "--seed=1", stdout=output)

    lines = output.getvalue().splitlines()
    # 12 therapists at the measured 3.3 s each.
    assert lines[0] == (
        "Making demo videos for up to 12 therapists: about 40 s on an idle 2-core machine, "
        "longer on a busy one."
    )
    assert lines[1:4] == [
        "  1/12 therapists done (3 s)",
        "  2/12 therapists done (7 s)",
        "  3/12 therapists done (10 s)",
    ]
    assert lines[12] == "  12/12 therapists done (40 s)"
    assert "Made 24 demo videos for 12 therapists in 39.6 s." in lines[13]


def test_quiet_runs_print_nothing(monkeypatch):
    monkeypatch.setattr(
        seed_videos,
        "demo_videos_seed",
        lambda *, seed, therapists, progress: (
            progress(1, 1, 1.0) or seeding.VideoSeedResult(therapists=1, videos=2, seconds=1.0)
        ),
    )
    output = io.StringIO()
    call_command("seed_videos", "--therapists=1", "--verbosity=0", stdout=output)
    assert output.getvalue() == ""
