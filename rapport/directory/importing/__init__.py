"""Bulk import of therapist listings from CSV or JSON Lines (group practices, migrations).

``therapists_import`` is the entry point (the `rapport import_therapists` command and the staff
upload page call it); ``register_import_part`` lets apps above the directory add their own
fields to a row (booking's weekly availability). The format is docs/import-format.md.
"""

from rapport.directory.importing.parts import UNCHANGED, ImportPart, register_import_part
from rapport.directory.importing.report import ImportReport, RowProblem
from rapport.directory.importing.service import therapists_import

__all__ = [
    "UNCHANGED",
    "ImportPart",
    "ImportReport",
    "RowProblem",
    "register_import_part",
    "therapists_import",
]
