"""/api/v1/engagements: the same rules as the pages, problems naming the field, 404 for
someone else's engagement."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.care.models import Engagement, EngagementStatus, Goal, Invitation, Session, Sharing
from tests.care.factories import make_engagement
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def engagement(reference_data) -> Engagement:
    return make_engagement(goals=["Sleep better"])


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _put(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.put(url, data=data, content_type="application/json")


def _post(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def _fields(response) -> list[str]:
    assert response["Content-Type"] == PROBLEM
    return [error["field"] for error in response.json()["errors"]]


def test_both_sides_list_and_read_the_engagement(engagement):
    url = f"/api/v1/engagements/{engagement.public_id}"
    for user, role in ((engagement.client, "client"), (engagement.therapist.user, "therapist")):
        listed = _as(user).get("/api/v1/engagements").json()
        assert [(item["id"], item["role"]) for item in listed] == [
            (str(engagement.public_id), role)
        ]
        body = _as(user).get(url).json()
        assert body["sharing"] == "scores_only"
        assert body["goals"][0]["text"] == "Sleep better"


def test_reading_goals_is_audited(engagement):
    from auditlog.models import LogEntry

    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    _as(engagement.therapist.user).get(f"/api/v1/engagements/{engagement.public_id}")
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert reads.count() == before + 2  # the engagement and its one goal
    assert {entry.actor for entry in reads} == {engagement.therapist.user}


def test_someone_elses_engagement_is_not_found_on_every_endpoint(engagement):
    other_therapist = make_therapist(user=make_therapist_user(mfa=True)).user
    base = f"/api/v1/engagements/{engagement.public_id}"
    for user in (make_user(role="client"), other_therapist):
        client = _as(user)
        answers = [
            client.get(base),
            _post(client, f"{base}/sessions", {"starts_at": "2026-01-01T10:00:00Z",
                                               "status": "attended"}),
            _put(client, f"{base}/goals", {"goals": [{"text": "Mine now"}]}),
            _put(client, f"{base}/sharing", {"sharing": "nothing"}),
            client.get("/api/v1/engagements/not-a-uuid"),
        ]  # fmt: skip
        assert [answer.status_code for answer in answers] == [404] * 5
        assert all(answer["Content-Type"] == PROBLEM for answer in answers)
        assert client.get("/api/v1/engagements").json() == []
    assert [goal.text for goal in Goal.objects.all()] == ["Sleep better"]
    assert Engagement.objects.get().sharing == Sharing.SCORES_ONLY
    assert not Session.objects.exists()


def test_anonymous_is_401_and_a_therapist_without_second_factor_403(engagement):
    url = f"/api/v1/engagements/{engagement.public_id}"
    assert Client().get(url).status_code == 401
    bare = make_therapist(user=make_therapist_user(mfa=False)).user
    assert _as(bare).get("/api/v1/engagements").status_code == 403


def test_the_client_writes_goals_and_agrees(engagement):
    url = f"/api/v1/engagements/{engagement.public_id}/goals"
    response = _put(
        _as(engagement.client), url,
        {"goals": [{"text": "Sleep better", "agreed": True}, {"text": "  "}, {"text": "Run"}]},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    goals = response.json()["goals"]
    assert [(goal["text"], goal["client_agreed"]) for goal in goals] == [
        ("Sleep better", True), ("Run", False),
    ]  # fmt: skip


def test_the_therapist_proposes_and_agrees_but_cannot_rewrite(engagement):
    url = f"/api/v1/engagements/{engagement.public_id}/goals"
    therapist = _as(engagement.therapist.user)
    rewrite = _put(therapist, url, {"goals": [{"text": "Something else"}]})
    assert rewrite.status_code == 400
    assert _fields(rewrite) == ["goals.0.text"]
    response = _put(
        therapist, url,
        {"goals": [{"text": "Sleep better", "proposed_text": "Sleep 7 hours", "agreed": True}]},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    (goal,) = response.json()["goals"]
    assert (goal["proposed_text"], goal["therapist_agreed"], goal["agreed"]) == (
        "Sleep 7 hours", True, False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"goals": [{"text": "a"}, {"text": "b"}, {"text": "c"}, {"text": "d"}]}, "goals"),
        ({"goals": [{"text": "a"}], "extra": 1}, "extra"),
        ({"goals": [{"text": "a", "priority": 1}]}, "goals.0.priority"),
        ({"goals": [{"text": "x" * 501}]}, "goals.0.text"),
        ({"goals": [{"text": "a", "proposed_text": "b"}]}, "goals.0.proposed_text"),
        ({}, "goals"),
    ],
)
def test_bad_goal_bodies_are_400_problems_naming_the_field(engagement, body, field):
    response = _put(
        _as(engagement.client), f"/api/v1/engagements/{engagement.public_id}/goals", body
    )
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert [goal.text for goal in Goal.objects.all()] == ["Sleep better"]


def test_malformed_json_is_a_400_problem(engagement):
    response = _put(
        _as(engagement.client), f"/api/v1/engagements/{engagement.public_id}/goals", "{goals: ["
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


def test_sharing_is_the_clients_choice(engagement):
    url = f"/api/v1/engagements/{engagement.public_id}/sharing"
    assert _put(_as(engagement.therapist.user), url, {"sharing": "item_answers"}).status_code == 403
    bad = _put(_as(engagement.client), url, {"sharing": "everything"})
    assert (bad.status_code, _fields(bad)) == (400, ["sharing"])
    good = _put(_as(engagement.client), url, {"sharing": "nothing"})
    assert good.json()["sharing"] == "nothing"
    assert Engagement.objects.get().sharing == Sharing.NOTHING


def test_the_therapist_records_sessions_and_the_client_cannot(engagement):
    url = f"/api/v1/engagements/{engagement.public_id}/sessions"
    when = (timezone.now() - dt.timedelta(hours=3)).isoformat()
    assert (
        _post(_as(engagement.client), url, {"starts_at": when, "status": "attended"}).status_code
        == 403
    )
    naive = _post(_as(engagement.therapist.user), url,
                  {"starts_at": "2026-01-01T10:00:00", "status": "attended"})  # fmt: skip
    assert (naive.status_code, _fields(naive)) == (400, ["starts_at"])
    unknown = _post(_as(engagement.therapist.user), url, {"starts_at": when, "status": "late"})
    assert (unknown.status_code, _fields(unknown)) == (400, ["status"])
    done = _post(_as(engagement.therapist.user), url, {"starts_at": when, "status": "attended"})
    assert done.status_code == 201, done.content
    assert Engagement.objects.get().status == EngagementStatus.ONGOING
    assert Session.objects.count() == 1


def test_invite_and_accept_through_the_api(reference_data):
    therapist = make_therapist(user=make_therapist_user(mfa=True))
    client_user = make_user(role="client")
    invited = _post(_as(therapist.user), "/api/v1/engagements", {"client_email": client_user.email})
    assert invited.status_code == 201, invited.content
    invitation_id = invited.json()["id"]
    # Another client cannot accept it; neither both fields nor none are accepted.
    stranger = _post(_as(make_user(role="client")), "/api/v1/engagements",
                     {"invitation_id": invitation_id})  # fmt: skip
    assert stranger.status_code == 404
    both = _post(_as(client_user), "/api/v1/engagements",
                 {"invitation_id": invitation_id, "client_email": "x@example.org"})  # fmt: skip
    assert both.status_code == 400
    accepted = _post(_as(client_user), "/api/v1/engagements", {"invitation_id": invitation_id})
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["status"] == "fit_check"
    assert Invitation.objects.get().status == "accepted"
    assert Engagement.objects.get().client == client_user


def test_a_client_cannot_invite(reference_data):
    response = _post(_as(make_user(role="client")), "/api/v1/engagements",
                     {"client_email": "someone@example.org"})  # fmt: skip
    assert (response.status_code, _fields(response)) == (400, ["client_email"])
    assert not Invitation.objects.exists()


def test_an_unknown_invitation_is_not_found(reference_data):
    response = _post(_as(make_user(role="client")), "/api/v1/engagements",
                     {"invitation_id": str(uuid.uuid4())})  # fmt: skip
    assert response.status_code == 404
