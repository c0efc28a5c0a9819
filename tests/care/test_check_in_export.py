"""Check-ins in the data export: the client's rows hold every answered check-in (answers,
scores, goal ratings) and each questionnaire as a FHIR QuestionnaireResponse about a subject
that names no one; the therapist's rows hold no client answers; and deleting the client's
account leaves no check-in, part or alert of theirs, and no answer in the audit log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.care import services
from rapport.care.models import (
    Alert,
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    SessionStatus,
)
from tests.care.factories import make_engagement
from tests.factories import make_user
from tests.json_leaves import leaves

pytestmark = pytest.mark.django_db

GOAL = "Go back to choir practice on Thursdays"
NOTE = "Phoned the client the same afternoon; a safety plan is in place."
FIT = {"understood": 5, "open": 4, "focus": 4, "continue": 5}
PROGRESS = {
    "energy": 2,
    "getting-things-done": 3,
    "enjoyment": 2,
    "connection": 3,
    "looking-after-myself": 3,
    "safety": 2,  # at or above the threshold (1): a crisis alert
}
ALLIANCE = {
    "bond-at-ease": 5,
    "bond-holding-back": 1,
    "goals-what-matters": 4,
    "goals-direction": 4,
    "tasks-makes-sense": 5,
    "tasks-take-away": 3,
}


def _open(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


@pytest.fixture
def engagement(reference_data) -> Engagement:
    """Two answered check-ins (the start, with a crisis answer; then after session 1, with the
    goal rated), the alert acknowledged, and a third request still open."""
    client = make_user(role="client", name="Marguerite Okonkwo-Bell")
    engagement = make_engagement(client=client, status=EngagementStatus.ONGOING, goals=[GOAL])
    services.check_in_answer(check_in=_open(engagement), answers={"fit": FIT, "progress": PROGRESS})
    therapist_user = engagement.therapist.user
    assert therapist_user is not None
    services.alert_acknowledge(alert=Alert.objects.get(), by=therapist_user, note=NOTE)
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=3),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )
    services.check_in_answer(
        check_in=_open(engagement), answers={"alliance": ALLIANCE}, goal_ratings={"1": 8}
    )
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=1),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )
    assert CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN).exists()
    return engagement


def test_the_clients_export_holds_every_answered_check_in(engagement):
    (row,) = account_export_data(user=engagement.client)["care"]
    first, second = row["check_ins"]  # the open request is not an answer: not listed
    assert first["after_session"] == 0
    assert [(p["purpose"], p["instrument"]) for p in first["parts"]] == [
        ("fit", {"slug": "fit-check", "version": "1"}),
        ("progress", {"slug": "progress-check", "version": "1"}),
    ]
    parts = {part["purpose"]: part for part in first["parts"]}
    assert parts["fit"]["answers"] == FIT
    assert parts["progress"]["answers"] == PROGRESS
    # By hand: 5+4+4+5 = 18 and 2+3+2+3+3 = 13 (safety is optional and counts in no score).
    assert parts["fit"]["scores"]["total"]["value"] == 18
    assert parts["progress"]["scores"]["total"]["value"] == 13
    assert parts["progress"]["scores"]["critical"][0]["status"] == "flagged"
    assert first["goal_ratings"] == []
    assert second["after_session"] == 1
    (alliance,) = second["parts"]
    assert alliance["answers"] == ALLIANCE
    # Mean of 5, 5 (1 reversed on 1-5), 4, 4, 5, 3 = 26/6 = 4.33 -> 4.3.
    assert alliance["scores"]["total"]["value"] == 4.3
    assert second["goal_ratings"] == [{"position": 1, "text": GOAL, "rating": 8}]
    assert first["completed_at"] < second["completed_at"]
    (alert,) = row["alerts"]
    assert (alert["kind"], alert["acknowledgement"]) == ("crisis", NOTE)
    json.dumps(row)  # JSON-ready as it is


def test_the_clients_export_holds_each_questionnaire_as_fhir_about_no_one_named(engagement):
    (row,) = account_export_data(user=engagement.client)["care"]
    responses = row["fhir_questionnaire_responses"]
    assert [r["questionnaire"] for r in responses] == [
        "urn:rapport:instrument:fit-check|1",
        "urn:rapport:instrument:progress-check|1",
        "urn:rapport:instrument:alliance-check-in|2",
    ]
    for resource in responses:
        assert resource["resourceType"] == "QuestionnaireResponse"
        assert resource["status"] == "completed"
        assert resource["subject"] == {"reference": f"Patient/client-of-{engagement.public_id}"}
    fit = responses[0]
    assert [(i["linkId"], i["answer"][0]["valueCoding"]["code"]) for i in fit["item"]] == [
        ("understood", "5"), ("open", "4"), ("focus", "4"), ("continue", "5"),
    ]  # fmt: skip
    text = json.dumps(responses)
    for identifying in (engagement.client.email, "Marguerite", "Okonkwo"):
        assert identifying not in text


def test_the_therapists_export_keeps_no_client_answers(engagement):
    (row,) = account_export_data(user=engagement.therapist.user)["care"]
    assert row["as"] == "therapist"
    assert "check_ins" not in row
    assert "fhir_questionnaire_responses" not in row
    # What the therapist wrote is theirs to export too.
    assert row["alerts"][0]["acknowledgement"] == NOTE
    text = json.dumps(row)
    for answered in ("bond-at-ease", "looking-after-myself", '"safety"'):
        assert answered not in text
    # The alliance score is looked for as a value: as a substring, "4.3" also
    # turns up inside timestamps and ids.
    assert not {4.3, "4.3"} & set(leaves(row))


def test_deleting_the_client_leaves_no_check_in_of_theirs(engagement):
    other = make_engagement(therapist=engagement.therapist, goals=["Someone else's goal"])
    services.check_in_answer(check_in=_open(other), answers={"fit": FIT, "progress": PROGRESS})
    theirs = set(CheckIn.objects.filter(engagement=engagement).values_list("pk", flat=True))
    assert len(theirs) == 3

    account_delete(user=engagement.client)

    assert not CheckIn.objects.filter(pk__in=theirs).exists()
    assert not CheckInPart.objects.filter(check_in_id__in=theirs).exists()
    assert not Alert.objects.filter(check_in_id__in=theirs).exists()
    assert not Alert.objects.filter(engagement_id=engagement.pk).exists()
    # The other client's check-in and alert stay.
    assert CheckIn.objects.filter(engagement=other, status=CheckInStatus.COMPLETED).count() == 1
    assert Alert.objects.filter(engagement=other).count() == 1
    # The audit log kept who changed what and when, never what was answered or written.
    logged = json.dumps(
        [(entry.changes, entry.object_repr, entry.additional_data) for entry in
         LogEntry.objects.all()],
        default=str,
    )  # fmt: skip
    for secret in ("bond-at-ease", "looking-after-myself", "choir", "safety plan", '"ratings"'):
        assert secret not in logged, secret
