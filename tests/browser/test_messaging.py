"""Messaging in a real browser, at a phone's width and a desktop's: the client reads the
therapist's policy above the box, sends a message with crisis language and HTML in it, meets the
crisis card at once and sees the HTML as text; an empty message is refused at its field; the
therapist reads the inbox, the thread and the settings page.

What the browser did is checked against what was stored (read back through the model,
decrypted). Every page is checked with axe-core (no serious or critical violation) and for
unlabelled controls and sideways scrolling (``check_page``).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from rapport.messaging.models import Message
from tests.browser.conftest import Tab
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data
from tests.messaging.factories import make_engagement_thread, set_hours

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BODY = "<b>Thursday</b> works. Some nights I feel suicidal, though."


def _sign_in(tab: Tab, live_server: LiveServer, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    tab.page.context.clear_cookies()
    tab.page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": live_server.url}]
    )


@pytest.mark.parametrize("width", [375, 1280])
def test_a_client_writes_and_the_therapist_reads(tab: Tab, live_server: LiveServer, width: int):
    load_reference_data()
    thread = make_engagement_thread()
    therapist = thread.therapist
    therapist.between_session_contact = "brief_check_ins"
    therapist.save(update_fields=["between_session_contact"])
    set_hours(therapist, days=(0, 1, 2, 3, 4))
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []

    _sign_in(tab, live_server, thread.client)
    assert tab.visit(f"/messages/{thread.public_id}/", until="load") == []
    check_page(tab, checked)
    assert "Messages are not read in real time" in page.locator("#emergency-note").inner_text()
    assert page.get_by_role("heading", name="Their hours in the coming week").count() == 1

    # Nothing written: refused at the field, nothing stored.
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("load")
    assert page.locator("#id_body-error").inner_text() == "Write your message first."
    assert page.locator("#id_body").get_attribute("aria-invalid") == "true"
    check_page(tab, checked)
    assert not Message.objects.exists()

    page.get_by_label("Your message").fill(BODY)
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("load")
    assert page.locator(".crisis-card").is_visible()
    card = page.locator(".crisis-card").inner_text()
    assert "messages are not for emergencies" in card
    assert "immediate danger" in card
    assert page.locator(".message__body").last.inner_text() == BODY  # text, not markup
    assert page.locator(".message__body b").count() == 0
    check_page(tab, checked)
    assert Message.objects.get().body == BODY

    _sign_in(tab, live_server, therapist.user)
    for path in (
        "/practice/messages/",
        f"/practice/messages/{thread.public_id}/",
        "/practice/messages/settings/",
    ):
        tab.visit(path, until="load")
        check_page(tab, checked)
    assert len(checked) == 6
