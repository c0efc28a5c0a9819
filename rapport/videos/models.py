"""Therapists' short video introductions: answers to a few standard prompts, so clients can
compare like with like, and the uploads they arrive through.

A video's life: an upload (chunks into a local partial file) → probed and accepted → queued →
processing (transcode in the worker) → ready or failed; independently, staff review it
(pending → approved or rejected). Only a ready, approved video can be published, and only one
per therapist and prompt is: a replacement goes live when staff approve it, which takes the
previous one down in the same transaction.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q

from rapport.directory.models import TherapistProfile


class Prompt(models.TextChoices):
    # The project's own prompts; the order here is the order on the profile page.
    APPROACH = "approach", "How would you describe the way you work?"
    FIRST_SESSION = "first_session", "What does a first session with you look like?"
    BEST_WITH = "best_with", "Who do you work best with?"
    INTRODUCTION = "introduction", "A free introduction, in your own words"


class ProcessingState(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ReviewState(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Not approved"


class VideoUpload(models.Model):
    """An upload in progress. The bytes go to ``partial_path`` (local disk) chunk by chunk;
    ``received_bytes`` is the resume point a client asks for after a dropped connection."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="video_uploads"
    )
    prompt = models.CharField(max_length=20, choices=Prompt.choices)
    # Shown back to the therapist only; never used to name or type the file.
    filename = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(help_text="The total size the client announced.")
    received_bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(size_bytes__gt=0), name="video_upload_size_positive"
            ),
            models.CheckConstraint(
                condition=Q(received_bytes__gte=0, received_bytes__lte=models.F("size_bytes")),
                name="video_upload_received_within_size",
            ),
        ]

    def __str__(self) -> str:
        return f"Upload {self.public_id} ({self.received_bytes}/{self.size_bytes} bytes)"

    @property
    def partial_path(self) -> Path:
        # Named by the random public id, in a folder no web server serves.
        return settings.VIDEO_UPLOAD_DIR / f"{self.public_id}.part"

    @property
    def is_complete(self) -> bool:
        return self.received_bytes == self.size_bytes


class Video(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    therapist = models.ForeignKey(TherapistProfile, on_delete=models.CASCADE, related_name="videos")
    prompt = models.CharField(max_length=20, choices=Prompt.choices)

    state = models.CharField(
        max_length=12, choices=ProcessingState.choices, default=ProcessingState.QUEUED
    )
    failure_reason = models.TextField(blank=True)
    review = models.CharField(
        max_length=12, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    review_reason = models.TextField(blank=True, help_text="Why it was not approved.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)

    # Names in the "videos" storage: random, never derived from the upload's name.
    original_name = models.CharField(max_length=200, blank=True)
    media_name = models.CharField(max_length=200, blank=True)
    poster_name = models.CharField(max_length=200, blank=True)

    # What the probe found in the upload, and what the transcode produced.
    original_filename = models.CharField(max_length=255, blank=True)
    source_container = models.CharField(max_length=60, blank=True)
    source_video_codec = models.CharField(max_length=30, blank=True)
    source_audio_codec = models.CharField(max_length=30, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    media_size_bytes = models.BigIntegerField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)

    # WebVTT as validated (rapport.videos.captions), and the text shown under the player.
    captions_vtt = models.TextField(blank=True)
    transcript = models.TextField(blank=True)
    # Text changes to a live video wait here for review: like the video itself, nothing the
    # therapist writes reaches clients before staff approve it.
    has_pending_text = models.BooleanField(default=False)
    pending_captions_vtt = models.TextField(blank=True)
    pending_transcript = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("therapist", "prompt", "-created_at")
        permissions = [("moderate_videos", "Can approve or reject video introductions")]
        constraints = [
            # A replacement goes live only by taking the previous video's place.
            models.UniqueConstraint(
                fields=("therapist", "prompt"),
                condition=Q(is_published=True),
                name="one_published_video_per_prompt",
            ),
            # Nothing reaches clients without a finished file and a reviewer's approval.
            models.CheckConstraint(
                condition=Q(is_published=False)
                | Q(state=ProcessingState.READY, review=ReviewState.APPROVED),
                name="published_video_is_ready_and_approved",
            ),
            models.CheckConstraint(
                condition=~Q(state=ProcessingState.READY) | ~Q(media_name=""),
                name="ready_video_has_media",
            ),
        ]
        indexes = [models.Index(fields=("review", "state", "created_at"))]

    def __str__(self) -> str:
        return f"{self.get_prompt_display()} — {self.therapist_id} ({self.state})"

    @property
    def has_captions(self) -> bool:
        return bool(self.captions_vtt)

    @property
    def duration_label(self) -> str:
        """ "2:05" for the page; empty while unknown."""
        if self.duration_seconds is None:
            return ""
        minutes, seconds = divmod(round(self.duration_seconds), 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def is_finished(self) -> bool:
        """Nothing more will happen to it without someone acting (for the page's polling)."""
        return self.state in (ProcessingState.READY, ProcessingState.FAILED)
