"""Demo video introductions: real, playable clips made on this machine (rapport.videos.synth),
taken through the same pipeline as a therapist's upload — chunked upload, sandboxed probe,
transcode, captions, approval — so the demo shows what the product does, not placeholders.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from rapport.directory.models import TherapistProfile
from rapport.directory.selectors import therapist_listing
from rapport.videos import services
from rapport.videos.models import Prompt, Video
from rapport.videos.synth import synthesise_clip, synthesise_webvtt

CLIP_SECONDS = 6.0
# What the demo therapists "say": the captions, and the words drawn on the picture.
_LINES = {
    Prompt.APPROACH: [
        "I work collaboratively: we decide together what to focus on.",
        "Sessions mix practical tools with space to talk things through.",
        "We check regularly whether the work is helping.",
    ],
    Prompt.FIRST_SESSION: [
        "In a first session we get to know each other.",
        "You tell me what brings you here, at your own pace.",
        "We end by agreeing whether and how to continue.",
    ],
}


@dataclass(frozen=True)
class VideoSeedResult:
    therapists: int
    videos: int
    seconds: float


def demo_videos_seed(
    *,
    seed: int,
    therapists: int = 12,
    progress: Callable[[int, int, float], None] | None = None,
) -> VideoSeedResult:
    """Give up to ``therapists`` generated, listed therapists without videos two approved
    demo videos each (half of them captioned). ``progress(done, total, seconds)`` is called
    after each therapist: every one takes seconds of encoding, so the command says how far it is.

    Side effects: videos in the videos storage, Video rows approved and published, the
    therapists' video facts (search filters). Idempotent: therapists with videos are skipped.
    """
    started = time.perf_counter()
    rng = random.Random(f"videos:{seed}")
    has_video = Video.objects.filter(therapist=OuterRef("pk"))
    # Listed therapists only: a demo video nobody can see shows nothing.
    candidates = list(
        therapist_listing(now=timezone.now())
        .filter(seed_key__isnull=False)
        .exclude(Exists(has_video))
        .order_by("seed_key")[: therapists * 4]
    )
    rng.shuffle(candidates)
    made = 0
    chosen = candidates[:therapists]
    with tempfile.TemporaryDirectory(prefix="rapport-demo-videos-") as work:
        for number, therapist in enumerate(chosen):
            for prompt, lines in _LINES.items():
                clip = Path(work) / f"{number}-{prompt}.mp4"
                synthesise_clip(
                    clip,
                    title=therapist.display_name,
                    subtitle=Prompt(prompt).label,
                    seconds=CLIP_SECONDS,
                    seed=rng.randrange(2**31),
                )
                captioned = number % 2 == 0
                _publish(therapist, prompt, clip, lines if captioned else None)
                clip.unlink()
                made += 1
            if progress is not None:
                progress(number + 1, len(chosen), time.perf_counter() - started)
    return VideoSeedResult(
        therapists=len(chosen), videos=made, seconds=time.perf_counter() - started
    )


def _publish(therapist: TherapistProfile, prompt: str, clip: Path, lines: list[str] | None) -> None:
    upload = services.video_upload_start(
        therapist=therapist, prompt=prompt, filename=clip.name, size_bytes=clip.stat().st_size
    )
    with clip.open("rb") as source:
        services.video_upload_append(
            upload=upload, offset=0, stream=source, length=upload.size_bytes
        )
    video = services.video_upload_complete(upload=upload)
    # Processed here rather than by the worker, so the demo is complete when the command ends
    # (the queued task then finds nothing to do).
    processed = services.video_process(video_id=video.pk)
    if processed is None:
        return
    if lines:
        services.video_captions_set(
            video=processed, webvtt=synthesise_webvtt(seconds=CLIP_SECONDS, lines=lines)
        )
    services.video_approve(video=processed, reviewer=None)


def demo_videos_clear() -> int:
    """Delete the videos of generated therapists (with their files); returns how many."""
    removed = 0
    for video in Video.objects.filter(therapist__seed_key__isnull=False).select_related(
        "therapist"
    ):
        with transaction.atomic():
            services.video_delete(video=video)
        removed += 1
    return removed
