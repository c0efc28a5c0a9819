"""`rapport load_instrument FILE [FILE...] [--fhir-questionnaire Q.json --scoring S.json]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rapport.care import instruments
from rapport.care.fhir_import import questionnaire_instrument
from rapport.care.models import InstrumentVersion
from rapport.care.services import instrument_store

Problems = list[tuple[str, str]]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise instruments.DefinitionError(
            [(path.name, f"cannot be read: {error.strerror}")]
        ) from None


def _in_file(name: str, problems: Problems) -> Problems:
    return [(f"{name}: {where}" if where else name, message) for where, message in problems]


class Command(BaseCommand):
    help = (
        "Load instrument definitions (docs/instruments.md): each FILE in Rapport's format, and/or "
        "a FHIR R4 Questionnaire with its scoring part. Every file is checked first; then all "
        "are stored together, or none is. The same content again is a no-op; a changed "
        "definition needs a new version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="definition files (JSON)")
        parser.add_argument(
            "--fhir-questionnaire",
            type=Path,
            metavar="Q.json",
            help="a FHIR R4 Questionnaire giving the items (needs --scoring)",
        )
        parser.add_argument(
            "--scoring",
            type=Path,
            metavar="S.json",
            help="the scoring part that goes with --fhir-questionnaire",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"]
        questionnaire: Path | None = options["fhir_questionnaire"]
        scoring: Path | None = options["scoring"]
        if (questionnaire is None) != (scoring is None):
            raise CommandError("--fhir-questionnaire and --scoring go together.")
        if not files and questionnaire is None:
            raise CommandError("Name a definition file, or --fhir-questionnaire with --scoring.")

        checked: list[tuple[str, instruments.Instrument]] = []
        problems: Problems = []
        for path in files:
            try:
                text = _read(path)
            except instruments.DefinitionError as error:
                problems += error.problems
                continue
            try:
                checked.append((path.name, instruments.parse_definition(text)))
            except instruments.DefinitionError as error:
                problems += _in_file(path.name, list(error.problems))
        if questionnaire is not None and scoring is not None:
            try:
                checked.append(
                    (
                        questionnaire.name,
                        questionnaire_instrument(_read(questionnaire), _read(scoring)),
                    )
                )
            except instruments.DefinitionError as error:
                problems += error.problems
        problems += self._version_problems(checked)
        if problems:
            for where, message in problems:
                self.stderr.write(f"{where}: {message}" if where else message)
            raise CommandError(
                f"Nothing was loaded: {len(problems)} problem{'s' if len(problems) != 1 else ''}."
            )

        with transaction.atomic():
            try:
                results = [instrument_store(instrument=i)[1] for _, i in checked]
            except instruments.DefinitionError as error:  # loaded by someone else meanwhile
                raise CommandError(f"Nothing was loaded: {error}") from None
        for (_, instrument), created in zip(checked, results, strict=True):
            said = "Loaded" if created else "Already loaded:"
            self.stdout.write(f"{said} {instrument.slug} version {instrument.version}")

    @staticmethod
    def _version_problems(checked: list[tuple[str, instruments.Instrument]]) -> Problems:
        """A slug and version already stored, or given twice here, with other content."""
        problems: Problems = []
        known: list[instruments.Instrument] = []
        for name, instrument in checked:
            try:
                instruments.check_version(instrument, known=known)
            except instruments.DefinitionError as error:
                problems += _in_file(name, list(error.problems))
            known.append(instrument)
            stored = InstrumentVersion.objects.filter(
                slug=instrument.slug, version=instrument.version
            ).first()
            if stored is not None and stored.content_hash != instrument.content_hash:
                problems.append(
                    (
                        f"{name}: version",
                        f"version {instrument.version} of {instrument.slug} is already loaded "
                        "with different content: a changed definition needs a new version",
                    )
                )
        return problems
