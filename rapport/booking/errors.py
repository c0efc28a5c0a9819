"""What can go wrong when booking, as exceptions the pages and the API turn into clear answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class BookingError(Exception):
    """Base class: ``message`` is written for the person who made the request."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SlotUnavailable(BookingError):
    """The time asked for was never bookable: in the past, inside the minimum notice, beyond the
    horizon, outside availability, inside a DST gap, not on the slot grid, or over the daily cap."""


@dataclass(frozen=True)
class FreeTime:
    starts_at: dt.datetime
    ends_at: dt.datetime


class SlotTaken(BookingError):
    """Someone else booked the time first (the database refused the overlap). ``next_free``
    offers other times; ``time_zone`` is the zone of the person they are offered to."""

    def __init__(
        self,
        message: str,
        *,
        next_free: list[FreeTime] | None = None,
        time_zone: str | None = None,
    ) -> None:
        super().__init__(message)
        self.next_free: list[FreeTime] = next_free or []
        self.time_zone = time_zone


class InvalidTransition(BookingError):
    """The appointment is not in a state that allows this (e.g. cancelling a cancelled one)."""


class BadToken(BookingError):
    """A link from an e-mail was tampered with, expired, or made for another purpose."""
