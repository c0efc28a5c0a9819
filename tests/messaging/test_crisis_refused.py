"""Crisis language in a message that is refused (the daily cap, a scheduling-only policy, a bad
input): the message stays refused, but the crisis card comes first on the page, and the API's
problem carries the same crisis members as a successful send."""

from __future__ import annotations

import json

import pytest

from rapport.directory.models import BetweenSessionContact
from rapport.messaging.models import Message
from tests.messaging.factories import set_hours, signed_in

pytestmark = pytest.mark.django_db

CRISIS = "I want to kill myself tonight."
# The general card (the factory's therapist has no licence in a listed country) and Canada's
# would both name an emergency number; the page shows whichever the thread's card has.


def _page(thread):
    return f"/messages/{thread.public_id}/"


def _api(thread):
    return f"/api/v1/threads/{thread.public_id}/messages"


def _fill_cap(browser, thread):
    set_hours(thread.therapist, days=tuple(range(7)), daily_cap=1)
    assert browser.post(_page(thread), {"body": "A note"}).status_code == 302


def test_the_cap_refuses_but_the_card_comes_first(thread):
    browser = signed_in(thread.client)
    _fill_cap(browser, thread)
    response = browser.post(_page(thread), {"body": CRISIS})
    assert response.status_code == 429
    page = response.content.decode()
    assert 'class="crisis-card"' in page
    assert "Your message was not sent" in page
    # The card (with its emergency line) is above the reason for the refusal.
    assert page.index('class="crisis-card"') < page.index("as many as they accept in a day")
    assert page.index("immediate danger") < page.index("as many as they accept in a day")
    assert Message.objects.count() == 1


def test_a_refusal_without_crisis_language_has_no_card(thread):
    browser = signed_in(thread.client)
    _fill_cap(browser, thread)
    response = browser.post(_page(thread), {"body": "See you Tuesday"})
    assert response.status_code == 429
    assert 'class="crisis-card"' not in response.content.decode()


def test_a_scheduling_only_refusal_shows_the_card(thread):
    thread.therapist.between_session_contact = BetweenSessionContact.SCHEDULING
    thread.therapist.save(update_fields=["between_session_contact"])
    response = signed_in(thread.client).post(_page(thread), {"body": CRISIS})
    assert response.status_code == 400
    assert 'class="crisis-card"' in response.content.decode()
    assert not Message.objects.exists()


def test_a_message_too_long_with_crisis_language_shows_the_card(thread):
    response = signed_in(thread.client).post(_page(thread), {"body": CRISIS + " x" * 1500})
    assert response.status_code == 400
    assert 'class="crisis-card"' in response.content.decode()
    assert not Message.objects.exists()


def test_api_cap_refusal_carries_the_crisis_members(thread):
    browser = signed_in(thread.client)
    _fill_cap(browser, thread)
    sent_ok = browser.post(
        _api(thread), json.dumps({"body": "fine"}), content_type="application/json"
    )
    assert sent_ok.status_code == 429  # the page's message used the one allowed
    response = browser.post(
        _api(thread), json.dumps({"body": CRISIS}), content_type="application/json"
    )
    assert response.status_code == 429
    problem = response.json()
    assert problem["crisis"] is True
    assert problem["crisis_lines"], problem
    assert problem["emergency_number"]
    assert problem["resets_at"]
    assert int(response["Retry-After"]) >= 1
    # Without crisis language: crisis false, no lines (the same members as a send).
    assert sent_ok.json()["crisis"] is False
    assert sent_ok.json()["crisis_lines"] == []


def test_api_422_carries_the_crisis_members(thread):
    thread.therapist.between_session_contact = BetweenSessionContact.SCHEDULING
    thread.therapist.save(update_fields=["between_session_contact"])
    response = signed_in(thread.client).post(
        _api(thread), json.dumps({"body": CRISIS}), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["crisis"] is True
    assert response.json()["crisis_lines"]
    assert not Message.objects.exists()


def test_the_openapi_document_lists_the_crisis_members_on_refusals(client):
    document = client.get("/api/v1/openapi.json").json()
    send = document["paths"]["/api/v1/threads/{id}/messages"]["post"]
    for status in ("422", "429"):
        schema = json.dumps(send["responses"][status])
        assert '"crisis_lines"' in schema, status
        assert '"emergency_number"' in schema, status
