"""Two edges of sending and reading: a null character is refused alike by the page and the
API (nothing stored), and a HEAD request shows nothing, so it marks nothing read."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from rapport.messaging import services
from rapport.messaging.models import Message, Sender
from tests.messaging.factories import signed_in

pytestmark = pytest.mark.django_db


def test_a_null_character_is_refused_by_the_page_and_the_api(thread):
    client = signed_in(thread.client)
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
    client = signed_in(thread.client)
    assert client.head(f"/messages/{thread.public_id}/").status_code == 200
    assert Message.objects.get().read_at is None
    client.get(f"/messages/{thread.public_id}/")
    assert Message.objects.get().read_at is not None
    services.message_send(thread=thread, sender=Sender.CLIENT, body="Thanks.", now=timezone.now())
    therapist = signed_in(thread.therapist.user)
    therapist.head(f"/practice/messages/{thread.public_id}/")
    assert Message.objects.get(sender=Sender.CLIENT).read_at is None
