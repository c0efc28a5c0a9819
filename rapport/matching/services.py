"""Every change to matching's data goes through one of these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import User
from rapport.matching.answers import FitAnswers
from rapport.matching.models import Exposure, FitProfile


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
    """Remove the profile and every answer in it. Consultations it was shared with keep only
    the fact that the person had chosen to share (there is nothing left to show)."""
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
