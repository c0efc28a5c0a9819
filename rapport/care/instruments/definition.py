"""Reading a definition: the published JSON Schema first, then the rules a schema cannot say
(`rules`), then frozen values. Every problem is collected and reported together; a definition
with any problem yields nothing (never a half-loaded instrument). Versions: see `canonical`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rapport.care.instruments.canonical import content_hash
from rapport.care.instruments.errors import DefinitionError
from rapport.care.instruments.model import (
    Band,
    CriticalItem,
    Instrument,
    Item,
    ResponseOption,
    Scale,
)
from rapport.care.instruments.rules import TOTAL, RuleChecker, build_norms
from rapport.care.instruments.schema import schema_problems


def _bands(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Band, ...]:
    return tuple(
        Band(lower=float(band["from"]), upper=float(band["to"]), label=band["label"])
        for band in raw or ()
    )


def _build(data: Mapping[str, Any], checker: RuleChecker) -> Instrument:
    shared = data.get("options")
    items = tuple(
        Item(
            id=item["id"],
            text=item["text"],
            options=tuple(
                ResponseOption(value=int(option["value"]), label=option["label"])
                for option in item.get("options", shared)
            ),
            reverse_scored=bool(item.get("reverse_scored", False)),
            optional=bool(item.get("optional", False)),
        )
        for item in data["items"]
    )
    scoring = data["scoring"]
    scored = tuple(item.id for item in items if item.scored)
    low, high = checker.score_range(scored, checker.max_missing(scoring))
    total = Scale(
        id=TOTAL,
        label="Total",
        item_ids=scored,
        max_missing=checker.max_missing(scoring),
        bands=_bands(scoring.get("bands")),
        minimum=float(low),
        maximum=float(high),
    )
    subscales = []
    for raw in data.get("subscales", []):
        members = tuple(raw["items"])
        low, high = checker.score_range(members, checker.max_missing(raw))
        subscales.append(
            Scale(
                id=raw["id"],
                label=raw["label"],
                item_ids=members,
                max_missing=checker.max_missing(raw),
                bands=_bands(raw.get("bands")),
                minimum=float(low),
                maximum=float(high),
            )
        )
    norms = data.get("norms")
    fields: dict[str, Any] = {
        "slug": data["slug"],
        "title": data["title"],
        "version": data["version"],
        "language": data["language"],
        "instructions": data["instructions"],
        "licence": data.get("licence", ""),
        "response_min": int(data["response_range"]["min"]),
        "response_max": int(data["response_range"]["max"]),
        "items": items,
        "method": scoring["method"],
        "decimals": int(scoring.get("decimals", 0)),
        "total": total,
        "subscales": tuple(subscales),
        "change_statistics": bool(scoring.get("change_statistics", False)),
        "critical_items": tuple(
            CriticalItem(item_id=critical["item"], threshold=int(critical["threshold"]))
            for critical in data.get("critical_items", [])
        ),
        "norms": None if norms is None else build_norms(norms),
        "content_hash": "",
    }
    draft = Instrument(**fields)
    return Instrument(**{**fields, "content_hash": content_hash(draft)})


def load_definition(data: Any) -> Instrument:
    """A checked, frozen instrument from parsed JSON, or DefinitionError listing every problem
    (the schema's first; the semantic rules run once the shape is right)."""
    problems = schema_problems(data)
    if problems:
        raise DefinitionError(problems)
    checker = RuleChecker(data)
    problems = checker.run()
    if problems:
        raise DefinitionError(problems)
    return _build(data, checker)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key '{key}' appears twice in one object")
        result[key] = value
    return result


def strict_json(text: str | bytes) -> Any:
    """JSON text parsed with duplicate keys and NaN/Infinity refused (ValueError) rather than
    silently resolved: definition files and the parts of a FHIR import alike."""
    return json.loads(
        text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicate_keys
    )


def parse_definition(text: str | bytes) -> Instrument:
    """A definition from JSON text (``strict_json``)."""
    try:
        data = strict_json(text)
    except json.JSONDecodeError as error:
        raise DefinitionError(
            [("", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")]
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise DefinitionError([("", f"not valid JSON: {error}")]) from None
    return load_definition(data)
