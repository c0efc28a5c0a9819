"""Every change to directory data goes through a function here (see DESIGN.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from rapport.accounts.models import User
from rapport.directory.models import (
    Licence,
    SearchIndexVersion,
    TherapistProfile,
    VerificationDecision,
    VerificationStatus,
)
from rapport.directory.search.engine.current import read_version_next_time
from rapport.directory.tasks import (
    LISTING_NOTICE_PAUSED,
    LISTING_NOTICE_WARNING,
    send_listing_freshness_email,
    send_verification_email,
)

REVIEW_PERMISSION = "directory.review_licences"


def search_index_version_bump() -> None:
    """Tell every process that indexed directory data changed: call it inside the transaction
    that makes the change, so the new version becomes visible exactly when the change does.

    Side effects: increments ``SearchIndexVersion.version`` and renews its stamp; each
    process's search index rebuilds on its next search that reads the stamp (this process's
    next one, once the change is committed; the others' within SEARCH_INDEX_VERSION_MAX_AGE_MS).
    """
    with transaction.atomic():
        # Registered inside the block, so it runs once the outermost transaction commits (and
        # not at once, as outside any transaction it would, before the change is written).
        transaction.on_commit(read_version_next_time)
        updated = SearchIndexVersion.objects.filter(pk=SearchIndexVersion.SINGLETON_ID).update(
            version=F("version") + 1, stamp=uuid.uuid4(), changed_at=timezone.now()
        )
        if updated:
            return
        try:
            # The row is missing only if someone deleted it (a flushed test database).
            with transaction.atomic():
                SearchIndexVersion.objects.create(version=2)
        except IntegrityError:
            # Another transaction created it meanwhile; bump that one.
            SearchIndexVersion.objects.filter(pk=SearchIndexVersion.SINGLETON_ID).update(
                version=F("version") + 1, stamp=uuid.uuid4(), changed_at=timezone.now()
            )


class StaleDecision(Exception):
    """The therapist's status changed after the reviewer opened it."""


MINIMUM_REASON_LENGTH = 10


def therapist_verification_decide(
    *,
    therapist: TherapistProfile,
    reviewer: User,
    status: str,
    reason: str,
    expected_status: str | None = None,
    now: dt.datetime | None = None,
    bump_search_index: bool = True,
    notify_therapist: bool = True,
) -> VerificationDecision:
    """Record a licence-review decision and apply it to the listing at once.

    Verifying lists the therapist (if they are otherwise listable); rejecting or suspending
    hides them from the next request on, because the directory reads the status live. A
    refusal needs a reason the therapist can act on. Side effects: a decision row with the
    licence details as reviewed; a search index version bump; an e-mail to the therapist's
    account, if linked, after commit.
    ``expected_status`` is the status the reviewer was looking at; when another reviewer has
    decided meanwhile, StaleDecision is raised instead of silently overriding them. Verifying
    needs at least one licence that has not expired.
    A bulk import deciding on many rows passes ``bump_search_index=False`` (it bumps once at
    the end) and ``notify_therapist=False`` (its invitation says the listing is verified).
    Raises PermissionDenied for anyone without the licence-review permission, and
    ValidationError for a decision that makes no sense (same status, missing reason).
    """
    if not (reviewer.is_active and reviewer.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied("Only licence reviewers can decide on verification.")
    if status not in (
        VerificationStatus.VERIFIED,
        VerificationStatus.REJECTED,
        VerificationStatus.SUSPENDED,
    ):
        raise ValidationError({"status": "Choose verify, reject or suspend."})
    reason = reason.strip()
    if status != VerificationStatus.VERIFIED and len(reason) < MINIMUM_REASON_LENGTH:
        raise ValidationError(
            {"reason": "Give the therapist a reason they can act on (at least 10 characters)."}
        )
    if len(reason) > 2000:
        raise ValidationError({"reason": "Keep the reason under 2,000 characters."})
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the row: two reviewers deciding at once must not interleave.
        profile = TherapistProfile.objects.select_for_update().get(pk=therapist.pk)
        if expected_status is not None and profile.verification_status != expected_status:
            raise StaleDecision(
                "Another reviewer decided on this therapist while you were looking: it is now "
                f"{profile.get_verification_status_display().lower()}. Review it again."
            )
        if (
            profile.verification_status == VerificationStatus.PENDING
            and profile.submitted_for_review_at is None
        ):
            # A draft: its therapist is still filling it in, and verifying it would list an
            # unfinished profile. (An import whose rows staff verify sends them first.)
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: "This profile has not been sent for review yet: its "
                    "therapist is still filling it in. Decide once it is in the queue."
                }
            )
        if (
            status == VerificationStatus.VERIFIED
            and not Licence.objects.current(on=now.date()).filter(therapist=profile).exists()
        ):
            raise ValidationError(
                {"status": "There is no current licence to verify: add or renew one first."}
            )
        if profile.verification_status == status:
            current = profile.get_verification_status_display().lower()
            raise ValidationError({"status": f"This therapist is already {current}."})
        if status == VerificationStatus.SUSPENDED and (
            profile.verification_status != VerificationStatus.VERIFIED
        ):
            raise ValidationError({"status": "Only a verified therapist can be suspended."})
        decision = VerificationDecision.objects.create(
            therapist=profile,
            reviewer=reviewer,
            previous_status=profile.verification_status,
            status=status,
            reason=reason,
            decided_at=now,
            licences_reviewed=licences_as_reviewed(profile),
        )
        profile.verification_status = status
        profile.verification_decided_by = reviewer
        profile.verification_decided_at = now
        profile.verification_reason = reason
        profile.save(
            update_fields=[
                "verification_status",
                "verification_decided_by",
                "verification_decided_at",
                "verification_reason",
                "updated_at",
            ]
        )
        if bump_search_index:
            search_index_version_bump()
        if notify_therapist and profile.user_id is not None:
            # Sent by the task worker: a mail server that is down must not undo or hide a
            # decision that is already recorded.
            transaction.on_commit(
                lambda: send_verification_email.enqueue(decision_id=str(decision.pk))
            )
    therapist.refresh_from_db()
    return decision


def licences_as_reviewed(therapist: TherapistProfile) -> list[dict[str, str | None]]:
    """The therapist's licences as a decision records them (``licences_reviewed``): what the
    queue's "changed since the last decision" compares with."""
    return [
        {
            "jurisdiction": licence.jurisdiction_id,
            "designation": licence.designation.code,
            "regulator": licence.regulator.name,
            "number": licence.number,
            "expires_on": licence.expires_on.isoformat() if licence.expires_on else None,
        }
        for licence in therapist.licences.select_related("designation", "regulator").order_by("id")
    ]


def therapist_review_reopen(*, therapist: TherapistProfile, reason: str, now: dt.datetime) -> None:
    """Send a decided listing back to licence review because its licence details changed
    (the therapist's own edit, or an import): pending, so unlisted until a reviewer decides; a
    decision row without a reviewer saying why, with the licences as they now are; and the
    time it re-entered the queue. Call inside the transaction that changed the licences, with
    the profile row locked; the caller bumps the search index."""
    VerificationDecision.objects.create(
        therapist=therapist,
        reviewer=None,
        previous_status=therapist.verification_status,
        status=VerificationStatus.PENDING,
        reason=reason,
        decided_at=now,
        licences_reviewed=licences_as_reviewed(therapist),
    )
    therapist.verification_status = VerificationStatus.PENDING
    therapist.verification_reason = ""
    therapist.submitted_for_review_at = now
    therapist.save(
        update_fields=[
            "verification_status",
            "verification_reason",
            "submitted_for_review_at",
            "updated_at",
        ]
    )


def therapist_booking_facts_set(
    *,
    therapist: TherapistProfile,
    next_consultation_at: dt.datetime | None,
    median_reply_minutes: int | None,
    first_session_rate_percent: int | None,
) -> None:
    """Store the booking facts the booking app computed (the directory never imports booking).

    Called after every booking change, so it is one UPDATE of the profile row (``updated_at``
    is left alone: these are derived facts, not the therapist's edit). The search index does
    not need a version bump for them: it re-reads ``next_consultation_at`` on its own every
    ``SEARCH_CONSULTATION_TIMES_MAX_AGE_SECONDS`` (a rebuild of every process's index per
    booking would not scale), and the profile page reads all three live.

    Side effects: updates three TherapistProfile fields.
    """
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        next_consultation_at=next_consultation_at,
        median_reply_minutes=median_reply_minutes,
        first_session_rate_percent=first_session_rate_percent,
    )
    therapist.next_consultation_at = next_consultation_at
    therapist.median_reply_minutes = median_reply_minutes
    therapist.first_session_rate_percent = first_session_rate_percent


def therapist_video_facts_set(
    *, therapist: TherapistProfile, has_video_introduction: bool, has_captioned_video: bool
) -> None:
    """Store what the videos app published for this therapist (the directory never imports
    videos), for the search filters and the profile page.

    Side effects: updates two TherapistProfile fields and, when either changed, bumps the search
    index version (a video going live is rare; the filters must see it at once).
    """
    changed = (
        TherapistProfile.objects.filter(pk=therapist.pk)
        .exclude(
            has_video_introduction=has_video_introduction,
            has_captioned_video=has_captioned_video,
        )
        .update(
            has_video_introduction=has_video_introduction,
            has_captioned_video=has_captioned_video,
        )
    )
    if changed:
        search_index_version_bump()
    therapist.has_video_introduction = has_video_introduction
    therapist.has_captioned_video = has_captioned_video


def therapist_accepting_confirm(
    *, therapist: TherapistProfile, accepting: bool, now: dt.datetime | None = None
) -> TherapistProfile:
    """The therapist says whether they are accepting new clients; either answer is fresh for
    ``settings.LISTING_FRESHNESS_DAYS`` and starts a new cycle of reminders.

    Side effects: ``accepting_new_clients`` and ``accepting_confirmed_at``; clears the records
    of this cycle's warning and pause e-mails; bumps the search index version (the listing may
    appear or disappear).
    """
    now = now or timezone.now()
    with transaction.atomic():
        TherapistProfile.objects.filter(pk=therapist.pk).update(
            accepting_new_clients=accepting,
            accepting_confirmed_at=now,
            accepting_warning_sent_at=None,
            listing_paused_notice_sent_at=None,
            updated_at=now,
        )
        search_index_version_bump()
    therapist.refresh_from_db()
    return therapist


def stale_listings_warn(*, now: dt.datetime | None = None) -> int:
    """E-mail therapists whose listing is about to pause (``LISTING_WARNING_DAYS_BEFORE`` days
    ahead) or has just paused because "accepting new clients" was not re-confirmed within
    ``LISTING_FRESHNESS_DAYS``; returns how many e-mails were queued.

    Each notice is sent once per cycle: the row is marked (``accepting_warning_sent_at``,
    ``listing_paused_notice_sent_at``) by a conditional update, so overlapping runs cannot both
    send it, and re-confirming clears both marks. Only live listings (verified, listed by the
    therapist, accepting) of therapists with an account are concerned: a listing hidden for
    another reason does not pause, and nobody else has an address.
    Side effects: the marks above; on commit, one e-mail task per notice.
    """
    now = now or timezone.now()
    freshness = dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
    pause_floor = now - freshness
    warn_floor = now - freshness + dt.timedelta(days=settings.LISTING_WARNING_DAYS_BEFORE)
    candidates = TherapistProfile.objects.filter(
        verification_status=VerificationStatus.VERIFIED,
        is_listed=True,
        accepting_new_clients=True,
        accepting_confirmed_at__isnull=False,
        user__isnull=False,
    )
    # Pauses within the warning window, not warned since the last confirmation.
    due_warning = candidates.filter(
        accepting_confirmed_at__gte=pause_floor,
        accepting_confirmed_at__lte=warn_floor,
    ).filter(
        Q(accepting_warning_sent_at__isnull=True)
        | Q(accepting_warning_sent_at__lt=F("accepting_confirmed_at"))
    )
    # Paused (the directory's rule: confirmed before the freshness floor), not yet told.
    due_pause = candidates.filter(accepting_confirmed_at__lt=pause_floor).filter(
        Q(listing_paused_notice_sent_at__isnull=True)
        | Q(listing_paused_notice_sent_at__lt=F("accepting_confirmed_at"))
    )
    queued = 0
    for notice, rows, mark in (
        (LISTING_NOTICE_WARNING, due_warning, "accepting_warning_sent_at"),
        (LISTING_NOTICE_PAUSED, due_pause, "listing_paused_notice_sent_at"),
    ):
        for therapist_id in rows.values_list("pk", flat=True).order_by("pk"):
            with transaction.atomic():
                # Only the run whose update changes the row sends the e-mail.
                marked = rows.filter(pk=therapist_id).update(**{mark: now, "updated_at": now})
                if marked == 1:
                    transaction.on_commit(
                        partial(
                            send_listing_freshness_email.enqueue,
                            therapist_id=therapist_id,
                            notice=notice,
                        )
                    )
                    queued += 1
    return queued
