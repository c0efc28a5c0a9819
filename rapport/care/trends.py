"""How each client is doing, in a few words, for the therapist's client list.

A practice may hold hundreds of clients and thousands of answered check-ins, and every score is
stored encrypted: reading and decrypting all of them for one list would cost far more than the
page may take. So the list reads a fixed number of queries whatever the number of clients
(the caller's engagements, one query for the answered parts it needs, one for the instrument
versions they were asked with, one for open alerts), and the database picks the few parts each
client's trend needs — the last two alliance check-ins (the latest and the direction since the
one before) and the first and latest progress checks (the latest and the change since the
start) — so only those are decrypted.

The client's sharing applies as everywhere (``history.for_therapist``): with "nothing" the list
shows no value, and reads none; a crisis alert is marked whatever the sharing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from rapport.care import history, instruments, selectors
from rapport.care.models import (
    Alert,
    AlertKind,
    CheckInPart,
    CheckInStatus,
    Engagement,
    InstrumentVersion,
    Purpose,
    Sharing,
)

__all__ = [
    "ClientTrend",
    "ScoreTrend",
    "client_trends",
    "number_label",
    "summary_of",
]


@dataclass(frozen=True, slots=True)
class ScoreTrend:
    """One questionnaire's latest total with its band, and how it moved, in words."""

    latest: float | None  # None: the latest check-in could not be scored
    band: str | None
    # The alliance's previous total, or the progress check's first one (None: only one so far).
    earlier: float | None
    words: str

    @property
    def latest_label(self) -> str:
        return number_label(self.latest)


@dataclass(frozen=True, slots=True)
class ClientTrend:
    shared: bool  # False: the client keeps their check-ins private (no values here)
    # An open alert the therapist may see: a crisis alert whatever the sharing, one raised
    # from scores only while the client shares them (as ``selectors.therapist_open_alerts``).
    alert: bool
    crisis: bool  # among them, a crisis alert
    alliance: ScoreTrend | None  # None: nothing answered yet (or not shared)
    progress: ScoreTrend | None
    # The check-ins whose scores this trend shows (ids), for the caller's audit of the read.
    check_ins_read: tuple[int, ...] = ()


def number_label(value: float | None) -> str:
    """A score as people read it: whole numbers without a decimal point."""
    if value is None:
        return "no score"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


class _Part(NamedTuple):
    """An answered part as the trends read it: plain values, no model instance to build."""

    engagement_id: int
    check_in_id: int
    purpose: str
    instrument_id: int
    value: float | None
    band: str | None


def _shown_parts(engagement_ids: Sequence[int]) -> list[_Part]:
    """The answered parts the trends need, chosen by the database: per engagement, the two
    newest alliance parts and the newest and oldest progress parts, oldest first. One query:
    the choice is made over narrow rows (ids and times) in a subquery, and only the chosen rows
    bring their encrypted scores, which alone are decrypted (ranking every part with its scores
    attached took the database several times longer)."""
    partition = [F("check_in__engagement_id"), F("purpose")]
    newest_first = [F("check_in__completed_at").desc(), F("check_in_id").desc()]
    oldest_first = [F("check_in__completed_at").asc(), F("check_in_id").asc()]

    def ranked(purpose: str) -> QuerySet[CheckInPart]:
        return (
            CheckInPart.objects.filter(
                check_in__engagement_id__in=engagement_ids,
                check_in__status=CheckInStatus.COMPLETED,
                purpose=purpose,
            )
            .annotate(
                newest=Window(RowNumber(), partition_by=partition, order_by=newest_first),
                oldest=Window(RowNumber(), partition_by=partition, order_by=oldest_first),
            )
            # A compound query's parts may not be ordered (SQLite refuses it).
            .order_by()
        )

    # (The stubs do not see window annotations as filterable names.)
    alliance = ranked(Purpose.ALLIANCE).filter(newest__lte=2)  # type: ignore[misc]
    progress = ranked(Purpose.PROGRESS).filter(Q(newest=1) | Q(oldest=1))
    chosen = alliance.values("pk").union(progress.values("pk"), all=True)
    rows = (
        CheckInPart.objects.filter(pk__in=chosen)
        # Oldest first within each engagement and purpose: the callers need no times.
        .order_by("check_in__engagement_id", "purpose", "check_in__completed_at", "check_in_id")
        .values_list("check_in__engagement_id", "check_in_id", "purpose", "instrument_id", "scores")
    )
    # Plain rows, not model instances: building hundreds of those was a good part of the time.
    return [
        _Part(engagement_id, check_in_id, purpose, instrument_id, *history.total_of(scores))
        for engagement_id, check_in_id, purpose, instrument_id, scores in rows
    ]


def _total(part: _Part) -> tuple[float | None, str | None]:
    return part.value, part.band


def summary_of(*, engagement_id: int) -> str:
    """What ``Engagement.trend_summary`` holds: the parts the list shows, as JSON (the caller
    stores it, encrypted). Made when a check-in is answered."""
    return json.dumps([list(part[1:]) for part in _shown_parts([engagement_id])])


def _parts_of_summary(engagement_id: int, summary: str) -> list[_Part]:
    return [_Part(engagement_id, *row) for row in json.loads(summary)]


def _alliance(parts: list[_Part]) -> ScoreTrend | None:
    """``parts`` newest first (at most two)."""
    if not parts:
        return None
    latest, band = _total(parts[0])
    if len(parts) < 2:
        return ScoreTrend(latest, band, None, "first alliance check-in")
    earlier, _band = _total(parts[1])
    if latest is None or earlier is None:
        words = "no score to compare with the one before"
    elif latest > earlier:
        words = f"higher than the one before ({number_label(earlier)})"
    elif latest < earlier:
        words = f"lower than the one before ({number_label(earlier)})"
    else:
        words = "the same as the one before"
    return ScoreTrend(latest, band, earlier, words)


def _progress(
    newest: _Part | None,
    oldest: _Part | None,
    versions: dict[int, InstrumentVersion],
) -> ScoreTrend | None:
    if newest is None:
        return None
    latest, band = _total(newest)
    if oldest is None or oldest.check_in_id == newest.check_in_id:
        return ScoreTrend(latest, band, None, "first progress check")
    first, _band = _total(oldest)
    if latest is None or first is None:
        return ScoreTrend(latest, band, first, "no score to compare with the first")
    since = f"since the first ({number_label(first)})"
    instrument = selectors.instrument_of(versions[newest.instrument_id])
    same_scale = versions[oldest.instrument_id].slug == versions[newest.instrument_id].slug
    if instrument.norms is not None and same_scale:
        change = instruments.reliable_change(instrument, first, latest)
        if change.category is instruments.ChangeCategory.IMPROVED:
            return ScoreTrend(latest, band, first, f"reliably better {since}")
        if change.category is instruments.ChangeCategory.DETERIORATED:
            return ScoreTrend(latest, band, first, f"reliably worse {since}")
        return ScoreTrend(latest, band, first, f"no reliable change {since}")
    # Without norms nothing says how large a difference matters: only its direction.
    if latest == first:
        return ScoreTrend(latest, band, first, f"the same as the first ({number_label(first)})")
    direction = "higher" if latest > first else "lower"
    return ScoreTrend(latest, band, first, f"{direction} than the first ({number_label(first)})")


def client_trends(*, engagements: Iterable[Engagement]) -> dict[int, ClientTrend]:
    """Each engagement's trend by its id (engagements of one therapist, already loaded)."""
    engagements = list(engagements)
    if not engagements:
        return {}
    shared = [e for e in engagements if e.sharing != Sharing.NOTHING]
    # Each engagement's summary holds its shown parts; one answered before summaries were kept
    # has none yet, and its parts are picked by the database as the summary would be.
    parts = [
        part
        for engagement in shared
        if engagement.trend_summary
        for part in _parts_of_summary(engagement.pk, engagement.trend_summary)
    ]
    unsummarised = [e.pk for e in shared if not e.trend_summary]
    if unsummarised:
        parts += _shown_parts(unsummarised)
    version_ids = {part.instrument_id for part in parts}
    versions = InstrumentVersion.objects.in_bulk(version_ids) if version_ids else {}
    open_alerts = (
        Alert.objects.filter(
            engagement_id__in=[e.pk for e in engagements], acknowledged_at__isnull=True
        )
        .filter(Q(kind=AlertKind.CRISIS) | ~Q(engagement__sharing=Sharing.NOTHING))
        .values_list("engagement_id", "kind")
    )
    alerted: set[int] = set()
    in_crisis: set[int] = set()
    for engagement_id, kind in open_alerts:
        alerted.add(engagement_id)
        if kind == AlertKind.CRISIS:
            in_crisis.add(engagement_id)

    # Oldest first (as read), so each list's last part is the newest.
    alliance: dict[int, list[_Part]] = {}
    progress: dict[int, list[_Part]] = {}
    for part in parts:
        chosen = alliance if part.purpose == Purpose.ALLIANCE else progress
        chosen.setdefault(part.engagement_id, []).append(part)

    trends = {}
    for engagement in engagements:
        if engagement.sharing == Sharing.NOTHING:
            trends[engagement.pk] = ClientTrend(
                shared=False,
                alert=engagement.pk in alerted,
                crisis=engagement.pk in in_crisis,
                alliance=None,
                progress=None,
            )
            continue
        ordered = alliance.get(engagement.pk, [])[::-1]
        checks = progress.get(engagement.pk, [])
        newest = checks[-1] if checks else None
        oldest = checks[0] if checks else None
        read = {part.check_in_id for part in [*ordered, newest, oldest] if part is not None}
        trends[engagement.pk] = ClientTrend(
            shared=True,
            alert=engagement.pk in alerted,
            crisis=engagement.pk in in_crisis,
            alliance=_alliance(ordered),
            progress=_progress(newest, oldest, versions),
            check_ins_read=tuple(sorted(read)),
        )
    return trends
