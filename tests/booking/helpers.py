"""Shared set-up for booking tests: availability in a therapist's own zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.booking.models import BookingPolicy, WeeklyWindow
from rapport.directory.models import TherapistProfile


def give_availability(
    therapist: TherapistProfile,
    *,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    starts_at: dt.time = dt.time(9, 0),
    ends_at: dt.time = dt.time(17, 0),
    **policy: Any,
) -> BookingPolicy:
    """Weekly windows on ``weekdays`` (0 = Monday) and a policy with ``policy`` overrides.

    Defaults of the policy are the model's; tests that need "bookable right now" pass
    ``minimum_notice_hours=0``.
    """
    WeeklyWindow.objects.bulk_create(
        WeeklyWindow(therapist=therapist, weekday=day, starts_at=starts_at, ends_at=ends_at)
        for day in weekdays
    )
    booking_policy, _ = BookingPolicy.objects.update_or_create(therapist=therapist, defaults=policy)
    return booking_policy
