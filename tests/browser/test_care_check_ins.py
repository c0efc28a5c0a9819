"""The check-in loop in a real browser, at a phone's width and a desktop's (issue #14): a client
answers a check-in with the keyboard alone and meets the crisis card first; the form works with
JavaScript turned off; the progress charts fit the screen, are named for screen readers and open
as tables; the therapist sees the alert and acknowledges it with a note.

What the browser did is checked against what was stored (read back through the models,
decrypted), not only against what the pages say. Every page must leave no console error, no
uncaught script error and no Content-Security-Policy violation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, Response
from pytest_django.live_server_helper import LiveServer

from rapport.care import services
from rapport.care.models import (
    Alert,
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    SessionStatus,
)
from tests.accounts.factories import TEST_PASSWORD
from tests.accounts.signin_helpers import totp_code
from tests.browser.conftest import (
    RECORD_CSP_VIOLATIONS,
    Chromium,
    OnBrowserThread,
    PageTraffic,
    Tab,
    origin_of,
)
from tests.care.factories import make_engagement
from tests.factories import load_reference_data, make_therapist, make_therapist_user, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = 375
DESKTOP = 1280
# A small phone's screen (375 × 667) and an ordinary laptop's.
HEIGHTS = {PHONE: 667, DESKTOP: 800}
WIDTHS = [PHONE, DESKTOP]

# Answers chosen in the browser, by field name (the check-in at the start asks the fit check and
# the progress check). The safety item's threshold is 1 ("Once or twice"): at it, not above.
FIT = {"understood": 4, "open": 5, "focus": 3, "continue": 4}
PROGRESS_AT_THRESHOLD = {
    "energy": 2,
    "getting-things-done": 1,
    "enjoyment": 3,
    "connection": 2,
    "looking-after-myself": 0,
    "safety": 1,
}
PROGRESS_CALM = {**PROGRESS_AT_THRESHOLD, "safety": 0}

# Every radio group of the check-in form, in document order, with its options' values in order.
RADIO_GROUPS = """
() => {
  const groups = [];
  for (const radio of document.querySelectorAll("main form input[type=radio]")) {
    let group = groups.find((g) => g.name === radio.name);
    if (!group) { group = {name: radio.name, values: []}; groups.push(group); }
    group.values.push(radio.value);
  }
  return groups;
}
"""
FOCUSED = """
() => {
  const element = document.activeElement;
  return {
    tag: element.tagName.toLowerCase(),
    type: element.type || "",
    name: element.name || "",
    value: element.value || "",
    text: (element.innerText || "").trim(),
  };
}
"""
CHECKED = """
() => Object.fromEntries(
  Array.from(document.querySelectorAll("main form input[type=radio]:checked"))
    .map((radio) => [radio.name, radio.value])
)
"""
BAD_REQUEST = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
FITS_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"
# Each chart's accessible name, read the way aria-labelledby builds it: the text of every
# element it names, in order.
CHART_NAMES = """
() => Array.from(document.querySelectorAll("svg[role=img]")).map((svg) => {
  const ids = (svg.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
  return {
    ids: ids,
    missing: ids.filter((id) => !document.getElementById(id)),
    name: ids.map((id) => (document.getElementById(id) || {}).textContent || "")
      .join(" ").replace(/\\s+/g, " ").trim(),
  };
})
"""


# --- the browser ------------------------------------------------------------------------------


@dataclass
class CareTraffic(PageTraffic):
    """The suite's record of a tab, plus every console message of the "error" type (a failed
    load, a refused script or style, a script's own console.error)."""

    console_errors: list[str] = field(default_factory=list)
    # Each form sent: (address, status, the Origin header the browser sent).
    posts: list[tuple[str, int, str | None]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        super().on_console(message)
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_response(self, response: Response) -> None:
        request = response.request
        if request.method == "POST":
            self.posts.append((response.url, response.status, request.headers.get("origin")))


@dataclass
class CareTab:
    tab: Tab
    traffic: CareTraffic
    javascript: bool
    width: int

    @property
    def page(self) -> Page:
        return self.tab.page

    def go(self, path: str) -> None:
        response = self.page.goto(self.traffic.origin + path, wait_until="load")
        assert response is not None
        assert response.status < 400, (path, response.status)
        self.assert_clean()

    def settled(self, *, refused: bool = False) -> None:
        """After a click or key that loads a page: wait for it, then check it is clean.

        ``refused``: the page is the answer to refused input, which care pages send with the
        status 400; Chromium logs that status as a console error, the only one allowed.
        """
        self.page.wait_for_load_state("load")
        if refused:
            assert BAD_REQUEST in self.traffic.console_errors, self.traffic.console_errors
            self.traffic.console_errors.remove(BAD_REQUEST)
        self.assert_clean()

    def assert_clean(self) -> None:
        where = self.page.url
        assert self.traffic.console_errors == [], where
        assert self.traffic.console_policy == [], where
        assert self.traffic.page_errors == [], where
        if self.javascript:
            # The init script's record (it cannot run, nor be read, with scripts turned off;
            # there Chromium's own console messages above are the record).
            assert self.tab.csp_violations() == [], where

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()


@pytest.fixture
def open_tab(chromium: Chromium, live_server: LiveServer) -> Iterator[Callable[..., CareTab]]:
    """Opens tabs (each in a browser context of its own) at a given width, with or without
    JavaScript; all are closed at the end of the test."""
    contexts: list[Any] = []

    def opener(width: int, *, javascript: bool = True) -> CareTab:
        traffic = CareTraffic(origin=origin_of(live_server.url))

        def open_on_thread() -> Page:
            context = chromium.browser.new_context(
                viewport={"width": width, "height": HEIGHTS[width]},
                java_script_enabled=javascript,
            )
            context.set_default_timeout(10_000)
            context.add_init_script(RECORD_CSP_VIOLATIONS)
            page = context.new_page()
            page.on("request", lambda request: traffic.requests.append(request.url))
            page.on("requestfailed", traffic.on_request_failed)
            page.on("response", traffic.on_response)
            page.on("console", traffic.on_console)
            page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
            contexts.append(context)
            return page

        page = chromium.thread.call(open_on_thread)
        tab = Tab(page=cast(Page, OnBrowserThread(chromium.thread, page)), traffic=traffic)
        return CareTab(tab=tab, traffic=traffic, javascript=javascript, width=width)

    yield opener
    for context in contexts:
        chromium.thread.call(context.close)


def sign_in_with_password(tab: CareTab, user: Any, *, going_to: str) -> None:
    """Sign in through the real form: the protected page sends the visitor to it first."""
    page = tab.page
    page.goto(tab.traffic.origin + going_to, wait_until="load")
    assert "/accounts/login/" in page.url, page.url
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    tab.settled()


def sign_in_by_cookie(tab: CareTab, live_server: LiveServer, user: Any) -> None:
    """A signed-in session handed to the browser (for tests about what comes after)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    tab.page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": live_server.url}]
    )


def press_until_focused(tab: CareTab, name: str, *, limit: int = 60) -> None:
    """Tab forward until the control named ``name`` has the focus."""
    for _ in range(limit):
        if tab.page.evaluate(FOCUSED)["name"] == name:
            return
        tab.page.keyboard.press("Tab")
    raise AssertionError(f"{name} never took the focus after {limit} presses of Tab")


def answer_with_the_keyboard(tab: CareTab, wanted: dict[str, str]) -> None:
    """Choose each answer with Tab, Space and the arrow keys alone, then send with Enter
    (returns once the answer's page has loaded; the caller checks it).

    Tab enters a radio group on its first option (nothing is chosen yet), Space chooses it,
    each Down arrow moves to and chooses the next option; Tab leaves for the next group.
    """
    page = tab.page
    groups = page.evaluate(RADIO_GROUPS)
    assert [group["name"] for group in groups] == list(wanted)
    page.keyboard.press("Tab")  # from the top of the page
    press_until_focused(tab, groups[0]["name"])
    for group in groups:
        focused = page.evaluate(FOCUSED)
        # The tab order walks the questions in the order they are read.
        assert (focused["type"], focused["name"]) == ("radio", group["name"]), focused
        assert focused["value"] == group["values"][0], focused
        page.keyboard.press("Space")
        for _ in range(group["values"].index(wanted[group["name"]])):
            page.keyboard.press("ArrowDown")
        assert page.evaluate(FOCUSED)["value"] == wanted[group["name"]]
        page.keyboard.press("Tab")
    assert page.evaluate(CHECKED) == wanted
    focused = page.evaluate(FOCUSED)
    assert (focused["tag"], focused["text"]) == ("button", "Send my answers"), focused
    # A key press does not wait for the page it loads: mark this document, and wait until
    # the marked one is gone.
    page.evaluate("document.documentElement.dataset.leaving = 'yes'")
    page.keyboard.press("Enter")
    page.locator("html[data-leaving]").wait_for(state="detached")
    page.wait_for_load_state("load")


# The check-in pages once asked for "no-referrer", under which a browser sends "Origin: null"
# with the form and Django's CSRF check refuses it (403): no check-in could be answered from a
# browser. The form must reach the view with the page's own origin.
def the_answer_was_taken(tab: CareTab, address: str) -> None:
    """The check-in form just sent reached the view, sent from the page's own origin."""
    sent = [post for post in tab.traffic.posts if post[0].startswith(tab.traffic.origin + address)]
    assert sent, tab.traffic.posts
    _, status, origin = sent[-1]
    assert origin == tab.traffic.origin, sent[-1]
    assert status == 302, sent[-1]
    tab.settled()


def form_answers(fit: dict[str, int], progress: dict[str, int]) -> dict[str, str]:
    return {
        **{f"fit-{item}": str(value) for item, value in fit.items()},
        **{f"progress-{item}": str(value) for item, value in progress.items()},
    }


def stored_answers(check_in: CheckIn) -> dict[str, dict[str, Any]]:
    return {
        part.purpose: json.loads(part.answers)
        for part in CheckInPart.objects.filter(check_in=check_in)
    }


def crisis_card_first_on_screen(tab: CareTab) -> Any:
    """The page's crisis card, checked to come before everything else in the page's content,
    to start on the first screen (nothing scrolled), and to offer Canada's lines (the
    therapist's licence) as numbers a phone can call. Returns its locator."""
    page = tab.page
    card = page.locator("main .crisis-card")
    assert card.count() == 1
    card_comes_first = page.evaluate(
        """() => {
          const card = document.querySelector("main .crisis-card");
          const others = document.querySelectorAll("main h1, main a.back-link, main .panel");
          return others.length > 0 && Array.from(others).every((other) =>
            card.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    assert card_comes_first
    assert page.evaluate("window.scrollY") == 0
    box = card.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < HEIGHTS[tab.width]
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= tab.width
    call = card.locator("a[href='tel:988']")
    assert call.count() == 1
    assert call.inner_text() == "988"
    assert "9-8-8 Suicide Crisis Helpline" in card.inner_text()
    assert card.locator("a[href='tel:911']").count() == 1
    assert page.evaluate(FITS_SIDEWAYS)
    return card


# --- people -----------------------------------------------------------------------------------


@pytest.fixture
def therapist_user() -> Any:
    """A therapist's account with its authenticator app (``totp_secret`` computes its codes)."""
    load_reference_data()
    return make_therapist_user(mfa=True)


@pytest.fixture
def engagement(therapist_user: Any) -> Engagement:
    """A client at the start of their work with a therapist licensed in Ontario (so the crisis
    card is Canada's): the check-in at the start (fit and progress) is waiting."""
    therapist = make_therapist(display_name="Dana Reyes", user=therapist_user)
    client = make_user(role="client", name="Robin Client")
    return make_engagement(client=client, therapist=therapist)


def the_open_check_in(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


# --- 1. the keyboard, and the crisis card ------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_a_keyboard_answer_at_the_safety_threshold_shows_the_crisis_card_first(
    open_tab, engagement, width
):
    check_in = the_open_check_in(engagement)
    tab = open_tab(width)
    page = tab.page

    sign_in_with_password(tab, engagement.client, going_to="/care/")
    assert page.url == f"{tab.traffic.origin}/care/"
    assert "A check-in is waiting" in tab.main_text()
    page.get_by_role("link", name="answer it").click()
    tab.settled()
    address = f"/care/check-ins/{check_in.public_id}/"
    assert page.url == tab.traffic.origin + address
    assert page.evaluate(FITS_SIDEWAYS)

    answer_with_the_keyboard(tab, form_answers(FIT, PROGRESS_AT_THRESHOLD))
    the_answer_was_taken(tab, address)

    # Stored as chosen (read back decrypted), and the therapist alerted.
    check_in.refresh_from_db()
    assert check_in.status == CheckInStatus.COMPLETED
    assert stored_answers(check_in) == {"fit": FIT, "progress": PROGRESS_AT_THRESHOLD}
    assert Alert.objects.filter(check_in=check_in, acknowledged_at=None).count() == 1

    # The answer's page: the crisis card before anything else, announced, on the first screen.
    assert page.url.endswith(f"/care/check-ins/{check_in.public_id}/")
    assert page.locator("main h1").inner_text() == "Thank you: your answers are saved"
    assert crisis_card_first_on_screen(tab).get_attribute("role") == "alert"
    tab.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_answered_crisis_check_in_opens_on_its_crisis_card(
    open_tab, live_server, engagement, width
):
    """The layout half of the test above, for a check-in answered earlier (the card is no
    longer announced: role=alert is only for the answer itself). It runs while the form's
    defect (ORIGIN_NULL) stops the test above."""
    check_in = services.check_in_answer(
        check_in=the_open_check_in(engagement),
        answers={"fit": FIT, "progress": PROGRESS_AT_THRESHOLD},
    ).check_in
    tab = open_tab(width)
    sign_in_by_cookie(tab, live_server, engagement.client)

    tab.go(f"/care/check-ins/{check_in.public_id}/")

    assert tab.page.locator("main h1").inner_text() == "Your check-in"
    assert crisis_card_first_on_screen(tab).get_attribute("role") is None


# --- 2. without JavaScript ---------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_the_check_in_form_works_without_javascript(open_tab, engagement, width):
    check_in = the_open_check_in(engagement)
    tab = open_tab(width, javascript=False)
    page = tab.page
    sign_in_with_password(tab, engagement.client, going_to="/care/")
    assert "A check-in is waiting" in tab.main_text()
    page.get_by_role("link", name="answer it").click()
    tab.settled()

    for name, value in form_answers(FIT, PROGRESS_CALM).items():
        page.locator(f"main form input[name='{name}'][value='{value}']").check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state("load")
    address = f"/care/check-ins/{check_in.public_id}/"
    the_answer_was_taken(tab, address)

    assert page.url == tab.traffic.origin + address
    assert page.locator("main h1").inner_text() == "Thank you: your answers are saved"
    assert page.locator("main .crisis-card").count() == 0
    assert "Your scores this time" in tab.main_text()
    check_in.refresh_from_db()
    assert check_in.status == CheckInStatus.COMPLETED
    assert stored_answers(check_in) == {"fit": FIT, "progress": PROGRESS_CALM}
    assert not Alert.objects.filter(check_in=check_in).exists()
    assert page.evaluate(FITS_SIDEWAYS)


# --- 3. the charts -----------------------------------------------------------------------------


def answered_history(engagement: Engagement) -> None:
    """Four check-ins over the past three weeks, through the services with their own times:
    at the start (fit, progress), after session 1 (alliance, goals), after session 2
    (alliance, progress, goals), after session 3 (alliance, goals)."""
    start = timezone.now() - dt.timedelta(days=21)
    Engagement.objects.filter(pk=engagement.pk).update(started_at=start)
    CheckIn.objects.filter(engagement=engagement).update(
        requested_at=start, expires_at=start + dt.timedelta(days=7)
    )
    services.goals_set(
        engagement=engagement, texts=["Sleep through the night", "Walk most mornings"], now=start
    )
    services.check_in_answer(
        check_in=the_open_check_in(engagement),
        answers={"fit": FIT, "progress": PROGRESS_CALM},
        now=start + dt.timedelta(days=1),
    )
    alliance = {
        "bond-at-ease": 4,
        "bond-holding-back": 2,
        "goals-what-matters": 3,
        "goals-direction": 4,
        "tasks-makes-sense": 5,
        "tasks-take-away": 4,
    }
    for session, (day, asks_progress) in enumerate([(3, False), (9, True), (15, False)], 1):
        when = start + dt.timedelta(days=day)
        services.session_record(
            engagement=engagement,
            starts_at=when,
            status=SessionStatus.ATTENDED,
            recorded_by=engagement.therapist.user,
            now=when + dt.timedelta(hours=1),
        )
        answers: dict[str, dict[str, int]] = {"alliance": alliance}
        if asks_progress:
            answers["progress"] = {**PROGRESS_CALM, "energy": 3, "enjoyment": 4}
        services.check_in_answer(
            check_in=the_open_check_in(engagement),
            answers=answers,
            goal_ratings={"1": 2 + session, "2": 6},
            now=when + dt.timedelta(days=1),
        )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_progress_charts_fit_are_named_and_open_as_tables(
    open_tab, live_server, engagement, width
):
    answered_history(engagement)
    assert (
        CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.COMPLETED).count() == 4
    )
    tab = open_tab(width)
    page = tab.page
    sign_in_by_cookie(tab, live_server, engagement.client)

    tab.go(f"/care/{engagement.public_id}/progress/")

    assert page.locator("main h1").inner_text() == "Your check-ins over time"
    assert page.evaluate(FITS_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")
    charts = page.locator("main svg[role=img]")
    assert charts.count() == 3
    for index in range(3):
        chart = charts.nth(index)
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 0
        assert box["height"] > 0
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width, box
    for name in page.evaluate(CHART_NAMES):
        assert name["ids"], name
        assert name["missing"] == [], name
        assert name["name"], name

    # One figure per chart; its table lists the check-ins that asked its questions, in order
    # (hand-counted from answered_history).
    expected_rows = [
        ["After session 1", "After session 2", "After session 3"],  # the alliance
        ["At the start", "After session 2"],  # the progress check
        ["After session 1", "After session 2", "After session 3"],  # the goal ratings
    ]
    figures = page.locator("main figure.care-chart")
    assert figures.count() == 3
    for index, labels in enumerate(expected_rows):
        figure = figures.nth(index)
        table = figure.locator("table")
        assert not table.is_visible()
        figure.get_by_text("Show as a table").click()
        assert table.is_visible()
        heads = table.locator("tbody tr th[scope=row]").all_inner_texts()
        assert heads == labels
        assert page.evaluate(FITS_SIDEWAYS)
    # The goal table: goal 1 rated 3, 4, 5 and goal 2 rated 6 each time.
    goal_rows = figures.nth(2).locator("tbody tr")
    cells = [goal_rows.nth(n).locator("td").all_inner_texts() for n in range(3)]
    assert cells == [["3", "6"], ["4", "6"], ["5", "6"]]

    # And every check-in in the list below, newest first.
    listing = page.locator("main table.care-check-ins tbody tr")
    assert listing.count() == 4
    assert "After session 3" in listing.nth(0).inner_text()
    assert "At the start" in listing.nth(3).inner_text()
    tab.assert_clean()


# --- 4. the therapist ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_the_therapist_acknowledges_the_crisis_alert_with_a_note(
    open_tab, therapist_user, engagement, width
):
    result = services.check_in_answer(
        check_in=the_open_check_in(engagement),
        answers={"fit": FIT, "progress": PROGRESS_AT_THRESHOLD},
    )
    assert result.crisis
    alert = Alert.objects.get(check_in=result.check_in)
    tab = open_tab(width)
    page = tab.page

    # Password, then the authenticator app's code: the practice pages need the second factor.
    sign_in_with_password(tab, therapist_user, going_to="/practice/")
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    page.get_by_label(re.compile("code", re.IGNORECASE)).fill(totp_code(therapist_user.totp_secret))
    page.get_by_role("button", name=re.compile("sign in|confirm|verify", re.IGNORECASE)).click()
    tab.settled()
    assert page.url == f"{tab.traffic.origin}/practice/", page.url

    # The dashboard: the alert, without content, linking to the client.
    dashboard = page.locator("main .care-dashboard-alerts")
    assert dashboard.is_visible()
    assert "Check-in alerts (1)" in dashboard.inner_text()
    link = dashboard.get_by_role("link", name="Robin Client: a check-in needs your attention")
    assert link.count() == 1
    assert "Walk" not in dashboard.inner_text()
    assert page.evaluate(FITS_SIDEWAYS)
    link.click()
    tab.settled()
    assert page.url.endswith(f"/practice/clients/{engagement.public_id}/#alerts")

    # The client's page: the alert first, with its form.
    alerts = page.locator("main #alerts")
    assert alerts.is_visible()
    assert alerts.locator("h2").inner_text() == "Alerts (1)"
    assert page.evaluate(FITS_SIDEWAYS)
    note_field = alerts.get_by_label("What did you do?")

    # No note: refused at the field, nothing written.
    alerts.get_by_role("button", name="Acknowledge the alert").click()
    tab.settled(refused=True)
    assert "Say briefly what you did" in page.locator("main").inner_text()
    note_field = page.get_by_label("What did you do?")
    assert note_field.get_attribute("aria-invalid") == "true"
    alert.refresh_from_db()
    assert alert.acknowledged_at is None

    note = "Called Robin the same afternoon; we agreed on a safety plan and a session Friday."
    note_field.fill(note)
    page.get_by_role("button", name="Acknowledge the alert").click()
    tab.settled()
    assert page.url.endswith(f"/practice/clients/{engagement.public_id}/")
    assert "Alert acknowledged" in tab.main_text()
    assert page.locator("main #alerts").count() == 0

    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_by == therapist_user
    assert alert.acknowledgement == note

    # Off the open list on the practice home.
    tab.go("/practice/")
    assert page.locator("main .care-dashboard-alerts").count() == 0
    assert "a check-in needs your attention" not in tab.main_text()
