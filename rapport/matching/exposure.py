"""How evenly match lists spread attention across therapists, for staff (/staff/matching/exposure/).

``services.exposure_record`` counts, per day, the people shown a first page of a match list and,
for each therapist, the people they appeared to there: each person once a day (by account,
session, or for an anonymous API call the answers sent), so reloading the results or sending the
same request again inflates nothing. Over a period this reads:

- the number of first pages shown (one per person a day);
- each therapist's share: the part of those first pages they appeared on (so shares do not add
  up to 1 but to the average number of different therapists one person was shown on first pages
  in a day: at most the page size for someone who saw one list, more for someone whose later
  lists, after changing answers, showed others);
- the Gini coefficient of appearances over every therapist that could have been shown (listed
  now, or shown in the period), those never shown counted as zero: 0 when everyone is shown
  equally often, towards 1 when a few take every appearance;
- the listed therapists never shown in the period.

The figures are counts and name no one. To count each person once a day, the day's
``models.ExposureSeen`` rows hold a keyed hash of the day and the person's key with the
therapists shown to them: pseudonymous (the site's secret can compute a known account's hash
again), so they are kept for the day only and erased with the account or its fit profile. A
ranking that starved new or unusual therapists
would show here first, which is why the learned part explores (``ranking``) and ties rotate
daily.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import QuerySet, Sum
from django.db.models.functions import Lower

from rapport.directory.models import TherapistProfile
from rapport.directory.selectors import therapist_listing
from rapport.matching.models import Exposure

PERIOD_DAYS = (7, 30, 90)
DEFAULT_PERIOD_DAYS = 30


def gini(values: Iterable[float]) -> float | None:
    """The Gini coefficient of non-negative values: the mean absolute difference between every
    two of them (each ordered pair) over twice the mean. None when there are none, or when all
    are zero (there is nothing to share out, so no (in)equality to speak of).

    Computed from the values in ascending order x₁ ≤ … ≤ xₙ as
    ``2·Σ i·xᵢ / (n·Σ xᵢ) − (n + 1) / n``, the same quantity without the n² pairs."""
    ordered = np.sort(np.asarray(list(values), dtype=np.float64))
    count = ordered.size
    if count == 0:
        return None
    if ordered[0] < 0:
        raise ValueError("The Gini coefficient is defined here for non-negative values only.")
    total = float(ordered.sum())
    if total == 0:
        return None
    ranks = np.arange(1, count + 1, dtype=np.float64)
    value = 2.0 * float(ranks @ ordered) / (count * total) - (count + 1) / count
    return max(0.0, value)  # rounding can leave -1e-17 for equal values


@dataclass(frozen=True)
class ExposurePeriod:
    """The period's figures; the therapists themselves come from ``exposure_shown`` and
    ``exposure_never_shown`` (paged by the caller)."""

    days: int
    first_day: dt.date
    last_day: dt.date
    first_pages: int  # first pages shown
    appearances: int  # therapist appearances on them, all together
    shown: int  # therapists shown at least once
    never_shown: int  # listed therapists not shown once
    gini: float | None  # over shown + never shown; None when nothing was shown


def _days(days: int, today: dt.date) -> tuple[dt.date, dt.date]:
    if days not in PERIOD_DAYS:
        raise ValueError(f"Choose a period of {', '.join(map(str, PERIOD_DAYS))} days.")
    return today - dt.timedelta(days=days - 1), today


def _therapist_rows(first_day: dt.date, last_day: dt.date) -> QuerySet[Exposure]:
    return Exposure.objects.filter(
        day__gte=first_day, day__lte=last_day, therapist__isnull=False, first_page_count__gt=0
    )


def exposure_period(*, days: int, today: dt.date, now: dt.datetime) -> ExposurePeriod:
    """The last ``days`` days up to and including ``today`` (``now`` decides who is listed)."""
    first_day, last_day = _days(days, today)
    first_pages = (
        Exposure.objects.filter(
            day__gte=first_day, day__lte=last_day, therapist__isnull=True
        ).aggregate(total=Sum("first_page_count"))["total"]
        or 0
    )
    per_therapist = list(
        _therapist_rows(first_day, last_day)
        .values("therapist_id")
        .annotate(total=Sum("first_page_count"))
        .values_list("total", flat=True)
    )
    never = exposure_never_shown(days=days, today=today, now=now).count()
    return ExposurePeriod(
        days=days,
        first_day=first_day,
        last_day=last_day,
        first_pages=first_pages,
        appearances=sum(per_therapist),
        shown=len(per_therapist),
        never_shown=never,
        gini=gini([*per_therapist, *([0] * never)]),
    )


def exposure_shown(*, days: int, today: dt.date) -> QuerySet[Any, Any]:
    """The therapists shown in the period, most appearances first (then by name): dicts of
    ``therapist_id``, ``therapist__display_name`` and ``appearances``."""
    first_day, last_day = _days(days, today)
    return (
        _therapist_rows(first_day, last_day)
        .values("therapist_id", "therapist__display_name")
        .annotate(appearances=Sum("first_page_count"))
        .order_by("-appearances", Lower("therapist__display_name"), "therapist_id")
    )


def exposure_never_shown(
    *, days: int, today: dt.date, now: dt.datetime
) -> QuerySet[TherapistProfile]:
    """Therapists listed now who did not appear on one first page in the period, by name."""
    first_day, last_day = _days(days, today)
    shown_ids = _therapist_rows(first_day, last_day).values("therapist_id")
    return (
        therapist_listing(now=now)
        .exclude(pk__in=shown_ids)
        .only("pk", "display_name", "public_id")
        .order_by(Lower("display_name"), "pk")
    )
