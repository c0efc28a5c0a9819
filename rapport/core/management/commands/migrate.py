"""Django's ``migrate``, which also (through ``post_migrate``) installs every declared SQLite
trigger again; its own pre-migration checks skip the trigger check, so a missing trigger never
stops the command that restores it (see rapport.core.triggers)."""

from typing import Any

from django.core.management.commands import migrate

from rapport.core.triggers import migrating


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with migrating():
            super().handle(*args, **options)
