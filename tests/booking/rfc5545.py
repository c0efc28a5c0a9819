"""An independent reading of the calendar files Rapport writes, by RFC 5545's rules.

Written for the tests from the RFC's text, without icalendar or any production code, so that a
mistake in how Rapport writes a file cannot be repeated in how the test reads it:

- lines are unfolded (§3.1) and split into name, parameters and value;
- a DATE-TIME ending in ``Z`` is UTC; one with ``TZID`` is local time in the zone that the
  file's own VTIMEZONE of that TZID defines (§3.2.19, §3.3.5); a floating time is refused;
- in a VTIMEZONE, each STANDARD or DAYLIGHT onset (DTSTART and any RDATE) is a local time in the
  offset in force before it, TZOFFSETFROM, so its instant is local − TZOFFSETFROM (§3.6.5,
  §3.8.3.3); from that instant TZOFFSETTO is in force until the next onset;
- a local time that occurs twice means the first occurrence, and one that does not occur is
  read with the offset from before the gap (§3.3.5).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

_DATE_TIME = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z?)$")
_OFFSET = re.compile(r"^([+-])(\d\d)(\d\d)(\d\d)?$")


@dataclass
class Property:
    name: str
    params: dict[str, str]
    value: str


@dataclass
class Component:
    name: str
    properties: list[Property] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def all(self, name: str) -> list[Property]:
        return [prop for prop in self.properties if prop.name == name]

    def one(self, name: str) -> Property:
        found = self.all(name)
        assert len(found) == 1, f"{self.name} has {len(found)} {name} properties"
        return found[0]

    def components(self, name: str) -> list[Component]:
        return [child for child in self.children if child.name == name]


def unfold(text: str) -> list[str]:
    """Content lines: CRLF-separated, a line starting with a space or tab continues the last."""
    assert text.endswith("\r\n"), "a calendar file ends with CRLF"
    lines: list[str] = []
    for physical in text[:-2].split("\r\n"):
        assert "\n" not in physical, "bare LF in a line"
        assert "\r" not in physical, "bare CR in a line"
        if physical[:1] in (" ", "\t"):
            assert lines, "a continuation line cannot come first"
            lines[-1] += physical[1:]
        else:
            lines.append(physical)
    return lines


def _split_line(line: str) -> Property:
    # The value starts at the first colon outside a quoted parameter value.
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head, value = line[:index], line[index + 1 :]
            break
    else:
        raise AssertionError(f"no value in line {line!r}")
    name, *raw_params = _split_params(head)
    params: dict[str, str] = {}
    for raw in raw_params:
        key, _, param_value = raw.partition("=")
        params[key.upper()] = param_value.strip('"')
    return Property(name=name.upper(), params=params, value=value)


def _split_params(head: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in head:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse(text: str | bytes) -> Component:
    """The VCALENDAR object of a file holding exactly one."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    stack: list[Component] = []
    root: Component | None = None
    for line in unfold(text):
        prop = _split_line(line)
        if prop.name == "BEGIN":
            component = Component(prop.value.upper())
            if stack:
                stack[-1].children.append(component)
            else:
                assert root is None, "more than one object in the file"
                root = component
            stack.append(component)
        elif prop.name == "END":
            assert stack, f"END:{prop.value} outside any component"
            assert stack[-1].name == prop.value.upper(), f"unbalanced END:{prop.value}"
            stack.pop()
        else:
            assert stack, f"property outside any component: {line!r}"
            stack[-1].properties.append(prop)
    assert root is not None, "no calendar"
    assert not stack, "unterminated calendar"
    assert root.name == "VCALENDAR"
    return root


def date_time(value: str) -> tuple[dt.datetime, bool]:
    """A DATE-TIME's naive value and whether it is UTC (form #2) rather than local."""
    match = _DATE_TIME.match(value)
    assert match, f"not a DATE-TIME: {value!r}"
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    return dt.datetime(year, month, day, hour, minute, second), match.group(7) == "Z"


def utc_offset(value: str) -> dt.timedelta:
    match = _OFFSET.match(value)
    assert match, f"not a UTC-OFFSET: {value!r}"
    sign, hours, minutes, seconds = match.groups()
    size = dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
    assert not (sign == "-" and not size), "-0000 is not allowed"
    return -size if sign == "-" else size


@dataclass(frozen=True)
class Onset:
    """One change of a zone: from ``at`` (a UTC instant, naive) ``offset_to`` is in force."""

    at: dt.datetime
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    kind: str  # STANDARD or DAYLIGHT


@dataclass
class ZoneDefinition:
    tzid: str
    onsets: list[Onset]  # sorted by instant

    def offset_at(self, instant: dt.datetime) -> dt.timedelta:
        """The offset in force at a UTC instant (naive), which the definition must cover."""
        assert instant >= self.onsets[0].at, f"{self.tzid} is not defined at {instant}"
        offset = self.onsets[0].offset_to
        for onset in self.onsets:
            if onset.at <= instant:
                offset = onset.offset_to
        return offset

    def resolve(self, local: dt.datetime) -> dt.datetime:
        """The UTC instant (naive) that ``local`` in this zone denotes, by §3.3.5."""
        candidates = []
        for index, onset in enumerate(self.onsets):
            until = self.onsets[index + 1].at if index + 1 < len(self.onsets) else None
            instant = local - onset.offset_to
            if onset.at <= instant and (until is None or instant < until):
                candidates.append(instant)
        if candidates:
            # Occurs twice (clocks went back): the first occurrence.
            return min(candidates)
        for onset in self.onsets[1:]:
            # Does not occur (clocks went forward): the offset from before the gap.
            if onset.at + onset.offset_from <= local < onset.at + onset.offset_to:
                return local - onset.offset_from
        raise AssertionError(f"{local} is outside what VTIMEZONE {self.tzid} defines")


def zone_definitions(calendar: Component) -> dict[str, ZoneDefinition]:
    definitions: dict[str, ZoneDefinition] = {}
    for vtimezone in calendar.components("VTIMEZONE"):
        tzid = vtimezone.one("TZID").value
        assert tzid not in definitions, f"two VTIMEZONEs for {tzid}"
        onsets: list[Onset] = []
        for observance in vtimezone.children:
            assert observance.name in ("STANDARD", "DAYLIGHT"), observance.name
            assert not observance.all("RRULE"), "this reader does not expand RRULE"
            offset_from = utc_offset(observance.one("TZOFFSETFROM").value)
            offset_to = utc_offset(observance.one("TZOFFSETTO").value)
            starts = [observance.one("DTSTART").value]
            for rdate in observance.all("RDATE"):
                assert rdate.params.get("VALUE", "DATE-TIME") == "DATE-TIME"
                starts += rdate.value.split(",")
            for raw in starts:
                local, is_utc = date_time(raw)
                assert not is_utc, "an onset is local time, never UTC"
                onsets.append(
                    Onset(
                        at=local - offset_from,
                        offset_from=offset_from,
                        offset_to=offset_to,
                        kind=observance.name,
                    )
                )
        assert onsets, f"VTIMEZONE {tzid} has no observance"
        onsets.sort(key=lambda onset: onset.at)
        definitions[tzid] = ZoneDefinition(tzid=tzid, onsets=onsets)
    return definitions


def instant(prop: Property, definitions: dict[str, ZoneDefinition]) -> dt.datetime:
    """The UTC instant (aware) a DTSTART or DTEND denotes."""
    assert prop.params.get("VALUE", "DATE-TIME") == "DATE-TIME", "an all-day event"
    value, is_utc = date_time(prop.value)
    if is_utc:
        assert "TZID" not in prop.params, "TZID with a UTC time"
        return value.replace(tzinfo=dt.UTC)
    tzid = prop.params.get("TZID")
    assert tzid is not None, f"floating time in {prop.name}"
    assert tzid in definitions, f"TZID {tzid} has no VTIMEZONE in the file"
    return definitions[tzid].resolve(value).replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class EventTimes:
    uid: str
    start: dt.datetime
    end: dt.datetime
    start_line: str
    end_line: str


def event_times(text: str | bytes) -> list[EventTimes]:
    """Every VEVENT's UID, start and end instants, and its DTSTART and DTEND as written."""
    calendar = parse(text)
    definitions = zone_definitions(calendar)
    found = []
    for event in calendar.components("VEVENT"):
        start, end = event.one("DTSTART"), event.one("DTEND")
        found.append(
            EventTimes(
                uid=event.one("UID").value,
                start=instant(start, definitions),
                end=instant(end, definitions),
                start_line=_written(start),
                end_line=_written(end),
            )
        )
    return found


def _written(prop: Property) -> str:
    params = "".join(f";{key}={value}" for key, value in prop.params.items())
    return f"{prop.name}{params}:{prop.value}"
