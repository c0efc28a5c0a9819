"""Reads booking tests share (the builders are in tests.booking.factories)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from rapport.booking import slots
from rapport.booking.errors import FreeTime
from rapport.directory.models import TherapistProfile


def free_times_ahead(
    therapist: TherapistProfile, days: int = 7, *, hours_ahead: int = 2
) -> list[FreeTime]:
    """The therapist's free times over the next ``days``, from ``hours_ahead`` on, so a time is
    still free by the moment a request reaches a view (give it more than the therapist's
    notice)."""
    now = timezone.now()
    return slots.therapist_free_times(
        therapist=therapist,
        start=now + dt.timedelta(hours=hours_ahead),
        end=now + dt.timedelta(days=days),
        now=now,
    )
