"""Engagements are health data: encrypted at rest, in both people's exports, gone with the
client's account, and their changes audited with the texts masked."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from django.db import connection

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.care import services
from rapport.care.models import (
    Engagement,
    EngagementStatus,
    Goal,
    Invitation,
    Session,
    Sharing,
    SharingChange,
    Side,
)
from rapport.core.crypto import decrypt
from tests.care.factories import make_engagement
from tests.factories import make_user

pytestmark = pytest.mark.django_db

GOAL = "Stop the panic attacks on the subway so I can get to work again."
PROPOSAL = "Ride the subway to work three days a week without leaving the train."
REASON = "My anxiety is better; I want to stop for now."


@pytest.fixture
def engagement(reference_data) -> Engagement:
    engagement = make_engagement(status=EngagementStatus.ONGOING, goals=[GOAL])
    services.goal_propose(goal=Goal.objects.get(), text=PROPOSAL)
    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)
    services.engagement_end(engagement=engagement, by=Side.CLIENT, reason=REASON)
    return Engagement.objects.get(pk=engagement.pk)


def _raw(sql: str, pk: int) -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        return tuple(cursor.fetchone())


def test_texts_are_encrypted_at_rest(engagement):
    goal = Goal.objects.get()
    text, proposed = _raw("SELECT text, proposed_text FROM care_goal WHERE id = %s", goal.pk)
    (reason,) = _raw("SELECT end_reason FROM care_engagement WHERE id = %s", engagement.pk)
    for raw, plain in ((text, GOAL), (proposed, PROPOSAL), (reason, REASON)):
        assert "subway" not in raw
        assert "anxiety" not in raw
        assert decrypt(raw) == plain


def test_the_audit_log_never_holds_the_texts(engagement):
    logged = json.dumps([entry.changes for entry in LogEntry.objects.all()], default=str)
    assert "subway" not in logged
    assert "anxiety" not in logged
    assert LogEntry.objects.filter(object_repr__startswith="goal").exists()


def test_the_client_and_the_therapist_export_it(engagement):
    (row,) = account_export_data(user=engagement.client)["care"]
    assert row["as"] == "client"
    assert row["end_reason"] == REASON
    assert row["goals"][0]["text"] == GOAL
    assert row["goals"][0]["proposed_text"] == PROPOSAL
    assert [change["sharing"] for change in row["sharing_history"]] == ["nothing"]
    (therapist_row,) = account_export_data(user=engagement.therapist.user)["care"]
    assert therapist_row["as"] == "therapist"
    assert therapist_row["id"] == row["id"]
    # Someone else exports nothing of it.
    assert account_export_data(user=make_user())["care"] == []


def test_deleting_the_client_removes_their_engagements(engagement):
    other = make_engagement(therapist=engagement.therapist, goals=["Someone else's goal"])
    services.engagement_invite(therapist=engagement.therapist, email=engagement.client.email)
    services.session_record(
        engagement=other, starts_at=other.started_at, status="attended", recorded_by=None
    )
    account_delete(user=engagement.client)
    assert list(Engagement.objects.all()) == [other]
    assert [goal.text for goal in Goal.objects.all()] == ["Someone else's goal"]
    assert not SharingChange.objects.exists()
    assert not Invitation.objects.exists()
    assert Session.objects.get().engagement == other


def test_deleting_the_therapist_account_keeps_the_clients_engagement(engagement):
    account_delete(user=engagement.therapist.user)
    stored = Engagement.objects.get()
    assert stored.client == engagement.client
    assert stored.end_reason == REASON


def test_changes_to_engagements_goals_and_sessions_are_audited_for_the_client(reference_data):
    from rapport.core.audit import audit_entries_about_user

    engagement = make_engagement(status=EngagementStatus.ONGOING, goals=["Sleep better"])
    session = services.session_record(
        engagement=engagement, starts_at=engagement.started_at, status="attended", recorded_by=None
    )
    services.goal_agree(goal=Goal.objects.get(), by=Side.THERAPIST)
    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)
    models = {
        entry.content_type.model for entry in audit_entries_about_user(user=engagement.client)
    }
    assert {"engagement", "goal"} <= models
    assert LogEntry.objects.filter(
        content_type__model="session", object_pk=str(session.pk), action=LogEntry.Action.CREATE
    ).exists()
