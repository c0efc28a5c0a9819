"""`rapport import_therapists FILE [--format csv|jsonl] [--verified --reviewer EMAIL]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.accounts.models import User
from rapport.directory.importing import ImportReport, therapists_import

_FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class Command(BaseCommand):
    help = (
        "Create or update therapist listings from a CSV or JSON Lines file "
        "(docs/import-format.md). Rows are matched by external_id, so running it again updates "
        "instead of duplicating. New listings wait for review unless --verified; each new "
        "therapist gets an e-mail inviting them to claim their listing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV or JSON Lines file")
        parser.add_argument(
            "--format",
            choices=("csv", "jsonl"),
            help="the file's format (default: from its extension, .csv or .jsonl)",
        )
        parser.add_argument(
            "--verified",
            action="store_true",
            help="staff checked these licences: list the rows as verified (needs --reviewer)",
        )
        parser.add_argument(
            "--reviewer",
            metavar="EMAIL",
            help="the licence reviewer's account the verification decisions are recorded under",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        file_format = options["format"] or _FORMAT_BY_SUFFIX.get(path.suffix.lower())
        if file_format is None:
            raise CommandError("Say --format csv or --format jsonl (the extension does not tell).")
        reviewer = None
        if options["verified"]:
            if not options["reviewer"]:
                raise CommandError(
                    "--verified needs --reviewer EMAIL: the licence reviewer vouching for the rows."
                )
            reviewer = User.objects.filter(email__iexact=options["reviewer"].strip()).first()
            if reviewer is None:
                raise CommandError(f"No account {options['reviewer']}.")
        elif options["reviewer"]:
            raise CommandError("--reviewer goes with --verified.")
        verbosity: int = options["verbosity"]

        def progress(report: ImportReport) -> None:
            if verbosity >= 2 and report.rows % 1000 == 0:
                self.stdout.write(f"  {report.rows:,} rows")

        try:
            with path.open("rb") as source:
                report = therapists_import(
                    source=source, file_format=file_format, verified_by=reviewer, progress=progress
                )
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        if report.refused:
            raise CommandError(
                "The file was refused; nothing was imported.\n" + "\n".join(report.file_problems)
            )
        for problem in report.problems:
            self.stderr.write(str(problem))
        if verbosity >= 1:
            style = self.style.SUCCESS if report.ok else self.style.WARNING
            self.stdout.write(style(f"{report.summary()} ({report.seconds:.1f} s)"))
        if report.failed:
            raise CommandError(
                f"{report.failed:,} row{'s' if report.failed != 1 else ''} not imported "
                "(see above); the others were.",
                returncode=1,
            )
