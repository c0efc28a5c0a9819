"""Captions and transcript. On a live video a change waits for review (the pending fields)
and the profile keeps the approved text until then; before publication it is saved as is."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from rapport.videos.captions import normalised_webvtt, parse_webvtt, transcript_from_cues
from rapport.videos.errors import VideoRejected
from rapport.videos.models import Video
from rapport.videos.services._common import _lock_for_change, _therapist_video_facts_refresh

MAX_TRANSCRIPT_CHARS = 20_000


def video_captions_set(*, video: Video, webvtt: str) -> Video:
    """Replace the video's captions with a validated WebVTT track (stored normalised).

    A transcript the therapist has not written yet is filled from the captions' text. On a
    live video the change waits for review (``pending_*``); the profile keeps the approved
    text until then. Side effects: captions (and maybe transcript), live or pending; the
    therapist's captioned-video fact.
    """
    cues = parse_webvtt(webvtt, duration_seconds=video.duration_seconds)
    # Stored re-written from the parsed cues: styling blocks, regions, notes and markup in the
    # therapist's file never reach a client's browser.
    captions = normalised_webvtt(cues)
    with transaction.atomic():
        current = _lock_for_change(video)
        text = _TextDraft.of(current)
        text.captions = captions
        if not text.transcript.strip():
            text.transcript = transcript_from_cues(cues)[:MAX_TRANSCRIPT_CHARS]
        text.save_to(current)
        _therapist_video_facts_refresh(current.therapist)
    return current


def video_captions_remove(*, video: Video) -> Video:
    """Take the captions off, at once even on a live video (less text needs no review).

    Side effects: captions, live and pending; the therapist's captioned-video fact.
    """
    with transaction.atomic():
        current = _lock_for_change(video)
        current.captions_vtt = ""
        current.pending_captions_vtt = ""
        current.save(update_fields=["captions_vtt", "pending_captions_vtt", "updated_at"])
        _therapist_video_facts_refresh(current.therapist)
    return current


def video_transcript_set(*, video: Video, transcript: str) -> Video:
    """The text shown under the player (for people who read rather than listen); on a live
    video it waits for review like captions. Side effects: the transcript, live or pending."""
    text = transcript.replace("\r\n", "\n").strip()
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise VideoRejected(
            f"The transcript is longer than {MAX_TRANSCRIPT_CHARS:,} characters.",
            code="transcript_too_long",
        )
    with transaction.atomic():
        current = _lock_for_change(video)
        draft = _TextDraft.of(current)
        draft.transcript = text
        draft.save_to(current)
    return current


@dataclass
class _TextDraft:
    """The captions and transcript a change starts from: the pending ones of a live video
    (or its live text, when nothing is pending yet), the live ones otherwise."""

    captions: str
    transcript: str

    @classmethod
    def of(cls, video: Video) -> _TextDraft:
        if video.has_pending_text:
            return cls(video.pending_captions_vtt, video.pending_transcript)
        return cls(video.captions_vtt, video.transcript)

    def save_to(self, video: Video) -> None:
        if video.is_published:
            video.pending_captions_vtt = self.captions
            video.pending_transcript = self.transcript
            video.has_pending_text = True
            fields = ["pending_captions_vtt", "pending_transcript", "has_pending_text"]
        else:
            # Not public yet: the whole video is reviewed before it goes live.
            video.captions_vtt = self.captions
            video.transcript = self.transcript
            fields = ["captions_vtt", "transcript"]
        video.save(update_fields=[*fields, "updated_at"])
