"""``/api/v1/alerts`` and ``/api/v1/engagements/{id}/end``: what each side may do, and the
problems for everything else (someone else's alert, an empty note, twice)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.utils import timezone

from rapport.care import repair
from rapport.care.models import (
    Alert,
    AlertKind,
    CheckIn,
    CheckInStatus,
    EndedFor,
    Engagement,
    EngagementStatus,
    Sharing,
    Side,
)
from tests.accounts.factories import make_therapist_user, make_user
from tests.care.factories import make_engagement
from tests.directory.factories import make_therapist

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, body: dict) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def make_alert(engagement: Engagement, kind: str, *, minutes_ago: int = 0, **fields) -> Alert:
    return Alert.objects.create(
        engagement=engagement,
        kind=kind,
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        **fields,
    )


@pytest.fixture
def practice(reference_data):
    """One therapist with two clients: one sharing scores, one sharing nothing."""
    therapist = make_therapist(user=make_therapist_user(mfa=True))
    sharing = make_engagement(therapist=therapist, status=EngagementStatus.ONGOING)
    private = make_engagement(
        therapist=therapist, status=EngagementStatus.ONGOING, sharing=Sharing.NOTHING
    )
    return therapist, sharing, private


# --- GET /alerts ----------------------------------------------------------------------------


def test_the_list_has_open_alerts_crisis_first_with_title_and_suggestion(practice):
    therapist, sharing, private = practice
    low = make_alert(sharing, AlertKind.LOW_ALLIANCE, minutes_ago=1, subscale="bond")
    goal = make_alert(sharing, AlertKind.GOAL_STUCK, minutes_ago=5, goal_position=2)
    crisis = make_alert(private, AlertKind.CRISIS, minutes_ago=60)
    make_alert(private, AlertKind.PROGRESS_OFF_TRACK)  # hidden: the client shares nothing
    make_alert(
        sharing,
        AlertKind.ALLIANCE_DROP,
        acknowledged_at=timezone.now(),
        acknowledged_by=therapist.user,
        acknowledgement="Talked it through",
    )

    response = as_user(therapist.user).get("/api/v1/alerts")

    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body] == [str(crisis.public_id), str(low.public_id),
                                             str(goal.public_id)]  # fmt: skip
    first, second, third = body
    assert first["kind"] == "crisis"
    assert first["engagement_id"] == str(private.public_id)
    assert second["title"] == str(AlertKind.LOW_ALLIANCE.label)
    assert second["suggestion"].startswith("The bond looks weakest")
    assert second["goal_position"] is None
    assert third["title"] == "Goal 2 is going nowhere"
    assert third["goal_position"] == 2
    assert third["suggestion"] == repair.repair_suggestion(kind=AlertKind.GOAL_STUCK)
    assert set(first) == {
        "id", "kind", "title", "suggestion", "created_at", "engagement_id", "goal_position",
    }  # fmt: skip


def test_the_list_carries_no_answers_scores_or_goal_text(practice):
    therapist, sharing, _ = practice
    make_alert(sharing, AlertKind.GOAL_STUCK, goal_position=1)
    sharing.goals.create(position=1, text="Sleep through the night")

    response = as_user(therapist.user).get("/api/v1/alerts")

    assert "Sleep through the night" not in response.content.decode()
    assert "acknowledgement" not in response.content.decode()


def test_each_alert_listed_is_an_audited_read(practice):
    therapist, sharing, private = practice
    alerts = [make_alert(sharing, AlertKind.LOW_ALLIANCE), make_alert(private, AlertKind.CRISIS)]
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()

    as_user(therapist.user).get("/api/v1/alerts")

    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("id")[before:]
    assert sorted(entry.object_pk for entry in reads) == sorted(str(a.pk) for a in alerts)
    assert {entry.actor_id for entry in reads} == {therapist.user.pk}
    assert {entry.additional_data["reason"] for entry in reads} == {"alerts api"}


def test_another_therapists_alerts_are_not_listed(practice):
    _, sharing, _ = practice
    make_alert(sharing, AlertKind.CRISIS)
    other = make_therapist(user=make_therapist_user(mfa=True))

    response = as_user(other.user).get("/api/v1/alerts")

    assert response.status_code == 200
    assert response.json() == []


def test_a_client_or_no_session_gets_a_problem(practice):
    _, sharing, _ = practice
    refused = as_user(sharing.client).get("/api/v1/alerts")
    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM
    anonymous = Client().get("/api/v1/alerts")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == PROBLEM


# --- POST /alerts/{id}/acknowledge ----------------------------------------------------------


def ack_url(alert: Alert) -> str:
    return f"/api/v1/alerts/{alert.public_id}/acknowledge"


def test_acknowledging_stores_the_note_and_the_alert_leaves_the_list(practice):
    therapist, sharing, _ = practice
    alert = make_alert(sharing, AlertKind.LOW_ALLIANCE, subscale="goals")
    client = as_user(therapist.user)

    response = post(client, ack_url(alert), {"note": "  Revisited goals together.  "})

    assert response.status_code == 200
    assert response.json()["id"] == str(alert.public_id)
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_by == therapist.user
    assert alert.acknowledgement == "Revisited goals together."
    assert client.get("/api/v1/alerts").json() == []


@pytest.mark.parametrize("note", ["", "   "])
def test_an_empty_note_is_a_problem_naming_note_and_writes_nothing(practice, note):
    therapist, sharing, _ = practice
    alert = make_alert(sharing, AlertKind.CRISIS)

    response = post(as_user(therapist.user), ack_url(alert), {"note": note})

    assert response.status_code in (400, 422)
    assert response["Content-Type"] == PROBLEM
    assert [error["field"] for error in response.json()["errors"]] == ["note"]
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


@pytest.mark.parametrize("body", [{}, {"note": "Done", "extra": 1}, {"note": 5}])
def test_a_body_of_the_wrong_shape_is_a_problem(practice, body):
    therapist, sharing, _ = practice
    alert = make_alert(sharing, AlertKind.CRISIS)

    response = post(as_user(therapist.user), ack_url(alert), body)

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_acknowledging_twice_is_a_conflict_and_keeps_the_first_note(practice):
    therapist, sharing, _ = practice
    alert = make_alert(sharing, AlertKind.CRISIS)
    client = as_user(therapist.user)
    post(client, ack_url(alert), {"note": "Called them."})

    again = post(client, ack_url(alert), {"note": "Something else"})

    assert again.status_code == 409
    assert again["Content-Type"] == PROBLEM
    assert "already acknowledged" in again.json()["detail"]
    alert.refresh_from_db()
    assert alert.acknowledgement == "Called them."


def test_another_therapists_alert_is_not_found(practice):
    _, sharing, _ = practice
    alert = make_alert(sharing, AlertKind.CRISIS)
    other = make_therapist(user=make_therapist_user(mfa=True))

    for user in (other.user, sharing.client):
        response = post(as_user(user), ack_url(alert), {"note": "Taken over"})
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
    assert post(as_user(other.user), "/api/v1/alerts/not-a-uuid/acknowledge",
                {"note": "x"}).status_code == 404  # fmt: skip
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


# --- POST /engagements/{id}/end -------------------------------------------------------------


def end_url(engagement: Engagement) -> str:
    return f"/api/v1/engagements/{engagement.public_id}/end"


@pytest.mark.parametrize("side", [Side.CLIENT, Side.THERAPIST])
def test_either_side_ends_with_a_reason(practice, side):
    _, engagement, _ = practice
    user = engagement.client if side == Side.CLIENT else engagement.therapist.user

    response = post(as_user(user), end_url(engagement), {"reason": "Moving abroad"})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["ended_by"], body["ended_for"], body["role"]) == (
        "ended", side, "other", side,
    )  # fmt: skip
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.end_reason == "Moving abroad"
    assert stored.ended_for == EndedFor.OTHER
    assert not CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN).exists()


def test_not_the_right_fit_needs_no_words(practice):
    _, engagement, _ = practice

    response = post(as_user(engagement.client), end_url(engagement), {"ended_for": "not_right_fit"})

    assert response.status_code == 200
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.ended_for == EndedFor.NOT_THE_RIGHT_FIT
    assert stored.end_reason == "It isn't the right fit"


@pytest.mark.parametrize(
    "body",
    [
        {"reason": ""},  # "other" needs words
        {"reason": "   ", "ended_for": "other"},
        {"reason": "x", "ended_for": "bored"},
        {"reason": "x", "why": "extra"},
        {"reason": "x" * 1001},
    ],
)
def test_bad_input_is_a_problem_and_nothing_ends(practice, body):
    _, engagement, _ = practice

    response = post(as_user(engagement.client), end_url(engagement), body)

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.ONGOING


def test_ending_twice_is_a_conflict(practice):
    _, engagement, _ = practice
    post(as_user(engagement.client), end_url(engagement), {"reason": "First"})

    again = post(as_user(engagement.therapist.user), end_url(engagement), {"reason": "Second"})

    assert again.status_code == 409
    assert again["Content-Type"] == PROBLEM
    assert again.json()["detail"] == "This engagement has already ended."
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.end_reason, stored.ended_by) == ("First", Side.CLIENT)


def test_someone_elses_engagement_is_not_found(practice):
    _, engagement, _ = practice
    for user in (make_user(role="client"), make_therapist(user=make_therapist_user(mfa=True)).user):
        response = post(as_user(user), end_url(engagement), {"reason": "Taken over"})
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.ONGOING


def test_the_endpoints_are_in_the_openapi_document(reference_data):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/alerts"]
    assert "post" in paths["/api/v1/alerts/{id}/acknowledge"]
    assert "409" in paths["/api/v1/engagements/{id}/end"]["post"]["responses"]
