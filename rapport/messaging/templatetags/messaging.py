"""Template helpers of the messaging pages."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import template

from rapport.core.timezones import moment_label
from rapport.messaging.attachments import size_label

register = template.Library()


@register.simple_tag
def moment(value: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """A message's time in the reader's zone (core's wording)."""
    return moment_label(value, zone)


@register.filter
def file_size(value: int) -> str:
    """An attachment's size in words ("1.2 MB", "340 KB")."""
    return size_label(int(value))
