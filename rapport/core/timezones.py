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
# One way of writing days, times and zones on every page, e-mail and label, in the site's one
# language (Canadian English; a request in another language still reads these in English):
#   a day      "Monday, December 7, 2026"  (always the weekday and the year: an e-mail is read
#              weeks later and a page may show a day in another year, so no rule hangs on "now")
#   a time     "9:00 a.m."  (midnight is "12:00 a.m.", noon "12:00 p.m.")
#   a zone     "Eastern Time (Toronto)": a generic name and a city for the zones in
#              ZONE_WORDS, "Indianapolis time" for any other zone (its city part); never the
#              raw IANA name, which only a <select>'s values and machine formats keep
#   a moment   "Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto)"; in the hour a
#              zone's clocks go back, which reads twice, ", before the clocks go back" or
#              ", after the clocks go back" says which one
# Templates use the same functions through the ``core_dates`` filters.

ZONE_WORDS: dict[str, str] = {
    "America/St_Johns": "Newfoundland Time (St. John's)",
    "America/Halifax": "Atlantic Time (Halifax)",
    "America/Moncton": "Atlantic Time (Moncton)",
    "America/Toronto": "Eastern Time (Toronto)",
    "America/Montreal": "Eastern Time (Montreal)",
    "America/New_York": "Eastern Time (New York)",
    "America/Detroit": "Eastern Time (Detroit)",
    "America/Winnipeg": "Central Time (Winnipeg)",
    "America/Chicago": "Central Time (Chicago)",
    # Saskatchewan keeps Central Standard Time all year, so "Central Time" would mislead in summer.
    "America/Regina": "Saskatchewan Time (Regina)",
    "America/Edmonton": "Mountain Time (Edmonton)",
    "America/Denver": "Mountain Time (Denver)",
    # Arizona keeps Mountain Standard Time all year.
    "America/Phoenix": "Arizona Time (Phoenix)",
    "America/Whitehorse": "Yukon Time (Whitehorse)",
    "America/Vancouver": "Pacific Time (Vancouver)",
    "America/Los_Angeles": "Pacific Time (Los Angeles)",
    "America/Anchorage": "Alaska Time (Anchorage)",
    "Pacific/Honolulu": "Hawaii Time (Honolulu)",
    "Europe/London": "UK Time (London)",
    "Europe/Paris": "Central European Time (Paris)",
    "UTC": "UTC",
    "Etc/UTC": "UTC",
}

# Zones offered in the picker's menu, in this order: where Rapport's therapists and most of
# their clients are, plus a few for people abroad. Any other valid IANA name works through
# ?tz= (the browser's own zone, set by booking/zone.js) and is then added to the menu.
COMMON_TIME_ZONES: tuple[str, ...] = (
    "America/St_Johns",
    "America/Halifax",
    "America/Toronto",
    "America/New_York",
    "America/Winnipeg",
    "America/Chicago",
    "America/Regina",
    "America/Edmonton",
    "America/Denver",
    "America/Phoenix",
    "America/Vancouver",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Paris",
    "UTC",
)


def time_zone_choices(current: str) -> list[tuple[str, str]]:
    """The menu's zones as (IANA name, words), with ``current`` first when it is not one of
    the common ones. The value stays the IANA name: it is what the form sends back."""
    choices = [(name, time_zone_label(name)) for name in COMMON_TIME_ZONES]
    if current not in COMMON_TIME_ZONES:
        choices.insert(0, (current, time_zone_label(current)))
    return choices


def time_zone_label(name: str) -> str:
    """``Eastern Time (Toronto)``; ``Indianapolis time`` for a zone the table lacks (the
    last part of its name, ``America/Indiana/Indianapolis``)."""
    words = ZONE_WORDS.get(name)
    if words:
        return words
    city = name.rstrip("/").rsplit("/", 1)[-1].replace("_", " ").strip()
    return f"{city} time" if city else "UTC"


def _zone_name(zone: dt.tzinfo) -> str:
    return getattr(zone, "key", None) or "UTC"


def _as_zone(zone: dt.tzinfo | str) -> dt.tzinfo:
    if isinstance(zone, str):
        return zone_or_none(zone) or dt.UTC
    return zone


def clock_label(moment: dt.datetime | dt.time) -> str:
    """``9:00 a.m.``: Canadian English, with the period written out (of the wall time given:
    convert an instant to its zone first)."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'a.m.' if moment.hour < 12 else 'p.m.'}"


# Spelled out here rather than by strftime, whose names follow the process's C locale.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def day_label(day: dt.date) -> str:
    """``Monday, December 7, 2026`` (of the calendar day given; for an instant, use
    ``moment_day_label``)."""
    return f"{_WEEKDAYS[day.weekday()]}, {_MONTHS[day.month - 1]} {day.day}, {day.year}"


def repeated_hour_words(local: dt.datetime) -> str:
    """Which of the two readings of a wall time the clocks show twice, or "" otherwise."""
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return ""
    return ", after the clocks go back" if local.fold else ", before the clocks go back"


def moment_label(moment: dt.datetime, zone: dt.tzinfo | str) -> str:
    """``Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto)``: an instant as
    ``zone``'s clocks show it, with the zone in words."""
    zone = _as_zone(zone)
    local = moment.astimezone(zone)
    return (
        f"{day_label(local.date())} at {clock_label(local)} "
        f"{time_zone_label(_zone_name(zone))}{repeated_hour_words(local)}"
    )


def moment_day_label(moment: dt.datetime, zone: dt.tzinfo | str) -> str:
    """The day (``day_label``) an instant falls on in ``zone``."""
    return day_label(moment.astimezone(_as_zone(zone)).date())


def duration_label(length: dt.timedelta) -> str:
    """``15 minutes``, ``1 hour``, ``1 hour 30 minutes``."""
    minutes = int(length.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def span_label(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo | str) -> str:
    """``Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto), for 15 minutes``: a
    booked time as e-mails write it (the moment exactly as pages write it, then its length)."""
    return f"{moment_label(start, zone)}, for {duration_label(end - start)}"
