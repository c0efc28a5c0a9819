"""The one error a video upload or caption file is refused with.

Its message is for the therapist: it says what is wrong with *their file* in plain words,
never a stack trace or an FFmpeg error code (those go to the log).
"""

from __future__ import annotations


class VideoRejected(Exception):
    """The file cannot become a video introduction; ``message`` says why, for the uploader."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        # A short stable word for the API and the tests ("too_long", "not_video", ...).
        self.code = code
