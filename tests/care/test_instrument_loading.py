"""Loading instruments: `rapport load_instrument`, the FHIR Questionnaire import, and the staff
page at /staff/instruments/.

The files under tests/care/data/ are synthetic: their wording and figures are made up for these
tests. `routine-questionnaire.json` with `routine-scoring.json` says the same as
`routine-native.json`, written by hand in Rapport's own format.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from rapport.care.fhir_import import questionnaire_definition, questionnaire_instrument
from rapport.care.instruments import (
    CriticalStatus,
    DefinitionError,
    definition_dict,
    parse_definition,
    score,
)
from rapport.care.models import InstrumentVersion
from tests.care.instrument_definitions import nine_item
from tests.factories import make_therapist_with_account, make_user

DATA = Path(__file__).resolve().parent / "data"
NATIVE = DATA / "routine-native.json"
QUESTIONNAIRE = DATA / "routine-questionnaire.json"
SCORING = DATA / "routine-scoring.json"
PAGE = Path(__file__).resolve().parents[2] / "docs" / "instruments.md"


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _loaded() -> set[tuple[str, str]]:
    return set(InstrumentVersion.objects.filter(builtin=False).values_list("slug", "version"))


def _run(*args: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_instrument", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _run_refused(*args: Any) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was loaded"):
        call_command("load_instrument", *[str(a) for a in args], stdout=io.StringIO(), stderr=err)
    return err.getvalue()


# --- the command ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_loads_a_good_file():
    out, err = _run(NATIVE)
    assert out == "Loaded synthetic-routine version 1\n"
    assert err == ""
    row = InstrumentVersion.objects.get(slug="synthetic-routine")
    assert (row.version, row.title, row.builtin) == ("1", "Synthetic routine", False)
    # What is stored reads back as the file says (an independent parse of the same file).
    assert row.content_hash == parse_definition(NATIVE.read_bytes()).content_hash


@pytest.mark.django_db
def test_the_same_file_twice_is_already_loaded(tmp_path):
    _run(NATIVE)
    # Laid out differently, same meaning: the same content.
    same = _write(tmp_path, "same.json", _json(NATIVE))
    out, _ = _run(same)
    assert out == "Already loaded: synthetic-routine version 1\n"
    assert InstrumentVersion.objects.filter(slug="synthetic-routine").count() == 1


@pytest.mark.django_db
def test_a_changed_file_under_the_same_version_is_refused(tmp_path):
    _run(NATIVE)
    changed = _json(NATIVE)
    changed["items"][0]["text"] = "Test line: the kettle boiled late."
    err = _run_refused(_write(tmp_path, "changed.json", changed))
    assert "changed.json: version: version 1 of synthetic-routine is already loaded" in err
    assert "needs a new version" in err
    row = InstrumentVersion.objects.get(slug="synthetic-routine")
    assert row.definition["items"][0]["text"] == "Test line: the kettle boiled on time."
    # The same change under a new version loads beside the old one.
    changed["version"] = "2"
    out, _ = _run(_write(tmp_path, "changed.json", changed))
    assert out == "Loaded synthetic-routine version 2\n"
    assert _loaded() == {("synthetic-routine", "1"), ("synthetic-routine", "2")}


@pytest.mark.django_db
def test_a_bad_file_lists_every_problem_with_its_path_and_stores_nothing(tmp_path):
    bad = nine_item()
    bad["items"][3]["options"] = [{"value": "one", "label": "one"}, {"value": 1, "label": "x"}]
    bad["scoring"]["method"] = "median"
    del bad["title"]
    err = _run_refused(_write(tmp_path, "bad.json", bad))
    lines = err.splitlines()
    assert "bad.json: items[3].options[0].value: must be an integer" in lines
    assert "bad.json: title: is required" in lines
    assert any(line.startswith("bad.json: scoring.method: must be one of") for line in lines)
    assert _loaded() == set()
    # Once the shape is right, the rules a schema cannot say, with their paths too.
    bad = nine_item()
    bad["critical_items"][0]["threshold"] = 4
    bad["norms"]["cutoff"] = 40
    lines = _run_refused(_write(tmp_path, "bad.json", bad)).splitlines()
    assert any(line.startswith("bad.json: critical_items[0].threshold: 4 can") for line in lines)
    assert any(line.startswith("bad.json: norms.cutoff: ") for line in lines)
    assert _loaded() == set()


@pytest.mark.django_db
def test_not_json_and_a_missing_file_are_said_plainly(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"slug": ')
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"title": "caf\u00e9"}'.encode("latin-1"))
    err = _run_refused(broken, latin, tmp_path / "missing.json")
    assert re.search(r"^broken\.json: not valid JSON: .*line 1", err, re.MULTILINE)
    assert re.search(r"^latin\.json: not valid JSON", err, re.MULTILINE)
    assert re.search(r"^missing\.json: cannot be read", err, re.MULTILINE)


@pytest.mark.django_db
def test_several_files_load_all_or_nothing(tmp_path):
    good = _write(tmp_path, "nine.json", nine_item())
    bad_data = _json(NATIVE)
    bad_data["subscales"][0]["items"].append("r9")
    bad = _write(tmp_path, "routine.json", bad_data)
    err = _run_refused(good, bad)
    assert "routine.json: subscales[0].items[2]" in err
    assert "nine.json" not in err  # only the file with a problem is named
    assert _loaded() == set()
    out, _ = _run(good, NATIVE)
    assert out.splitlines() == [
        "Loaded synthetic-nine version 1",
        "Loaded synthetic-routine version 1",
    ]
    assert _loaded() == {("synthetic-nine", "1"), ("synthetic-routine", "1")}


@pytest.mark.django_db
def test_a_store_refused_half_way_rolls_back_the_files_before_it(tmp_path, monkeypatch):
    """Someone else loads a clashing version between the checks and the store: the files
    already stored in this run are rolled back with it."""
    from rapport.care.management.commands import load_instrument

    real_store = load_instrument.instrument_store
    calls = []

    def store(**kwargs):
        calls.append(kwargs["instrument"].slug)
        if len(calls) == 2:
            raise DefinitionError([("version", "loaded by someone else a moment ago")])
        return real_store(**kwargs)

    monkeypatch.setattr(load_instrument, "instrument_store", store)
    with pytest.raises(CommandError, match="someone else"):
        _run(_write(tmp_path, "nine.json", nine_item()), NATIVE)
    assert calls == ["synthetic-nine", "synthetic-routine"]
    assert _loaded() == set()


@pytest.mark.django_db
def test_two_files_claiming_one_version_with_different_content_load_neither(tmp_path):
    first = _write(tmp_path, "first.json", nine_item(threshold=1))
    second = _write(tmp_path, "second.json", nine_item(threshold=2))
    err = _run_refused(first, second)
    assert err.startswith("second.json: version:")
    assert _loaded() == set()


@pytest.mark.django_db
def test_the_command_wants_something_to_load():
    with pytest.raises(CommandError, match="Name a definition file"):
        call_command("load_instrument")
    with pytest.raises(CommandError, match="go together"):
        call_command("load_instrument", "--fhir-questionnaire", str(QUESTIONNAIRE))


@pytest.mark.django_db
def test_the_command_loads_a_questionnaire_with_its_scoring_part():
    out, _ = _run("--fhir-questionnaire", QUESTIONNAIRE, "--scoring", SCORING)
    assert out == "Loaded synthetic-routine version 1\n"
    # The native file says the same thing: it is already there.
    out, _ = _run(NATIVE)
    assert out == "Already loaded: synthetic-routine version 1\n"


@pytest.mark.django_db
def test_a_questionnaire_mismatch_stops_the_other_files_too(tmp_path):
    scoring = _json(SCORING)
    scoring["critical_items"][0]["item"] = "r7"
    err = _run_refused(
        _write(tmp_path, "nine.json", nine_item()),
        "--fhir-questionnaire",
        QUESTIONNAIRE,
        "--scoring",
        _write(tmp_path, "s.json", scoring),
    )
    assert "scoring part: critical_items[0].item" in err
    assert _loaded() == set()


# --- the FHIR import ------------------------------------------------------------------------


def test_a_questionnaire_and_its_scoring_part_make_the_native_definition():
    imported = questionnaire_instrument(QUESTIONNAIRE.read_bytes(), SCORING.read_bytes())
    native = parse_definition(NATIVE.read_bytes())
    assert imported.content_hash == native.content_hash
    assert questionnaire_definition(QUESTIONNAIRE.read_text(), SCORING.read_text()) == (
        definition_dict(native)
    )
    # The display item and the group are not questions; the group's items keep their order.
    assert [item.id for item in imported.items] == ["r1", "r2", "r3", "r4", "r5"]


@pytest.mark.parametrize(
    ("answers", "total", "band", "prorated", "home", "critical"),
    [
        # r3 is reversed (3 − answer); r5 is optional, counted in no score.
        ({"r1": 3, "r2": 2, "r3": 0, "r4": 3, "r5": 0}, 11, "high", False, 5, "not flagged"),
        ({"r1": 0, "r2": 0, "r3": 3, "r4": 0, "r5": 2}, 0, "low", False, 0, "flagged"),
        ({"r1": 1, "r2": 1, "r3": 2, "r4": 2, "r5": 3}, 5, "middle", False, 2, "flagged"),
        # r4 blank: (1 + 2 + 1) / 3 answered × 4 items = 5.33 → 5, prorated.
        ({"r1": 1, "r2": 2, "r3": 2, "r4": None, "r5": None}, 5, "middle", True, 3, "not answered"),
        # Two blank: more than max_missing 1, no total.
        ({"r1": 1, "r2": None, "r3": None, "r4": 2}, None, None, False, None, "not answered"),
    ],
)
def test_the_imported_instrument_scores_like_the_native_one(
    answers, total, band, prorated, home, critical
):
    imported = questionnaire_instrument(QUESTIONNAIRE.read_bytes(), SCORING.read_bytes())
    native = parse_definition(NATIVE.read_bytes())
    for instrument in (imported, native):
        result = score(instrument, answers)
        assert (result.total.value, result.total.band) == (total, band)
        assert result.total.prorated is prorated
        assert result.subscale("home").value == home
        assert result.critical[0].status is CriticalStatus(critical)


def test_integer_answers_and_details_from_the_scoring_part():
    questionnaire = _json(QUESTIONNAIRE)
    for item in questionnaire["item"][1]["item"] + questionnaire["item"][2:]:
        item["answerOption"] = [{"valueInteger": value} for value in (0, 1, 2, 3)]
    del questionnaire["description"], questionnaire["title"]
    scoring = _json(SCORING)
    del scoring["response_range"]  # taken from the answers: 0 to 3
    scoring |= {"title": "Given in the scoring part", "instructions": "Scoring part's words."}
    instrument = questionnaire_instrument(json.dumps(questionnaire), json.dumps(scoring))
    assert instrument.title == "Given in the scoring part"
    assert instrument.instructions == "Scoring part's words."
    assert instrument.licence == "Invented for Rapport's tests."  # the Questionnaire's copyright
    assert (instrument.response_min, instrument.response_max) == (0, 3)
    assert [(o.value, o.label) for o in instrument.items[0].options] == [
        (0, "0"),
        (1, "1"),
        (2, "2"),
        (3, "3"),
    ]
    assert score(instrument, {"r1": 3, "r2": 2, "r3": 0, "r4": 3}).total.value == 11


ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"


def _questions(questionnaire: dict[str, Any]) -> list[dict[str, Any]]:
    return questionnaire["item"][1]["item"] + questionnaire["item"][2:]


def test_coded_answers_take_their_value_from_an_ordinal_value_or_item_weight():
    questionnaire = _json(QUESTIONNAIRE)
    for number, item in enumerate(_questions(questionnaire)):
        for option in item["answerOption"]:
            coding = option["valueCoding"]
            value = int(coding["code"])
            coding["code"] = f"TEST-{value + 7}"  # a code that is not the value
            weight = {"url": ORDINAL, "valueDecimal": value}
            if number % 2:
                option["extension"] = [{**weight, "url": ITEM_WEIGHT}]
            else:
                coding["extension"] = [weight]
    imported = questionnaire_instrument(json.dumps(questionnaire), SCORING.read_bytes())
    assert imported.content_hash == parse_definition(NATIVE.read_bytes()).content_hash


def test_an_ordinal_value_that_is_not_whole_is_refused():
    questionnaire = _json(QUESTIONNAIRE)
    coding = questionnaire["item"][2]["answerOption"][1]["valueCoding"]
    coding["extension"] = [{"url": ORDINAL, "valueDecimal": 1.5}]
    problems = _problems(questionnaire, _json(SCORING))
    assert _paths(problems) == ["questionnaire: item[2].answerOption[1].valueCoding.extension[0]"]


def _problems(questionnaire: Any, scoring: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        questionnaire_instrument(json.dumps(questionnaire), json.dumps(scoring))
    return list(caught.value.problems)


def _paths(problems: list[tuple[str, str]]) -> list[str]:
    return [where for where, _ in problems]


def test_scoring_that_names_items_the_questionnaire_lacks_is_refused():
    scoring = _json(SCORING)
    scoring["subscales"][0]["items"] = ["r1", "r2", "r8"]
    scoring["critical_items"][0]["item"] = "safety"
    scoring["reverse_scored"] = ["r3", "r9"]
    problems = _problems(_json(QUESTIONNAIRE), scoring)
    assert _paths(problems) == ["scoring part: reverse_scored[1]"]
    assert "'r9'" in problems[0][1]
    scoring["reverse_scored"] = ["r3"]
    paths = _paths(_problems(_json(QUESTIONNAIRE), scoring))
    assert "scoring part: subscales[0].items[2]" in paths
    assert "scoring part: critical_items[0].item" in paths


def test_answers_that_are_not_integers_are_refused_with_their_paths():
    questionnaire = _json(QUESTIONNAIRE)
    group = questionnaire["item"][1]["item"]
    group[0]["answerOption"][1]["valueCoding"]["code"] = "LA-1"  # r1, a code that is no number
    group[1]["answerOption"][2] = {"valueString": "Most days"}  # r2
    questionnaire["item"][2]["answerOption"][0] = {"valueInteger": True}  # r4
    del questionnaire["item"][3]["answerOption"][3]["valueCoding"]["display"]  # r5
    problems = _problems(questionnaire, _json(SCORING))
    assert _paths(problems) == [
        "questionnaire: item[1].item[0].answerOption[1].valueCoding.code",
        "questionnaire: item[1].item[1].answerOption[2]",
        "questionnaire: item[2].answerOption[0].valueInteger",
        "questionnaire: item[3].answerOption[3].valueCoding.display",
    ]
    assert "'LA-1' is not" in problems[0][1]
    assert "valueString" in problems[1][1]


def test_items_rapport_cannot_score_are_refused():
    questionnaire = _json(QUESTIONNAIRE)
    questionnaire["item"].append({"linkId": "note", "type": "string", "text": "Test note"})
    questionnaire["item"][2]["enableWhen"] = [
        {"question": "r1", "operator": "=", "answerInteger": 1}
    ]
    del questionnaire["item"][3]["answerOption"]
    questionnaire["item"][3]["answerValueSet"] = "urn:example:value-set"
    paths = _paths(_problems(questionnaire, _json(SCORING)))
    assert paths == [
        "questionnaire: item[2].enableWhen",
        "questionnaire: item[3].answerValueSet",
        "questionnaire: item[4].type",
    ]


def test_a_malformed_questionnaire_is_refused_by_the_fhir_models():
    questionnaire = _json(QUESTIONNAIRE)
    del questionnaire["item"][2]["linkId"]
    questionnaire["item"][3]["colour"] = "blue"
    paths = _paths(_problems(questionnaire, _json(SCORING)))
    assert "questionnaire: item[2].linkId" in paths
    assert "questionnaire: item[3].colour" in paths
    assert _paths(_problems({"resourceType": "Patient"}, _json(SCORING))) == [
        "questionnaire: resourceType"
    ]
    assert _paths(_problems([], [])) == ["questionnaire", "scoring part"]


def test_the_definitions_own_checks_name_the_questionnaires_paths():
    questionnaire = _json(QUESTIONNAIRE)
    questionnaire["item"][1]["item"][1]["linkId"] = "r1"  # r2 becomes a second r1
    del questionnaire["item"][2]["text"]
    scoring = _json(SCORING)
    scoring["scoring"]["method"] = "median"
    scoring["items"] = []
    problems = _problems(questionnaire, scoring)
    assert _paths(problems) == ["scoring part: items"]  # the parts' own shape first
    del scoring["items"]
    assert _paths(_problems(questionnaire, scoring)) == [
        "questionnaire: item[2].text",
        "scoring part: scoring.method",
    ]
    questionnaire["item"][2]["text"] = "Test line: back again."
    scoring["scoring"]["method"] = "sum"
    paths = _paths(_problems(questionnaire, scoring))
    assert "questionnaire: item[1].item[1].linkId" in paths
    assert "scoring part: subscales[0].items[1]" in paths  # names r2, which is gone


def test_json_the_import_refuses():
    with pytest.raises(DefinitionError) as caught:
        questionnaire_instrument(b'{"a": 1, "a": 2}', b'{"a": "caf\xe9"}')
    assert [where for where, _ in caught.value.problems] == ["questionnaire", "scoring part"]
    assert "appears twice" in caught.value.problems[0][1]
    assert "UTF-8" in caught.value.problems[1][1]


def test_the_documented_example_loads():
    text = PAGE.read_text()
    questionnaire = re.search(r"```json questionnaire\n(.*?)```", text, re.DOTALL)
    scoring = re.search(r"```json scoring-part\n(.*?)```", text, re.DOTALL)
    assert questionnaire
    assert scoring
    instrument = questionnaire_instrument(questionnaire.group(1), scoring.group(1))
    assert instrument.slug == "example-short"
    assert [item.id for item in instrument.items] == ["s1", "s2", "s3"]
    assert (instrument.response_min, instrument.response_max) == (0, 2)
    result = score(instrument, {"s1": 2, "s2": 0, "s3": 1})
    assert (result.total.value, result.total.band) == (4, "high")
    assert result.critical[0].status is CriticalStatus.FLAGGED


def test_the_scoring_part_is_not_changed_by_the_import():
    scoring = _json(SCORING)
    before = copy.deepcopy(scoring)
    questionnaire_instrument(_json(QUESTIONNAIRE), scoring)
    assert scoring == before


# --- the staff page -------------------------------------------------------------------------

LIST = "/staff/instruments/"


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/json")


def _definition_post(data: bytes, name: str = "d.json") -> dict[str, Any]:
    return {"native-kind": "definition", "native-definition": _file(name, data)}


def _fhir_post(questionnaire: bytes, scoring: bytes) -> dict[str, Any]:
    return {
        "fhir-kind": "fhir",
        "fhir-questionnaire": _file("q.json", questionnaire),
        "fhir-scoring": _file("s.json", scoring),
    }


@pytest.fixture
def staff(db):
    return make_user(role="staff", mfa=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_the_urls_are_the_named_routes():
    assert reverse("care_staff:instruments") == LIST
    assert (
        reverse("care_staff:instrument_detail", args=["progress-check", "1.2+b"])
        == "/staff/instruments/progress-check/1.2+b/"
    )


@pytest.mark.django_db
def test_the_list_shows_built_ins_and_loaded_versions(staff_client, staff):
    _run(NATIVE)  # by the command: no one's name
    changed = _json(NATIVE) | {"version": "2", "title": "Synthetic routine, second"}
    response = staff_client.post(LIST, _definition_post(json.dumps(changed).encode()))
    assert response.status_code == 302
    page = staff_client.get(LIST).content.decode()
    assert "<h1>Instruments</h1>" in page
    builtins = InstrumentVersion.objects.filter(builtin=True)
    assert builtins.exists()
    for row in InstrumentVersion.objects.all():
        url = reverse("care_staff:instrument_detail", args=[row.slug, row.version])
        assert f'href="{url}"' in page
        short = row.content_hash.removeprefix("sha256:")[:12]
        assert f'<code title="{row.content_hash}">{short}</code>' in page
    assert page.count("<td>built-in</td>") == builtins.count()
    assert page.count("<td>loaded</td>") == 2
    assert f"<td>{staff.email}</td>" in page
    assert "<td>the command line</td>" in page
    # The nav links the page, marked as the current one.
    assert 'aria-current="page">Instruments</a>' in page


@pytest.mark.django_db
def test_uploading_a_definition_loads_it_in_the_staff_members_name(staff_client, staff):
    response = staff_client.post(LIST, _definition_post(NATIVE.read_bytes()), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "Loaded Synthetic routine (synthetic-routine) version 1." in response.content.decode()
    row = InstrumentVersion.objects.get(slug="synthetic-routine")
    assert row.loaded_by == staff
    assert row.content_hash == parse_definition(NATIVE.read_bytes()).content_hash
    again = staff_client.post(LIST, _definition_post(NATIVE.read_bytes()), follow=True)
    assert "Already loaded: synthetic-routine version 1" in again.content.decode()
    assert InstrumentVersion.objects.filter(slug="synthetic-routine").count() == 1


@pytest.mark.django_db
def test_uploading_a_questionnaire_with_its_scoring_part(staff_client):
    response = staff_client.post(
        LIST, _fhir_post(QUESTIONNAIRE.read_bytes(), SCORING.read_bytes()), follow=True
    )
    assert "Loaded Synthetic routine (synthetic-routine) version 1." in response.content.decode()
    row = InstrumentVersion.objects.get(slug="synthetic-routine")
    assert row.content_hash == parse_definition(NATIVE.read_bytes()).content_hash


@pytest.mark.django_db
def test_a_bad_definition_lists_its_problems_and_stores_nothing(staff_client):
    bad = nine_item()
    bad["items"][3]["options"] = [{"value": "one", "label": "one"}, {"value": 1, "label": "x"}]
    del bad["title"]
    response = staff_client.post(LIST, _definition_post(json.dumps(bad).encode()))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Problems found" in page
    assert (
        "<tr><td><code>items[3].options[0].value</code></td><td>must be an integer</td></tr>"
        in (page)
    )
    assert "<tr><td><code>title</code></td><td>is required</td></tr>" in page
    # The field says so too, tied to it for screen readers.
    assert 'aria-describedby="id_native-definition-help id_native-definition-error"' in page
    assert "Nothing was loaded: 2 problems in this file" in page
    assert _loaded() == set()


@pytest.mark.django_db
def test_a_questionnaire_mismatch_is_tied_to_the_scoring_part(staff_client):
    scoring = _json(SCORING)
    scoring["subscales"][0]["items"].append("r8")
    response = staff_client.post(
        LIST, _fhir_post(QUESTIONNAIRE.read_bytes(), json.dumps(scoring).encode())
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "<code>scoring part: subscales[0].items[2]</code>" in page
    assert 'id="id_fhir-scoring-error">Nothing was loaded: 1 problem in this file' in page
    assert _loaded() == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"slug": ', "not valid JSON: Expecting value (line 1, column 10)"),
        ('{"title": "caf\u00e9"}'.encode("latin-1"), "This file is not UTF-8 text."),
        (b"", "The submitted file is empty."),
    ],
)
def test_files_that_are_not_json_are_said_plainly(staff_client, data, message):
    response = staff_client.post(LIST, _definition_post(data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _loaded() == set()


@pytest.mark.django_db
def test_a_file_over_one_mebibyte_is_refused(staff_client, settings):
    big = json.dumps(nine_item() | {"instructions": "x" * 2**20}).encode()
    response = staff_client.post(LIST, _definition_post(big))
    assert response.status_code == 400
    assert "This file is larger than 1 MiB. Nothing was loaded." in response.content.decode()
    # Just under the cap is read (and here refused for what it says, not for its size).
    near = json.dumps(nine_item() | {"instructions": "x" * (2**20 - 2000)}).encode()
    assert len(near) <= 2**20
    response = staff_client.post(LIST, _definition_post(near))
    assert "larger than" not in response.content.decode()
    assert _loaded() == set()


@pytest.mark.django_db
def test_the_detail_page_shows_the_definition_read_only(staff_client):
    _run(NATIVE)
    page = staff_client.get("/staff/instruments/synthetic-routine/1/").content.decode()
    assert "Synthetic routine" in page
    for text in (
        "Test line: the kettle boiled on time.",
        "0: Not once",
        "3: Every day",
        "reverse-scored",
        "optional: counted in no score",
        "<code>r5</code>: flagged at an answer of 2 or more",
        "<td>9</td><td>12</td><td>high</td>",
        "mean 5, SD 2",
        "higher is better",
        # Criterion c: (2 × 9 + 2 × 5) / (2 + 2) = 7.
        "7.000 (criterion c)",
        "<h3>Home</h3>",
    ):
        assert text in page
    assert "<form" not in page.split("<main", 1)[-1]
    assert staff_client.get("/staff/instruments/synthetic-routine/9/").status_code == 404
    assert staff_client.post("/staff/instruments/synthetic-routine/1/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who",
    [
        lambda: make_user(role="client"),
        lambda: make_therapist_with_account(mfa=True).user,
        # A licence reviewer who is not staff.
        lambda: make_user(role="client", mfa=True, permissions=("directory.review_licences",)),
    ],
)
def test_people_who_are_not_staff_get_a_404(client, who):
    client.force_login(who())
    _run(NATIVE)
    assert client.get(LIST).status_code == 404
    assert client.get("/staff/instruments/synthetic-routine/1/").status_code == 404
    changed = _json(NATIVE) | {"version": "2"}
    response = client.post(LIST, _definition_post(json.dumps(changed).encode()))
    assert response.status_code == 404
    assert _loaded() == {("synthetic-routine", "1")}


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in (LIST, "/staff/instruments/progress-check/1/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('account_login')}?next={url}"
    response = client.post(LIST, _definition_post(NATIVE.read_bytes()))
    assert response.status_code == 302
    assert _loaded() == set()


@pytest.mark.django_db
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client):
    client.force_login(make_user(role="staff", mfa=False))
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/")


@pytest.mark.django_db
def test_an_oversized_scoring_part_is_named_at_its_own_field(staff_client):
    big = json.dumps(_json(SCORING) | {"instructions": "x" * 2**20}).encode()
    response = staff_client.post(LIST, _fhir_post(QUESTIONNAIRE.read_bytes(), big))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_fhir-scoring-error">This file is larger than 1 MiB.' in page
    assert 'id="id_fhir-questionnaire-error"></p>' in page
    assert _loaded() == set()


@pytest.mark.django_db
def test_an_upload_without_the_csrf_token_is_refused(staff):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(LIST, _definition_post(NATIVE.read_bytes()))
    assert response.status_code == 403
    assert _loaded() == set()
