"""When a check-in's scores raise an alert for the therapist (besides the crisis path).

Pure functions over an engagement's answered check-ins (``history.CheckInRecord``, oldest first,
the one just answered last), so every rule can be tested at its edges without a database:

- **low alliance**: the alliance total is in the clinical range of its definition's norms — at
  or past the cutoff, as the engine counts a score exactly at the cutoff (a definition without
  norms raises no low-alliance alert);
- **alliance drop**: a reliable deterioration (|RCI| > 1.96, worse) from the previous alliance
  total of the same instrument; a drop exactly at the reliable-change line is not one;
- **goal going nowhere**: a goal rated ``GOAL_NOWHERE_MAX`` or lower (0–10) at two check-ins in
  a row, with the same wording both times;
- **progress off track**: a reliable deterioration since the first progress score (the
  baseline), or — from the ``PROGRESS_REVIEW_SESSION``-th attended session on — no reliable
  improvement since it.

Alliance alerts name the weakest subscale (the lowest score; the first of equals), which picks
the repair suggestion (``rapport.care.repair``). The caller raises them only while the client
shares at least scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapport.care import instruments
from rapport.care.history import CheckInRecord, PartRecord
from rapport.care.instruments.change import in_clinical_range
from rapport.care.models import AlertKind, Purpose

GOAL_NOWHERE_MAX = 2
PROGRESS_REVIEW_SESSION = 6


@dataclass(frozen=True)
class Finding:
    kind: AlertKind
    subscale: str = ""
    goal_position: int | None = None


def _weakest_subscale(part: PartRecord) -> str:
    scored = [scale for scale in part.subscales if scale.value is not None]
    if not scored:
        return ""
    return min(scored, key=lambda scale: scale.value or 0.0).id


def _totals(records: Sequence[CheckInRecord], purpose: str, slug: str) -> list[float]:
    values = []
    for record in records:
        part = record.part(purpose)
        if part is not None and part.instrument.slug == slug and part.total.value is not None:
            values.append(part.total.value)
    return values


def _alliance(records: Sequence[CheckInRecord], part: PartRecord) -> list[Finding]:
    instrument, value = part.instrument, part.total.value
    if value is None or instrument.norms is None:
        return []
    findings = []
    weakest = _weakest_subscale(part)
    cutoff = instruments.clinical_cutoff(instrument)
    if in_clinical_range(instrument.norms, value, cutoff):
        findings.append(Finding(AlertKind.LOW_ALLIANCE, subscale=weakest))
    earlier = _totals(records[:-1], Purpose.ALLIANCE, instrument.slug)
    if earlier:
        change = instruments.reliable_change(instrument, earlier[-1], value)
        if change.category is instruments.ChangeCategory.DETERIORATED:
            findings.append(Finding(AlertKind.ALLIANCE_DROP, subscale=weakest))
    return findings


def _goals(records: Sequence[CheckInRecord]) -> list[Finding]:
    latest = records[-1]
    previous = next((record for record in reversed(records[:-1]) if record.goal_ratings), None)
    if previous is None:
        return []
    before = {(goal.position, goal.text): goal.rating for goal in previous.goal_ratings}
    findings = []
    for goal in latest.goal_ratings:
        earlier = before.get((goal.position, goal.text))
        if (
            goal.rating is not None
            and earlier is not None
            and goal.rating <= GOAL_NOWHERE_MAX
            and earlier <= GOAL_NOWHERE_MAX
        ):
            findings.append(Finding(AlertKind.GOAL_STUCK, goal_position=goal.position))
    return findings


def _progress(records: Sequence[CheckInRecord], part: PartRecord) -> list[Finding]:
    instrument, value = part.instrument, part.total.value
    if value is None or instrument.norms is None:
        return []
    earlier = _totals(records[:-1], Purpose.PROGRESS, instrument.slug)
    if not earlier:
        return []  # this is the baseline
    change = instruments.reliable_change(instrument, earlier[0], value)
    if change.category is instruments.ChangeCategory.DETERIORATED:
        return [Finding(AlertKind.PROGRESS_OFF_TRACK)]
    if (
        records[-1].after_session >= PROGRESS_REVIEW_SESSION
        and change.category is not instruments.ChangeCategory.IMPROVED
    ):
        return [Finding(AlertKind.PROGRESS_OFF_TRACK)]
    return []


def findings_after(records: Sequence[CheckInRecord]) -> list[Finding]:
    """The alerts the last of ``records`` (just answered) raises, in a stable order."""
    if not records:
        return []
    latest = records[-1]
    found: list[Finding] = []
    alliance = latest.part(Purpose.ALLIANCE)
    if alliance is not None:
        found.extend(_alliance(records, alliance))
    found.extend(_goals(records))
    progress = latest.part(Purpose.PROGRESS)
    if progress is not None:
        found.extend(_progress(records, progress))
    return found
