"""Errors of care's services that pages and the API turn into clear answers."""

from __future__ import annotations

from collections.abc import Sequence


class CheckInError(Exception):
    """Base of the check-in errors; ``message`` is written for the client."""

    status = 409
    title = "This check-in cannot take answers"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CheckInAlreadyAnswered(CheckInError):
    title = "This check-in was already answered"


class CheckInClosed(CheckInError):
    """Expired, replaced by a newer request, or withdrawn when the engagement paused or ended."""

    status = 410
    title = "This check-in has closed"


class CheckInAnswersInvalid(CheckInError):
    """The answers were refused; ``problems`` pairs a path ("alliance/bond-at-ease",
    "goals/2") with what is wrong there."""

    status = 422
    title = "Some answers could not be used"

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.problems))
