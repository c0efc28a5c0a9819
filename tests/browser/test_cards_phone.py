"""Saving from the result cards and comparing, in a real browser at a phone's width and a
desktop's: Save swaps to "Saved" in place (htmx), the shortlist compares the two saved, and the
comparison keeps every row label beside its value on a phone (no sideways scrolling), with the
next free time. axe-core finds nothing serious or critical on any page on the way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import cast

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from rapport.directory.models import TherapistProfile
from tests.browser.conftest import Chromium, OnBrowserThread, PageTraffic, Tab, origin_of
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data, make_therapist

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NAMES = ("Noor Abernathy", "Owen Castellano", "Pia Delacroix")

# Every row label of the comparison that a person can see, with whether it lies on the screen.
VISIBLE_LABELS = """
() => Array.from(document.querySelectorAll(".compare-block dt, .compare-table th[scope=row]"))
  .filter((label) => label.offsetParent !== null)
  .map((label) => {
    const box = label.getBoundingClientRect();
    return [label.textContent.trim(), box.left >= 0 && box.right <= window.innerWidth + 1];
  })
"""


@pytest.fixture
def therapists() -> list[TherapistProfile]:
    load_reference_data()
    soon = timezone.now() + dt.timedelta(days=2)
    return [
        make_therapist(display_name=name, consultation_minutes=20, next_consultation_at=soon)
        for name in NAMES
    ]


@pytest.mark.parametrize("width", [375, 1280])
def test_save_two_from_cards_then_compare(tab: Tab, therapists, width: int):
    page = tab.page
    page.set_viewport_size({"width": width, "height": 900})
    checked: list[str] = []

    assert tab.visit("/therapists/", until="load") == []
    check_page(tab, checked)
    for name in NAMES[:2]:
        page.get_by_role("button", name=f"Save {name} to your shortlist").click()
        # htmx swaps the form in place: the same card now says Saved.
        saved = page.get_by_role("button", name=f"{name} is on your shortlist")
        saved.wait_for()
        assert "Saved" in saved.inner_text()
    assert page.get_by_role("button", name=f"Save {NAMES[2]} to your shortlist").is_visible()
    check_page(tab, checked)
    # A link to each therapist's booking page is on the card.
    book = page.get_by_role("link", name=f"Book a free consultation with {NAMES[0]}")
    assert book.get_attribute("href") == f"/therapists/{therapists[0].public_id}/book/"

    assert tab.visit("/therapists/shortlist/", until="load") == []
    check_page(tab, checked)
    main = page.locator("main").inner_text()
    assert NAMES[0] in main
    assert NAMES[1] in main
    assert NAMES[2] not in main
    for name in NAMES[:2]:
        page.get_by_label(f"Compare {name}").check()
    page.get_by_role("button", name="Compare the ones I chose").click()
    page.wait_for_url("**/therapists/compare/?*")
    page.wait_for_load_state("load")
    check_page(tab, checked)  # includes: nothing wider than the screen

    labels = page.evaluate(VISIBLE_LABELS)
    assert ["Next free consultation", True] in labels
    assert ["Fee per session", True] in labels
    assert all(on_screen for _label, on_screen in labels), labels
    if width == 375:
        # One block per therapist, every label on screen beside its value.
        assert page.locator(".compare-block").count() == 2
        assert not page.locator(".compare-table").is_visible()
        assert len(labels) == 2 * len({label for label, _ in labels})
    else:
        assert page.locator(".compare-table").is_visible()
        assert not page.locator(".compare-block").first.is_visible()
    text = page.locator("main").inner_text()
    assert "Eastern Time (Toronto)" in text
    assert tab.csp_violations() == []
    assert tab.traffic.page_errors == []
    assert len(checked) == 4


@pytest.fixture
def no_script_tab(chromium: Chromium, live_server: LiveServer) -> Iterator[Tab]:
    """A phone-sized tab with JavaScript switched off."""
    traffic = PageTraffic(origin=origin_of(live_server.url))

    def open_tab() -> Page:
        context = chromium.browser.new_context(
            java_script_enabled=False, viewport={"width": 375, "height": 800}
        )
        return context.new_page()

    page = chromium.thread.call(open_tab)
    yield Tab(page=cast(Page, OnBrowserThread(chromium.thread, page)), traffic=traffic)
    chromium.thread.call(page.context.close)


def test_save_from_a_card_without_javascript(no_script_tab: Tab, therapists):
    page = no_script_tab.page
    page.goto(no_script_tab.traffic.origin + "/therapists/", wait_until="load")
    page.get_by_role("button", name=f"Save {NAMES[1]} to your shortlist").click()
    page.wait_for_load_state("load")
    # Back on the same results, at the card, which now says Saved.
    assert page.url.endswith(f"/therapists/#save-{therapists[1].public_id}")
    assert page.get_by_role("button", name=f"{NAMES[1]} is on your shortlist").is_visible()
    assert page.get_by_role("button", name=f"Save {NAMES[0]} to your shortlist").is_visible()
