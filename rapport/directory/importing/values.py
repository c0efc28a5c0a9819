"""Reading single values of an import row: text, yes/no, numbers, amounts, slugs, dates and the
items of a repeating group. Each function records what is wrong with the field it reads (in the
row's own words) instead of stopping at the first problem."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from rapport.directory.importing.columns import MAX_GROUP_ITEMS
from rapport.directory.importing.parts import UNCHANGED
from rapport.directory.importing.reading import Path

_YES = {"yes", "y", "true", "1", "oui"}
_NO = {"no", "n", "false", "0", "non"}
_AMOUNT = re.compile(r"^[0-9]{1,7}(\.[0-9]{1,2})?$")


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Problems:
    """The problems of one row so far, each with the path of its field (``("fee",)``,
    ``("licences", 0, "number")``)."""

    def __init__(self) -> None:
        self.problems: list[tuple[Path, str]] = []

    def add(self, path: Path, message: str) -> None:
        self.problems.append((path, message))

    def add_validation_error(self, error: ValidationError, paths: Mapping[str, Path]) -> None:
        """Each message of a ``ValidationError({field: [...]})`` (as the shared rules raise
        them) at the row's path for that field; ``paths["*"]`` catches the fields not listed."""
        for key, messages in error.message_dict.items():
            for message in messages:
                self.add(paths.get(key, paths.get("*", (key,))), message)


def required_text(values: Mapping[str, Any], name: str, max_length: int, problems: Problems) -> str:
    raw = values.get(name)
    if is_empty(raw):
        problems.add((name,), "This field is required.")
        return ""
    if not isinstance(raw, str):
        problems.add((name,), "Give this as text.")
        return ""
    text = " ".join(raw.split()) if "\n" not in raw else raw.strip()
    if len(text) > max_length:
        problems.add((name,), f"At most {max_length} characters (this has {len(text)}).")
        return ""
    return text


def optional_text(
    values: Mapping[str, Any], name: str, max_length: int | None, problems: Problems
) -> str | None:
    raw = values.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        problems.add((name,), "Give this as text.")
        return None
    text = raw.strip()
    if max_length is not None and len(text) > max_length:
        problems.add((name,), f"At most {max_length} characters (this has {len(text)}).")
        return None
    return text


def yes_no(values: Mapping[str, Any], name: str, problems: Problems) -> Any:
    """True, False, None (empty), or UNCHANGED when the row does not mention the field."""
    if name not in values:
        return UNCHANGED
    raw = values[name]
    if is_empty(raw):
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
    problems.add((name,), 'Use "yes" or "no" (or leave it empty).')
    return UNCHANGED


def whole_number(
    values: Mapping[str, Any], name: str, problems: Problems, *, required: bool
) -> int | None:
    raw = values.get(name)
    if is_empty(raw):
        if required:
            problems.add((name,), "This field is required.")
        return None
    if isinstance(raw, bool):
        problems.add((name,), "Give a whole number.")
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*[0-9]{1,6}\s*", raw):
        return int(raw)
    problems.add((name,), f"{raw!s:.40} is not a whole number.")
    return None


def amount(values: Mapping[str, Any], name: str, problems: Problems, *, required: bool) -> Any:
    """An amount in currency units ("120.00", "120", 120, 120.5) as integer minor units; None
    for an empty value; UNCHANGED when an optional field is not in the row."""
    if name not in values and not required:
        return UNCHANGED
    raw = values.get(name)
    if is_empty(raw):
        if required:
            problems.add((name,), "This field is required.")
        return None
    if isinstance(raw, bool):
        problems.add((name,), 'Give an amount such as "120.00".')
        return None
    text = str(raw).strip() if isinstance(raw, (str, int, Decimal)) else ""
    if not _AMOUNT.match(text):
        hint = " Use a point for cents, without currency sign or thousands separator."
        problems.add((name,), f'"{raw!s:.40}" is not an amount such as "120.00".{hint}')
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        problems.add((name,), 'Give an amount such as "120.00".')
        return None
    return int(amount * 100)


def slug_list(raw: Any) -> list[str] | None:
    """Slugs from "a; b" text or a JSON list of strings; None when neither."""
    if isinstance(raw, str):
        return [slug.strip().lower() for slug in re.split(r"[;,]", raw) if slug.strip()]
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return [item.strip().lower() for item in raw if item.strip()]
    return None


def slugs(
    values: Mapping[str, Any],
    name: str,
    known: Mapping[str, int],
    problems: Problems,
    *,
    required: bool,
    path: Path | None = None,
) -> list[int] | None:
    """Term ids for a list of slugs; None when the field is absent (or invalid)."""
    path = path or (name,)
    if name not in values:
        if required:
            problems.add(path, "This field is required.")
        return None
    raw = values[name]
    slugs = [] if raw is None else slug_list(raw)
    if slugs is None:
        problems.add(path, 'Give slugs separated by ";" (or a JSON list of slugs).')
        return None
    if required and not slugs:
        problems.add(path, "Give at least one.")
        return None
    unknown = [slug for slug in slugs if slug not in known]
    if unknown:
        listed = ", ".join(f'"{slug}"' for slug in unknown[:5])
        problems.add(
            path,
            f"Unknown {'slug' if len(unknown) == 1 else 'slugs'} {listed}: "
            "docs/import-format.md says where the list of slugs is.",
        )
        return None
    return list(dict.fromkeys(known[slug] for slug in slugs))


def date(raw: Any, path: Path, problems: Problems) -> dt.date | None:
    if is_empty(raw):
        return None
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    problems.add(path, f'"{raw!s:.40}" is not a date in the form 2027-03-31.')
    return None


def group_items(
    values: Mapping[str, Any], group: str, keys: Iterable[str], problems: Problems
) -> list[dict[str, Any]] | None:
    """The items of a repeating group as dicts; None when the row does not mention it."""
    if group not in values:
        return None
    raw = values[group]
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        problems.add((group,), "Give a list of objects.")
        return None
    if len(raw) > MAX_GROUP_ITEMS:
        problems.add((group,), f"At most {MAX_GROUP_ITEMS} per therapist.")
        return None
    allowed = set(keys)
    for index, item in enumerate(raw):
        for key in item:
            if key not in allowed:
                problems.add((group, index, str(key)), "Unknown field.")
    return raw
