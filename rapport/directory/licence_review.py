"""What changed in a therapist's licences since the last licence-review decision.

Each decision keeps the licences as the reviewer saw them (``VerificationDecision.
licences_reviewed``); comparing that with the licences now tells the next reviewer what to
check again instead of everything. A licence is known by its jurisdiction and title (one per
pair); a removed and an added licence with the same jurisdiction and number are one licence
whose title changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rapport.directory.models import (
    Licence,
    TherapistProfile,
    VerificationDecision,
    VerificationStatus,
)

_DETAIL_NAMES = (("number", "number"), ("regulator", "regulator"), ("expires_on", "expiry"))


def licence_snapshot(licence: Licence) -> dict[str, Any]:
    """A licence in the shape a decision records it (``services.therapist_verification_
    decide``). Needs designation and regulator loaded (or loads them)."""
    return {
        "jurisdiction": licence.jurisdiction_id,
        "designation": licence.designation.code,
        "regulator": licence.regulator.name,
        "number": licence.number,
        "expires_on": licence.expires_on.isoformat() if licence.expires_on else None,
    }


@dataclass(frozen=True)
class LicenceChange:
    kind: str  # "added", "removed" or "changed"
    jurisdiction: str
    designation: str
    details: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        where = f"{self.designation} in {self.jurisdiction}"
        if self.kind == "added":
            return f"Added: {where}, {self.details[0]}."
        if self.kind == "removed":
            return f"Removed: {where}, {self.details[0]}."
        return f"Changed: {where}: {'; '.join(self.details)}."


@dataclass(frozen=True)
class ChangesSinceDecision:
    decided_at: dt.datetime | None  # None: never decided on
    changes: tuple[LicenceChange, ...] = ()
    # The title shown beside the name, when no licence seen at the last decision had it.
    unreviewed_title: str = ""

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.unreviewed_title)

    @property
    def summary(self) -> str:
        if self.decided_at is None:
            return "Never reviewed"
        if not self.has_changes:
            return "No change since the last decision"
        count = len(self.changes) + (1 if self.unreviewed_title else 0)
        return f"{count} change{'s' if count != 1 else ''} since the last decision"

    @property
    def sentences(self) -> list[str]:
        lines = [change.sentence for change in self.changes]
        if self.unreviewed_title:
            lines.append(
                f"The title beside the name is now {self.unreviewed_title}, which no licence "
                "seen at the last decision carried."
            )
        return lines


def _shown(value: Any) -> str:
    return "none" if value in (None, "") else str(value)


def _describe(entry: dict[str, Any]) -> str:
    expiry = entry.get("expires_on")
    return f"number {_shown(entry.get('number'))} with {_shown(entry.get('regulator'))}" + (
        f", expires {expiry}" if expiry else ""
    )


def licence_changes(
    *,
    reviewed: Sequence[dict[str, Any]],
    current: Sequence[dict[str, Any]],
) -> list[LicenceChange]:
    """Added, removed and changed licences between two snapshots, in jurisdiction order."""

    def key(entry: dict[str, Any]) -> tuple[str, str]:
        return (str(entry.get("jurisdiction", "")), str(entry.get("designation", "")))

    before = {key(entry): entry for entry in reviewed}
    after = {key(entry): entry for entry in current}
    changes: list[LicenceChange] = []
    removed = [before[k] for k in before if k not in after]
    added = [after[k] for k in after if k not in before]
    # Same jurisdiction and number under another title: the title changed, not two licences.
    for old in list(removed):
        twin = next(
            (
                new
                for new in added
                if new.get("jurisdiction") == old.get("jurisdiction")
                and new.get("number") == old.get("number")
            ),
            None,
        )
        if twin is None:
            continue
        removed.remove(old)
        added.remove(twin)
        details = [f"title {_shown(old.get('designation'))} → {_shown(twin.get('designation'))}"]
        details += _detail_changes(old, twin)
        changes.append(
            LicenceChange(
                kind="changed",
                jurisdiction=str(twin.get("jurisdiction")),
                designation=str(twin.get("designation")),
                details=tuple(details),
            )
        )
    for k in sorted(set(before) & set(after)):
        details = _detail_changes(before[k], after[k])
        if details:
            changes.append(
                LicenceChange(
                    kind="changed", jurisdiction=k[0], designation=k[1], details=tuple(details)
                )
            )
    changes += [
        LicenceChange(
            kind="added",
            jurisdiction=str(entry.get("jurisdiction")),
            designation=str(entry.get("designation")),
            details=(_describe(entry),),
        )
        for entry in added
    ]
    changes += [
        LicenceChange(
            kind="removed",
            jurisdiction=str(entry.get("jurisdiction")),
            designation=str(entry.get("designation")),
            details=(_describe(entry),),
        )
        for entry in removed
    ]
    order = {"changed": 0, "added": 1, "removed": 2}
    return sorted(changes, key=lambda change: (change.jurisdiction, order[change.kind]))


def _detail_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [
        f"{label} {_shown(old.get(name))} → {_shown(new.get(name))}"
        for name, label in _DETAIL_NAMES
        if old.get(name) != new.get(name)
    ]


def last_review(decisions: Iterable[VerificationDecision]) -> VerificationDecision | None:
    """The newest decision a reviewer made (verify, reject, suspend) among ``decisions``,
    newest first. A return to "pending" (a licence edit sends the listing back) records the
    new details, not what anyone checked, so it is not what the next reviewer compares with."""
    return next(
        (decision for decision in decisions if decision.status != VerificationStatus.PENDING),
        None,
    )


def changes_since_last_decision(
    *,
    therapist: TherapistProfile,
    licences: Iterable[Licence],
    last_decision: VerificationDecision | None,
) -> ChangesSinceDecision:
    """What the next reviewer should look at again: ``licences`` are the therapist's licences
    now (with designation and regulator loaded), ``last_decision`` the newest decision."""
    if last_decision is None:
        return ChangesSinceDecision(decided_at=None)
    reviewed = [entry for entry in last_decision.licences_reviewed if isinstance(entry, dict)]
    current = [licence_snapshot(licence) for licence in licences]
    title = therapist.designation.code
    reviewed_titles = {entry.get("designation") for entry in reviewed}
    return ChangesSinceDecision(
        decided_at=last_decision.decided_at,
        changes=tuple(licence_changes(reviewed=reviewed, current=current)),
        unreviewed_title=title if reviewed and title not in reviewed_titles else "",
    )
