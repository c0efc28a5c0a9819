"""Days, times and zones in templates, written by the same functions as e-mails and Python
labels (``rapport.core.timezones``): ``{% load core_dates %}`` then

    {{ appointment.starts_at|moment_label:zone_name }}  Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto)
    {{ engagement.started_at|day_label:zone_name }}     Monday, December 7, 2026
    {{ slot.starts_at|clock_label:zone_name }}          9:00 a.m.
    {{ therapist.time_zone|time_zone_label }}           Eastern Time (Toronto)

Without a zone an instant is read in the active zone (UTC unless a view activated another);
a plain date needs none. An empty value renders as nothing. An ISO 8601 text (the data export
holds its moments so) is read as the moment or day it names; any other text is shown as it is.
"""  # noqa: E501

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from rapport.core import timezones

register = template.Library()

_Value = dt.date | dt.datetime | dt.time | str | None


def _parsed(value: _Value) -> _Value:
    """An ISO 8601 text as the date or aware moment it names (a naive one is UTC, as Rapport
    stores every moment); anything else unchanged."""
    if not isinstance(value, str) or not value:
        return value
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _zone(zone_name: str | None) -> dt.tzinfo:
    if zone_name:
        return timezones.zone_or_none(str(zone_name)) or dt.UTC
    return timezone.get_current_timezone()


@register.filter
def moment_label(value: dt.datetime | str | None, zone_name: str | None = None) -> str:
    parsed = _parsed(value)
    if isinstance(parsed, str):
        return parsed
    if not isinstance(parsed, dt.datetime):
        return ""
    return timezones.moment_label(parsed, _zone(zone_name))


@register.filter
def day_label(value: dt.date | dt.datetime | str | None, zone_name: str | None = None) -> str:
    parsed = _parsed(value)
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, dt.datetime):
        return timezones.moment_day_label(parsed, _zone(zone_name))
    if isinstance(parsed, dt.date):
        return timezones.day_label(parsed)
    return ""


@register.filter
def clock_label(value: dt.datetime | dt.time | None, zone_name: str | None = None) -> str:
    if isinstance(value, dt.datetime):
        return timezones.clock_label(value.astimezone(_zone(zone_name)))
    if isinstance(value, dt.time):
        return timezones.clock_label(value)
    return ""


@register.filter
def time_zone_label(value: str | None) -> str:
    return timezones.time_zone_label(str(value)) if value else ""
