"""Searching from the home page in a real browser, at a phone's width and a desktop's: type a
place and press Enter, land on the results with focus on the count, nearest first; a search
that finds nobody offers a change that brings results back, and following it works.

Every page on the way is checked with axe-core (no serious or critical violation) and for
unlabelled controls and sideways scrolling (``check_page``).
"""

from __future__ import annotations

import re

import pytest

from rapport.core.geo import geocode
from tests.browser.conftest import Tab, wait_for_text
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data, make_office, make_therapist

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _directory() -> None:
    """Aaron is about 24 km from the point "Toronto" finds (Mississauga), Zoe is at it: by name
    Aaron comes first, nearest first Zoe does."""
    load_reference_data()
    toronto = geocode("Toronto")
    zoe = make_therapist(display_name="Zoe Near", offers_in_person=True, offers_video=False)
    make_office(zoe, latitude=toronto.latitude, longitude=toronto.longitude)
    aaron = make_therapist(
        display_name="Aaron Farther",
        offers_in_person=True,
        offers_video=False,
        accepts_insurance=True,
    )
    make_office(aaron, city="Mississauga", latitude=43.589, longitude=-79.644)


def _card_names(tab: Tab) -> list[str]:
    return [name.strip() for name in tab.page.locator(".card__name").all_inner_texts()]


@pytest.mark.parametrize("width", [375, 1280])
def test_a_place_typed_on_the_home_page_lands_on_results_nearest_first(tab: Tab, width: int):
    _directory()
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []

    tab.visit("/", until="load")
    check_page(tab, checked)
    page.get_by_label("Near a city or region").fill("Toronto")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/therapists/"), wait_until="load")

    assert re.search(r"/therapists/\?near=Toronto#results$", page.url), page.url
    assert _card_names(tab) == ["Zoe Near", "Aaron Farther"]
    assert page.evaluate("document.activeElement.id") == "results"
    assert "2 therapists match near Toronto, ON." in page.locator("#results").inner_text()
    # The count is in view: the person need not scroll past the filters to find it.
    assert page.locator("#result-count").is_visible()
    box = page.locator("#result-count").bounding_box()
    assert box is not None
    assert 0 <= box["y"] < 800
    assert page.locator("#id_sort").input_value() == ""
    check_page(tab, checked)

    # The search page's own form (htmx): a new place and Enter search there (only Aaron is
    # within 25 km of Mississauga) and focus moves to the count after the swap.
    near = page.locator("#id_near")
    near.fill("Mississauga")
    near.press("Enter")
    page.wait_for_function(
        "() => (document.querySelector('.card__name') || {textContent: ''})"
        ".textContent.includes('Aaron') && document.activeElement.id === 'results'"
    )
    assert _card_names(tab) == ["Aaron Farther"]
    assert "near Mississauga" in page.locator("#results").inner_text()
    assert tab.traffic.page_errors == []
    assert tab.csp_violations() == []


@pytest.mark.parametrize("width", [375, 1280])
def test_a_search_that_finds_nobody_offers_a_change_that_works(tab: Tab, width: int):
    _directory()
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []

    tab.visit("/therapists/?near=Toronto&radius_km=10&insurance=1", until="load")
    assert "No therapist matches all of these choices." in page.content()
    suggestion = page.get_by_role("link", name="Search within 25 km")
    assert suggestion.is_visible()
    check_page(tab, checked)

    suggestion.click()
    page.wait_for_url(re.compile(r"radius_km=25"), wait_until="load")

    assert _card_names(tab) == ["Aaron Farther"]
    assert page.evaluate("document.activeElement.id") == "results"
    check_page(tab, checked)
    assert tab.traffic.page_errors == []


def test_a_filter_changed_far_down_says_the_new_count_beside_the_filters(tab: Tab):
    _directory()
    page = tab.page
    page.set_viewport_size({"width": 375, "height": 800})
    checked: list[str] = []

    tab.visit("/therapists/?near=Toronto&radius_km=50", until="load")
    page.locator("#filters-panel > summary").click()
    # Nobody offers phone sessions: that option cannot be ticked.
    assert page.locator("#id_delivery_2").is_disabled()
    page.get_by_label(re.compile("^Accepts insurance")).check()
    wait_for_text(page, "filter-status", "1 therapist")
    status = page.locator("#filter-status")
    assert status.inner_text() == "1 therapist matches near Toronto, ON."
    # The status sits with the filter's buttons, in view where the person is.
    box = status.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < 800
    # The ticked filter stays usable, so it can always be unticked.
    assert page.locator("#id_insurance").is_enabled()
    check_page(tab, checked)
    assert tab.traffic.page_errors == []
