"""What an import did: a summary and one entry per problem, each with its line and field."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with one row. ``line`` is where the row starts in the file (1 is the
    first line, the CSV header included); ``field`` is named as the file names it (a CSV column
    such as ``licence_1_number``, or a JSON path such as ``licences[0].number``), or is empty
    when the problem concerns the whole row."""

    line: int
    field: str
    message: str
    external_id: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    """The outcome of one import. A refused file (``file_problems``) imports nothing; otherwise
    each row was either written whole (created or updated) or not at all (failed)."""

    file_format: str
    created: int = 0
    updated: int = 0
    failed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    # Lines of rows that failed, in file order (several problems may share one row).
    failed_lines: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.failed

    @property
    def written(self) -> int:
        return self.created + self.updated

    @property
    def refused(self) -> bool:
        return bool(self.file_problems)

    @property
    def ok(self) -> bool:
        return not self.file_problems and not self.failed

    def summary(self) -> str:
        if self.file_problems:
            return "The file was refused; nothing was imported."
        return (
            f"{self.rows:,} row{'s' if self.rows != 1 else ''}: {self.created:,} created, "
            f"{self.updated:,} updated, {self.failed:,} failed."
        )

    def problems_by_line(self) -> list[tuple[int, list[RowProblem]]]:
        """The problems grouped by row, in file order (for the page's table)."""
        grouped: dict[int, list[RowProblem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.line, []).append(problem)
        return sorted(grouped.items())
