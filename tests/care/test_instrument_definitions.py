"""Malformed and contradictory definitions: each kind refused with the exact path, every problem
listed, nothing loaded. Also the canonical form, the content hash and the version rule."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from rapport.care.instruments import (
    DefinitionError,
    check_version,
    definition_dict,
    definition_schema,
    load_definition,
    load_definition_file,
    load_definition_folder,
    parse_definition,
    score,
)
from tests.care.instrument_definitions import nine_item, twelve_item


def _problems(definition: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(definition)
    return list(caught.value.problems)


def _changed(change: Callable[[dict[str, Any]], None], base=nine_item) -> dict[str, Any]:
    definition = base()
    change(definition)
    return definition


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets `a.b.3.c` (dots; numbers index lists) to `value`."""

    def change(definition: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = definition
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(definition: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = definition
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return change


OPTIONS_WITH_A_TEXT_VALUE = [
    {"value": 0, "label": "zero"},
    {"value": "two", "label": "two"},
    {"value": 3, "label": "three"},
]
OUTSIDE = "lies outside the possible totals (0 to 27)"
UNREACHABLE = "4 can never be reached: the highest answer to 'q9' is 3"

# Each row: a name, how the valid nine-item definition is broken, and exactly what is reported.
SCHEMA_CASES = [
    (
        "option value of the wrong type",
        _set("items.3.options", OPTIONS_WITH_A_TEXT_VALUE),
        [("items[3].options[1].value", "must be an integer")],
    ),
    ("required field missing", _delete("title"), [("title", "is required")]),
    (
        "unknown field",
        _set("items.0.colour", "blue"),
        [("items[0].colour", "is not a field this format knows (check the spelling)")],
    ),
    (
        "unknown scoring method",
        _set("scoring.method", "median"),
        [("scoring.method", "must be one of: sum, mean")],
    ),
    (
        "slug not in its form",
        _set("slug", "Synthetic Nine"),
        [
            (
                "slug",
                "must be lower-case letters and digits in words joined by single hyphens, "
                "like progress-check",
            )
        ],
    ),
    ("empty item text", _set("items.2.text", ""), [("items[2].text", "must not be empty")]),
    ("no items", _set("items", []), [("items", "must have at least 1 entry")]),
    (
        "a single response option",
        _set("options", [{"value": 0, "label": "zero"}]),
        [("options", "must have at least 2 entries")],
    ),
    (
        "reliability of 1",
        _set("norms.reliability", 1),
        [("norms.reliability", "must be less than 1")],
    ),
    ("zero SD", _set("norms.clinical.sd", 0), [("norms.clinical.sd", "must be greater than 0")]),
    (
        "not a number",
        _set("norms.clinical.mean", float("nan")),
        [("norms.clinical.mean", "must be a finite number")],
    ),
    (
        "reverse_scored not a boolean",
        _set("items.1.reverse_scored", "yes"),
        [("items[1].reverse_scored", "must be true or false")],
    ),
    (
        "negative max_missing",
        _set("scoring.prorate.max_missing", -1),
        [("scoring.prorate.max_missing", "must be at least 0")],
    ),
]

SEMANTIC_CASES = [
    (
        "duplicate item id",
        _set("items.4.id", "q2"),
        [("items[4].id", "'q2' is already the id of items[1]")],
    ),
    (
        "option value outside the response range",
        _set(
            "items.2.options",
            [{"value": v, "label": str(v)} for v in (0, 1, 2, 4)],
        ),
        [("items[2].options[3].value", "4 is outside response_range (0 to 3)")],
    ),
    (
        "duplicate option value",
        _set("options.2.value", 1),
        [("options[2].value", "1 is already the value of options[1]")],
    ),
    (
        "response range upside down",
        _set("response_range", {"min": 3, "max": 0}),
        [
            (
                "response_range.max",
                "must be greater than min (3): answers need at least two values",
            ),
            ("options[0].value", "0 is outside response_range (3 to 0)"),
            ("options[1].value", "1 is outside response_range (3 to 0)"),
            ("options[2].value", "2 is outside response_range (3 to 0)"),
            ("options[3].value", "3 is outside response_range (3 to 0)"),
        ],
    ),
    (
        "bands with a gap",
        _set("scoring.bands.2.from", 11),
        [
            (
                "scoring.bands[2].from",
                "leaves a gap: the band before ends at 9, so this one must start at 10",
            )
        ],
    ),
    (
        "overlapping bands",
        _set("scoring.bands.2.from", 9),
        [
            (
                "scoring.bands[2].from",
                "overlaps the band before it, which ends at 9 (bands go from the lowest score up)",
            )
        ],
    ),
    (
        "first band above the lowest score",
        _set("scoring.bands.0.from", 1),
        [
            (
                "scoring.bands[0].from",
                "the lowest possible score is 0; the first band must start there",
            )
        ],
    ),
    (
        "last band short of the highest score",
        _set("scoring.bands.4.to", 26),
        [
            (
                "scoring.bands[4].to",
                "the highest possible score is 27; the last band must end there",
            )
        ],
    ),
    (
        "band ending below its start",
        _set("scoring.bands.1.to", 4),
        [("scoring.bands[1].to", "must not be below from (5)")],
    ),
    (
        "band edge finer than the scores",
        _set("scoring.bands.0.to", 4.5),
        [
            (
                "scoring.bands[0].to",
                "has more decimal places than scoring.decimals (0) gives scores",
            )
        ],
    ),
    (
        "published cutoff outside the score range",
        _set("norms.cutoff", 30),
        [("norms.cutoff", OUTSIDE)],
    ),
    (
        "computed cutoff outside the score range",
        _set(
            "norms",
            {
                "clinical": {"mean": 3, "sd": 5},
                "reliability": 0.8,
                "direction": "higher_is_worse",
            },
        ),
        # Criterion a: 3 − 2 × 5 = −7.
        [("norms", "give a clinical cutoff (criterion a: -7) " + OUTSIDE.replace("lies ", ""))],
    ),
    (
        "clinical mean outside the score range",
        _set("norms.clinical.mean", 40),
        [("norms.clinical.mean", OUTSIDE)],
    ),
    (
        "criterion c without a non-clinical sample",
        lambda d: (d["norms"].pop("nonclinical"), d["norms"].update(criterion="c")),
        [("norms.nonclinical", "criterion c needs the non-clinical sample's mean and SD")],
    ),
    (
        "change statistics asked for without norms",
        _delete("norms"),
        [
            (
                "norms",
                "are required when scoring.change_statistics is true "
                "(clinical mean and SD, reliability, direction)",
            )
        ],
    ),
    (
        "critical item that does not exist",
        _set("critical_items.0.item", "q10"),
        [("critical_items[0].item", "no item has the id 'q10'")],
    ),
    (
        "critical threshold that can never be reached",
        _set("critical_items.0.threshold", 4),
        [
            (
                "critical_items[0].threshold",
                "4 can never be reached: the highest answer to 'q9' is 3",
            )
        ],
    ),
    (
        "critical threshold every answer reaches",
        _set("critical_items.0.threshold", 0),
        [
            (
                "critical_items[0].threshold",
                "every answer to 'q9' would be critical: the lowest is 0",
            )
        ],
    ),
    (
        "same critical item twice",
        _set("critical_items", [{"item": "q9", "threshold": 1}, {"item": "q9", "threshold": 2}]),
        [("critical_items[1].item", "'q9' is already a critical item")],
    ),
    (
        "prorating that could leave no answer",
        _set("scoring.prorate.max_missing", 9),
        [
            (
                "scoring.prorate.max_missing",
                "must be smaller than the 9 scored items: a score needs at least one answer",
            )
        ],
    ),
    (
        "optional item reverse scored",
        lambda d: d["items"][8].update(optional=True, reverse_scored=True),
        [
            (
                "items[8].reverse_scored",
                "an optional item counts in no score, so it cannot be reverse-scored",
            ),
        ],
    ),
    (
        "every item optional",
        lambda d: [item.update(optional=True) for item in d["items"]],
        [("items", "at least one item must be scored (not optional)")],
    ),
]

TWELVE_CASES = [
    (
        "subscale naming a missing item",
        _set("subscales.0.items.1", "q99"),
        [("subscales[0].items[1]", "no item has the id 'q99'")],
    ),
    (
        "subscale naming an item twice",
        _set("subscales.1.items.3", "b1"),
        [("subscales[1].items[3]", "'b1' is named twice")],
    ),
    (
        "subscale naming an optional item",
        lambda d: d["items"][11].update(optional=True),
        [("subscales[2].items[3]", "'c4' is optional: optional items count in no score")],
    ),
    (
        "duplicate subscale id",
        _set("subscales.2.id", "a"),
        [("subscales[2].id", "'a' is already the id of subscales[0]")],
    ),
    (
        "subscale called total",
        _set("subscales.0.id", "total"),
        [("subscales[0].id", "'total' is the name of the whole instrument's score")],
    ),
    (
        "subscale prorating that could leave no answer",
        _set("subscales.1.prorate.max_missing", 4),
        [
            (
                "subscales[1].prorate.max_missing",
                "must be smaller than the 4 items of this subscale: "
                "a score needs at least one answer",
            )
        ],
    ),
    (
        "subscale bands with a gap",
        _set("subscales.2.bands.1.from", 2.6),
        [
            (
                "subscales[2].bands[1].from",
                "leaves a gap: the band before ends at 2.49, so this one must start at 2.5",
            )
        ],
    ),
    (
        "items without options anywhere",
        lambda d: (d.pop("options"), d["items"].__delitem__(slice(1, None))),
        [
            (
                "items[0].options",
                "no response options: give them here or as the definition's shared options",
            ),
            ("subscales[0].items[1]", "no item has the id 'a2'"),
            ("subscales[0].items[2]", "no item has the id 'a3'"),
            ("subscales[0].items[3]", "no item has the id 'a4'"),
            *[
                (f"subscales[{s}].items[{i}]", f"no item has the id '{g}{i + 1}'")
                for s, g in ((1, "b"), (2, "c"))
                for i in range(4)
            ],
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in SCHEMA_CASES],
)
def test_schema_problems_name_the_exact_path(change, expected):
    assert _problems(_changed(change)) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in SEMANTIC_CASES],
)
def test_contradictions_name_the_exact_path(change, expected):
    assert _problems(_changed(change)) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in TWELVE_CASES],
)
def test_subscale_contradictions_name_the_exact_path(change, expected):
    assert _problems(_changed(change, base=twelve_item)) == expected


def test_every_problem_is_listed_at_once():
    definition = nine_item()
    definition["scoring"]["bands"][2]["from"] = 11
    definition["critical_items"][0]["threshold"] = 4
    definition["norms"]["cutoff"] = 30
    assert _problems(definition) == [
        (
            "scoring.bands[2].from",
            "leaves a gap: the band before ends at 9, so this one must start at 10",
        ),
        ("critical_items[0].threshold", UNREACHABLE),
        ("norms.cutoff", OUTSIDE),
    ]


def test_a_wrong_item_holds_back_the_range_checks_it_would_only_echo():
    # Without q5 (a duplicate id) the highest total would look like 24: not said, only the cause.
    assert _problems(_changed(_set("items.4.id", "q2"))) == [
        ("items[4].id", "'q2' is already the id of items[1]")
    ]


def test_several_schema_problems_come_in_document_order():
    definition = nine_item()
    del definition["title"]
    definition["items"][3]["options"] = OPTIONS_WITH_A_TEXT_VALUE
    definition["scoring"]["method"] = "median"
    assert _problems(definition) == [
        ("items[3].options[1].value", "must be an integer"),
        ("scoring.method", "must be one of: sum, mean"),
        ("title", "is required"),
    ]


def test_the_error_reads_as_one_line_per_problem():
    with pytest.raises(DefinitionError) as caught:
        load_definition(_changed(_set("items.4.id", "q2")))
    assert str(caught.value) == "items[4].id: 'q2' is already the id of items[1]"


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_a_definition_that_is_not_an_object(data):
    assert _problems(data) == [("", "must be an object ({...})")]


def test_invalid_json_text_is_refused_with_its_position():
    with pytest.raises(DefinitionError) as caught:
        parse_definition('{"slug": "x",}')
    assert caught.value.problems == (
        (
            "",
            "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 14)",
        ),
    )


def test_a_key_given_twice_is_refused_rather_than_one_silently_winning():
    with pytest.raises(DefinitionError) as caught:
        parse_definition('{"slug": "a", "slug": "b"}')
    assert caught.value.problems == (
        ("", "not valid JSON: the key 'slug' appears twice in one object"),
    )


def test_nan_in_json_text_is_refused():
    text = json.dumps(nine_item()).replace('"reliability": 0.84', '"reliability": NaN')
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text)
    assert caught.value.problems == (("", "not valid JSON: NaN is not a number JSON allows"),)


def test_the_published_schema_is_draft_2020_12():
    schema = definition_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


# --- canonical form, hash, versions -----------------------------------------------------------


def test_the_canonical_form_loads_back_to_the_same_instrument():
    for make in (nine_item, twelve_item):
        instrument = load_definition(make())
        again = load_definition(definition_dict(instrument))
        assert again == instrument
        assert again.content_hash == instrument.content_hash


def test_layout_does_not_change_the_hash():
    # Shared options copied into every item, keys in another order, 27.0 for 27.
    instrument = load_definition(nine_item())
    spread = nine_item()
    options = spread.pop("options")
    for item in spread["items"]:
        item["options"] = copy.deepcopy(options)
    spread["scoring"]["bands"][4]["to"] = 27.0
    reordered = dict(reversed(list(spread.items())))
    assert load_definition(reordered).content_hash == instrument.content_hash


@pytest.mark.parametrize(
    "change",
    [
        _set("items.0.text", "Line one, reworded."),
        _set("options.1.label", "once"),
        _set("scoring.bands.0.label", "lowest"),
        _set("critical_items.0.threshold", 2),
        _set("norms.reliability", 0.85),
        _set("scoring.prorate.max_missing", 0),
    ],
)
def test_any_change_of_content_changes_the_hash(change):
    assert (
        load_definition(_changed(change)).content_hash != load_definition(nine_item()).content_hash
    )


def test_changing_an_item_text_without_a_new_version_is_refused():
    old = load_definition(nine_item())
    reworded = load_definition(_changed(_set("items.0.text", "Line one, reworded.")))
    with pytest.raises(DefinitionError) as caught:
        check_version(reworded, known=[old])
    assert caught.value.problems == (
        (
            "version",
            "version 1 of synthetic-nine is already loaded with different content: "
            "a changed definition needs a new version",
        ),
    )


def test_a_new_version_of_changed_content_is_accepted_and_old_answers_keep_theirs():
    old = load_definition(nine_item())
    new_definition = _changed(_set("items.0.text", "Line one, reworded."))
    new_definition["version"] = "2"
    new = load_definition(new_definition)
    check_version(new, known=[old])
    check_version(load_definition(nine_item()), known=[old, new])  # the same content again

    answers = {f"q{number}": 1 for number in range(1, 10)}
    old_scores = score(old, answers)
    new_scores = score(new, answers)
    assert (old_scores.version, old_scores.content_hash) == ("1", old.content_hash)
    assert (new_scores.version, new_scores.content_hash) == ("2", new.content_hash)
    assert old.content_hash != new.content_hash
    assert old.items[0].text == "Line 1."


# --- files and folders ------------------------------------------------------------------------


def test_a_clinic_folder_loads_every_definition(tmp_path):
    (tmp_path / "nine.json").write_text(json.dumps(nine_item()))
    (tmp_path / "twelve.json").write_text(json.dumps(twelve_item()))
    (tmp_path / "notes.txt").write_text("not a definition")
    loaded = load_definition_folder(tmp_path)
    assert [instrument.slug for instrument in loaded] == ["synthetic-nine", "synthetic-twelve"]


def test_one_bad_file_in_a_folder_loads_nothing_and_names_the_file(tmp_path):
    (tmp_path / "a-good.json").write_text(json.dumps(twelve_item()))
    (tmp_path / "b-bad.json").write_text(json.dumps(_changed(_set("items.4.id", "q2"))))
    (tmp_path / "c-broken.json").write_text("{")
    with pytest.raises(DefinitionError) as caught:
        load_definition_folder(tmp_path)
    assert caught.value.problems == (
        ("b-bad.json: items[4].id", "'q2' is already the id of items[1]"),
        (
            "c-broken.json",
            "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
    )


def test_two_files_claiming_one_version_with_different_content_are_refused(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(nine_item()))
    (tmp_path / "two.json").write_text(
        json.dumps(_changed(_set("items.0.text", "Line one, reworded.")))
    )
    with pytest.raises(DefinitionError) as caught:
        load_definition_folder(tmp_path)
    assert [where for where, _ in caught.value.problems] == ["two.json: version"]


def test_a_missing_file_is_a_definition_error(tmp_path):
    with pytest.raises(DefinitionError) as caught:
        load_definition_file(tmp_path / "absent.json")
    assert caught.value.problems == (("absent.json", "cannot be read: No such file or directory"),)
