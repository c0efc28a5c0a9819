"""Where definitions come from: the built-ins shipped in `builtin/`, and a clinic's own files
in a folder it names (a setting will point here; this takes the path)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from rapport.care.instruments.canonical import check_version
from rapport.care.instruments.definition import parse_definition
from rapport.care.instruments.errors import DefinitionError
from rapport.care.instruments.model import Instrument

BUILTIN_FOLDER = "builtin"
SUFFIX = ".json"


def builtin_slugs() -> tuple[str, ...]:
    """The slugs of the instruments written for Rapport (file name = slug)."""
    folder = resources.files(__package__).joinpath(BUILTIN_FOLDER)
    return tuple(
        sorted(
            entry.name.removesuffix(SUFFIX)
            for entry in folder.iterdir()
            if entry.name.endswith(SUFFIX)
        )
    )


@cache
def load_builtin(slug: str) -> Instrument:
    """A built-in by slug; KeyError for a slug that is not one."""
    if slug not in builtin_slugs():
        raise KeyError(slug)
    entry = resources.files(__package__).joinpath(BUILTIN_FOLDER, slug + SUFFIX)
    instrument = parse_definition(entry.read_bytes())
    if instrument.slug != slug:
        raise DefinitionError([("slug", f"must be '{slug}', the file's name")])
    return instrument


def builtin_instruments() -> tuple[Instrument, ...]:
    return tuple(load_builtin(slug) for slug in builtin_slugs())


def load_definition_file(path: Path) -> Instrument:
    """One definition file. Its problems come back with the file's name in front of each path."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DefinitionError([(path.name, f"cannot be read: {error.strerror}")]) from None
    try:
        return parse_definition(data)
    except DefinitionError as error:
        raise DefinitionError(
            [(_in_file(path.name, where), message) for where, message in error.problems]
        ) from None


def _in_file(name: str, where: str) -> str:
    return f"{name}: {where}" if where else name


def load_definition_folder(folder: Path) -> tuple[Instrument, ...]:
    """Every `*.json` definition in `folder` (sorted by file name), all or nothing: if any file
    has a problem, or two files claim the same slug and version with different content,
    DefinitionError lists every problem of every file and nothing is returned."""
    if not folder.is_dir():
        raise DefinitionError([(str(folder.name), "is not a folder")])
    loaded: list[Instrument] = []
    problems: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*" + SUFFIX)):
        try:
            instrument = load_definition_file(path)
        except DefinitionError as error:
            problems.extend(error.problems)
            continue
        try:
            check_version(instrument, known=loaded)
        except DefinitionError as error:
            problems.extend((_in_file(path.name, w), m) for w, m in error.problems)
            continue
        if any(other.key == instrument.key for other in loaded):
            continue  # the same definition twice: keep one
        loaded.append(instrument)
    if problems:
        raise DefinitionError(problems)
    return tuple(loaded)
