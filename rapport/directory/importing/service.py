"""The bulk import's one entry point, used by `rapport import_therapists` and the staff page."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.directory.importing.cleaning import Reference, RowInvalid, clean_row
from rapport.directory.importing.columns import csv_field_name, json_field_name
from rapport.directory.importing.parts import import_parts
from rapport.directory.importing.reading import (
    FORMATS,
    FileRefused,
    Path,
    Row,
    check_file,
    read_rows,
)
from rapport.directory.importing.report import ImportReport, RowProblem
from rapport.directory.importing.writing import WriteResult, row_write
from rapport.directory.models import TherapistProfile
from rapport.directory.services import REVIEW_PERMISSION, search_index_version_bump

VERIFIED_REASON = "Verified by staff with a bulk import."
# Rows are committed in small groups, each row inside its own savepoint (a nested transaction:
# a bad row still writes nothing and the good rows around it land). One commit per row would
# write the same index pages to the log again for every row, and costs a third of an import's
# time; a group is small and short, so other writers never wait on an import for long.
COMMIT_EVERY_ROWS = 50
COMMIT_EVERY_SECONDS = 0.25


class _CommitGroup:
    """The transaction that the rows' savepoints sit in, committed every COMMIT_EVERY_ROWS rows
    or COMMIT_EVERY_SECONDS, whichever comes first."""

    def __init__(self) -> None:
        self._atomic: Any = None
        self._rows = 0
        self._started = 0.0

    def open(self) -> None:
        if self._atomic is None:
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self._rows = 0
            self._started = time.monotonic()

    def row_done(self) -> None:
        self._rows += 1
        if (
            self._rows >= COMMIT_EVERY_ROWS
            or time.monotonic() - self._started >= COMMIT_EVERY_SECONDS
        ):
            self.close()

    def close(self) -> None:
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(None, None, None)

    def abort(self) -> None:
        """Roll back the rows of the open group (an error no row caught: the import stops)."""
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            error = RuntimeError("import stopped")
            atomic.__exit__(RuntimeError, error, None)


def therapists_import(
    *,
    source: IO[bytes],
    file_format: str,
    verified_by: User | None = None,
    max_bytes: int | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Create or update the listings a CSV or JSON Lines file describes (docs/import-format.md).

    Each row is keyed by its ``external_id``: a row whose id was imported before updates that
    listing, never adds a second one, and the same id twice in one file is refused on its second
    line. Each row is written in its own transaction (a savepoint inside a commit group, see
    COMMIT_EVERY_ROWS), whole or not at all; the report names the line and field of every
    problem. A file that is not UTF-8, is over ``max_bytes`` or has a
    bad CSV header is refused before anything is written.

    New listings are pending review and not listed; ``verified_by`` (a licence reviewer) vouches
    for every row instead, recording a verification decision for each as the licence queue does.
    Side effects: per new listing, a therapist account without a usable password and, after the
    row commits, an invitation e-mail to claim it (set a password, the second factor, review,
    submit); the rows of other apps' import parts (booking's weekly availability); one search
    index version bump at the end when anything was written.
    Raises PermissionDenied when ``verified_by`` may not review licences.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    report = ImportReport(file_format=file_format)
    if verified_by is not None and not (
        verified_by.is_active and verified_by.has_perm(REVIEW_PERMISSION)
    ):
        raise PermissionDenied("Only licence reviewers can import rows as verified.")
    if file_format not in FORMATS:
        report.file_problems.append(f"Unknown file format {file_format!r}: use csv or jsonl.")
        return report
    try:
        check_file(source, max_bytes=max_bytes)
    except FileRefused as refused:
        report.file_problems.extend(refused.problems)
        return report

    name_field = csv_field_name if file_format == "csv" else json_field_name
    reference = Reference.load()
    first_line_of: dict[str, int] = {}
    # Read once, not per row. A listing another import creates meanwhile with the same id is
    # refused by the unique column and reported on its row.
    imported: dict[str, int] = {
        external_id: pk
        for external_id, pk in TherapistProfile.objects.filter(
            external_id__isnull=False
        ).values_list("external_id", "pk")
        if external_id
    }
    written_by_part: dict[str, list[int]] = {}
    group = _CommitGroup()
    try:
        for row in read_rows(source, file_format=file_format):
            group.open()
            result = _import_row(
                row=row,
                report=report,
                reference=reference,
                first_line_of=first_line_of,
                imported=imported,
                name_field=name_field,
                verified_by=verified_by,
                now=now,
            )
            if result is not None:
                imported[result.therapist.external_id or ""] = result.therapist.pk
                for name in result.parts_written:
                    written_by_part.setdefault(name, []).append(result.therapist.pk)
            group.row_done()
            if progress is not None:
                progress(report)
        group.close()
    except FileRefused as refused:
        # Only the header can refuse the file, before any row is read.
        group.close()
        report.file_problems.extend(refused.problems)
    except BaseException:
        group.abort()
        raise
    finally:
        for part in import_parts():
            if part.finish is not None and written_by_part.get(part.name):
                part.finish(written_by_part[part.name])
        if report.written:
            # Once per import, not per row: every process rebuilds its index once.
            search_index_version_bump()
        report.seconds = time.perf_counter() - started
    return report


def _import_row(
    *,
    row: Row,
    report: ImportReport,
    reference: Reference,
    first_line_of: dict[str, int],
    imported: dict[str, int],
    name_field: Callable[[Path], str],
    verified_by: User | None,
    now: dt.datetime,
) -> WriteResult | None:
    external_id = ""
    problems = list(row.problems)
    if row.values is not None:
        raw_id = row.values.get("external_id")
        external_id = raw_id.strip() if isinstance(raw_id, str) else ""
        if external_id:
            if external_id in first_line_of:
                problems = [
                    (
                        ("external_id",),
                        f'The external id "{external_id}" is already on line '
                        f"{first_line_of[external_id]}; give each therapist one row.",
                    )
                ]
            else:
                first_line_of[external_id] = row.line
    if row.values is not None and not problems:
        try:
            clean = clean_row(row.values, reference)
            with transaction.atomic():
                result = row_write(
                    row=clean,
                    existing_id=imported.get(clean.external_id),
                    verified_by=verified_by,
                    reason=VERIFIED_REASON,
                    now=now,
                )
        except RowInvalid as invalid:
            problems = invalid.problems
        except IntegrityError:
            # The database's own rules are the last wall (constraints the checks above mirror);
            # a row that hits one is reported, never half-written.
            if external_id not in imported and (
                TherapistProfile.objects.filter(external_id=external_id).exists()
            ):
                problems = [
                    (
                        ("external_id",),
                        "Another import added this listing while this one ran; import the file "
                        "again to update it.",
                    )
                ]
            else:
                problems = [((), "This row breaks a rule of the database and was not saved.")]
        else:
            if result.created:
                report.created += 1
            else:
                report.updated += 1
            return result
    report.failed += 1
    report.failed_lines.append(row.line)
    for path, message in problems or [((), "This row could not be read.")]:
        report.problems.append(
            RowProblem(
                line=row.line, field=name_field(path), message=message, external_id=external_id
            )
        )
    return None
