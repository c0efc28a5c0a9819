"""Reading an import file into rows of raw values, one row at a time.

Nothing here touches the database. The whole file is first checked in one streaming pass (its
size and that it is UTF-8 text), so a file in the wrong encoding is refused before any row is
written rather than half-way through; then rows are read one by one, never the whole file at
once. A malformed line (a broken CSV quote, a line that is not JSON) becomes a problem of that
row only; a bad CSV header refuses the file, since every row would be read wrongly.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from rapport.directory.importing.columns import (
    GROUPS,
    PROFILE_COLUMNS,
    group_column,
)
from rapport.directory.importing.parts import import_part_fields

FORMATS = ("csv", "jsonl")
_CHUNK = 64 * 1024
# Longer than any real row (a long "about" text is a few thousand characters); a bound keeps a
# file without line breaks from being read into memory whole. (CSV cells have the csv module's
# own bound, 131,072 characters.)
MAX_LINE_CHARACTERS = 400_000

Path = tuple[str | int, ...]


@dataclass(slots=True)
class Row:
    """One row: where it starts, its values (None when the line could not be read at all),
    and the problems found while reading it."""

    line: int
    values: dict[str, Any] | None
    problems: list[tuple[Path, str]] = field(default_factory=list)


class FileRefused(Exception):
    """The file cannot be imported at all; the messages say why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check_file(source: IO[bytes], *, max_bytes: int | None) -> None:
    """Refuse a file that is empty, larger than ``max_bytes``, or not UTF-8 text, naming the
    first line with a byte that is not UTF-8. Leaves ``source`` at its start."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    size = 0
    lines_before = 0
    source.seek(0)
    while True:
        chunk = source.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            source.seek(0)
            raise FileRefused(
                [f"The file is larger than {size_label(max_bytes)}; split it into smaller files."]
            )
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            line = lines_before + chunk[: max(error.start, 0)].count(b"\n") + 1
            source.seek(0)
            raise FileRefused([_not_utf8(line)]) from None
        lines_before += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        source.seek(0)
        raise FileRefused([_not_utf8(lines_before + 1)]) from None
    source.seek(0)
    if size == 0:
        raise FileRefused(["The file is empty."])


def _not_utf8(line: int) -> str:
    return (
        f"The file is not UTF-8 text (line {line} has characters in another encoding). "
        'Save it as UTF-8 ("CSV UTF-8" in spreadsheet programs) and upload it again.'
    )


def size_label(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:g} MB"
    return f"{size / 2**10:g} KB"


def _text(source: IO[bytes], *, newline: str) -> io.TextIOWrapper:
    # utf-8-sig: spreadsheet programs often start a UTF-8 file with a byte-order mark.
    return io.TextIOWrapper(source, encoding="utf-8-sig", newline=newline)


def _suggestion(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _known_top_level() -> list[str]:
    return [column.name for column in PROFILE_COLUMNS] + list(import_part_fields())


# --- CSV -------------------------------------------------------------------------------------


def read_csv(source: IO[bytes]) -> Iterator[Row]:
    """Rows of a CSV file whose first line names the columns. Raises FileRefused for a header
    that is missing, names a column twice, names an unknown column or leaves out a required
    one."""
    text = _text(source, newline="")
    try:
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise FileRefused(["The file is empty."]) from None
        except csv.Error as error:
            raise FileRefused([f"Line 1 (the header) cannot be read: {error}."]) from None
        columns = _csv_columns(header)
        yield from _csv_rows(reader, columns)
    finally:
        # The caller owns the file: closing the text wrapper must not close it.
        text.detach()


def _csv_columns(header: list[str]) -> list[tuple[str, ...]]:
    """Each header cell as a path into a row's values; FileRefused listing every problem."""
    problems: list[str] = []
    paths: list[tuple[str, ...]] = []
    seen: set[str] = set()
    known = _known_top_level()
    known_set = set(known)
    for position, cell in enumerate(header, start=1):
        name = cell.strip().lower()
        if not name:
            problems.append(f"Column {position} of the header has no name.")
            paths.append(("",))
            continue
        if name in seen:
            problems.append(f'The header names "{name}" twice.')
        seen.add(name)
        if name in known_set:
            paths.append((name,))
            continue
        grouped = group_column(name)
        if grouped is not None:
            group, index, key = grouped
            paths.append((group, str(index), key))
            continue
        group_names = [f"{prefix}_1_{key}" for prefix, keys in GROUPS.values() for key in keys]
        problems.append(
            f'Unknown column "{name}"{_suggestion(name, known + group_names)}. '
            "docs/import-format.md lists every column."
        )
        paths.append(("",))
    missing = [
        column.name for column in PROFILE_COLUMNS if column.required and column.name not in seen
    ]
    if missing:
        problems.append("The header lacks required columns: " + ", ".join(missing) + ".")
    if problems:
        raise FileRefused(problems)
    return paths


def _csv_rows(reader: Any, columns: list[tuple[str, ...]]) -> Iterator[Row]:
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Row(
                line=start,
                values=None,
                problems=[((), f"This line cannot be read as CSV: {error}.")],
            )
            if "unexpected end of data" in str(error) or "field larger" in str(error):
                return
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (and lines of empty cells) separate nothing
        if len(cells) != len(columns):
            yield Row(
                line=start,
                values=None,
                problems=[
                    (
                        (),
                        f"This line has {len(cells)} values but the header has "
                        f"{len(columns)} columns (check for a missing or extra comma or quote).",
                    )
                ],
            )
            continue
        values: dict[str, Any] = {}
        for path, cell in zip(columns, cells, strict=True):
            if len(path) == 1:
                values[path[0]] = cell
            else:
                group, index, key = path
                items = values.setdefault(group, {})
                items.setdefault(int(index), {})[key] = cell
        for group in GROUPS:
            if group in values:
                # Numbered groups in number order, leaving out groups whose cells are all empty
                # (a file with room for three offices, for a therapist with one).
                numbered = values[group]
                values[group] = [
                    numbered[index]
                    for index in sorted(numbered)
                    if any(str(cell).strip() for cell in numbered[index].values())
                ]
        yield Row(line=start, values=values)


# --- JSON Lines ------------------------------------------------------------------------------


def read_jsonl(source: IO[bytes]) -> Iterator[Row]:
    """Rows of a JSON Lines file: one JSON object per line; blank lines are skipped."""
    text = _text(source, newline="\n")
    try:
        known = _known_top_level()
        known_set = set(known)
        for line_number, line in enumerate(_bounded_lines(text), start=1):
            if line is None:
                yield Row(
                    line=line_number,
                    values=None,
                    problems=[
                        ((), f"This line is longer than {MAX_LINE_CHARACTERS:,} characters.")
                    ],
                )
                continue
            if not line.strip():
                continue
            try:
                # Decimal, never float: "120.10" must stay 120.10, not 120.09999….
                value = json.loads(line, parse_float=Decimal)
            except (json.JSONDecodeError, RecursionError) as error:
                message = getattr(error, "msg", "too deeply nested")
                column = getattr(error, "colno", None)
                at = f" (at character {column})" if column else ""
                yield Row(
                    line=line_number,
                    values=None,
                    problems=[((), f"This line is not valid JSON: {message}{at}.")],
                )
                continue
            if not isinstance(value, dict):
                yield Row(
                    line=line_number,
                    values=None,
                    problems=[
                        ((), "Each line must be one JSON object ({...}) describing a therapist.")
                    ],
                )
                continue
            problems: list[tuple[Path, str]] = []
            for key in value:
                if key not in known_set and key not in GROUPS:
                    problems.append(
                        (
                            (str(key),),
                            f"Unknown field{_suggestion(str(key), known + list(GROUPS))}.",
                        )
                    )
            yield Row(line=line_number, values=value, problems=problems)
    finally:
        text.detach()


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str | None]:
    """Lines of ``text``; None for a line over the bound (the rest of it is skipped)."""
    limit = MAX_LINE_CHARACTERS
    while True:
        line = text.readline(limit)
        if not line:
            return
        if len(line) >= limit and not line.endswith("\n"):
            while True:
                rest = text.readline(limit)
                if not rest or rest.endswith("\n"):
                    break
            yield None
            continue
        yield line


def read_rows(source: IO[bytes], *, file_format: str) -> Iterator[Row]:
    if file_format == "csv":
        return read_csv(source)
    if file_format == "jsonl":
        return read_jsonl(source)
    raise FileRefused([f"Unknown file format {file_format!r}: use csv or jsonl."])
