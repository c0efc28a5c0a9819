"""`rapport rotate_encryption_keys [--check] [--batch-size N]`: move health data to the newest key.

Rotation, step by step: generate a key, put it first in FIELD_ENCRYPTION_KEYS (keep the old
ones after it) and restart every app server and worker; run this command; when
`rapport rotate_encryption_keys --check` reports nothing stale, remove the old key and restart.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.core.crypto import extra_secrets
from rapport.core.fields import (
    encrypted_values_count,
    encrypted_values_rotate,
    models_with_encrypted_fields,
)


def _batch_size(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if not 1 <= number <= 100_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100000, got {number}")
    return number


def _values(count: int) -> str:
    return f"{count} value" if count == 1 else f"{count} values"


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field of every model under the newest key in "
        "FIELD_ENCRYPTION_KEYS; with --check, only report values not yet under it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; count values not under the newest key (exit status 1 if any).",
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=500,
            help="Rows re-encrypted per transaction (default 500).",
        )

    def handle(self, *args: Any, check: bool, batch_size: int, **options: Any) -> None:
        if check:
            self._check(batch_size)
            return
        for model, field_names in models_with_encrypted_fields():
            rotated = encrypted_values_rotate(
                model=model, field_names=field_names, batch_size=batch_size
            )
            self.stdout.write(f"{model._meta.label}: {_values(rotated)} re-encrypted")
        for secrets in extra_secrets():
            self.stdout.write(f"{secrets.label}: {_values(secrets.rotate())} re-encrypted")

    def _check(self, batch_size: int) -> None:
        stale_total = undecryptable_total = 0
        for model, field_names in models_with_encrypted_fields():
            counts = encrypted_values_count(
                model=model, field_names=field_names, batch_size=batch_size
            )
            line = (
                f"{model._meta.label}: {_values(counts.current)} under the newest key, "
                f"{counts.stale} stale"
            )
            if counts.undecryptable:
                line += f", {counts.undecryptable} that no configured key opens"
            self.stdout.write(line)
            stale_total += counts.stale
            undecryptable_total += counts.undecryptable
        for secrets in extra_secrets():
            current, stale, undecryptable = secrets.count()
            line = f"{secrets.label}: {_values(current)} under the newest key, {stale} stale"
            if undecryptable:
                line += f", {undecryptable} that no configured key opens"
            self.stdout.write(line)
            stale_total += stale
            undecryptable_total += undecryptable
        if undecryptable_total:
            raise CommandError(
                f"{_values(undecryptable_total)} cannot be decrypted with any key in "
                "FIELD_ENCRYPTION_KEYS: restore the key they were written under.",
                returncode=1,
            )
        if stale_total:
            raise CommandError(
                f"{_values(stale_total)} not yet under the newest key: "
                "run `rapport rotate_encryption_keys`.",
                returncode=1,
            )
