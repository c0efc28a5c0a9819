"""A therapist's early-alliance signals, in aggregate only: for the therapist and for matching.

``therapist_alliance_signals(therapist=)`` is the selector the matching engine (a later
capability) reads; the therapist sees the same figures on their client list. Nothing here names
or can single out a client:

- only engagements with at least one attended session contribute (the work had begun), and
  nothing is returned until ``MIN_CLIENTS`` different clients have contributed (a client with
  two engagements with the same therapist counts once);
- each figure has its own group and is left out (None) until that group, too, holds
  ``MIN_CLIENTS`` different clients — a median or share over two or three clients would give
  them away.

The figures:

- **median early alliance**: per engagement, the mean of its alliance totals in the check-ins
  after sessions 1–3 (``EARLY_SESSIONS``), then the median over engagements. Only totals of the
  configured alliance instrument (``settings.CARE_INSTRUMENTS["alliance"]``, any version) count,
  so one scale is summarised. A client's sharing choice holds even here: engagements whose
  client shares nothing with the therapist are left out, because with a handful of clients a
  median can reveal one person's score to someone who knows the others;
- **reached session 4**: the share of engagements with at least ``SESSION_REACHED`` attended
  sessions, of those whose outcome is known — those that reached it, or closed before it (an
  engagement at its second session is not counted as falling short);
- **graduated**: the share of closed engagements (graduated or ended) that graduated.

Only the stored scores of the alliance parts of check-ins after sessions 1–3 are read (and
decrypted), with only their totals parsed, in three queries whatever the number of clients.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q

from rapport.care import history, selectors
from rapport.care.models import (
    CLOSED_STATUSES,
    CheckInPart,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    Purpose,
    SessionStatus,
    Sharing,
)
from rapport.directory.models import TherapistProfile

MIN_CLIENTS = 5
EARLY_SESSIONS = (1, 2, 3)
SESSION_REACHED = 4


@dataclass(frozen=True)
class Share:
    count: int
    of: int

    @property
    def fraction(self) -> float:
        return self.count / self.of

    @property
    def percent(self) -> int:
        # Half up, so 2 of 8 reads 25% and 1 of 8 reads 13%.
        return int(self.count * 100 / self.of + 0.5)


@dataclass(frozen=True)
class Signals:
    # Different clients whose engagements contribute (at least MIN_CLIENTS).
    clients: int
    engagements: int
    # None until MIN_CLIENTS sharing clients have early alliance scores.
    early_alliance_median: float | None
    early_alliance_clients: int
    # The scale's range, for reading the median ("3.5 of 1–5"); None without a median.
    early_alliance_minimum: float | None
    early_alliance_maximum: float | None
    reached_session_4: Share | None
    graduated: Share | None


@dataclass(frozen=True)
class _Row:
    pk: int
    client_id: int
    status: str
    attended: int


def _enough(client_ids: set[int]) -> bool:
    return len(client_ids) >= MIN_CLIENTS


def _share(rows: list[_Row], counted: list[_Row]) -> Share | None:
    if not rows or not _enough({row.client_id for row in rows}):
        return None
    return Share(count=len(counted), of=len(rows))


def _early_means(
    therapist: TherapistProfile,
) -> tuple[dict[int, float], float | None, float | None]:
    """Per engagement whose client shares scores, the mean of its early alliance totals; and
    the scale's range. (An early check-in implies an attended session.) Only each part's
    engagement and stored scores are read, and only their totals parsed."""
    slug = settings.CARE_INSTRUMENTS["alliance"]
    rows = (
        CheckInPart.objects.filter(
            check_in__engagement__therapist=therapist,
            check_in__status=CheckInStatus.COMPLETED,
            check_in__after_session__in=EARLY_SESSIONS,
            purpose=Purpose.ALLIANCE,
            instrument__slug=slug,
        )
        .exclude(check_in__engagement__sharing=Sharing.NOTHING)
        .values_list("check_in__engagement_id", "scores")
    )
    totals: dict[int, list[float]] = defaultdict(list)
    for engagement_id, scores in rows:
        value, _band = history.total_of(scores)
        if value is not None:
            totals[engagement_id].append(value)
    minimum = maximum = None
    if totals:
        row = selectors.instrument_current(slug=slug)
        if row is not None:
            scale = selectors.instrument_of(row).total
            minimum, maximum = scale.minimum, scale.maximum
    means = {pk: sum(values) / len(values) for pk, values in totals.items()}
    return means, minimum, maximum


def therapist_alliance_signals(*, therapist: TherapistProfile) -> Signals | None:
    """The therapist's signals (see the module's note), or None under ``MIN_CLIENTS``."""
    rows = [
        _Row(**values)
        for values in Engagement.objects.filter(therapist=therapist)
        .annotate(attended=Count("sessions", filter=Q(sessions__status=SessionStatus.ATTENDED)))
        .filter(attended__gte=1)
        .values("pk", "client_id", "status", "attended")
    ]
    # Read before deciding, so the page costs the same queries with 3 clients or 300.
    means, minimum, maximum = _early_means(therapist)
    clients = {row.client_id for row in rows}
    if not _enough(clients):
        return None
    contributing = {row.pk for row in rows}
    means = {pk: mean for pk, mean in means.items() if pk in contributing}
    early_clients = {row.client_id for row in rows if row.pk in means}
    median = statistics.median(means.values()) if _enough(early_clients) else None

    settled = [
        row for row in rows if row.attended >= SESSION_REACHED or row.status in CLOSED_STATUSES
    ]
    closed = [row for row in rows if row.status in CLOSED_STATUSES]
    return Signals(
        clients=len(clients),
        engagements=len(rows),
        early_alliance_median=median,
        early_alliance_clients=len(early_clients),
        early_alliance_minimum=minimum if median is not None else None,
        early_alliance_maximum=maximum if median is not None else None,
        reached_session_4=_share(
            settled, [row for row in settled if row.attended >= SESSION_REACHED]
        ),
        graduated=_share(
            closed, [row for row in closed if row.status == EngagementStatus.GRADUATED]
        ),
    )


# How stale the figures on the therapist's own list may be: they summarise months of work, so a
# few minutes do not matter, and reading them decrypts every early alliance score.
SHOWN_MAX_AGE_SECONDS = 300


def therapist_alliance_signals_shown(*, therapist: TherapistProfile) -> Signals | None:
    """``therapist_alliance_signals`` for the therapist's client list, kept in the cache for
    ``SHOWN_MAX_AGE_SECONDS``."""
    key = f"care:alliance-signals:{therapist.pk}"
    kept = cache.get(key)
    if kept is not None:
        return kept[0]
    found = therapist_alliance_signals(therapist=therapist)
    # Wrapped, so "not enough clients yet" (None) is kept too.
    cache.set(key, (found,), SHOWN_MAX_AGE_SECONDS)
    return found
