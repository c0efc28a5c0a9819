"""What each app contributes to a person's data export, and what it does when they leave.

Accounts builds the export and deletes accounts, but may not import the apps below it (apps
import only from the apps above them), so each app registers here when it starts:

- an *export section*: called with the user, returns plain JSON-ready data (str, int, float,
  bool, None, lists, dicts) about that person;
- an *erasure step*: called with the user inside the account-deletion transaction, just before
  the account row goes; it removes or anonymises what the app holds that identifies the person,
  keeping only what the README says must be kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

ExportSection = Callable[[Any], Any]  # called with the user; returns JSON-ready data
ErasureStep = Callable[[Any], object]  # called with the user, inside the deletion transaction

_sections: dict[str, ExportSection] = {}
_erasure_steps: dict[str, ErasureStep] = {}


def iso_or_none(value: dt.date | dt.datetime | None) -> str | None:
    """How every export section writes a date or time (ISO 8601), or null."""
    return value.isoformat() if value is not None else None


def register_export_section(name: str, section: ExportSection) -> None:
    _sections[name] = section


def export_sections() -> dict[str, ExportSection]:
    return dict(sorted(_sections.items()))


def register_erasure_step(name: str, step: ErasureStep) -> None:
    """Registering the same name again replaces the earlier step."""
    _erasure_steps[name] = step


def erasure_steps() -> dict[str, ErasureStep]:
    return dict(sorted(_erasure_steps.items()))
