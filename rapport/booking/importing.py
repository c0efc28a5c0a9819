"""Booking's part of a bulk import (rapport.directory.importing): the weekly availability.

The directory's import may not import booking, so booking registers this part in its
``AppConfig.ready()``. One field, ``availability``: weekly windows in the therapist's own zone,
as text (``"mon 09:00-12:00; mon 13:00-17:00; thu 10:00-16:00"``) or, in JSON Lines, also as a
list of ``{"weekday": "monday", "starts_at": "09:00", "ends_at": "12:00"}``. Overlapping windows
on one day are refused (touching ones, 9–12 and 12–17, are fine), as on the practice page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from rapport.booking.facts import therapist_booking_facts_refresh
from rapport.booking.models import Weekday, WeeklyWindow
from rapport.booking.services import weekly_windows_check, weekly_windows_replace
from rapport.directory.importing import UNCHANGED, ImportPart
from rapport.directory.models import TherapistProfile
from rapport.directory.selectors import therapist_listing

FIELD = "availability"
MAX_WINDOWS = 50
_BATCH = 500
_WEEKDAYS = {
    **{day.label.lower(): day.value for day in Weekday},
    **{day.label.lower()[:3]: day.value for day in Weekday},
}
_WINDOW = re.compile(
    r"^(?P<day>[a-z]+)\s+(?P<start>[0-9]{1,2}:[0-9]{2})\s*[-–]\s*(?P<end>[0-9]{1,2}:[0-9]{2})$"
)

Window = tuple[int, dt.time, dt.time]


def _time(text: str) -> dt.time | None:
    hours, _, minutes = text.partition(":")
    if hours == "24" and minutes == "00":
        # "until midnight": the latest time a window can end that day.
        return dt.time(23, 59)
    try:
        return dt.time(int(hours), int(minutes))
    except ValueError:
        return None


def _window(day: Any, start: Any, end: Any, problems: list[str], shown: str) -> Window | None:
    weekday = _WEEKDAYS.get(str(day).strip().lower()) if isinstance(day, str) else None
    if weekday is None:
        problems.append(f'"{shown}": the day must be a weekday name such as "monday" or "mon".')
        return None
    starts = _time(start.strip()) if isinstance(start, str) else None
    ends = _time(end.strip()) if isinstance(end, str) else None
    if starts is None or ends is None:
        problems.append(f'"{shown}": give times as 24-hour HH:MM, such as 09:00-12:30.')
        return None
    if ends <= starts:
        problems.append(
            f'"{shown}": the end must be after the start (a window never crosses midnight).'
        )
        return None
    return (weekday, starts, ends)


def availability_clean(values: Mapping[str, Any]) -> Any:
    """The windows of the row's ``availability`` field; UNCHANGED when the row has none."""
    if FIELD not in values:
        return UNCHANGED
    raw = values[FIELD]
    problems: list[str] = []
    windows: list[Window] = []
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if isinstance(raw, str):
        entries = [entry.strip() for entry in raw.split(";") if entry.strip()]
        for entry in entries[: MAX_WINDOWS + 1]:
            match = _WINDOW.match(entry.lower())
            if match is None:
                problems.append(
                    f'"{entry:.40}" is not a window such as "mon 09:00-12:00" '
                    "(weekday, start, end)."
                )
                continue
            window = _window(match["day"], match["start"], match["end"], problems, entry)
            if window is not None:
                windows.append(window)
    elif isinstance(raw, list):
        entries = raw
        for item in raw[: MAX_WINDOWS + 1]:
            if not isinstance(item, dict) or set(item) - {"weekday", "starts_at", "ends_at"}:
                problems.append(
                    'Each window is an object {"weekday": ..., "starts_at": ..., "ends_at": ...}.'
                )
                continue
            shown = f"{item.get('weekday')} {item.get('starts_at')}-{item.get('ends_at')}"
            window = _window(
                item.get("weekday"), item.get("starts_at"), item.get("ends_at"), problems, shown
            )
            if window is not None:
                windows.append(window)
    else:
        raise ValidationError({FIELD: ['Give windows such as "mon 09:00-12:00; tue 13:00-17:00".']})
    if len(entries) > MAX_WINDOWS:
        problems.append(f"At most {MAX_WINDOWS} weekly windows.")
    # The same rule as the practice pages' weekly hours (overlaps refused, touching fine).
    problems.extend(weekly_windows_check(windows)[0])
    if problems:
        raise ValidationError({FIELD: problems})
    return windows


def availability_write(therapist: TherapistProfile, windows: list[Window], created: bool) -> None:
    """Replace the therapist's weekly windows through booking's own service (which checks
    them again); a re-import of the same windows writes nothing."""
    if not created:
        current = WeeklyWindow.objects.filter(therapist=therapist).values_list(
            "weekday", "starts_at", "ends_at"
        )
        if sorted(current) == sorted(windows):
            return
    if created and not windows:
        return
    try:
        weekly_windows_replace(therapist=therapist, windows=windows, refresh_facts=False)
    except ValidationError as error:
        raise ValidationError({FIELD: error.messages}) from None


def availability_finish(therapist_ids: list[int]) -> None:
    """After the import: the next free consultation of each imported listing that is live now
    (verified on import), so search finds it at once. Listings still waiting for review get
    theirs from the periodic refresh (``rapport housekeeping``) long before anyone can book
    them; computing 10,000 of them here would double the import's time for nothing."""
    now = timezone.now()
    for start in range(0, len(therapist_ids), _BATCH):
        batch = therapist_ids[start : start + _BATCH]
        for therapist in therapist_listing(now=now).filter(pk__in=batch):
            therapist_booking_facts_refresh(therapist=therapist, now=now)


availability_part = ImportPart(
    name="booking",
    fields=(FIELD,),
    clean=availability_clean,
    write=availability_write,
    finish=availability_finish,
)
