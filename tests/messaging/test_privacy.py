"""Messages are health data: encrypted at rest, every read audited, in the export (the client
gets both sides, the therapist only their own), gone with the client's account, and never in
e-mails, logs or URLs."""

from __future__ import annotations

import json
import logging

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client
from django.utils import timezone

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.core.audit import audit_entries_about_user
from rapport.core.crypto import decrypt
from rapport.directory.models import BetweenSessionContact
from rapport.messaging import services
from rapport.messaging.models import Message, Sender, Thread
from tests.factories import make_user
from tests.messaging.factories import make_consultation_thread, make_engagement_thread, set_hours

pytestmark = pytest.mark.django_db

CLIENT_TEXT = "The panic attacks on the subway are back."
THERAPIST_TEXT = "Thank you for telling me; we will start there on Thursday."


@pytest.fixture
def thread(reference_data) -> Thread:
    thread = make_engagement_thread()
    thread.therapist.between_session_contact = BetweenSessionContact.BRIEF_CHECK_INS
    thread.therapist.save(update_fields=["between_session_contact"])
    now = timezone.now()
    services.message_send(thread=thread, sender=Sender.CLIENT, body=CLIENT_TEXT, now=now)
    services.message_send(thread=thread, sender=Sender.THERAPIST, body=THERAPIST_TEXT, now=now)
    return thread


def test_bodies_are_encrypted_at_rest(thread):
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM messaging_message ORDER BY id")
        raw = [row[0] for row in cursor.fetchall()]
    assert len(raw) == 2
    for stored, plain in zip(raw, (CLIENT_TEXT, THERAPIST_TEXT), strict=True):
        assert "subway" not in stored
        assert "Thursday" not in stored
        assert decrypt(stored) == plain


def test_the_audit_log_says_a_message_was_written_never_what(thread):
    logged = json.dumps([entry.changes for entry in LogEntry.objects.all()], default=str)
    assert "subway" not in logged
    assert "Thursday" not in logged
    created = LogEntry.objects.filter(action=LogEntry.Action.CREATE)
    assert created.filter(content_type__model="message").count() == 2
    assert created.filter(content_type__model="thread").count() == 1


def test_the_client_sees_who_read_their_messages(thread):
    client = Client()
    client.force_login(thread.therapist.user)
    client.get(f"/practice/messages/{thread.public_id}/")
    reads = audit_entries_about_user(user=thread.client).filter(content_type__model="message")
    assert {entry.actor_id for entry in reads} == {thread.therapist.user.pk}


def test_every_page_that_shows_messages_records_the_read(thread):
    for user, url in (
        (thread.client, f"/messages/{thread.public_id}/"),
        (thread.therapist.user, f"/practice/messages/{thread.public_id}/"),
    ):
        before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 200
        reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("-pk")[:2]
        assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before + 2
        assert {entry.actor_id for entry in reads} == {user.pk}
        assert {entry.content_type.model for entry in reads} == {"message"}


def test_the_client_exports_both_sides_and_the_therapist_only_their_own(thread):
    set_hours(thread.therapist, daily_cap=4)
    (row,) = account_export_data(user=thread.client)["messaging"]["threads"]
    assert row["as"] == "client"
    assert [m["body"] for m in row["messages"]] == [CLIENT_TEXT, THERAPIST_TEXT]
    therapist_export = account_export_data(user=thread.therapist.user)["messaging"]
    (therapist_row,) = therapist_export["threads"]
    assert therapist_row["as"] == "therapist"
    assert [m["body"] for m in therapist_row["messages"]] == [THERAPIST_TEXT]
    assert therapist_export["settings"]["daily_cap"] == 4
    assert account_export_data(user=make_user())["messaging"] == {"threads": [], "settings": None}


def test_deleting_the_client_removes_their_threads_and_messages(thread):
    other = make_consultation_thread(therapist=thread.therapist)
    services.message_send(
        thread=other, sender=Sender.CLIENT, body="Someone else's", now=timezone.now()
    )
    account_delete(user=thread.client)
    assert list(Thread.objects.all()) == [other]
    assert [m.body for m in Message.objects.all()] == ["Someone else's"]


def test_the_erasure_step_blanks_and_removes_alone(thread):
    assert services.client_threads_erase(user=thread.client) == 1
    assert not Message.objects.exists()


def test_deleting_the_therapist_account_keeps_the_clients_thread(thread):
    account_delete(user=thread.therapist.user)
    assert Message.objects.count() == 2


def test_no_content_in_urls_or_logs(thread, caplog):
    client = Client()
    client.force_login(thread.client)
    with caplog.at_level(logging.DEBUG):
        response = client.post(f"/messages/{thread.public_id}/", {"body": "Secret words here"})
    assert "Secret" not in response["Location"]
    assert "Secret words" not in caplog.text
