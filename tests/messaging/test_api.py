"""/api/v1/threads: the pages' rules as problem documents (404, 422 with fields, 429 with
Retry-After), audited reads, no read receipts, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.utils import timezone

from rapport.directory.models import BetweenSessionContact
from rapport.messaging import services
from rapport.messaging.models import Message, Sender, Thread
from tests.care.factories import make_engagement
from tests.factories import make_user
from tests.messaging.factories import make_engagement_thread, signed_in

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _send_url(thread: Thread) -> str:
    return f"/api/v1/threads/{thread.public_id}/messages"


def test_send_list_and_read_a_thread(thread):
    response = _post(signed_in(thread.client), _send_url(thread), {"body": "Is 3 p.m. fine?"})
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["message"]["mine"] is True
    assert sent["crisis"] is False
    assert "expect_reply_by" in sent

    (row,) = signed_in(thread.therapist.user).get("/api/v1/threads").json()
    assert row["role"] == "therapist"
    assert row["unread"] == 1
    assert row["reason"] == "engagement"
    assert "Is 3 p.m." not in json.dumps(row)  # the list carries no content

    detail = signed_in(thread.therapist.user).get(f"/api/v1/threads/{thread.public_id}").json()
    assert [m["body"] for m in detail["messages"]] == ["Is 3 p.m. fine?"]
    assert detail["policy"]["contact"] == "brief_check_ins"
    assert "read_at" not in json.dumps(detail)
    assert Message.objects.get().read_at is not None
    assert LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, object_pk=str(Message.objects.get().pk)
    ).exists()
    assert signed_in(thread.therapist.user).get("/api/v1/threads").json()[0]["unread"] == 0


def test_crisis_language_answers_with_the_lines_and_is_delivered(thread):
    response = _post(signed_in(thread.client), _send_url(thread), {"body": "I want to kill myself"})
    assert response.status_code == 201
    sent = response.json()
    assert sent["crisis"] is True
    assert sent["crisis_lines"]
    assert Message.objects.count() == 1


def test_beyond_the_cap_is_a_429_with_retry_after_and_nothing_stored(thread):
    client = signed_in(thread.client)
    for number in range(3):
        assert _post(client, _send_url(thread), {"body": f"Note {number}"}).status_code == 201
    response = _post(client, _send_url(thread), {"body": "Fourth"})
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["resets_at"]
    retry = int(response["Retry-After"])
    assert 0 < retry <= 25 * 3600
    assert Message.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 2001}, "body"),
    ],
)
def test_a_bad_message_is_a_422_naming_the_field(thread, body, field):
    response = _post(signed_in(thread.client), _send_url(thread), body)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Message.objects.exists()


def test_a_scheduling_only_policy_is_a_422_on_about_scheduling(thread):
    thread.therapist.between_session_contact = BetweenSessionContact.NONE
    thread.therapist.save(update_fields=["between_session_contact"])
    client = signed_in(thread.client)
    response = _post(client, _send_url(thread), {"body": "Rough week"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "about_scheduling"
    assert not Message.objects.exists()
    response = _post(client, _send_url(thread), {"body": "Move it?", "about_scheduling": True})
    assert response.status_code == 201


def test_unknown_fields_are_refused(thread):
    response = _post(signed_in(thread.client), _send_url(thread), {"body": "Hi", "attachment": "x"})
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_someone_elses_thread_and_a_closed_one_are_404(thread):
    other = make_engagement_thread(therapist=thread.therapist)
    for user in (make_user(role="client"), other.client):
        client = signed_in(user)
        assert client.get(f"/api/v1/threads/{thread.public_id}").status_code == 404
        assert _post(client, _send_url(thread), {"body": "Hi"}).status_code == 404
    assert signed_in(thread.client).get("/api/v1/threads/not-a-uuid").status_code == 404
    engagement = thread.engagement
    assert engagement is not None
    engagement.status = "ended"
    engagement.ended_at = timezone.now()
    engagement.save()
    response = _post(signed_in(thread.client), _send_url(thread), {"body": "Hi"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert not Message.objects.exists()


def test_a_client_opens_a_thread_once(reference_data):
    engagement = make_engagement(status="ongoing")
    client = signed_in(engagement.client)
    first = _post(client, "/api/v1/threads", {"engagement_id": str(engagement.public_id)})
    again = _post(client, "/api/v1/threads", {"engagement_id": str(engagement.public_id)})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    stranger = signed_in(make_user(role="client"))
    response = _post(stranger, "/api/v1/threads", {"engagement_id": str(engagement.public_id)})
    assert response.status_code == 404
    assert _post(client, "/api/v1/threads", {}).status_code == 400
    assert Thread.objects.count() == 1


def test_the_therapist_replies_without_the_clients_limits(thread):
    services.messaging_settings_set(
        therapist=thread.therapist,
        contact_days=0,
        contact_starts_at=None,
        contact_ends_at=None,
        daily_cap=1,
    )
    client = signed_in(thread.therapist.user)
    for _ in range(3):
        assert _post(client, _send_url(thread), {"body": "Reply"}).status_code == 201
    assert Message.objects.filter(sender=Sender.THERAPIST).count() == 3


def test_the_openapi_document_describes_the_threads(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/threads"]) == {"get", "post"}
    send = paths["/api/v1/threads/{id}/messages"]["post"]
    assert {"404", "422", "429"} <= set(send["responses"])
    assert "resets_at" in json.dumps(send["responses"]["429"])
    assert "get" in paths["/api/v1/threads/{id}"]


def test_a_long_thread_reads_in_pages(thread):
    start = timezone.now() - dt.timedelta(days=100)
    Message.objects.bulk_create(
        Message(thread=thread, sender=Sender.CLIENT, body=f"N{number:03d}",
                created_at=start + dt.timedelta(hours=number))
        for number in range(60)
    )  # fmt: skip
    client = signed_in(thread.client)
    url = f"/api/v1/threads/{thread.public_id}"
    newest = client.get(url).json()
    assert [m["body"] for m in newest["messages"]] == [f"N{n:03d}" for n in range(35, 60)]
    earlier = client.get(url, {"before": newest["earlier_before"]}).json()
    assert [m["body"] for m in earlier["messages"]] == [f"N{n:03d}" for n in range(10, 35)]
    first = client.get(url, {"before": earlier["earlier_before"]}).json()
    assert [m["body"] for m in first["messages"]] == [f"N{n:03d}" for n in range(10)]
    assert first["earlier_before"] is None
    assert client.get(url, {"before": "nonsense"}).status_code == 400
