"""Time zones: which names Rapport accepts, and when a zone's clocks change.

Accepted zone names
    A name is accepted when the tz database has it (``zoneinfo.available_timezones()``) and it
    is ``UTC`` (or ``Etc/UTC``, the database's own name for it, which a browser on a host set
    to UTC reports) or a geographic Area/Location name, whose area is one of the ten the database
    files places under: Africa, America, Antarctica, Arctic, Asia, Atlantic, Australia, Europe,
    Indian, Pacific (``America/Toronto``, ``America/Argentina/Buenos_Aires``). Everything else
    the host's zone list happens to hold is refused: ``localtime`` and ``posixrules`` (the host's
    own setting), ``Factory``, the ``posix/`` and ``right/`` trees, other ``Etc/…`` fixed offsets
    (whose signs read backwards: ``Etc/GMT+5`` is UTC−5), rule names like ``EST5EDT``, and
    old country aliases like ``US/Eastern`` or ``Canada/Pacific``. Older Location spellings
    that the database keeps as links (``Asia/Calcutta``) stay accepted, because browsers still
    report them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache

GEOGRAPHIC_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
# The longest names in the database are about 30 characters.
ZONE_NAME_MAX_LENGTH = 64


@cache
def _database_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_canonical_zone_name(name: str) -> bool:
    """Whether ``name`` is a zone name Rapport accepts from outside (see the module's rule)."""
    if not name or len(name) > ZONE_NAME_MAX_LENGTH or name not in _database_names():
        return False
    if name in ("UTC", "Etc/UTC"):
        return True
    area, slash, location = name.partition("/")
    return bool(slash and location) and area in GEOGRAPHIC_AREAS


def zone_or_none(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of an accepted name; None for any other text."""
    if not is_canonical_zone_name(name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # Listed but unreadable (a broken tz installation): as unusable as an unknown name.
        return None


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


# --- showing times to people ----------------------------------------------------------------
# Every page shows a time in the viewer's zone and names the zone; these spell it the same way
# on every app's pages.

# Zones offered in the picker's menu: where Rapport's therapists and most of their clients
# are, plus a few for people abroad. Any other valid IANA name works through ?tz= (the
# browser's own zone, set by booking/zone.js) and is then added to the menu.
COMMON_TIME_ZONES: tuple[tuple[str, str], ...] = (
    ("America/St_Johns", "Newfoundland — St. John's"),
    ("America/Halifax", "Atlantic — Halifax"),
    ("America/Toronto", "Eastern — Toronto"),
    ("America/New_York", "Eastern — New York"),
    ("America/Winnipeg", "Central — Winnipeg"),
    ("America/Chicago", "Central — Chicago"),
    ("America/Regina", "Saskatchewan — Regina"),
    ("America/Edmonton", "Mountain — Edmonton"),
    ("America/Denver", "Mountain — Denver"),
    ("America/Phoenix", "Arizona — Phoenix"),
    ("America/Vancouver", "Pacific — Vancouver"),
    ("America/Los_Angeles", "Pacific — Los Angeles"),
    ("America/Anchorage", "Alaska — Anchorage"),
    ("Pacific/Honolulu", "Hawaii — Honolulu"),
    ("Europe/London", "United Kingdom — London"),
    ("Europe/Paris", "Central Europe — Paris"),
    ("UTC", "Coordinated Universal Time (UTC)"),
)
_COMMON_ZONE_NAMES = dict(COMMON_TIME_ZONES)


def time_zone_choices(current: str) -> list[tuple[str, str]]:
    """The menu's zones, with ``current`` first when it is not one of the common ones."""
    choices = [(name, f"{label} ({name})") for name, label in COMMON_TIME_ZONES]
    if current not in _COMMON_ZONE_NAMES:
        choices.insert(0, (current, current.replace("_", " ")))
    return choices


def time_zone_label(name: str) -> str:
    label = _COMMON_ZONE_NAMES.get(name)
    return f"{label} ({name})" if label else name.replace("_", " ")


def clock_label(moment: dt.datetime) -> str:
    """``9:00 a.m.``: Canadian English, with the period written out."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'a.m.' if moment.hour < 12 else 'p.m.'}"


def day_label(day: dt.date) -> str:
    return f"{day:%A}, {day:%B} {day.day}"


def moment_label(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``Monday, November 30, 2026 at 9:00 a.m. EST``."""
    local = moment.astimezone(zone)
    return f"{day_label(local.date())}, {local.year} at {clock_label(local)} {local.tzname()}"
