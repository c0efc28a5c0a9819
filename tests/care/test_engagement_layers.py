"""Care sits above booking: booking learns of a first session's engagement only through its
hook registry, never by importing care (import-linter's contract says so for the build; this
test says it for the suite, and that care is in the contract as a layer of its own)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import rapport

ROOT = Path(rapport.__file__).parent
BELOW_CARE = ("core", "accounts", "directory", "booking", "videos")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_app_below_care_imports_it():
    offenders = [
        str(path.relative_to(ROOT))
        for app in BELOW_CARE
        for path in (ROOT / app).rglob("*.py")
        if any(
            name == "rapport.care" or name.startswith("rapport.care.") for name in _imports(path)
        )
    ]
    assert offenders == []


def test_the_layers_contract_names_care_between_matching_and_booking():
    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = config["tool"]["importlinter"]["contracts"]
    layers = contract["layers"]
    assert "rapport.care" in layers
    assert layers.index("rapport.care") == layers.index("rapport.videos | rapport.booking") - 1


def test_care_registers_its_first_session_hook():
    from rapport.booking.hooks import _first_session_hooks

    assert "care" in _first_session_hooks
