"""/api/v1/check-ins and /api/v1/instruments, and check-ins on /api/v1/engagements/{id}: the
client's own check-ins only, refused answers as problem documents (409, 410, 422 with paths,
404 for anyone else's), scores checked against hand-computed values, and each answered
questionnaire as a FHIR R4 QuestionnaireResponse checked against the standard's rules."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.care import services
from rapport.care.models import (
    Alert,
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    InstrumentVersion,
    SessionStatus,
    Sharing,
)
from tests.care.factories import make_engagement
from tests.factories import make_therapist, make_therapist_user, make_user
from tests.json_leaves import leaves

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
GOAL = "Sleep through the night"

FIT = {"understood": 4, "open": 5, "focus": 3, "continue": 4}
PROGRESS = {
    "energy": 1,
    "getting-things-done": 2,
    "enjoyment": 1,
    "connection": 1,
    "looking-after-myself": 2,
    "safety": 0,
}
ALLIANCE = {
    "bond-at-ease": 4,
    "bond-holding-back": 2,  # reverse-scored on 1-5: counts as 4
    "goals-what-matters": 3,
    "goals-direction": 3,
    "tasks-makes-sense": 5,
    "tasks-take-away": 4,
}


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def _open(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


def _attend(engagement: Engagement) -> None:
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=2),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )


def _url(check_in: CheckIn, suffix: str = "") -> str:
    return f"/api/v1/check-ins/{check_in.public_id}{suffix}"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    return body


def _nothing_written(check_in: CheckIn) -> None:
    stored = CheckIn.objects.get(pk=check_in.pk)
    assert stored.status == check_in.status
    assert stored.completed_at is None
    assert all(part.answers == "" for part in CheckInPart.objects.filter(check_in=check_in))
    assert not Alert.objects.filter(check_in=check_in).exists()


@pytest.fixture
def engagement(reference_data) -> Engagement:
    """A new engagement: its open check-in asks the fit check and the progress baseline."""
    return make_engagement(goals=[GOAL])


@pytest.fixture
def ongoing(reference_data) -> Engagement:
    """After the first attended session: one open check-in with the fit check (still
    unanswered), the alliance check-in, the progress check and the goal to rate."""
    engagement = make_engagement(status=EngagementStatus.ONGOING, goals=[GOAL])
    _attend(engagement)
    return engagement


# --- the list -------------------------------------------------------------------------------


def test_the_client_lists_the_check_in_waiting_and_nobody_else_does(engagement):
    check_in = _open(engagement)
    body = _as(engagement.client).get("/api/v1/check-ins?due=1").json()
    assert (body["total"], body["page"], body["pages"]) == (1, 1, 1)
    (row,) = body["results"]
    assert row["id"] == str(check_in.public_id)
    assert row["engagement_id"] == str(engagement.public_id)
    assert row["status"] == "open"
    assert row["purposes"] == ["fit", "progress"]
    assert row["after_session"] == 0
    assert row["therapist_name"] == engagement.therapist.display_name
    # A therapist asks for their own check-ins as a client: they have none.
    for other in (engagement.therapist.user, make_user(role="client")):
        assert _as(other).get("/api/v1/check-ins?due=1").json()["results"] == []
        assert _as(other).get("/api/v1/check-ins").json()["total"] == 0


def test_without_due_every_check_in_is_listed_newest_first(engagement):
    first = _open(engagement)
    Engagement.objects.filter(pk=engagement.pk).update(status=EngagementStatus.ONGOING)
    engagement.refresh_from_db()
    _attend(engagement)  # the open request is replaced by one that asks more
    second = _open(engagement)
    client = _as(engagement.client)

    everything = client.get("/api/v1/check-ins").json()
    assert [(row["id"], row["status"]) for row in everything["results"]] == [
        (str(second.public_id), "open"),
        (str(first.public_id), "replaced"),
    ]
    due = client.get("/api/v1/check-ins?due=1").json()["results"]
    assert [row["id"] for row in due] == [str(second.public_id)]


def test_an_expired_check_in_is_not_due_but_is_listed(engagement):
    check_in = _open(engagement)
    CheckIn.objects.filter(pk=check_in.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=9),
        expires_at=timezone.now() - dt.timedelta(days=2),
    )
    client = _as(engagement.client)
    assert client.get("/api/v1/check-ins?due=1").json()["total"] == 0
    assert client.get("/api/v1/check-ins").json()["total"] == 1


def test_the_list_is_paged_and_bad_parameters_are_problems_naming_them(engagement):
    client = _as(engagement.client)
    assert client.get("/api/v1/check-ins?page=1").json()["pages"] == 1
    past = _problem(client.get("/api/v1/check-ins?page=2"), 400)
    assert past["detail"] == "There is only 1 page."
    assert [error["field"] for error in past["errors"]] == ["page"]
    for query, field in (("page=0", "page"), ("page=two", "page"), ("due=yes", "due")):
        body = _problem(client.get(f"/api/v1/check-ins?{query}"), 400)
        assert [error["field"] for error in body["errors"]] == [field], query


def test_more_check_ins_than_a_page_are_split_over_pages(engagement):
    from rapport.care.api_checkins import PAGE_SIZE

    now = timezone.now()
    CheckIn.objects.bulk_create(
        CheckIn(
            engagement=engagement,
            status=CheckInStatus.EXPIRED,
            after_session=0,
            requested_at=now - dt.timedelta(days=30 + index),
            expires_at=now - dt.timedelta(days=23 + index),
        )
        for index in range(PAGE_SIZE)
    )
    client = _as(engagement.client)
    first = client.get("/api/v1/check-ins").json()
    second = client.get("/api/v1/check-ins?page=2").json()
    assert (first["total"], first["pages"], len(first["results"])) == (
        PAGE_SIZE + 1, 2, PAGE_SIZE,
    )  # fmt: skip
    assert len(second["results"]) == 1
    # Newest first across the pages: the open one leads, the oldest expired one ends.
    assert first["results"][0]["status"] == "open"
    requested = [row["requested_at"] for row in first["results"] + second["results"]]
    assert requested == sorted(requested, reverse=True)


# --- one check-in: the questions ------------------------------------------------------------


def test_the_client_reads_the_questions_of_an_open_check_in(ongoing):
    check_in = _open(ongoing)
    response = _as(ongoing.client).get(_url(check_in))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "open"
    assert [(p["position"], p["purpose"]) for p in body["parts"]] == [
        (1, "fit"), (2, "alliance"), (3, "progress"),
    ]  # fmt: skip
    alliance = body["parts"][1]
    assert alliance["instrument"] == {
        "slug": "alliance-check-in",
        "version": "2",
        "title": "Alliance check-in",
    }
    assert alliance["instructions"].startswith("Thinking about your most recent session")
    assert [item["id"] for item in alliance["items"]] == list(ALLIANCE)
    assert alliance["items"][0]["options"][0] == {"value": 1, "label": "Not at all"}
    assert [option["value"] for option in alliance["items"][0]["options"]] == [1, 2, 3, 4, 5]
    progress = {item["id"]: item for item in body["parts"][2]["items"]}
    assert progress["safety"]["optional"] is True
    assert progress["energy"]["optional"] is False
    assert all(part["answers"] is None and part["scores"] is None for part in body["parts"])
    assert body["goals"] == [
        {"position": 1, "text": GOAL, "scale_min": 0, "scale_max": 10, "rating": None}
    ]
    assert body["fhir"] == []


def test_someone_elses_check_in_is_a_404_problem_on_every_endpoint(engagement):
    check_in = _open(engagement)
    other_therapist = make_therapist(user=make_therapist_user(mfa=True)).user
    # The therapist of the engagement too: check-ins are read and answered by the client.
    for user in (make_user(role="client"), other_therapist, engagement.therapist.user):
        client = _as(user)
        for response in (
            client.get(_url(check_in)),
            _post(client, _url(check_in, "/answers"), {"answers": {"fit": FIT}}),
        ):
            body = _problem(response, 404)
            assert GOAL not in response.content.decode()
            assert "understood" not in json.dumps(body)
    for bad_id in ("not-a-uuid", str(uuid.uuid4())):
        _problem(_as(engagement.client).get(f"/api/v1/check-ins/{bad_id}"), 404)
    _nothing_written(check_in)


def test_anonymous_callers_are_told_to_sign_in(engagement):
    check_in = _open(engagement)
    for response in (
        Client().get("/api/v1/check-ins?due=1"),
        Client().get(_url(check_in)),
        Client().get("/api/v1/instruments"),
        Client().get("/api/v1/instruments/fit-check"),
    ):
        _problem(response, 401)


# --- answering ------------------------------------------------------------------------------


def test_answers_are_scored_stored_and_shown_back(ongoing, django_capture_on_commit_callbacks):
    check_in = _open(ongoing)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            _as(ongoing.client),
            _url(check_in, "/answers"),
            {
                "answers": {"fit": FIT, "alliance": ALLIANCE, "progress": PROGRESS},
                "goals": {"1": 7},
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "completed"
    assert body["crisis"] is False
    assert body["crisis_card"] is None
    scores = {part["purpose"]: part["scores"] for part in body["parts"]}
    # By hand: fit 4+5+3+4 = 16 ("A good start" is 16-20); progress 1+2+1+1+2 = 7 (safety is
    # optional and counts in no score; 0-7 is the lowest band); alliance mean of
    # 4, 4 (2 reversed), 3, 3, 5, 4 = 23/6 = 3.83 -> 3.8 ("Working well" from 3.5).
    assert (scores["fit"]["total"]["value"], scores["fit"]["total"]["band"]) == (
        16, "A good start",
    )  # fmt: skip
    assert (scores["progress"]["total"]["value"], scores["progress"]["total"]["band"]) == (
        7, "Having a very hard time",
    )  # fmt: skip
    assert scores["progress"]["critical"] == [
        {"item_id": "safety", "threshold": 1, "status": "not flagged"}
    ]
    assert (scores["alliance"]["total"]["value"], scores["alliance"]["total"]["band"]) == (
        3.8, "Working well",
    )  # fmt: skip
    assert {s["id"]: s["value"] for s in scores["alliance"]["subscales"]} == {
        "bond": 4.0, "goals": 3.0, "tasks": 4.5,
    }  # fmt: skip
    assert body["goals"] == [
        {"position": 1, "text": GOAL, "scale_min": 0, "scale_max": 10, "rating": 7}
    ]
    stored = CheckIn.objects.get(pk=check_in.pk)
    assert stored.status == CheckInStatus.COMPLETED
    part = stored.parts.get(purpose="alliance")
    assert json.loads(part.answers) == ALLIANCE
    assert json.loads(stored.goal_ratings)["ratings"] == {"1": 7}
    assert not Alert.objects.exists()

    # Read back: the answers, the same scores, and one FHIR response per part.
    shown = _as(ongoing.client).get(_url(check_in)).json()
    assert shown["status"] == "completed"
    assert {p["purpose"]: p["answers"] for p in shown["parts"]}["alliance"] == ALLIANCE
    assert {p["purpose"]: p["scores"]["total"]["value"] for p in shown["parts"]} == {
        "fit": 16, "alliance": 3.8, "progress": 7,
    }  # fmt: skip
    assert shown["goals"][0]["rating"] == 7
    assert [r["questionnaire"] for r in shown["fhir"]] == [
        "urn:rapport:instrument:fit-check|1",
        "urn:rapport:instrument:alliance-check-in|2",
        "urn:rapport:instrument:progress-check|1",
    ]


def test_a_crisis_answer_returns_the_crisis_card_and_alerts_the_therapist(engagement):
    check_in = _open(engagement)
    response = _post(
        _as(engagement.client),
        _url(check_in, "/answers"),
        {"answers": {"fit": FIT, "progress": {**PROGRESS, "safety": 2}}},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["crisis"] is True
    card = body["crisis_card"]
    # The therapist is licensed in Ontario: Canada's card.
    assert (card["country_code"], card["emergency"]) == ("CA", "911")
    assert [(line["number"], line["how"]) for line in card["lines"]] == [("988", "Call or text")]
    progress = next(part for part in body["parts"] if part["purpose"] == "progress")
    assert progress["scores"]["critical"][0]["status"] == "flagged"
    assert Alert.objects.get().check_in_id == check_in.pk


def test_a_second_answer_is_a_409_problem_and_changes_nothing(engagement):
    check_in = _open(engagement)
    client = _as(engagement.client)
    url = _url(check_in, "/answers")
    assert _post(client, url, {"answers": {"fit": FIT, "progress": PROGRESS}}).status_code == 201
    again = _problem(
        _post(client, url, {"answers": {"fit": {**FIT, "open": 1}, "progress": PROGRESS}}), 409
    )
    assert again["title"] == "This check-in was already answered"
    assert again["detail"]
    assert json.loads(CheckInPart.objects.get(check_in=check_in, purpose="fit").answers) == FIT


@pytest.mark.parametrize("how", ["expired", "replaced", "withdrawn", "past its time"])
def test_a_closed_check_in_is_a_410_problem(engagement, how):
    check_in = _open(engagement)
    if how == "past its time":  # not yet closed by housekeeping, but its time is up
        CheckIn.objects.filter(pk=check_in.pk).update(
            requested_at=timezone.now() - dt.timedelta(days=8),
            expires_at=timezone.now() - dt.timedelta(minutes=1),
        )
    else:
        CheckIn.objects.filter(pk=check_in.pk).update(status=how, closed_at=timezone.now())
    check_in.refresh_from_db()
    body = _problem(
        _post(
            _as(engagement.client),
            _url(check_in, "/answers"),
            {"answers": {"fit": FIT, "progress": PROGRESS}},
        ),
        410,
    )
    assert body["title"] == "This check-in has closed"
    _nothing_written(check_in)


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"answers": {"fit": {**FIT, "understood": 9}, "progress": PROGRESS}},
         ["fit/understood"]),
        ({"answers": {"fit": {**FIT, "unknown-item": 3}, "progress": PROGRESS}},
         ["fit/unknown-item"]),
        ({"answers": {"fit": {**FIT, "open": "5"}, "progress": PROGRESS}}, ["fit/open"]),
        ({"answers": {"fit": {**FIT, "open": True}, "progress": PROGRESS}}, ["fit/open"]),
        ({"answers": {"fit": FIT}}, ["progress"]),
        ({"answers": {"fit": FIT, "progress": PROGRESS, "alliance": ALLIANCE}}, ["alliance"]),
        ({"answers": {"fit": FIT, "progress": PROGRESS}, "goals": {"1": 5}}, ["goals"]),
    ],
)  # fmt: skip
def test_answers_that_cannot_be_used_are_a_422_problem_with_each_path(engagement, body, paths):
    check_in = _open(engagement)
    problem = _problem(_post(_as(engagement.client), _url(check_in, "/answers"), body), 422)
    assert problem["title"] == "Some answers could not be used"
    assert [error["path"] for error in problem["errors"]] == paths
    assert all(error["message"] for error in problem["errors"])
    _nothing_written(check_in)


def test_bad_goal_ratings_are_named_by_goal(ongoing):
    check_in = _open(ongoing)
    answers = {"fit": FIT, "alliance": ALLIANCE, "progress": PROGRESS}
    client = _as(ongoing.client)
    for goals, path in (({"1": 11}, "goals/1"), ({"1": 2.5}, "goals/1"), ({"2": 5}, "goals/2")):
        problem = _problem(
            _post(client, _url(check_in, "/answers"), {"answers": answers, "goals": goals}), 422
        )
        assert [error["path"] for error in problem["errors"]] == [path], goals
    _nothing_written(check_in)
    # Goals may be left unrated.
    assert _post(client, _url(check_in, "/answers"), {"answers": answers}).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {"fit": FIT, "progress": PROGRESS}, "extra": 1}, "extra"),
        ({"answer": {"fit": FIT}}, "answers"),
        ({"answers": [1, 2]}, "answers"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_400_problem_naming_the_field(engagement, body, field):
    check_in = _open(engagement)
    problem = _problem(_post(_as(engagement.client), _url(check_in, "/answers"), body), 400)
    assert field in [error["field"] for error in problem["errors"]]
    _nothing_written(check_in)


def test_malformed_json_is_a_400_problem(engagement):
    check_in = _open(engagement)
    _problem(_post(_as(engagement.client), _url(check_in, "/answers"), '{"answers": {'), 400)
    _nothing_written(check_in)


def test_reading_a_check_in_is_audited_without_its_content(engagement):
    check_in = _open(engagement)
    client = _as(engagement.client)
    _post(client, _url(check_in, "/answers"), {"answers": {"fit": FIT, "progress": PROGRESS}})
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    client.get(_url(check_in))
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("id")[before:]
    # The check-in and its two parts.
    assert len(reads) == 3
    assert {entry.actor for entry in reads} == {engagement.client}
    logged = json.dumps([(entry.changes, entry.object_repr) for entry in reads], default=str)
    assert "understood" not in logged
    assert "A good start" not in logged


# --- FHIR -----------------------------------------------------------------------------------


def test_a_small_check_in_reads_as_the_fhir_response_written_out_by_hand(engagement):
    check_in = _open(engagement)
    client = _as(engagement.client)
    progress = {**PROGRESS, "safety": None, "connection": None}  # two left blank
    assert (
        _post(
            client, _url(check_in, "/answers"), {"answers": {"fit": FIT, "progress": progress}}
        ).status_code
        == 201
    )
    completed = CheckIn.objects.get(pk=check_in.pk).completed_at
    assert completed is not None
    fhir = client.get(_url(check_in)).json()["fhir"]

    subject = {"reference": f"Patient/client-of-{engagement.public_id}"}
    authored = completed.isoformat(timespec="seconds")
    # The item texts and labels from rapport/care/instruments/builtin/fit-check.json.
    assert fhir[0] == {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "urn:rapport:instrument:fit-check|1",
        "status": "completed",
        "subject": subject,
        "authored": authored,
        "item": [
            {
                "linkId": "understood",
                "text": "I came away feeling this person got what I was telling them.",
                "answer": [{"valueCoding": {"code": "4", "display": "Agree"}}],
            },
            {
                "linkId": "open",
                "text": "I can picture myself speaking openly with this person.",
                "answer": [{"valueCoding": {"code": "5", "display": "Strongly agree"}}],
            },
            {
                "linkId": "focus",
                "text": "We have the same picture of what I came here to change.",
                "answer": [{"valueCoding": {"code": "3", "display": "Not sure"}}],
            },
            {
                "linkId": "continue",
                "text": "I would like to keep meeting with this person.",
                "answer": [{"valueCoding": {"code": "4", "display": "Agree"}}],
            },
        ],
    }
    # Blank items are left out of the progress response (FHIR has no "unanswered" answer).
    assert [item["linkId"] for item in fhir[1]["item"]] == [
        "energy", "getting-things-done", "enjoyment", "looking-after-myself",
    ]  # fmt: skip
    for resource in fhir:
        _assert_fhir_r4_questionnaire_response(resource)


# The FHIR R4 rules a QuestionnaireResponse is held to here (hl7.org/fhir/R4/
# questionnaireresponse.html and datatypes.html), read from the standard, not from the code.
_CANONICAL = re.compile(r"^\S+\|\S+$")  # canonical URL with "|version"
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)  # with a time, a zone is required
_LINK_ID = re.compile(r"^\S(.*\S)?$")  # a string: no leading or trailing space, not empty
_CODE = re.compile(r"^[^\s]+( [^\s]+)*$")  # code: no leading/trailing or double spaces
_STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}


def _assert_fhir_r4_questionnaire_response(resource: dict[str, Any]) -> None:
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    assert resource["resourceType"] == "QuestionnaireResponse"
    assert resource["status"] in _STATUSES
    assert resource["status"] == "completed"
    assert _CANONICAL.match(resource["questionnaire"])
    assert _DATETIME.match(resource["authored"])
    assert set(resource) <= {
        "resourceType", "questionnaire", "status", "subject", "authored", "item",
    }  # fmt: skip
    assert re.match(r"^Patient/[A-Za-z0-9\-.]{1,64}$", resource["subject"]["reference"])
    link_ids = [item["linkId"] for item in resource.get("item", [])]
    assert len(link_ids) == len(set(link_ids))
    for item in resource.get("item", []):
        assert _LINK_ID.match(item["linkId"])
        (answer,) = item["answer"]  # one value per single-choice question
        assert set(answer) == {"valueCoding"}  # exactly one value[x]
        coding = answer["valueCoding"]
        assert _CODE.match(coding["code"])
        assert isinstance(coding["display"], str)
    # And a FHIR models library, independently, parses it without complaint.
    parsed = QuestionnaireResponse.model_validate(resource)
    assert parsed.status == "completed"


def test_each_fhir_response_answers_exactly_the_answered_items(ongoing):
    check_in = _open(ongoing)
    client = _as(ongoing.client)
    answers: dict[str, dict[str, int | None]] = {
        "fit": dict(FIT),
        "alliance": {**ALLIANCE, "tasks-take-away": None},
        "progress": dict(PROGRESS),
    }
    assert _post(client, _url(check_in, "/answers"), {"answers": answers}).status_code == 201
    by_version = {
        row.slug: row for row in InstrumentVersion.objects.filter(check_in_parts__check_in=check_in)
    }
    for resource, purpose in zip(
        client.get(_url(check_in)).json()["fhir"], ("fit", "alliance", "progress"), strict=True
    ):
        _assert_fhir_r4_questionnaire_response(resource)
        slug, version = resource["questionnaire"].removeprefix("urn:rapport:instrument:").split("|")
        definition = by_version[slug].definition
        assert definition["version"] == version
        answered = [item for item, value in answers[purpose].items() if value is not None]
        assert [item["linkId"] for item in resource["item"]] == answered
        # The canonical definition writes each item's options out in full.
        items = {item["id"]: item for item in definition["items"]}
        for item in resource["item"]:
            value = answers[purpose][item["linkId"]]
            labels = {o["value"]: o["label"] for o in items[item["linkId"]]["options"]}
            assert item["text"] == items[item["linkId"]]["text"]
            assert item["answer"][0]["valueCoding"] == {
                "code": str(value),
                "display": labels[value],
            }


# --- instruments ----------------------------------------------------------------------------


def test_signed_in_people_read_the_instrument_definitions(reference_data):
    services.instrument_builtins_install()
    client = _as(make_user(role="client"))
    listed = {row["slug"]: row for row in client.get("/api/v1/instruments").json()}
    assert {"fit-check", "alliance-check-in", "progress-check"} <= set(listed)
    assert listed["fit-check"]["version"] == "1"
    assert listed["fit-check"]["versions"] == ["1"]
    assert listed["fit-check"]["builtin"] is True

    body = client.get("/api/v1/instruments/alliance-check-in").json()
    stored = InstrumentVersion.objects.get(slug="alliance-check-in", version="2")
    assert body["definition"] == stored.definition
    assert body["content_hash"] == stored.content_hash
    assert [item["id"] for item in body["definition"]["items"]] == list(ALLIANCE)


def test_an_older_version_is_read_with_its_version_and_unknown_ones_are_404(reference_data):
    services.instrument_builtins_install()
    current = InstrumentVersion.objects.get(slug="fit-check", version="1")
    newer = dict(current.definition, version="2", title="Fit check, revised")
    InstrumentVersion.objects.create(
        slug="fit-check",
        version="2",
        title="Fit check, revised",
        content_hash="0" * 64,
        definition=newer,
        loaded_at=current.loaded_at + dt.timedelta(days=1),
    )
    client = _as(make_user(role="client"))
    assert client.get("/api/v1/instruments/fit-check").json()["version"] == "2"
    old = client.get("/api/v1/instruments/fit-check?version=1").json()
    assert (old["version"], old["title"]) == ("1", "Fit check")
    listed = {row["slug"]: row for row in client.get("/api/v1/instruments").json()}
    assert (listed["fit-check"]["version"], listed["fit-check"]["versions"]) == ("2", ["1", "2"])
    _problem(client.get("/api/v1/instruments/fit-check?version=9"), 404)
    _problem(client.get("/api/v1/instruments/no-such-instrument"), 404)


# --- on the engagement ----------------------------------------------------------------------


def _answered(engagement: Engagement, *, safety: int = 0) -> CheckIn:
    check_in = _open(engagement)
    services.check_in_answer(
        check_in=check_in,
        answers={"fit": FIT, "alliance": ALLIANCE, "progress": {**PROGRESS, "safety": safety}},
        goal_ratings={"1": 6},
    )
    return check_in


def test_the_client_sees_everything_on_the_engagement(ongoing):
    check_in = _answered(ongoing)
    body = _as(ongoing.client).get(f"/api/v1/engagements/{ongoing.public_id}").json()
    (record,) = body["check_ins"]
    assert record["id"] == str(check_in.public_id)
    assert record["after_session"] == 1
    parts = {part["purpose"]: part for part in record["parts"]}
    assert parts["alliance"]["answers"] == ALLIANCE
    assert parts["alliance"]["total"]["value"] == 3.8
    assert parts["fit"]["instrument"] == {"slug": "fit-check", "version": "1", "title": "Fit check"}
    assert record["goal_ratings"] == [{"position": 1, "text": GOAL, "rating": 6}]
    assert body["alerts"] == []


@pytest.mark.parametrize(
    ("sharing", "scores", "answers"),
    [
        (Sharing.ITEM_ANSWERS, True, True),
        (Sharing.SCORES_ONLY, True, False),
        (Sharing.NOTHING, False, False),
    ],
)
def test_the_therapist_sees_what_the_client_shares_and_always_the_open_alert(
    ongoing, sharing, scores, answers
):
    _answered(ongoing, safety=3)
    services.sharing_set(engagement=ongoing, sharing=sharing)
    response = _as(ongoing.therapist.user).get(f"/api/v1/engagements/{ongoing.public_id}")
    body = response.json()
    alert = Alert.objects.get()
    assert body["alerts"] == [
        {
            "id": str(alert.public_id),
            "kind": "crisis",
            "created_at": body["alerts"][0]["created_at"],
        }
    ]
    if not scores:
        assert body["check_ins"] == []
        assert not {3.8, "3.8"} & set(leaves(body))
        assert GOAL.encode() in response.content  # the goals themselves are shared by design
        return
    (record,) = body["check_ins"]
    parts = {part["purpose"]: part for part in record["parts"]}
    assert parts["alliance"]["total"]["value"] == 3.8
    assert record["goal_ratings"][0]["rating"] == 6
    if answers:
        assert parts["progress"]["answers"]["safety"] == 3
    else:
        assert all(part["answers"] is None for part in record["parts"])
        assert b"bond-at-ease" not in response.content


def test_an_acknowledged_alert_leaves_the_engagement(ongoing):
    _answered(ongoing, safety=2)
    services.alert_acknowledge(
        alert=Alert.objects.get(), by=ongoing.therapist.user, note="Called; safe plan agreed."
    )
    body = _as(ongoing.therapist.user).get(f"/api/v1/engagements/{ongoing.public_id}").json()
    assert body["alerts"] == []


# --- the OpenAPI document holds to the answers ----------------------------------------------

PATHS = {
    "list": ("/api/v1/check-ins", "get"),
    "detail": ("/api/v1/check-ins/{id}", "get"),
    "answers": ("/api/v1/check-ins/{id}/answers", "post"),
    "instruments": ("/api/v1/instruments", "get"),
    "instrument": ("/api/v1/instruments/{slug}", "get"),
}


def _documented(path: str, method: str) -> dict[str, set[str]]:
    document = json.loads(Client().get("/api/v1/openapi.json").content)
    responses = document["paths"][path][method]["responses"]
    return {status: set(response.get("content", {})) for status, response in responses.items()}


def test_every_operation_documents_its_problem_answers():
    assert set(_documented(*PATHS["list"])) == {"200", "400", "401", "403"}
    assert set(_documented(*PATHS["detail"])) == {"200", "401", "403", "404"}
    assert set(_documented(*PATHS["answers"])) == {
        "201", "400", "401", "403", "404", "409", "410", "422",
    }  # fmt: skip
    assert set(_documented(*PATHS["instruments"])) == {"200", "401", "403"}
    assert set(_documented(*PATHS["instrument"])) == {"200", "401", "403", "404"}
    document = json.loads(Client().get("/api/v1/openapi.json").content)
    answers_422 = document["paths"][PATHS["answers"][0]]["post"]["responses"]["422"]
    schema = answers_422["content"][PROBLEM]["schema"]
    assert schema["properties"]["errors"]["items"]["required"] == ["path", "message"]
    assert "sign" in document["paths"]["/api/v1/instruments"]["get"]["description"].lower()
    assert schema["required"] == ["type", "title", "status"]


def test_real_answers_are_the_documented_ones(engagement):
    check_in = _open(engagement)
    client = _as(engagement.client)
    no_second_factor = _as(make_user(role="therapist"))
    answers_url = _url(check_in, "/answers")
    good = {"answers": {"fit": FIT, "progress": PROGRESS}}
    provoked = {
        "list": [
            Client().get("/api/v1/check-ins"),
            no_second_factor.get("/api/v1/check-ins"),
            client.get("/api/v1/check-ins?page=5"),
            client.get("/api/v1/check-ins?due=1"),
        ],
        "detail": [
            Client().get(_url(check_in)),
            _as(make_user(role="client")).get(_url(check_in)),
            client.get(_url(check_in)),
        ],
        "answers": [
            _post(Client(), answers_url, good),
            _post(no_second_factor, answers_url, good),
            _post(client, answers_url, {"answers": {}, "extra": 1}),
            _post(client, answers_url, {"answers": {"fit": FIT}}),
            _post(_as(make_user(role="client")), answers_url, good),
            _post(client, answers_url, good),
            _post(client, answers_url, good),
        ],
        "instruments": [Client().get("/api/v1/instruments"), client.get("/api/v1/instruments")],
        "instrument": [
            Client().get("/api/v1/instruments/fit-check"),
            client.get("/api/v1/instruments/nothing"),
            client.get("/api/v1/instruments/fit-check"),
        ],
    }
    statuses = {name: [r.status_code for r in responses] for name, responses in provoked.items()}
    assert statuses == {
        "list": [401, 403, 400, 200],
        "detail": [401, 404, 200],
        "answers": [401, 403, 400, 422, 404, 201, 409],
        "instruments": [401, 200],
        "instrument": [401, 404, 200],
    }
    CheckIn.objects.filter(engagement=engagement).update(status=CheckInStatus.EXPIRED)
    closed = make_engagement(client=engagement.client)
    closed_check_in = _open(closed)
    CheckIn.objects.filter(pk=closed_check_in.pk).update(status=CheckInStatus.WITHDRAWN)
    provoked["answers"].append(_post(client, _url(closed_check_in, "/answers"), good))
    assert provoked["answers"][-1].status_code == 410
    for name, responses in provoked.items():
        documented = _documented(*PATHS[name])
        for response in responses:
            status = str(response.status_code)
            assert status in documented, (name, status)
            if response.status_code >= 400:
                assert response["Content-Type"] == PROBLEM
                assert documented[status] == {PROBLEM}


# --- any body -------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 12)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_ITEM_IDS = st.sampled_from([*FIT, *PROGRESS, "bond-at-ease", "unknown", ""])
_PART = st.dictionaries(_ITEM_IDS, st.none() | st.integers(-1, 6) | _JSON, max_size=7)
_BODIES = st.one_of(
    _JSON,
    st.fixed_dictionaries(
        {"answers": st.dictionaries(st.sampled_from(["fit", "progress", "alliance", "x"]), _PART)},
        optional={"goals": _JSON, "extra": _JSON},
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_BODIES)
def test_any_body_gets_a_201_or_a_problem_and_never_half_an_answer(engagement, body):
    check_in = _open(engagement)
    response = _post(_as(engagement.client), _url(check_in, "/answers"), body)
    stored = CheckIn.objects.get(pk=check_in.pk)
    if response.status_code == 201:
        assert stored.status == CheckInStatus.COMPLETED
        # Open again for the next example, as it was.
        CheckIn.objects.filter(pk=check_in.pk).update(
            status=CheckInStatus.OPEN, completed_at=None, closed_at=None
        )
        for part in stored.parts.all():
            part.answers = part.scores = ""
            part.save(update_fields=["answers", "scores"])
        Alert.objects.all().delete()
        return
    _problem(response, response.status_code)
    assert response.status_code in (400, 422), response.content
    _nothing_written(stored)
