"""The published JSON Schema (Draft 2020-12) of a definition, and its complaints turned into
(path, message) pairs a person can act on: `items[3].options[1].value: must be an integer`."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any, cast

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

SCHEMA_FILE = "instrument.schema.json"

Path = tuple[str | int, ...]
Problems = list[tuple[str, str]]


def definition_schema() -> dict[str, Any]:
    """The published JSON Schema (Draft 2020-12) every definition must satisfy (a fresh copy:
    the checker's own stays untouched)."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


@cache
def _validator() -> Any:
    schema = definition_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def path_text(path: Iterable[str | int]) -> str:
    """`("items", 3, "options", 1, "value")` → `items[3].options[1].value`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "object": "an object ({...})",
    "array": "a list ([...])",
}


def _schema_messages(error: Any) -> list[tuple[Path, str]]:
    path: Path = tuple(error.absolute_path)
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_TYPE_WORDS.get(kind, kind) for kind in kinds)
        article = "" if words.startswith(("a ", "an ", "text", "true")) else "a "
        return [(path, f"must be {article}{words}")]
    if keyword == "required":
        return [((*path, name), "is required") for name in expected if name not in instance]
    if keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        return [
            ((*path, name), "is not a field this format knows (check the spelling)")
            for name in instance
            if name not in known
        ]
    if keyword == "enum":
        return [(path, "must be one of: " + ", ".join(str(choice) for choice in expected))]
    if keyword == "pattern":
        description = error.schema.get("description")
        return [(path, f"must be {description}" if description else "is not in the right form")]
    if keyword == "minLength":
        return [(path, "must not be empty" if expected == 1 else f"needs {expected}+ characters")]
    if keyword == "maxLength":
        return [(path, f"must be at most {expected} characters long")]
    if keyword == "minItems":
        return [(path, f"must have at least {expected} entr{'y' if expected == 1 else 'ies'}")]
    if keyword == "maxItems":
        return [(path, f"must have at most {expected} entries")]
    if keyword == "minimum":
        return [(path, f"must be at least {expected}")]
    if keyword == "maximum":
        return [(path, f"must be at most {expected}")]
    if keyword == "exclusiveMinimum":
        return [(path, f"must be greater than {expected}")]
    if keyword == "exclusiveMaximum":
        return [(path, f"must be less than {expected}")]
    return [(path, error.message)]


def _path_order(path: Path) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in path)


def _non_finite_numbers(value: Any, path: Path = ()) -> list[tuple[Path, str]]:
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, "must be a finite number")]
    found: list[tuple[Path, str]] = []
    if isinstance(value, Mapping):
        for key, child in value.items():
            found += _non_finite_numbers(child, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            found += _non_finite_numbers(child, (*path, index))
    return found


def schema_problems(data: Any) -> Problems:
    """Everything the published schema says is wrong with `data`, in document order."""
    found = _non_finite_numbers(data)
    for error in _validator().iter_errors(data):
        found += _schema_messages(error)
    unique = dict.fromkeys(found)  # one line per problem, first mention kept
    ordered = sorted(unique, key=lambda pair: _path_order(pair[0]))
    return [(path_text(path), message) for path, message in ordered]
