"""Every change to matching's data goes through one of these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import User
from rapport.care.models import EndedFor, Engagement
from rapport.matching import learning
from rapport.matching.answers import FitAnswers, FitAnswersError, MisfitReason
from rapport.matching.models import Exposure, FitProfile
from rapport.matching.selectors import fit_profile_answers


def fit_profile_save(
    *, owner: User, answers: FitAnswers, now: dt.datetime | None = None
) -> FitProfile:
    """Create the person's fit profile, or replace its answers (one per account)."""
    now = now or timezone.now()
    with transaction.atomic():
        profile = FitProfile.objects.select_for_update().filter(owner=owner).first()
        if profile is None:
            return FitProfile.objects.create(
                owner=owner, answers=answers.to_json(), created_at=now, updated_at=now
            )
        profile.answers = answers.to_json()
        profile.updated_at = max(now, profile.created_at)
        profile.save(update_fields=["answers", "updated_at"])
        return profile


def fit_profile_delete(*, profile: FitProfile) -> None:
    """Remove the profile and every answer in it, and the learned model's outcomes that were
    built from it (their features say which preferences were chosen); the model's running sums
    keep those contributions, with no identity, until the next retrain. Consultations it was
    shared with keep only the fact that the person had chosen to share (nothing is left to
    show)."""
    with transaction.atomic():
        learning.outcomes_forget(user=profile.owner)
        profile.delete()


def exposure_record(*, therapist_ids: Iterable[int], day: dt.date) -> None:
    """Count one first page shown, and each therapist on it (for staff's exposure page)."""
    ids = sorted(set(therapist_ids))
    with transaction.atomic():
        rows = [Exposure(day=day, therapist_id=None, first_page_count=0)] + [
            Exposure(day=day, therapist_id=therapist_id, first_page_count=0) for therapist_id in ids
        ]
        # Create the day's rows that are missing, then add one to each in one statement.
        Exposure.objects.bulk_create(rows, ignore_conflicts=True)
        total = Exposure.objects.filter(day=day, therapist__isnull=True)
        total.update(first_page_count=F("first_page_count") + 1)
        if ids:
            Exposure.objects.filter(day=day, therapist_id__in=ids).update(
                first_page_count=F("first_page_count") + 1
            )


class NotAMisfit(ValueError):
    """Feedback about an engagement that did not end as "not the right fit"."""


def misfit_feedback_record(
    *,
    owner: User,
    engagement: Engagement,
    reasons: Iterable[str],
    now: dt.datetime | None = None,
) -> FitProfile:
    """The person says what did not fit in an engagement they ended as not the right fit.

    The reasons join the fit profile's ``did_not_fit`` (creating an empty profile when there is
    none), so every later list leans away from them (``ranking``); the learned model records
    the ended engagement as a poor early outcome for that pair, once (``learning``). Raises
    NotAMisfit when the engagement is not the owner's or did not end that way; FitAnswersError
    for an unknown reason. Writes nothing then.
    """
    now = now or timezone.now()
    chosen = tuple(dict.fromkeys(reasons))
    unknown = [reason for reason in chosen if reason not in set(MisfitReason)]
    if unknown:
        raise FitAnswersError("reasons", f"“{unknown[0][:40]}” is not one of the reasons we know.")
    if engagement.client_id != owner.pk or engagement.ended_for != EndedFor.NOT_THE_RIGHT_FIT:
        raise NotAMisfit("Only an engagement you ended as not the right fit can be re-matched.")
    with transaction.atomic():
        profile = FitProfile.objects.select_for_update().filter(owner=owner).first()
        answers = fit_profile_answers(profile) if profile else FitAnswers()
        merged = tuple(dict.fromkeys((*answers.did_not_fit, *chosen)))
        profile = fit_profile_save(
            owner=owner, answers=replace(answers, did_not_fit=merged), now=now
        )
        learning.misfit_record(engagement=engagement, now=now)
    return profile
