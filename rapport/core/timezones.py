"""Time zones: when a zone's clocks change, found from the tz database itself."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

# --- clock changes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneState:
    """What a zone's clocks show during one stretch of time."""

    offset: dt.timedelta  # from UTC
    dst: dt.timedelta  # the daylight-saving part of the offset; zero in standard time
    name: str  # the abbreviation, e.g. EDT or +1345


@dataclass(frozen=True)
class ZoneChange:
    at: dt.datetime  # the instant (UTC) from which ``after`` holds
    before: ZoneState
    after: ZoneState


# Every change the tz database has is far more than this apart from the next, so stepping by
# it and narrowing each difference down finds them all (and a second change inside one step
# that did not undo the first is still found, because the scan resumes at the first).
_SCAN_STEP = dt.timedelta(hours=6)
_PRECISION = dt.timedelta(seconds=1)


def zone_state(zone: zoneinfo.ZoneInfo, moment: dt.datetime) -> ZoneState:
    local = moment.astimezone(zone)
    return ZoneState(
        offset=local.utcoffset() or dt.timedelta(0),
        dst=local.dst() or dt.timedelta(0),
        name=local.tzname() or "",
    )


def zone_changes(
    zone: zoneinfo.ZoneInfo, *, start: dt.datetime, end: dt.datetime
) -> list[ZoneChange]:
    """Every change of offset or abbreviation of ``zone`` in ``[start, end]``, to the second,
    earliest first (``start`` and ``end`` are aware instants)."""
    # Whole seconds throughout, so that halving a stretch always makes progress.
    start = start.replace(microsecond=0)
    if end.microsecond:
        end = end.replace(microsecond=0) + _PRECISION
    changes: list[ZoneChange] = []
    at, state = start, zone_state(zone, start)
    while at < end:
        step_end = min(at + _SCAN_STEP, end)
        step_state = zone_state(zone, step_end)
        if step_state == state:
            at = step_end
            continue
        low, high = at, step_end  # ``state`` holds at low, no longer at high
        while high - low > _PRECISION:
            middle = low + ((high - low) // 2 // _PRECISION) * _PRECISION
            if zone_state(zone, middle) == state:
                low = middle
            else:
                high = middle
        after = zone_state(zone, high)
        changes.append(ZoneChange(at=high, before=state, after=after))
        at, state = high, after
    return changes
