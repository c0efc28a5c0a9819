"""After booking, in a real browser at a phone's width and a desktop's: the header's crisis
link opens from the keyboard without any menu; after booking the success message has the
focus; cancelling leads to similar therapists and back to the search; the person's account page
lists the consultation. Every page on the way passes axe (no serious or critical violation).
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from rapport.accounts.models import User
from rapport.booking.views.common import slot_key
from rapport.directory.models import TherapistProfile
from tests.accounts.factories import make_user
from tests.booking.factories import give_availability
from tests.booking.helpers import free_times_ahead
from tests.browser.conftest import Tab
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data, make_therapist

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _therapists() -> TherapistProfile:
    load_reference_data()
    dana = make_therapist(display_name="Dana Reyes", concerns=("anxiety",))
    give_availability(dana, weekdays=(0, 1, 2, 3, 4, 5, 6), minimum_notice_hours=0)
    make_therapist(display_name="Ari Both", concerns=("anxiety",))
    make_therapist(display_name="Cy Unlisted", concerns=("anxiety",), is_listed=False)
    return dana


def _active(tab: Tab) -> dict[str, str]:
    return tab.page.evaluate(
        "() => ({id: document.activeElement.id, text: document.activeElement.innerText})"
    )


def _sign_in_by_cookie(tab: Tab, live_server: LiveServer, user: User) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    tab.page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": live_server.url}]
    )


@pytest.mark.parametrize("width", [375, 1280])
def test_crisis_link_then_booking_focus_then_cancelling_offers_others_and_the_search(
    tab: Tab, live_server: LiveServer, width: int
):
    dana = _therapists()
    person = make_user(email="sam@example.org")
    _sign_in_by_cookie(tab, live_server, person)
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []
    moment = free_times_ahead(dana)[0].starts_at

    tab.visit(f"/therapists/{dana.public_id}/book/{slot_key(moment)}/", until="load")

    # The crisis link: in view at the top without opening anything, and opened by the keyboard.
    toggle = page.locator("summary.crisis-help__toggle")
    assert toggle.is_visible()
    box = toggle.bounding_box()
    assert box is not None
    assert box["y"] < 120
    assert box["x"] + box["width"] <= width
    toggle.focus()
    page.keyboard.press("Enter")
    card = page.locator(".crisis-help__card")
    assert card.is_visible()
    assert "call or text 9-8-8" in card.inner_text()
    assert "911" in card.inner_text()
    assert page.locator(".crisis-help__card a[href='tel:988']").is_visible()
    card_box = card.bounding_box()
    assert card_box is not None
    assert card_box["x"] >= 0
    assert card_box["x"] + card_box["width"] <= width
    check_page(tab, checked)
    page.keyboard.press("Enter")  # the focus is still on the summary: close it again
    assert not card.is_visible()

    page.get_by_label("Your name").fill("Sam Client")
    page.get_by_label("Your e-mail address").fill("sam@example.org")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_load_state("load")
    assert re.search(r"/consultations/[^/]+/$", page.url), page.locator("main").inner_text()

    # The success message has the focus, and is what a screen reader starts from.
    active = _active(tab)
    assert active["id"] == "page-message"
    assert active["text"].startswith("Your consultation is booked.")
    check_page(tab, checked)

    page.get_by_label("Why are you cancelling?").fill("I found someone closer.")
    page.get_by_role("button", name="Cancel this consultation").click()
    page.wait_for_load_state("load")

    assert _active(tab)["text"].startswith("Your consultation is cancelled.")
    others = page.locator(".other-therapists")
    assert others.locator("h3").all_inner_texts() == ["Ari Both"]
    check_page(tab, checked)

    tab.visit("/account/", until="load")
    consultations = page.locator("#consultations")
    assert "Free consultation with Dana Reyes" in consultations.inner_text()
    assert "Cancelled by you" in consultations.inner_text()
    check_page(tab, checked)

    page.goto(tab.traffic.origin + checked[-2], wait_until="load")
    page.get_by_role("link", name="Back to the search").click()
    page.wait_for_url(re.compile(r"/therapists/$"), wait_until="load")

    assert tab.traffic.page_errors == []
    assert tab.csp_violations() == []
    assert len(checked) == 4
