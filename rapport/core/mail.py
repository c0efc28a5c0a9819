"""Development e-mail: every message as its own file under ``var/mail/``.

Django's console backend scrolls e-mails past in the server's output, mixed with three
processes' logs, and its file backend appends every message of a connection to one ``.log``.
A newcomer trying the demo needs to find "the e-mail I was just sent" and open it: one ``.eml``
file per message (the whole MIME message, attachments included), which any mail program opens
and any text editor shows, calendar file and all. ``scripts/serve-demo`` chooses this backend;
tests and production never do.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


def message_file_name(now: dt.datetime) -> str:
    """``<UTC time to the microsecond>-<8 random hex digits>.eml``: sorted by name is sorted by
    time, and two messages in the same microsecond (two processes) still get two files."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}-{secrets.token_hex(4)}.eml"


class MessageFileBackend(BaseEmailBackend):
    """Writes each message to ``EMAIL_FILE_PATH`` (``var/mail/`` by default) as one ``.eml``."""

    def __init__(
        self,
        file_path: str | os.PathLike[str] | None = None,
        fail_silently: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        written = 0
        for message in email_messages:
            try:
                self.write_message(message)
            except OSError:
                if not self.fail_silently:
                    raise
            else:
                written += 1
        return written

    def write_message(self, message: EmailMessage) -> Path:
        """Writes atomically (a temporary file renamed into place), so whoever watches the
        folder never opens half a message."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / message_file_name(dt.datetime.now(dt.UTC))
        # The temporary name does not end in .eml, so a reader listing *.eml skips it.
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(message.message().as_bytes())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target
