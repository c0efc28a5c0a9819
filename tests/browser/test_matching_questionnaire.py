"""The fit questionnaire in a real browser, by keyboard alone, at a phone's width and a
desktop's: start, answer two questions and skip a third with Tab, Space and Enter; the answers
reach the fit-profile page, and the start, question and results pages pass axe-core with no
serious or critical violation (``check_page``), with no CSP violation on the way."""

from __future__ import annotations

import pytest
from django.core.cache import cache as django_cache

from tests.browser.conftest import Tab
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data, make_office, make_therapist

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STORY = "I keep freezing up in meetings."
HOPES = "Speak up at work without dread."

FOCUSED = """
() => {
  const element = document.activeElement;
  return [element.tagName, element.getAttribute("type") || "", element.textContent.trim(),
          element.getAttribute("value") || ""];
}
"""


@pytest.fixture
def listed_therapist() -> None:
    load_reference_data()
    django_cache.clear()
    therapist = make_therapist(display_name="Rae Keyboard", concerns=["anxiety"])
    make_office(therapist)


def tab_until(tab: Tab, wanted: tuple[str, str], *, limit: int = 80) -> None:
    """Press Tab until the focused element is ``(tag, text)``: a real keyboard path."""
    for _ in range(limit):
        tab.page.keyboard.press("Tab")
        tag, _kind, text, _value = tab.page.evaluate(FOCUSED)
        if (tag, text) == wanted:
            return
    raise AssertionError(f"never reached {wanted} by Tab on {tab.page.url}")


def progress(tab: Tab) -> str:
    return str(tab.page.locator("main .status-line").first.text_content()).strip()


@pytest.mark.usefixtures("listed_therapist")
@pytest.mark.parametrize("width", [375, 1280])
def test_three_questions_by_keyboard_and_the_pages_pass_axe(tab: Tab, width: int):
    page = tab.page
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(10_000)
    checked: list[str] = []

    assert tab.visit("/match/", until="load") == []
    check_page(tab, checked)
    tab_until(tab, ("A", "Start"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/match/q/story/")

    # 1: own words, and a concern ticked with Space.
    assert progress(tab) == "Question 1 of 13"
    check_page(tab, checked)
    page.get_by_label("In your own words, what brings you here?").focus()
    page.keyboard.type(STORY)
    tab_until(tab, ("INPUT", ""))  # the first concern's checkbox
    assert page.evaluate(FOCUSED)[3] == "anxiety"
    page.keyboard.press("Space")
    tab_until(tab, ("BUTTON", "Save and continue"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/match/q/hopes/")

    # 2: what they hope will change.
    assert progress(tab) == "Question 2 of 13"
    page.keyboard.press("Tab")
    tab_until(tab, ("TEXTAREA", ""))
    page.keyboard.type(HOPES)
    tab_until(tab, ("BUTTON", "Save and continue"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/match/q/gender/")

    # 3: skipped.
    assert progress(tab) == "Question 3 of 13"
    check_page(tab, checked)
    tab_until(tab, ("A", "Skip this question"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/match/q/identity/")
    assert progress(tab) == "Question 4 of 13"
    assert tab.csp_violations() == []

    assert tab.visit("/match/profile/", until="load") == []
    text = str(page.locator("main").text_content())
    assert STORY in text
    assert HOPES in text
    assert "Anxiety" in text
    check_page(tab, checked)

    assert tab.visit("/match/results/", until="load") == []
    assert "Rae Keyboard" in str(page.locator("main").text_content())
    check_page(tab, checked)

    assert checked == [
        "/match/",
        "/match/q/story/",
        "/match/q/gender/",
        "/match/profile/",
        "/match/results/",
    ]
    assert tab.traffic.failed == []
    assert tab.traffic.page_errors == []
