"""What is live: the reviewer's approval (which publishes, replacing the previous video for
the same prompt) or rejection, and the therapist deleting a video. Files go after commit."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.videos import storage
from rapport.videos.errors import VideoRejected
from rapport.videos.models import ProcessingState, ReviewState, Video
from rapport.videos.services._common import _lock_for_change, _therapist_video_facts_refresh

MAX_REASON_CHARS = 2_000


def video_approve(*, video: Video, reviewer: User | None) -> Video:
    """Approve a ready video and put it live, in place of the therapist's previous video for
    the same prompt (which is deleted, files after commit).

    ``reviewer`` is None only for the demo seeding, which has no person behind it.
    Side effects: review fields, publication, the replaced video gone, the therapist's video
    facts (search filters), an e-mail to the therapist.
    """
    now = timezone.now()
    with transaction.atomic():
        current = _lock_for_change(video)
        if current.state != ProcessingState.READY:
            raise VideoRejected(
                "Only a video that finished processing can be approved.", code="not_ready"
            )
        replaced = list(
            Video.objects.select_for_update()
            .filter(therapist_id=current.therapist_id, prompt=current.prompt, is_published=True)
            .exclude(pk=current.pk)
        )
        for old in replaced:
            _delete_with_files(old)
        text = (
            {
                "captions_vtt": current.pending_captions_vtt,
                "transcript": current.pending_transcript,
            }
            if current.has_pending_text
            else {}
        )
        Video.objects.filter(pk=current.pk).update(
            review=ReviewState.APPROVED,
            review_reason="",
            reviewed_by=reviewer,
            reviewed_at=now,
            is_published=True,
            published_at=current.published_at or now,
            has_pending_text=False,
            pending_captions_vtt="",
            pending_transcript="",
            updated_at=now,
            **text,
        )
        video.refresh_from_db()
        _therapist_video_facts_refresh(video.therapist)
        # Once per decision: approving an approved, live video again tells nobody anything.
        already_live = current.is_published and current.review == ReviewState.APPROVED
        if reviewer is not None and (current.has_pending_text or not already_live):
            transaction.on_commit(_review_emailer(video, approved=True))
    return video


def video_reject(*, video: Video, reviewer: User, reason: str) -> Video:
    """Refuse a video (or take down a published one), with a reason the therapist reads. For
    a live video with text changes waiting, only those changes are declined (a second
    rejection takes the video down).

    Side effects: review fields, unpublished (or the pending text dropped), the therapist's
    video facts, an e-mail.
    """
    reason = reason.strip()
    if not reason:
        raise VideoRejected("Say why, so the therapist knows what to change.", code="no_reason")
    if len(reason) > MAX_REASON_CHARS:
        raise VideoRejected(
            f"Keep the reason under {MAX_REASON_CHARS:,} characters.", code="reason_too_long"
        )
    now = timezone.now()
    with transaction.atomic():
        current = _lock_for_change(video)
        if current.is_published and current.has_pending_text:
            # Only the new text is declined: the approved video and its text stay live.
            Video.objects.filter(pk=video.pk).update(
                has_pending_text=False,
                pending_captions_vtt="",
                pending_transcript="",
                review_reason=reason,
                reviewed_by=reviewer,
                reviewed_at=now,
                updated_at=now,
            )
            video.refresh_from_db()
            transaction.on_commit(_review_emailer(video, approved=False, text_only=True))
            return video
        Video.objects.filter(pk=video.pk).update(
            review=ReviewState.REJECTED,
            review_reason=reason,
            reviewed_by=reviewer,
            reviewed_at=now,
            is_published=False,
            updated_at=now,
        )
        video.refresh_from_db()
        _therapist_video_facts_refresh(video.therapist)
        if current.review != ReviewState.REJECTED or current.review_reason != reason:
            transaction.on_commit(_review_emailer(video, approved=False))
    return video


def _review_emailer(video: Video, *, approved: bool, text_only: bool = False) -> Callable[[], None]:
    def enqueue() -> None:
        from rapport.videos.tasks import send_review_email

        send_review_email.enqueue(video_id=video.pk, approved=approved, text_only=text_only)

    return enqueue


def video_delete(*, video: Video) -> None:
    """The therapist removes a video (live or not). Side effects: the row, its files after
    commit, the therapist's video facts."""
    with transaction.atomic():
        try:
            current = _lock_for_change(video)
        except VideoRejected:
            return  # deleted already
        # The names as they are now: processing may have stored files since the page loaded.
        _delete_with_files(current)
        _therapist_video_facts_refresh(video.therapist)


def _delete_with_files(video: Video) -> None:
    names = [name for name in (video.original_name, video.media_name, video.poster_name) if name]
    Video.objects.filter(pk=video.pk).delete()
    transaction.on_commit(_deleter(names))


def _deleter(names: list[str]) -> Callable[[], None]:
    def delete() -> None:
        for name in names:
            storage.delete_quietly(name)

    return delete
