"""`rapport create_staff EMAIL`: the first staff accounts of a deployment (or the demo).

    rapport create_staff reviewer@example.org --permission directory.review_licences
    rapport create_staff videos@example.org --video-reviewer --password-env STAFF_PASSWORD
    rapport create_staff admin@example.org --superuser --password-file /run/secrets/admin

The password is asked for twice at the terminal, or, for scripted set-up, read from the
environment variable named by --password-env or the file named by --password-file (surrounding
whitespace trimmed). It is never an argument itself: arguments show in the process list and the
shell's history.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.accounts.services import staff_account_create

# The permission the video review queue (/staff/videos/) asks for: rapport.videos.access.
# MODERATE_PERMISSION, named here as text because accounts sit below videos (a test holds the
# two to the same value).
VIDEO_REVIEW_PERMISSION = "videos.moderate_videos"
# The queue itself, where a new video reviewer's sign-in link leads (a path for the same reason;
# tested against the URL's name).
VIDEO_REVIEW_QUEUE_PATH = "/staff/videos/"
SIGN_IN_PATH = "/accounts/login/"


class Command(BaseCommand):
    help = "Create a staff account with a confirmed e-mail address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--permission",
            action="append",
            default=[],
            help="app_label.codename to grant, e.g. directory.review_licences (repeatable)",
        )
        parser.add_argument(
            "--video-reviewer",
            action="store_true",
            help=f"grant the video review queue's permission ({VIDEO_REVIEW_PERMISSION})",
        )
        parser.add_argument("--superuser", action="store_true")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-env",
            metavar="NAME",
            help="read the password from this environment variable",
        )
        source.add_argument("--password-file", type=Path, help="read the password from this file")

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(options)
        permissions = list(options["permission"])
        if options["video_reviewer"] and VIDEO_REVIEW_PERMISSION not in permissions:
            permissions.append(VIDEO_REVIEW_PERMISSION)
        try:
            user = staff_account_create(
                email=options["email"],
                password=password,
                permissions=tuple(permissions),
                superuser=options["superuser"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        # The sign-in link leads on to the queue the account is for, past the second-factor
        # set-up (rapport.accounts.middleware).
        sign_in = SIGN_IN_PATH
        if options["video_reviewer"]:
            sign_in = f"{SIGN_IN_PATH}?{urlencode({'next': VIDEO_REVIEW_QUEUE_PATH}, safe='/')}"
        self.stdout.write(
            f"Created staff account {user.email}. Sign in at {sign_in}; you will be asked "
            "to set up two-factor authentication before any staff page opens."
        )

    @staticmethod
    def _password(options: dict[str, Any]) -> str:
        name: str | None = options["password_env"]
        password_file: Path | None = options["password_file"]
        if name is not None:
            password = os.environ.get(name, "").strip()
            if not password:
                raise CommandError(
                    f"The environment variable {name} is not set or is empty; nothing was created."
                )
            return password
        if password_file is not None:
            try:
                password = password_file.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise CommandError(
                    f"Cannot read {password_file}: {error.strerror}; nothing was created."
                ) from error
            except UnicodeDecodeError as error:
                raise CommandError(
                    f"{password_file} is not UTF-8 text; nothing was created."
                ) from error
            if not password:
                raise CommandError(f"{password_file} is empty; nothing was created.")
            return password
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("The two passwords differ; nothing was created.")
        return password
