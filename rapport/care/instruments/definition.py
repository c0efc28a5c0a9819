"""Reading a definition: the published JSON Schema first, then the rules a schema cannot say,
then frozen values. Every problem is collected and reported together; a definition with any
problem yields nothing (never a half-loaded instrument).

Versions: a definition's `content_hash` is the SHA-256 of its canonical JSON — every field but
`version`, with defaults written out, shared options copied into each item, numbers in their
shortest form, keys sorted, no spaces — so two files that mean the same thing hash the same,
whatever their layout. `check_version` refuses a definition whose slug and version are already
known with a different hash: changed content needs a new version label.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any, cast

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from rapport.care.instruments._numbers import exact, show, to_units
from rapport.care.instruments.change import cutoff_from_norms
from rapport.care.instruments.errors import DefinitionError
from rapport.care.instruments.model import (
    Band,
    CriticalItem,
    Direction,
    Instrument,
    Item,
    Norms,
    ResponseOption,
    Sample,
    Scale,
)

SCHEMA_FILE = "instrument.schema.json"
TOTAL = "total"

Path = tuple[str | int, ...]
Problems = list[tuple[str, str]]


@cache
def definition_schema() -> dict[str, Any]:
    """The published JSON Schema (Draft 2020-12) every definition must satisfy."""
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


# --- the schema, in words a person can act on ---------------------------------------------

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


# --- what the schema cannot say -------------------------------------------------------------


def _number(value: Any) -> Fraction:
    return exact(value)


class _Checker:
    """The semantic rules, run on data the schema accepted. Collects problems; builds nothing."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: Problems = []
        self.range_min = int(data["response_range"]["min"])
        self.range_max = int(data["response_range"]["max"])
        self.decimals = int(data["scoring"].get("decimals", 0))
        self.method = data["scoring"]["method"]
        self.items_by_id: dict[str, Mapping[str, Any]] = {}

    def add(self, path: Path, message: str) -> None:
        self.problems.append((path_text(path), message))

    def run(self) -> Problems:
        data = self.data
        if self.range_min >= self.range_max:
            self.add(
                ("response_range", "max"),
                f"must be greater than min ({self.range_min}): answers need at least two values",
            )
        if "options" in data:
            self._check_options(("options",), data["options"])
        self._check_items()
        scored = [item_id for item_id, item in self.items_by_id.items() if self._scored(item)]
        if not scored:
            self.add(("items",), "at least one item must be scored (not optional)")
        total_range = self._range(scored)
        self._check_max_missing(("scoring",), data["scoring"], len(scored), "scored items")
        self._check_bands(("scoring", "bands"), data["scoring"].get("bands"), total_range)
        self._check_subscales()
        self._check_critical_items()
        self._check_norms(total_range)
        return self.problems

    @staticmethod
    def _scored(item: Mapping[str, Any]) -> bool:
        return not item.get("optional", False)

    def _options_of(self, item: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        return cast(Sequence[Mapping[str, Any]], item.get("options", self.data.get("options", [])))

    def _check_options(self, path: Path, options: Sequence[Mapping[str, Any]]) -> None:
        first_with: dict[int, int] = {}
        for index, option in enumerate(options):
            value = int(option["value"])
            where = (*path, index, "value")
            if value in first_with:
                self.add(where, f"{value} is already the value of options[{first_with[value]}]")
            else:
                first_with[value] = index
            if not self.range_min <= value <= self.range_max:
                self.add(
                    where,
                    f"{value} is outside response_range ({self.range_min} to {self.range_max})",
                )

    def _check_items(self) -> None:
        first_at: dict[str, int] = {}
        for index, item in enumerate(self.data["items"]):
            item_id = item["id"]
            if item_id in first_at:
                self.add(
                    ("items", index, "id"),
                    f"'{item_id}' is already the id of items[{first_at[item_id]}]",
                )
                continue
            first_at[item_id] = index
            self.items_by_id[item_id] = item
            if "options" in item:
                self._check_options(("items", index, "options"), item["options"])
            elif "options" not in self.data:
                self.add(
                    ("items", index, "options"),
                    "no response options: give them here or as the definition's shared options",
                )
            if item.get("optional", False) and item.get("reverse_scored", False):
                self.add(
                    ("items", index, "reverse_scored"),
                    "an optional item counts in no score, so it cannot be reverse-scored",
                )

    def _item_bounds(self, item: Mapping[str, Any]) -> tuple[int, int]:
        values = [int(option["value"]) for option in self._options_of(item)]
        if not values:
            return (0, 0)
        if item.get("reverse_scored", False):
            values = [self.range_min + self.range_max - value for value in values]
        return (min(values), max(values))

    def _range(self, item_ids: Sequence[str]) -> tuple[Fraction, Fraction]:
        bounds = [self._item_bounds(self.items_by_id[item_id]) for item_id in item_ids]
        low = Fraction(sum(low for low, _ in bounds))
        high = Fraction(sum(high for _, high in bounds))
        if self.method == "mean" and bounds:
            low, high = low / len(bounds), high / len(bounds)
        return (low, high)

    def _check_max_missing(
        self, path: Path, holder: Mapping[str, Any], count: int, what: str
    ) -> None:
        max_missing = int(holder.get("prorate", {}).get("max_missing", 0))
        if count and max_missing >= count:
            self.add(
                (*path, "prorate", "max_missing"),
                f"must be smaller than the {count} {what}: a score needs at least one answer",
            )

    def _check_bands(
        self,
        path: Path,
        bands: Sequence[Mapping[str, Any]] | None,
        score_range: tuple[Fraction, Fraction],
    ) -> None:
        if not bands:
            return
        decimals = self.decimals
        low_units = to_units(score_range[0], decimals)
        high_units = to_units(score_range[1], decimals)
        previous_end: int | None = None
        for index, band in enumerate(bands):
            start, end = _number(band["from"]), _number(band["to"])
            start_units, end_units = start * 10**decimals, end * 10**decimals
            if start_units.denominator != 1 or end_units.denominator != 1:
                field = "from" if start_units.denominator != 1 else "to"
                self.add(
                    (*path, index, field),
                    f"has more decimal places than scoring.decimals ({decimals}) gives scores",
                )
                return
            first, last = int(start_units), int(end_units)
            if last < first:
                self.add((*path, index, "to"), f"must not be below from ({show(start)})")
                return
            if previous_end is None:
                if first != low_units:
                    self.add(
                        (*path, index, "from"),
                        f"the lowest possible score is {show(low_units / 10**decimals)}; "
                        "the first band must start there",
                    )
            elif first <= previous_end:
                self.add(
                    (*path, index, "from"),
                    f"overlaps the band before it, which ends at "
                    f"{show(previous_end / 10**decimals)} (bands go from the lowest score up)",
                )
            elif first != previous_end + 1:
                self.add(
                    (*path, index, "from"),
                    f"leaves a gap: the band before ends at {show(previous_end / 10**decimals)}, "
                    f"so this one must start at {show((previous_end + 1) / 10**decimals)}",
                )
            previous_end = last
        if previous_end is not None and previous_end != high_units:
            self.add(
                (*path, len(bands) - 1, "to"),
                f"the highest possible score is {show(high_units / 10**decimals)}; "
                "the last band must end there",
            )

    def _check_subscales(self) -> None:
        first_at: dict[str, int] = {}
        for index, subscale in enumerate(self.data.get("subscales", [])):
            path: Path = ("subscales", index)
            subscale_id = subscale["id"]
            if subscale_id == TOTAL:
                self.add((*path, "id"), f"'{TOTAL}' is the name of the whole instrument's score")
            elif subscale_id in first_at:
                self.add(
                    (*path, "id"),
                    f"'{subscale_id}' is already the id of subscales[{first_at[subscale_id]}]",
                )
            else:
                first_at[subscale_id] = index
            members: list[str] = []
            for position, item_id in enumerate(subscale["items"]):
                where = (*path, "items", position)
                item = self.items_by_id.get(item_id)
                if item is None:
                    self.add(where, f"no item has the id '{item_id}'")
                elif not self._scored(item):
                    self.add(where, f"'{item_id}' is optional: optional items count in no score")
                elif item_id in members:
                    self.add(where, f"'{item_id}' is named twice")
                else:
                    members.append(item_id)
            if len(members) != len(subscale["items"]):
                continue
            self._check_max_missing(path, subscale, len(members), "items of this subscale")
            self._check_bands((*path, "bands"), subscale.get("bands"), self._range(members))

    def _check_critical_items(self) -> None:
        seen: set[str] = set()
        for index, critical in enumerate(self.data.get("critical_items", [])):
            path: Path = ("critical_items", index)
            item_id, threshold = critical["item"], int(critical["threshold"])
            item = self.items_by_id.get(item_id)
            if item is None:
                self.add((*path, "item"), f"no item has the id '{item_id}'")
                continue
            if item_id in seen:
                self.add((*path, "item"), f"'{item_id}' is already a critical item")
            seen.add(item_id)
            values = [int(option["value"]) for option in self._options_of(item)]
            if not values:
                continue
            if threshold > max(values):
                self.add(
                    (*path, "threshold"),
                    f"{threshold} can never be reached: the highest answer to '{item_id}' is "
                    f"{max(values)}",
                )
            elif threshold <= min(values):
                self.add(
                    (*path, "threshold"),
                    f"every answer to '{item_id}' would be critical: the lowest is {min(values)}",
                )

    def _check_norms(self, total_range: tuple[Fraction, Fraction]) -> None:
        raw = self.data.get("norms")
        if raw is None:
            if self.data["scoring"].get("change_statistics", False):
                self.add(
                    ("norms",),
                    "are required when scoring.change_statistics is true (clinical mean and SD, "
                    "reliability, direction)",
                )
            return
        criterion = raw.get("criterion")
        if criterion in ("b", "c") and "nonclinical" not in raw:
            self.add(
                ("norms", "nonclinical"),
                f"criterion {criterion} needs the non-clinical sample's mean and SD",
            )
            return
        low, high = total_range
        span = f"the possible totals ({show(low)} to {show(high)})"
        for sample in ("clinical", "nonclinical"):
            if sample in raw and not low <= _number(raw[sample]["mean"]) <= high:
                self.add(("norms", sample, "mean"), f"lies outside {span}")
        cutoff = cutoff_from_norms(_build_norms(raw))
        if not low <= _number(cutoff.value) <= high:
            if cutoff.criterion == "published":
                self.add(("norms", "cutoff"), f"lies outside {span}")
            else:
                self.add(
                    ("norms",),
                    f"give a clinical cutoff (criterion {cutoff.criterion}: "
                    f"{show(cutoff.value)}) outside {span}",
                )


# --- building ---------------------------------------------------------------------------------


def _build_norms(raw: Mapping[str, Any]) -> Norms:
    def sample(name: str) -> Sample | None:
        if name not in raw:
            return None
        return Sample(mean=float(raw[name]["mean"]), sd=float(raw[name]["sd"]))

    clinical = sample("clinical")
    assert clinical is not None  # the schema requires it
    nonclinical = sample("nonclinical")
    criterion = raw.get("criterion", "c" if nonclinical is not None else "a")
    cutoff = raw.get("cutoff")
    return Norms(
        clinical=clinical,
        nonclinical=nonclinical,
        reliability=float(raw["reliability"]),
        direction=Direction(raw["direction"]),
        criterion=criterion,
        cutoff=None if cutoff is None else float(cutoff),
        source=raw.get("source", ""),
    )


def _bands(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Band, ...]:
    return tuple(
        Band(lower=float(band["from"]), upper=float(band["to"]), label=band["label"])
        for band in raw or ()
    )


def _build(data: Mapping[str, Any], checker: _Checker) -> Instrument:
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
    low, high = checker._range(scored)
    total = Scale(
        id=TOTAL,
        label="Total",
        item_ids=scored,
        max_missing=int(scoring.get("prorate", {}).get("max_missing", 0)),
        bands=_bands(scoring.get("bands")),
        minimum=float(low),
        maximum=float(high),
    )
    subscales = []
    for raw in data.get("subscales", []):
        members = tuple(raw["items"])
        low, high = checker._range(members)
        subscales.append(
            Scale(
                id=raw["id"],
                label=raw["label"],
                item_ids=members,
                max_missing=int(raw.get("prorate", {}).get("max_missing", 0)),
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
        "norms": None if norms is None else _build_norms(norms),
        "content_hash": "",
    }
    draft = Instrument(**fields)
    return Instrument(**{**fields, "content_hash": content_hash(draft)})


# --- canonical form, hash and versions ------------------------------------------------------


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _band_dicts(bands: Sequence[Band]) -> list[dict[str, Any]]:
    return [
        {"from": _plain_number(band.lower), "to": _plain_number(band.upper), "label": band.label}
        for band in bands
    ]


def definition_dict(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a definition in canonical form (defaults written out, shared options
    copied into each item). Loading it again gives an equal instrument."""
    scoring: dict[str, Any] = {
        "method": instrument.method,
        "decimals": instrument.decimals,
        "prorate": {"max_missing": instrument.total.max_missing},
        "change_statistics": instrument.change_statistics,
    }
    if instrument.total.bands:
        scoring["bands"] = _band_dicts(instrument.total.bands)
    result: dict[str, Any] = {
        "slug": instrument.slug,
        "title": instrument.title,
        "version": instrument.version,
        "language": instrument.language,
        "instructions": instrument.instructions,
        "response_range": {"min": instrument.response_min, "max": instrument.response_max},
        "items": [
            {
                "id": item.id,
                "text": item.text,
                "options": [{"value": o.value, "label": o.label} for o in item.options],
                "reverse_scored": item.reverse_scored,
                "optional": item.optional,
            }
            for item in instrument.items
        ],
        "subscales": [
            {
                "id": subscale.id,
                "label": subscale.label,
                "items": list(subscale.item_ids),
                "prorate": {"max_missing": subscale.max_missing},
                **({"bands": _band_dicts(subscale.bands)} if subscale.bands else {}),
            }
            for subscale in instrument.subscales
        ],
        "scoring": scoring,
        "critical_items": [
            {"item": critical.item_id, "threshold": critical.threshold}
            for critical in instrument.critical_items
        ],
    }
    if instrument.licence:
        result["licence"] = instrument.licence
    norms = instrument.norms
    if norms is not None:
        norms_dict: dict[str, Any] = {
            "clinical": {
                "mean": _plain_number(norms.clinical.mean),
                "sd": _plain_number(norms.clinical.sd),
            },
            "reliability": norms.reliability,
            "direction": norms.direction.value,
            "criterion": norms.criterion,
        }
        if norms.nonclinical is not None:
            norms_dict["nonclinical"] = {
                "mean": _plain_number(norms.nonclinical.mean),
                "sd": _plain_number(norms.nonclinical.sd),
            }
        if norms.cutoff is not None:
            norms_dict["cutoff"] = _plain_number(norms.cutoff)
        if norms.source:
            norms_dict["source"] = norms.source
        result["norms"] = norms_dict
    return result


def canonical_json(instrument: Instrument) -> bytes:
    """What the content hash is taken of: the canonical definition without its version."""
    content = definition_dict(instrument)
    del content["version"]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def content_hash(instrument: Instrument) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(instrument)).hexdigest()


def check_version(candidate: Instrument, *, known: Iterable[Instrument]) -> None:
    """Refuse a definition that reuses a known slug and version for different content. The same
    content again (any layout) is fine; so is a new version label, changed or not."""
    for existing in known:
        if existing.key == candidate.key and existing.content_hash != candidate.content_hash:
            raise DefinitionError(
                [
                    (
                        "version",
                        f"version {candidate.version} of {candidate.slug} is already loaded with "
                        "different content: a changed definition needs a new version",
                    )
                ]
            )


# --- entry points -----------------------------------------------------------------------------


def load_definition(data: Any) -> Instrument:
    """A checked, frozen instrument from parsed JSON, or DefinitionError listing every problem
    (the schema's first; the semantic rules run once the shape is right)."""
    problems = schema_problems(data)
    if problems:
        raise DefinitionError(problems)
    checker = _Checker(data)
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


def parse_definition(text: str | bytes) -> Instrument:
    """A definition from JSON text. Duplicate keys and NaN/Infinity are refused rather than
    silently resolved."""
    try:
        data = json.loads(
            text,
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except json.JSONDecodeError as error:
        raise DefinitionError(
            [("", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")]
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise DefinitionError([("", f"not valid JSON: {error}")]) from None
    return load_definition(data)
