"""Answered check-ins as values: decrypted once, shaped for pages, charts, the API and export.

The one place that decides what the therapist sees of a client's check-ins (``for_therapist``):
nothing, scores only (the default), or scores and item answers, as the client chose. Goal
ratings count as scores (the goals themselves are shared by design). A crisis alert is not
decided here: the therapist gets it whatever the sharing (``services.checkins``).

Callers audit what they show (``rapport.core.audit.audit_reads``) with the check-ins read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapport.care import instruments, selectors
from rapport.care.instruments.change import RELIABLE_CHANGE_THRESHOLD
from rapport.care.models import CheckIn, Engagement, InstrumentVersion, Sharing


@dataclass(frozen=True)
class ScaleValue:
    id: str
    label: str
    value: float | None  # None: too many items missing to score ("no score", never a guess)
    band: str | None
    prorated: bool


@dataclass(frozen=True)
class PartRecord:
    purpose: str
    instrument_row: InstrumentVersion
    instrument: instruments.Instrument
    total: ScaleValue
    subscales: tuple[ScaleValue, ...]
    critical_flagged: bool
    # Item id -> the answer's value; None when the reader may not see item answers.
    answers: Mapping[str, int | None] | None

    def scale(self, scale_id: str) -> ScaleValue:
        if scale_id == self.total.id:
            return self.total
        for scale in self.subscales:
            if scale.id == scale_id:
                return scale
        raise KeyError(scale_id)


@dataclass(frozen=True)
class GoalRating:
    position: int
    text: str  # the goal as the client worded it when they rated it
    rating: int | None


@dataclass(frozen=True)
class CheckInRecord:
    check_in: CheckIn
    completed_at: dt.datetime
    after_session: int
    parts: tuple[PartRecord, ...]
    goal_ratings: tuple[GoalRating, ...]

    def part(self, purpose: str) -> PartRecord | None:
        for part in self.parts:
            if part.purpose == purpose:
                return part
        return None


def _scale(raw: Mapping[str, Any]) -> ScaleValue:
    return ScaleValue(
        id=raw["id"],
        label=raw["label"],
        value=raw["value"],
        band=raw["band"],
        prorated=raw["prorated"],
    )


# Stored scores are ``json.dumps(services.scores_dict(...))``: the total's object follows its
# key, which no value before it (slug, version, hash: strings) can contain unescaped.
_TOTAL_KEY = '"total": '
_DECODER = json.JSONDecoder()


def total_of(stored_scores: str) -> tuple[float | None, str | None]:
    """A stored part's total and band, parsing only the total's object (lists read many parts
    and show only this; the subscales and critical flags around it cost more to parse)."""
    if not stored_scores:
        return None, None
    start = stored_scores.find(_TOTAL_KEY)
    if start < 0:
        total = json.loads(stored_scores)["total"]
    else:
        total, _end = _DECODER.raw_decode(stored_scores, start + len(_TOTAL_KEY))
    return total["value"], total["band"]


def rows_read(records: Iterable[CheckInRecord]) -> list[Any]:
    """The stored rows a reader of ``records`` is shown: each check-in (goal ratings) and each
    of its parts (answers and scores), for ``audit_reads``."""
    return [row for record in records for row in (record.check_in, *record.check_in.parts.all())]


def goal_ratings_of(stored: str) -> tuple[GoalRating, ...]:
    if not stored:
        return ()
    data = json.loads(stored)
    ratings = data.get("ratings", {})
    return tuple(
        GoalRating(
            position=goal["position"],
            text=goal["text"],
            rating=ratings.get(str(goal["position"])),
        )
        for goal in data["goals"]
    )


def records_of(check_ins: Iterable[CheckIn], *, with_answers: bool) -> list[CheckInRecord]:
    """Answered check-ins (parts and instruments prefetched) as records, in the given order."""
    records = []
    for check_in in check_ins:
        if check_in.completed_at is None:
            continue
        parts = []
        for part in sorted(check_in.parts.all(), key=lambda part: part.position):
            if not part.scores:
                continue
            scores = json.loads(part.scores)
            parts.append(
                PartRecord(
                    purpose=part.purpose,
                    instrument_row=part.instrument,
                    instrument=selectors.instrument_of(part.instrument),
                    total=_scale(scores["total"]),
                    subscales=tuple(_scale(raw) for raw in scores["subscales"]),
                    critical_flagged=any(
                        flag["status"] == str(instruments.CriticalStatus.FLAGGED)
                        for flag in scores["critical"]
                    ),
                    answers=json.loads(part.answers) if with_answers and part.answers else None,
                )
            )
        records.append(
            CheckInRecord(
                check_in=check_in,
                completed_at=check_in.completed_at,
                after_session=check_in.after_session,
                parts=tuple(parts),
                goal_ratings=goal_ratings_of(check_in.goal_ratings),
            )
        )
    return records


def for_client(*, engagement: Engagement) -> list[CheckInRecord]:
    """Everything the client answered in the engagement, oldest first: it is all theirs."""
    return records_of(
        selectors.engagement_check_ins_answered(engagement=engagement), with_answers=True
    )


def for_therapist(*, engagement: Engagement) -> list[CheckInRecord]:
    """What the client shares with their therapist, oldest first (see the module's note)."""
    if engagement.sharing == Sharing.NOTHING:
        return []
    return records_of(
        selectors.engagement_check_ins_answered(engagement=engagement),
        with_answers=engagement.sharing == Sharing.ITEM_ANSWERS,
    )


@dataclass(frozen=True)
class Trend:
    """A scale's first and latest score over an engagement, read with the instrument's norms
    when it has them."""

    purpose: str
    scale_id: str
    label: str
    values: tuple[float | None, ...]
    first: float | None
    latest: float | None
    latest_band: str | None
    change: instruments.Change | None  # None without norms or without two scores
    # The smallest difference that counts as reliable change (1.96 × SE of the difference).
    reliable_difference: float | None
    cutoff: float | None


def trend(records: Sequence[CheckInRecord], *, purpose: str, scale_id: str = "total") -> Trend:
    parts = [record.part(purpose) for record in records]
    present = [part for part in parts if part is not None]
    if not present:
        return Trend(purpose, scale_id, "", (), None, None, None, None, None, None)
    instrument = present[-1].instrument
    values = tuple(part.scale(scale_id).value for part in present)
    scored = [value for value in values if value is not None]
    first = scored[0] if scored else None
    latest = scored[-1] if scored else None
    latest_band = next(
        (
            part.scale(scale_id).band
            for part in reversed(present)
            if part.scale(scale_id).value is not None
        ),
        None,
    )
    change = reliable_difference = cutoff = None
    if instrument.norms is not None and scale_id == instrument.total.id:
        cutoff = instruments.clinical_cutoff(instrument)
        probe = instruments.reliable_change(instrument, 0.0, 1.0)
        reliable_difference = RELIABLE_CHANGE_THRESHOLD * probe.standard_error_of_difference
        if first is not None and latest is not None and len(scored) > 1:
            change = instruments.reliable_change(instrument, first, latest)
    return Trend(
        purpose=purpose,
        scale_id=scale_id,
        label=present[-1].scale(scale_id).label,
        values=values,
        first=first,
        latest=latest,
        latest_band=latest_band,
        change=change,
        reliable_difference=reliable_difference,
        cutoff=cutoff,
    )


def fhir_responses(
    records: Iterable[CheckInRecord], *, subject_reference: str
) -> list[dict[str, Any]]:
    """Each answered part as a FHIR R4 QuestionnaireResponse (records read with answers)."""
    responses = []
    for record in records:
        for part in record.parts:
            if part.answers is None:
                continue
            responses.append(
                instruments.questionnaire_response(
                    part.instrument,
                    part.answers,
                    authored=record.completed_at,
                    subject_reference=subject_reference,
                )
            )
    return responses


__all__ = [
    "CheckInRecord",
    "GoalRating",
    "PartRecord",
    "ScaleValue",
    "Trend",
    "fhir_responses",
    "for_client",
    "for_therapist",
    "goal_ratings_of",
    "records_of",
    "rows_read",
    "total_of",
    "trend",
]
