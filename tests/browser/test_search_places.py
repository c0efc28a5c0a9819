"""A postal code and a misspelt place typed into the search page, in a real browser at a
phone's width and a desktop's: the code lands on results near it, nearest first; the typo is
answered "Did you mean Toronto, ON?", and following that lands on results. Every page on the
way is checked with axe-core (no serious or critical violation) by ``check_page``.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Tab, wait_for_text
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data, make_office, make_therapist

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _directory() -> None:
    """Queen West is about 1 km from the centre of M5V (downtown Toronto), North York about
    13 km; only in-person therapists, so the distance decides."""
    load_reference_data()
    for name, latitude, longitude in (
        ("North York", 43.7615, -79.4111),
        ("Queen West", 43.6534, -79.3841),
    ):
        therapist = make_therapist(display_name=name, offers_in_person=True, offers_video=False)
        make_office(therapist, latitude=latitude, longitude=longitude)


def _card_names(tab: Tab) -> list[str]:
    return [name.strip() for name in tab.page.locator(".card__name").all_inner_texts()]


@pytest.mark.parametrize("width", [375, 1280])
def test_a_postal_code_and_a_typo_on_the_search_page(tab: Tab, width: int):
    _directory()
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []

    tab.visit("/therapists/?radius_km=50", until="load")
    check_page(tab, checked)

    # A postal code, typed as people do, and Enter: results near it, nearest first.
    near = page.locator("#id_near")
    near.fill("M5V 2T6")
    near.press("Enter")
    wait_for_text(page, "results", "M5V")
    assert "2 therapists match near M5V (Downtown Toronto, ON)." in (
        page.locator("#results").inner_text()
    )
    assert _card_names(tab) == ["Queen West", "North York"]
    distances = page.locator(".card").all_inner_texts()
    assert re.search(r"1\.\d km away", distances[0]), distances[0]
    assert re.search(r"1\d km away", distances[1]), distances[1]
    check_page(tab, checked)

    # A typo: the page says what it could not find and offers the place meant.
    near.fill("Torono")
    near.press("Enter")
    suggestion = page.get_by_role("link", name="Toronto, ON", exact=True)
    suggestion.wait_for()
    notice = page.locator("#search-problem").inner_text()
    assert "We could not find “Torono”. Did you mean Toronto, ON?" in notice
    assert page.locator("#error-near").inner_text() == (
        "We could not find “Torono”. Did you mean Toronto, ON?"
    )
    check_page(tab, checked)

    suggestion.click()
    page.wait_for_url(re.compile(r"near=Toronto%2C\+ON"), wait_until="load")
    assert "radius_km=50" in page.url  # the other choices are kept
    assert _card_names(tab) == ["Queen West", "North York"]
    assert "near Toronto, ON" in page.locator("#results").inner_text()
    check_page(tab, checked)
    assert tab.traffic.page_errors == []
    assert tab.csp_violations() == []


@pytest.mark.parametrize("width", [375, 1280])
def test_a_typo_at_the_questionnaires_place_question(tab: Tab, width: int):
    _directory()
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []

    tab.visit("/match/q/place/", until="load")
    page.locator("#id_place").fill("Torono")
    page.get_by_role("button", name="Save and see my matches").click()
    page.wait_for_load_state("load")
    assert page.locator("#id_place-error").inner_text() == (
        "We could not find “Torono”. Did you mean Toronto, ON?"
    )
    check_page(tab, checked)

    page.get_by_role("button", name="Toronto, ON", exact=True).click()
    page.wait_for_url(re.compile(r"/match/results/"), wait_until="load")
    assert "for Toronto, ON" in page.locator("main").inner_text()
    check_page(tab, checked)
    assert tab.traffic.page_errors == []
