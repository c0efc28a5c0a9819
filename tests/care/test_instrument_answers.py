"""Answer validation under random input: valid answers always score; anything else raises
AnswerError naming exactly the offending items, and never another exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.care.instruments import AnswerError, Scores, load_definition, score, validate_answers
from tests.care.instrument_definitions import nine_item, twelve_item

INSTRUMENTS = [load_definition(nine_item()), load_definition(twelve_item())]
ALL_IDS = {item.id for instrument in INSTRUMENTS for item in instrument.items}


@st.composite
def valid_answers(draw: st.DrawFn) -> tuple[int, dict[str, int | None]]:
    index = draw(st.sampled_from(range(len(INSTRUMENTS))))
    answers: dict[str, int | None] = {}
    for item in INSTRUMENTS[index].items:
        choice = draw(st.sampled_from([None, "skip", *[o.value for o in item.options]]))
        if choice != "skip":
            answers[item.id] = choice  # type: ignore[assignment]
    return index, answers


NOT_AN_INTEGER = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def _not_in(allowed: frozenset[int]) -> Callable[[int], bool]:
    return lambda value: value not in allowed


@st.composite
def invalid_answers(draw: st.DrawFn) -> tuple[int, dict[Any, Any], set[str]]:
    """Valid answers with at least one bad entry; returns the names that must be reported."""
    index, answers = draw(valid_answers())
    instrument = INSTRUMENTS[index]
    ids = [item.id for item in instrument.items]
    bad: dict[Any, Any] = {}
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["unknown id", "wrong type", "not an option"]))
        if kind == "unknown id":
            key = draw(
                st.one_of(st.text(max_size=6), st.integers(), st.none()).filter(
                    lambda k: k not in ids
                )
            )
            bad[key] = draw(st.one_of(st.integers(-3, 8), st.none(), NOT_AN_INTEGER))
        elif kind == "wrong type":
            bad[draw(st.sampled_from(ids))] = draw(NOT_AN_INTEGER)
        else:
            item_id = draw(st.sampled_from(ids))
            allowed = instrument.option_values[item_id]
            bad[item_id] = draw(st.integers(-1000, 1000).filter(_not_in(allowed)))
    return index, {**answers, **bad}, {str(key) for key in bad}


@settings(max_examples=200, deadline=None)
@given(valid_answers())
def test_valid_answers_always_score(case):
    index, answers = case
    validate_answers(INSTRUMENTS[index], answers)
    result = score(INSTRUMENTS[index], answers)
    assert isinstance(result, Scores)
    answered = sum(1 for value in answers.values() if value is not None)
    if result.total.value is not None:
        assert answered > 0
        assert result.total.band is not None


@settings(max_examples=200, deadline=None)
@given(invalid_answers())
def test_invalid_answers_raise_answer_error_naming_each_item(case):
    index, answers, bad_names = case
    for check in (validate_answers, score):
        with pytest.raises(AnswerError) as caught:
            check(INSTRUMENTS[index], answers)
        assert {name for name, _ in caught.value.problems} == bad_names


@pytest.mark.parametrize("answers", [None, [], "q1=3", 3, [("q1", 3)]])
def test_answers_that_are_not_a_mapping(answers):
    with pytest.raises(AnswerError) as caught:
        validate_answers(INSTRUMENTS[0], answers)
    assert caught.value.problems == (("", "answers must map item ids to answer values"),)


def test_each_problem_says_what_is_wrong():
    answers: dict[str, Any] = {"q1": 4, "q2": True, "q2x": 1, "q3": 2.0, "q4": 3}
    with pytest.raises(AnswerError) as caught:
        validate_answers(INSTRUMENTS[0], answers)
    assert caught.value.problems == (
        ("q1", "4 is not one of this item's answers (0, 1, 2, 3)"),
        ("q2", "the answer must be one of the item's option values"),
        ("q2x", "is not an item of this questionnaire"),
        ("q3", "the answer must be one of the item's option values"),
    )
