"""`rapport create_staff EMAIL`: the first staff accounts of a deployment (or the demo).

    rapport create_staff reviewer@example.org --permission directory.review_licences
    rapport create_staff admin@example.org --superuser

The password is asked for twice, or read from the file named by --password-file (for scripts).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.accounts.services import staff_account_create


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
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument("--password-file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        password_file: Path | None = options["password_file"]
        if password_file is not None:
            try:
                password = password_file.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise CommandError(f"Cannot read {password_file}: {error.strerror}") from error
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The two passwords differ; nothing was created.")
        try:
            user = staff_account_create(
                email=options["email"],
                password=password,
                permissions=tuple(options["permission"]),
                superuser=options["superuser"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Created staff account {user.email}. Sign in at /accounts/login/; you will be asked "
            "to set up two-factor authentication before any staff page opens."
        )
