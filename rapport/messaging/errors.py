"""Refusals of messaging's services that pages and the API turn into clear answers.

Nothing is stored when any of them is raised.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence


class MessagingError(Exception):
    status = 400
    title = "This message was not sent"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoReasonToWrite(MessagingError):
    """No open engagement and no booked consultation joins these two people (any more): the
    same answer as a thread that does not exist, so nothing can be probed."""

    status = 404
    title = "Not found"


class DailyCapReached(MessagingError):
    """The client sent as many messages in the last 24 hours as the therapist accepts a day."""

    status = 429
    title = "Daily message limit reached"

    def __init__(self, message: str, *, resets_at: dt.datetime) -> None:
        super().__init__(message)
        self.resets_at = resets_at

    def retry_after(self, now: dt.datetime) -> str:
        """Whole seconds until the reset for ``Retry-After``, rounded up (never an answer
        that invites a retry a moment too early), at least 1: the page and the API alike."""
        return str(max(math.ceil((self.resets_at - now).total_seconds()), 1))


class MessageInvalid(MessagingError):
    """The message cannot be sent as written; ``problems`` pairs a field ("body",
    "about_scheduling") with what is wrong there."""

    status = 422
    title = "This message cannot be sent as written"

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(message for _, message in self.problems))
