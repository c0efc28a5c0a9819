"""Two edges of sending and reading: a null character is refused alike by the page and the
API (nothing stored), and a HEAD request shows nothing, so it marks nothing read."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from rapport.directory.models import BetweenSessionContact
from rapport.messaging import services
from rapport.messaging.models import Message, Sender, Thread
from tests.messaging.factories import make_engagement_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(reference_data) -> Thread:
    thread = make_engagement_thread()
    thread.therapist.between_session_contact = BetweenSessionContact.BRIEF_CHECK_INS
    thread.therapist.save(update_fields=["between_session_contact"])
    return thread


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_null_character_is_refused_by_the_page_and_the_api(thread):
    client = _as(thread.client)
    page = client.post(f"/messages/{thread.public_id}/", {"body": "a\x00b"})
    assert page.status_code == 400
    api = client.post(
        f"/api/v1/threads/{thread.public_id}/messages",
        json.dumps({"body": "a\x00b"}),
        content_type="application/json",
    )
    assert api.status_code == 422
    assert api.json()["errors"] == [
        {"field": "body", "message": "Null characters are not allowed."}
    ]
    assert not Message.objects.exists()


def test_a_head_request_marks_nothing_read(thread):
    services.message_send(
        thread=thread, sender=Sender.THERAPIST, body="See you then.", now=timezone.now()
    )
    client = _as(thread.client)
    assert client.head(f"/messages/{thread.public_id}/").status_code == 200
    assert Message.objects.get().read_at is None
    client.get(f"/messages/{thread.public_id}/")
    assert Message.objects.get().read_at is not None
    services.message_send(thread=thread, sender=Sender.CLIENT, body="Thanks.", now=timezone.now())
    therapist = _as(thread.therapist.user)
    therapist.head(f"/practice/messages/{thread.public_id}/")
    assert Message.objects.get(sender=Sender.CLIENT).read_at is None
