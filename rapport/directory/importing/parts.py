"""What the apps above the directory add to an imported row.

The import lives in the directory, which may not import the apps that build on it. So an app
with its own per-therapist data (booking's weekly availability) registers an *import part* in
``AppConfig.ready()``: the fields it reads from a row, how it checks them, and how it writes
them through its own services. The import calls each part inside the row's transaction, so a
part that refuses its value leaves nothing of the row behind, and the reader accepts the
part's fields in a CSV header exactly as it accepts the directory's own.

A part's ``clean`` receives the row's raw values (a CSV cell is text; a JSON value may be text,
a number, a list or an object), returns what ``write`` needs, or ``UNCHANGED`` when the row
does not mention the part's fields (an update then leaves that data as it is). Both raise
``ValidationError({field: [message, ...]})`` naming the part's own fields. ``finish``, when
given, runs once after the last row with the ids of the therapists whose part was written:
the place for work that would be wasteful per row (booking refreshes the free-consultation
facts of the listings that are live).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from rapport.directory.models import TherapistProfile


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


@dataclass(frozen=True, slots=True)
class ImportPart:
    name: str
    # The top-level fields this part reads (CSV columns, JSON keys); none is required.
    fields: tuple[str, ...]
    clean: Callable[[Mapping[str, Any]], Any]
    # (therapist, value, created): ``created`` says the listing is new in this import, so
    # there is nothing of it to compare with or replace.
    write: Callable[[TherapistProfile, Any, bool], None]
    finish: Callable[[list[int]], None] | None = None


_parts: dict[str, ImportPart] = {}


def register_import_part(part: ImportPart) -> None:
    """Registering a name again replaces its part."""
    _parts[part.name] = part


def import_parts() -> list[ImportPart]:
    return [part for _, part in sorted(_parts.items())]


def import_part_fields() -> dict[str, str]:
    """Each field a registered part reads, with the part's name."""
    return {field: part.name for part in import_parts() for field in part.fields}
