"""Matching's other pages in a real browser, at a phone's width and a desktop's: the re-match
page by keyboard alone, the client's sharing list and the therapist's shared-profile page, the
staff exposure page, and the results page when nobody meets everything (its relax button by
keyboard, and nothing scrolling sideways on a phone). Every page passes axe-core with no
serious or critical violation (``check_page``), with no CSP violation on the way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache as django_cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from rapport.care.models import EndedFor, EngagementStatus, Side
from rapport.matching.answers import MisfitReason
from rapport.matching.services import exposure_record
from tests.booking.factories import make_appointment
from tests.browser.conftest import Tab
from tests.browser.test_therapist_journey import check_page
from tests.care.factories import make_engagement
from tests.factories import (
    load_reference_data,
    make_office,
    make_therapist,
    make_therapist_with_account,
    make_user,
)
from tests.matching.factories import fit_profile

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTHS = [375, 1280]
STORY = "Since my father's stroke I have been running on empty and snapping at everyone."

# The element that has the keyboard's focus: tag, type, value and the text of its label.
FOCUSED = """
() => {
  const element = document.activeElement;
  const label = element.labels && element.labels.length ? element.labels[0].textContent : "";
  return [element.tagName, element.getAttribute("type") || "", element.getAttribute("value") || "",
          (label || element.textContent).trim()];
}
"""
FITS_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def reference_data_loaded() -> None:
    load_reference_data()
    # Rate limits and the search index's cached rows outlive a test in the cache.
    django_cache.clear()


def sign_in(tab: Tab, live_server: LiveServer, user) -> None:
    """The browser takes the session of a test client signed in as ``user`` (an account made
    with ``mfa=True`` passes the second-factor check of /practice/ and /staff/)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    tab.page.context.clear_cookies()
    tab.page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": live_server.url}]
    )


def open_at(tab: Tab, width: int) -> None:
    tab.page.set_viewport_size({"width": width, "height": 900})
    tab.page.set_default_timeout(10_000)


def focused(tab: Tab) -> tuple[str, str, str, str]:
    tag, kind, value, text = tab.page.evaluate(FOCUSED)
    return tag, kind, value, text


def tab_to(tab: Tab, *, tag: str, value: str = "", text: str = "", limit: int = 80) -> None:
    """Press Tab until the focused element is a ``tag`` with that value (or that text or
    label): a real keyboard path through the page, from where the focus is."""
    for _ in range(limit):
        tab.page.keyboard.press("Tab")
        now_tag, _kind, now_value, now_text = focused(tab)
        if now_tag == tag and (not value or now_value == value) and (not text or now_text == text):
            return
    raise AssertionError(f"never reached {tag} {value or text!r} by Tab on {tab.page.url}")


def current_in_header(tab: Tab) -> list[str]:
    """The main navigation's links marked as the current page."""
    links = tab.page.locator('nav[aria-label="Main"] a[aria-current="page"]')
    return [text.strip() for text in links.all_inner_texts()]


def main_text(tab: Tab) -> str:
    return str(tab.page.locator("main").inner_text())


def card_names(tab: Tab) -> list[str]:
    return [
        name.strip()
        for name in tab.page.locator("main article.card .card__name a").all_inner_texts()
    ]


# --- 1. re-match ------------------------------------------------------------------------------


@pytest.mark.usefixtures("reference_data_loaded")
@pytest.mark.parametrize("width", WIDTHS)
def test_rematch_by_keyboard_leads_to_a_leaning_list_without_the_past_therapist(
    tab: Tab, live_server: LiveServer, width: int
):
    past = make_therapist(display_name="Past Pat", style_direction=5)
    make_therapist(display_name="Client-led Cam", style_direction=5)
    make_therapist(display_name="Directive Dana", style_direction=1)
    engagement = make_engagement(
        therapist=past,
        status=EngagementStatus.ENDED,
        ended_for=EndedFor.NOT_THE_RIGHT_FIT,
        ended_by=Side.CLIENT,
    )
    fit_profile(owner=engagement.client, place="Toronto, ON")
    sign_in(tab, live_server, engagement.client)
    open_at(tab, width)
    page = tab.page
    checked: list[str] = []

    rematch = reverse("matching:rematch", args=[engagement.public_id])
    assert tab.visit(rematch, until="load") == []
    assert page.get_by_role("heading", level=1).inner_text() == "What didn't fit with Past Pat?"
    check_page(tab, checked)

    # Two reasons ticked with Space (Tab passes the others by), then the button by Enter.
    tab_to(tab, tag="INPUT", value=MisfitReason.FELT_JUDGED)
    page.keyboard.press("Space")
    tab_to(tab, tag="INPUT", value=MisfitReason.TOO_DIRECTIVE)
    assert focused(tab)[3] == "Too directive: told me what to do"
    page.keyboard.press("Space")
    ticked = page.locator("input[name=reasons]:checked")
    assert [ticked.nth(i).get_attribute("value") for i in range(ticked.count())] == [
        MisfitReason.FELT_JUDGED,
        MisfitReason.TOO_DIRECTIVE,
    ]
    tab_to(tab, tag="BUTTON", text="See other therapists")
    page.keyboard.press("Enter")
    page.wait_for_url("**/match/results/")
    page.wait_for_load_state("load")

    assert tab.csp_violations() == []
    leaning = page.get_by_role("region", name="What you told us changed this list")
    assert leaning.is_visible()
    sentence = page.get_by_text(
        "Leaning towards therapists who let you lead, since one felt too directive."
    )
    assert sentence.is_visible()
    names = card_names(tab)
    assert "Past Pat" not in names
    assert set(names) == {"Client-led Cam", "Directive Dana"}
    assert "1 therapist you have worked with is left out." in main_text(tab)
    check_page(tab, checked)

    assert checked == [rematch, "/match/results/"]
    assert tab.traffic.failed == []
    assert tab.traffic.page_errors == []


# --- 2. sharing -------------------------------------------------------------------------------


@pytest.mark.usefixtures("reference_data_loaded")
@pytest.mark.parametrize("width", WIDTHS)
def test_the_sharing_list_and_the_therapists_shared_profile_pass_axe(
    tab: Tab, live_server: LiveServer, width: int
):
    therapist = make_therapist_with_account(display_name="Dana Reyes", mfa=True)
    client_user = make_user(role="client", email="sam@example.org")
    fit_profile(owner=client_user, story=STORY, concerns=["anxiety", "grief"])
    starts_at = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    shared = make_appointment(
        therapist, starts_at, client=client_user, share_fit_profile=True, client_name="Sam Client"
    )
    # A second consultation, not shared, so the list shows both states and both buttons.
    other = make_therapist_with_account(display_name="Lee Other", mfa=True)
    make_appointment(other, starts_at + dt.timedelta(days=1), client=client_user)
    open_at(tab, width)
    page = tab.page
    checked: list[str] = []

    sign_in(tab, live_server, client_user)
    assert tab.visit(reverse("matching:sharing"), until="load") == []
    text = main_text(tab)
    assert "Dana Reyes" in text
    assert "Lee Other" in text
    assert current_in_header(tab) == ["Find my match"]
    check_page(tab, checked)

    assert therapist.user is not None
    sign_in(tab, live_server, therapist.user)
    shared_url = reverse("matching:shared_profile", args=[shared.public_id])
    assert tab.visit(shared_url, until="load") == []
    assert page.get_by_role("heading", level=1).inner_text() == "Sam Client's fit profile"
    story = page.locator("main blockquote").first
    assert story.is_visible()
    assert story.inner_text().strip() == STORY
    assert "Anxiety" in main_text(tab)
    # The header marks where the therapist is, once: their practice, not "Find my match".
    assert current_in_header(tab) == ["Your practice"]
    check_page(tab, checked)

    assert checked == ["/match/sharing/", shared_url]
    assert tab.traffic.failed == []
    assert tab.traffic.page_errors == []


# --- 3. staff exposure ------------------------------------------------------------------------


@pytest.mark.usefixtures("reference_data_loaded")
@pytest.mark.parametrize("width", WIDTHS)
def test_the_staff_exposure_page_passes_axe(tab: Tab, live_server: LiveServer, width: int):
    shown = [make_therapist(display_name=f"Shown {letter}") for letter in "ABC"]
    make_therapist(display_name="Never Nora")
    today = timezone.localdate()
    exposure_record(therapist_ids=[shown[0].pk, shown[1].pk], day=today, viewer="person 1")
    exposure_record(therapist_ids=[shown[0].pk], day=today, viewer="person 2")
    exposure_record(
        therapist_ids=[shown[0].pk, shown[2].pk],
        day=today - dt.timedelta(days=1),
        viewer="person 3",
    )
    sign_in(tab, live_server, make_user(role="staff", mfa=True))
    open_at(tab, width)
    checked: list[str] = []

    url = reverse("matching_staff:exposure")
    assert tab.visit(url, until="load") == []
    text = main_text(tab)
    assert "Shown A" in text
    assert "Never Nora" in text
    # Shown A was on all three first pages; B and C on one each.
    rows = tab.page.locator("main table tbody tr")
    assert rows.count() == 3
    assert rows.first.inner_text().split("\t") == ["Shown A", "3", "100.0%"]
    check_page(tab, checked)

    assert checked == [url]
    assert tab.traffic.failed == []
    assert tab.traffic.page_errors == []


# --- 4. nobody meets everything ---------------------------------------------------------------


@pytest.mark.usefixtures("reference_data_loaded")
@pytest.mark.parametrize("width", WIDTHS)
def test_nobody_meets_everything_and_the_relax_button_works_by_keyboard(
    tab: Tab, live_server: LiveServer, width: int
):
    english = make_therapist(display_name="Only English", languages=["en"], offers_in_person=True)
    make_office(english)
    person = make_user(role="client")
    fit_profile(
        owner=person,
        place="Toronto, ON",
        preferences={"language": {"weight": 3, "values": ["pa"]}},
        language_required=True,
    )
    sign_in(tab, live_server, person)
    open_at(tab, width)
    page = tab.page
    checked: list[str] = []

    assert tab.visit("/match/results/", until="load") == []
    assert page.get_by_role("heading", name="Nobody meets everything you asked").is_visible()
    assert card_names(tab) == []
    assert page.evaluate(FITS_SIDEWAYS)
    check_page(tab, checked)

    advice = "Make language a preference instead of a requirement (1 more therapist)"
    # The button lines up with the section's text: no list bullet or indent beside it.
    heading = page.get_by_role("heading", name="Nobody meets everything you asked")
    heading_box = heading.bounding_box()
    button_box = page.get_by_role("button", name=advice).bounding_box()
    assert heading_box is not None
    assert button_box is not None
    assert abs(button_box["x"] - heading_box["x"]) <= 1
    tab_to(tab, tag="BUTTON", text=advice)
    page.keyboard.press("Enter")
    # The POST redirects back to the same address: wait for what only the new page says.
    page.get_by_text("Language is now a preference").first.wait_for()
    page.wait_for_load_state("load")

    assert tab.csp_violations() == []
    text = main_text(tab)
    assert "Nobody meets everything you asked" not in text
    assert card_names(tab) == ["Only English"]
    assert page.evaluate(FITS_SIDEWAYS)
    check_page(tab, checked)

    assert checked == ["/match/results/", "/match/results/"]
    assert tab.traffic.failed == []
    assert tab.traffic.page_errors == []
