"""A completed check-in as a FHIR R4 QuestionnaireResponse, held to the R4 rules as the
specification states them (checked here by hand, independently of the code that builds it)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rapport.care.instruments import (
    AnswerError,
    builtin_instruments,
    load_builtin,
    load_definition,
    questionnaire_response,
)
from tests.care.instrument_definitions import nine_item

# R4 data types (hl7.org/fhir/R4/datatypes.html): the regular expressions the spec gives.
FHIR_DATETIME = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
    r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
    r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)
FHIR_CODE = re.compile(r"[^\s]+(\s[^\s]+)*")
FHIR_URI = re.compile(r"\S*")
STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
ANSWER_VALUE_KEYS = {
    "valueBoolean",
    "valueDecimal",
    "valueInteger",
    "valueDate",
    "valueDateTime",
    "valueTime",
    "valueString",
    "valueUri",
    "valueAttachment",
    "valueCoding",
    "valueQuantity",
    "valueReference",
}
RESPONSE_ELEMENTS = {
    "resourceType",
    "id",
    "meta",
    "identifier",
    "basedOn",
    "partOf",
    "questionnaire",
    "status",
    "subject",
    "encounter",
    "authored",
    "author",
    "source",
    "item",
}


def _no_empty_values(value: Any, where: str = "") -> None:
    """ele-1 and the JSON rules: no nulls, no empty strings, arrays or objects."""
    assert value is not None, where
    if isinstance(value, str):
        assert value, where
        assert value.strip() == value, where
    if isinstance(value, list | dict):
        assert value, where
    children = value.items() if isinstance(value, dict) else enumerate(value)
    if isinstance(value, list | dict):
        for key, child in children:
            _no_empty_values(child, f"{where}/{key}")


def check_questionnaire_response(resource: dict[str, Any]) -> None:
    json.dumps(resource)  # plain JSON values only
    _no_empty_values(resource)
    assert resource["resourceType"] == "QuestionnaireResponse"
    assert set(resource) <= RESPONSE_ELEMENTS
    assert resource["status"] in STATUSES  # 1..1
    url, _, version = resource["questionnaire"].partition("|")  # canonical: uri[|version]
    assert FHIR_URI.fullmatch(url)
    assert ":" in url
    assert version
    assert "|" not in version
    assert FHIR_DATETIME.fullmatch(resource["authored"])
    assert set(resource["subject"]) == {"reference"}
    link_ids = []
    for item in resource.get("item", []):
        assert set(item) <= {"linkId", "definition", "text", "answer", "item"}
        assert isinstance(item["linkId"], str)
        assert item["linkId"]
        link_ids.append(item["linkId"])
        for answer in item.get("answer", []):
            value_keys = set(answer) & ANSWER_VALUE_KEYS
            assert len(value_keys) == 1  # value[x] is 1..1 in an answer (R4: 0..1, one type)
            coding = answer.get("valueCoding")
            if coding is not None:
                assert set(coding) <= {"system", "version", "code", "display", "userSelected"}
                assert FHIR_CODE.fullmatch(coding["code"])
        # qrs-1: an item has answers or child items, never both.
        assert not ("answer" in item and "item" in item)
    assert len(link_ids) == len(set(link_ids))  # each (non-repeating) item once


AUTHORED = dt.datetime(2026, 2, 8, 9, 30, 5, tzinfo=ZoneInfo("America/Toronto"))


def test_a_completed_progress_check_is_a_valid_questionnaire_response():
    instrument = load_builtin("progress-check")
    answers = {"energy": 3, "getting-things-done": 0, "enjoyment": 4, "safety": 1}
    resource = questionnaire_response(
        instrument, answers, authored=AUTHORED, subject_reference="Patient/3f0c2b1e"
    )
    check_questionnaire_response(resource)
    assert resource["status"] == "completed"
    assert resource["questionnaire"] == "urn:rapport:instrument:progress-check|1"
    assert resource["authored"] == "2026-02-08T09:30:05-05:00"
    assert resource["subject"] == {"reference": "Patient/3f0c2b1e"}
    assert [
        (item["linkId"], item["answer"][0]["valueCoding"]["code"]) for item in resource["item"]
    ] == [("energy", "3"), ("getting-things-done", "0"), ("enjoyment", "4"), ("safety", "1")]
    assert resource["item"][0]["answer"][0]["valueCoding"]["display"] == "Most days"


def test_every_builtin_answered_in_full_is_valid():
    for instrument in builtin_instruments():
        answers = {item.id: item.options[-1].value for item in instrument.items}
        resource = questionnaire_response(
            instrument,
            answers,
            authored=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            subject_reference="Patient/example",
        )
        check_questionnaire_response(resource)
        assert len(resource["item"]) == len(instrument.items)
        assert resource["authored"] == "2026-01-01T00:00:00+00:00"


def test_blank_items_are_left_out_and_nothing_answered_has_no_item_list():
    instrument = load_definition(nine_item())
    resource = questionnaire_response(
        instrument, {"q1": 2, "q2": None}, authored=AUTHORED, subject_reference="Patient/x"
    )
    check_questionnaire_response(resource)
    assert [item["linkId"] for item in resource["item"]] == ["q1"]
    empty = questionnaire_response(instrument, {}, authored=AUTHORED, subject_reference="P/x")
    check_questionnaire_response(empty)
    assert "item" not in empty


def test_a_time_without_a_zone_is_refused():
    instrument = load_definition(nine_item())
    with pytest.raises(ValueError, match="time zone"):
        questionnaire_response(
            instrument, {}, authored=dt.datetime(2026, 1, 1), subject_reference="Patient/x"
        )


def test_bad_answers_are_refused_as_when_scoring():
    instrument = load_definition(nine_item())
    with pytest.raises(AnswerError):
        questionnaire_response(
            instrument, {"q1": 9}, authored=AUTHORED, subject_reference="Patient/x"
        )
