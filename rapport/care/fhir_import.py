"""A Rapport instrument definition from a clinic's HL7 FHIR R4 ``Questionnaire`` plus a
"scoring part" in Rapport's own format (docs/instruments.md, "From a FHIR Questionnaire").

A clinic that already holds a licensed instrument as a Questionnaire keeps its wording there:
the Questionnaire gives the items (``linkId``, ``text``) and their answers (``answerOption``),
the scoring part gives everything a Questionnaire cannot say (slug, version, scoring, bands,
subscales, reverse-scored and optional items, critical items, norms). The result is an ordinary
definition dict, checked in full by ``rapport.care.instruments.load_definition``; loading it is
``rapport.care.services.instrument_store``'s job, as for any other definition. Pure: nothing is
stored.

The Questionnaire is read with the ``fhir.resources`` models. That library has no models for
R4 (4.0.1) itself since its version 7, only for R4B (4.3.0), whose Questionnaire is R4's with
no change to the elements read here, so an R4 Questionnaire reads as R4B. The models check
the structure (types, cardinality, unknown elements) but not everything Rapport relies on
(they turn ``true`` into 1, for example), so the answers are checked again here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from rapport.care.instruments import DefinitionError, Instrument, load_definition
from rapport.care.instruments.definition import strict_json

QUESTIONNAIRE = "questionnaire"
SCORING_PART = "scoring part"

# What a scoring part may hold: a definition's fields, less what the Questionnaire gives.
_FROM_QUESTIONNAIRE_OR_SCORING = ("title", "language", "instructions", "licence")
_SCORING_FIELDS = frozenset(
    {
        "slug",
        "version",
        *_FROM_QUESTIONNAIRE_OR_SCORING,
        "response_range",
        "subscales",
        "scoring",
        "critical_items",
        "norms",
        "reverse_scored",
        "optional",
    }
)
# Where each of those comes from in the Questionnaire when the scoring part leaves it out.
_QUESTIONNAIRE_SOURCE = {
    "title": "title",
    "language": "language",
    "instructions": "description",
    "licence": "copyright",
}
_QUESTION_TYPES = frozenset({"choice", "integer"})
# Extensions that give a coded answer its numeric value (R4's ordinalValue, R5's itemWeight).
_WEIGHT_EXTENSIONS = frozenset(
    {
        "http://hl7.org/fhir/StructureDefinition/ordinalValue",
        "http://hl7.org/fhir/StructureDefinition/itemWeight",
    }
)
_WHOLE_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)")

Problems = list[tuple[str, str]]


def _at(name: str, path: str) -> str:
    return f"{name}: {path}" if path else name


def _read_json(text: str | bytes | Mapping[str, Any], name: str) -> Any:
    """Strict JSON: a key given twice or NaN/Infinity is refused, as for definitions."""
    if isinstance(text, Mapping):
        return text

    try:
        return strict_json(text)
    except json.JSONDecodeError as error:
        message = f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
    except UnicodeDecodeError:
        message = "not valid JSON: the file is not UTF-8 text"
    except ValueError as error:
        message = f"not valid JSON: {error}"
    raise DefinitionError([(name, message)])


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _library_problems(data: Any) -> Problems:
    """The structure, as the FHIR models read it."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    if not isinstance(data, dict):
        return [(QUESTIONNAIRE, "must be a JSON object (a FHIR Questionnaire resource)")]
    if data.get("resourceType") != "Questionnaire":
        return [(_at(QUESTIONNAIRE, "resourceType"), "must be 'Questionnaire'")]
    try:
        Questionnaire.model_validate(data)
    except ValidationError as error:
        return [
            (_at(QUESTIONNAIRE, _location(tuple(problem["loc"]))), problem["msg"])
            for problem in error.errors()
        ]
    return []


class _Reader:
    """Walks a structurally valid Questionnaire's items into Rapport items, remembering where
    each came from so the definition's own checks can name the Questionnaire's paths."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.item_paths: list[str] = []
        self.option_paths: list[list[str]] = []
        self.problems: Problems = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append((_at(QUESTIONNAIRE, path), message))

    def walk(self, items: list[dict[str, Any]], prefix: str) -> None:
        for index, item in enumerate(items):
            path = f"{prefix}item[{index}]"
            kind = item.get("type")
            if kind == "display":
                continue  # text shown between questions: nothing to answer or score
            if kind == "group":
                self.walk(item.get("item", []), path + ".")
                continue
            if kind not in _QUESTION_TYPES:
                self.problem(
                    path + ".type",
                    f"'{kind}' items cannot be scored: Rapport reads choice items (and integer "
                    "items that list their answers); remove it or make it a display item",
                )
                continue
            self.question(item, path)

    def question(self, item: dict[str, Any], path: str) -> None:
        refused = False
        for element, why in (
            ("enableWhen", "an item asked only on some answers would count as left blank"),
            ("item", "questions nested under a question are not supported"),
        ):
            if item.get(element):
                self.problem(f"{path}.{element}", f"is not supported: {why}")
                refused = True
        if item.get("repeats"):
            self.problem(f"{path}.repeats", "must not be true: an item takes one answer")
            refused = True
        raw_options = item.get("answerOption")
        if not raw_options:
            if item.get("answerValueSet"):
                self.problem(
                    f"{path}.answerValueSet",
                    "is not read: list the answers in the Questionnaire as answerOption",
                )
            else:
                self.problem(f"{path}.answerOption", "is needed: the answers and their values")
            return
        options: list[dict[str, Any]] = []
        paths: list[str] = []
        for number, raw in enumerate(raw_options):
            option_path = f"{path}.answerOption[{number}]"
            option = self.option(raw, option_path)
            if option is not None:
                options.append(option)
                paths.append(option_path)
        if refused or len(options) != len(raw_options):
            return
        converted: dict[str, Any] = {"id": item["linkId"], "options": options}
        if "text" in item:
            converted["text"] = item["text"]
        self.items.append(converted)
        self.item_paths.append(path)
        self.option_paths.append(paths)

    def option(self, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
        if "valueInteger" in raw:
            value = raw["valueInteger"]
            # The models accept true and 2.0 as integers; an answer's value must be one.
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(path + ".valueInteger", "must be a whole number")
                return None
            return {"value": value, "label": str(value)}
        coding = raw.get("valueCoding")
        if not isinstance(coding, dict):
            kinds = ", ".join(key for key in raw if key.startswith("value")) or "no value"
            self.problem(
                path,
                f"gives {kinds}: Rapport scores answers given as valueCoding (an integer code "
                "with a display) or valueInteger",
            )
            return None
        display = coding.get("display")
        weight = self.weight(raw, path)
        if weight is False:
            return None
        value = weight if isinstance(weight, int) else self.code_value(coding, path)
        if not isinstance(display, str) or not display.strip():
            self.problem(path + ".valueCoding.display", "is needed: it is the answer people see")
            return None
        return None if value is None else {"value": value, "label": display}

    def code_value(self, coding: dict[str, Any], path: str) -> int | None:
        code = coding.get("code")
        if isinstance(code, str) and _WHOLE_NUMBER.fullmatch(code):
            return int(code)
        self.problem(
            path + ".valueCoding.code",
            f"must be a whole number such as 0, 1 or 2 (it is the answer's value), or the "
            f"answer needs an ordinalValue or itemWeight extension: {code!r} is not",
        )
        return None

    def weight(self, raw: dict[str, Any], path: str) -> int | bool | None:
        """The answer's value from its ordinalValue or itemWeight extension (on the coding or
        the answerOption), which coded answers (LOINC answer codes, say) carry beside a code
        that is no number; None when there is none, False when it is not a whole number."""
        places = [
            (f"{path}.valueCoding.extension", raw["valueCoding"].get("extension", [])),
            (f"{path}.extension", raw.get("extension", [])),
        ]
        for where, extensions in places:
            for number, extension in enumerate(extensions):
                if extension.get("url") not in _WEIGHT_EXTENSIONS:
                    continue
                value = extension.get("valueDecimal", extension.get("valueInteger"))
                whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
                if isinstance(value, bool) or not whole:
                    self.problem(
                        f"{where}[{number}]",
                        "must give a whole number (valueDecimal): it is the answer's value",
                    )
                    return False
                return int(value)
        return None


def _scoring_problems(part: Any) -> Problems:
    if not isinstance(part, dict):
        return [(SCORING_PART, "must be a JSON object")]
    problems: Problems = []
    for key in part:
        if key in ("items", "options"):
            problems.append(
                (
                    _at(SCORING_PART, key),
                    "comes from the Questionnaire: name items by linkId in reverse_scored, "
                    "optional, subscales and critical_items instead",
                )
            )
        elif key not in _SCORING_FIELDS:
            problems.append((_at(SCORING_PART, key), "is not a field this format knows"))
    for key in ("reverse_scored", "optional"):
        value = part.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append((_at(SCORING_PART, key), "must be a list of item linkIds"))
    return problems


def _range_of(items: list[dict[str, Any]]) -> dict[str, int]:
    values = [option["value"] for item in items for option in item["options"]]
    return {"min": min(values), "max": max(values)}


class _Merged:
    def __init__(self, reader: _Reader, sources: dict[str, str]) -> None:
        self.reader = reader
        self.sources = sources  # top-level field -> QUESTIONNAIRE or SCORING_PART

    def where(self, path: str) -> str:
        """A merged definition's path, as the file it came from names it."""
        match = re.match(r"items\[(\d+)\](.*)", path)
        if match:
            index, rest = int(match.group(1)), match.group(2)
            item_path = self.reader.item_paths[index]
            option = re.match(r"\.options\[(\d+)\]", rest)
            if option:
                return _at(QUESTIONNAIRE, self.reader.option_paths[index][int(option.group(1))])
            if rest == ".id":
                return _at(QUESTIONNAIRE, item_path + ".linkId")
            if rest in (".reverse_scored", ".optional"):
                return _at(SCORING_PART, rest[1:])
            return _at(QUESTIONNAIRE, item_path + rest)
        top = re.split(r"[.\[]", path, maxsplit=1)[0]
        if self.sources.get(top) == QUESTIONNAIRE:
            return _at(QUESTIONNAIRE, _QUESTIONNAIRE_SOURCE[top] + path[len(top) :])
        if top == "items":
            return _at(QUESTIONNAIRE, "item" + path[len(top) :])
        return _at(SCORING_PART, path)


def _merge(questionnaire: Any, part: Any) -> tuple[dict[str, Any], _Merged]:
    problems = _library_problems(questionnaire) + _scoring_problems(part)
    reader = _Reader()
    if not problems:
        reader.walk(questionnaire.get("item", []), "")
        problems += reader.problems
        if not reader.items and not reader.problems:
            problems.append((_at(QUESTIONNAIRE, "item"), "has no questions to ask"))
    if problems:
        raise DefinitionError(problems)
    known = {item["id"] for item in reader.items}
    for key in ("reverse_scored", "optional"):
        for number, link_id in enumerate(part.get(key, [])):
            if link_id not in known:
                problems.append(
                    (
                        _at(SCORING_PART, f"{key}[{number}]"),
                        f"names '{link_id}', which is not a question in the Questionnaire",
                    )
                )
    if problems:
        raise DefinitionError(problems)
    for item in reader.items:
        if item["id"] in part.get("reverse_scored", []):
            item["reverse_scored"] = True
        if item["id"] in part.get("optional", []):
            item["optional"] = True
    definition: dict[str, Any] = {
        key: value
        for key, value in part.items()
        if key not in ("reverse_scored", "optional", *_FROM_QUESTIONNAIRE_OR_SCORING)
    }
    sources = dict.fromkeys(part, SCORING_PART)
    for field in _FROM_QUESTIONNAIRE_OR_SCORING:
        if field in part:
            definition[field] = part[field]
        elif questionnaire.get(_QUESTIONNAIRE_SOURCE[field]) is not None:
            definition[field] = questionnaire[_QUESTIONNAIRE_SOURCE[field]]
            sources[field] = QUESTIONNAIRE
        elif field != "licence":
            problems.append(
                (
                    _at(SCORING_PART, field),
                    f"is required: give it here, or as {_QUESTIONNAIRE_SOURCE[field]} in the "
                    "Questionnaire",
                )
            )
    if problems:
        raise DefinitionError(problems)
    definition.setdefault("response_range", _range_of(reader.items))
    definition["items"] = reader.items
    return definition, _Merged(reader, sources)


def questionnaire_instrument(
    questionnaire: str | bytes | Mapping[str, Any],
    scoring_part: str | bytes | Mapping[str, Any],
) -> Instrument:
    """The checked instrument a Questionnaire and its scoring part make, or DefinitionError
    listing every problem, each path starting with the part it is in (``questionnaire:`` or
    ``scoring part:``) and naming the element as that file does."""
    problems: Problems = []
    data: Any = None
    part: Any = None
    try:
        data = _read_json(questionnaire, QUESTIONNAIRE)
    except DefinitionError as error:
        problems += error.problems
    try:
        part = _read_json(scoring_part, SCORING_PART)
    except DefinitionError as error:
        problems += error.problems
    if problems:
        raise DefinitionError(problems)
    definition, merged = _merge(data, part)
    try:
        return load_definition(definition)
    except DefinitionError as error:
        raise DefinitionError(
            [(merged.where(where), message) for where, message in error.problems]
        ) from None


def questionnaire_definition(
    questionnaire: str | bytes | Mapping[str, Any],
    scoring_part: str | bytes | Mapping[str, Any],
) -> dict[str, Any]:
    """The definition dict (Rapport's format, docs/instruments.md) a Questionnaire and its
    scoring part make, checked in full; DefinitionError as ``questionnaire_instrument``."""
    from rapport.care.instruments import definition_dict

    return definition_dict(questionnaire_instrument(questionnaire, scoring_part))
