"""What each app contributes to a person's data export.

Accounts builds the export but may not import the apps below it (see DESIGN.md), so each app
registers a section here when it starts; the export asks every registered section about the
person. Sections return plain JSON-ready data (str, int, float, bool, None, lists, dicts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ExportSection = Callable[[Any], Any]  # called with the user; returns JSON-ready data

_sections: dict[str, ExportSection] = {}


def register_export_section(name: str, section: ExportSection) -> None:
    _sections[name] = section


def export_sections() -> dict[str, ExportSection]:
    return dict(sorted(_sections.items()))
