"""Repair before rupture, in a real browser at a phone's width and a desktop's (issue #15).

The whole loop: a client answers an alliance check-in at its lowest and reads, on the answer's
page, that this is common and worth saying, words to take to the next session, the feedback
guide and the "This isn't the right fit" choice; the therapist (the client shares scores) meets
the low-alliance alert, acknowledges it with a note, and it leaves the practice home's list; on a
second engagement both sides review two goals and graduate, and the closing summary shows both
reviews and the charts; on a third, the client ends the work as not the right fit and is offered
a new search.

What the browser did is checked against what was stored (read back through the models), and
each page that matters passes axe-core with no serious or critical violation (``check_page``).
Every page must leave no console error, no uncaught script error and no CSP violation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from rapport.care import services
from rapport.care.models import (
    Alert,
    AlertKind,
    CheckIn,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    Goal,
    SessionStatus,
    Sharing,
    Side,
)
from tests.accounts.signin_helpers import totp_code
from tests.browser.test_care_check_ins import (
    FITS_SIDEWAYS,
    CareTab,
    open_tab,  # noqa: F401 (a fixture, used below)
    sign_in_by_cookie,
    sign_in_with_password,
    the_answer_was_taken,
)
from tests.browser.test_therapist_journey import check_page
from tests.care.factories import make_engagement
from tests.factories import load_reference_data, make_therapist, make_therapist_user, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTHS = [375, 1280]

# The check-in at the start, answered calmly (the fit check and the progress check), so the
# alliance check-in after the first session is the first alliance score: low by its level alone.
FIT = {"understood": 4, "open": 5, "focus": 3, "continue": 4}
PROGRESS = {
    "energy": 2,
    "getting-things-done": 1,
    "enjoyment": 3,
    "connection": 2,
    "looking-after-myself": 0,
    "safety": 0,
}
# Every alliance item at its lowest scored value, 1: the answer 1 ("Not at all"), except the
# reverse-scored "holding back", whose answer 5 ("Completely") scores 6 - 5 = 1. The mean is 1.0,
# below the definition's cutoff (2.5); all three subscales tie at 1.0, so the weakest is the first
# of them, the bond.
ALLIANCE_LOWEST = {
    "bond-at-ease": 1,
    "bond-holding-back": 5,
    "goals-what-matters": 1,
    "goals-direction": 1,
    "tasks-makes-sense": 1,
    "tasks-take-away": 1,
}
ALLIANCE_GOOD = {
    "bond-at-ease": 4,
    "bond-holding-back": 2,
    "goals-what-matters": 4,
    "goals-direction": 4,
    "tasks-makes-sense": 5,
    "tasks-take-away": 4,
}
GOALS = ["Sleep through the night", "Walk most mornings"]

# The client's words after a low check-in (rapport/care/client_repair.py), read there by hand.
REPAIR_HEADING = "It sounds like the sessions are not quite working right now"
COMMON_AND_WORTH_SAYING = (
    "That is more common than you might think, and it is worth saying out loud."
)
FEEDBACK_GUIDE = "Telling your therapist how it is going"
FIT_BUTTON = "This isn't the right fit"
# The repair suggestion for a weak bond (rapport/care/repair.py), its opening sentence.
BOND_SUGGESTION = "The bond looks weakest."


# --- people and their history, through the services -------------------------------------------


@pytest.fixture
def therapist_user() -> Any:
    """A therapist's account with its authenticator app (``totp_secret`` computes its codes)."""
    load_reference_data()
    return make_therapist_user(mfa=True)


@pytest.fixture
def opener(open_tab: Callable[..., CareTab]) -> Callable[..., CareTab]:  # noqa: F811
    """The check-in tests' tab opener (a width, JavaScript on or off), under a name of this
    module's own so the imported fixture is not shadowed by every test's parameter."""
    return open_tab


def new_engagement(therapist_user: Any, *, goals: list[str] | None = None) -> Engagement:
    """A client of Dana Reyes (licensed in Ontario) after the first attended session: the check-in
    at the start answered calmly, the one after session 1 (the alliance, and the goals when there
    are any) waiting. The client shares scores, the default."""
    therapist = make_therapist(display_name="Dana Reyes", user=therapist_user)
    client = make_user(role="client", name="Robin Client")
    engagement = make_engagement(client=client, therapist=therapist, goals=goals)
    services.check_in_answer(
        check_in=open_check_in(engagement), answers={"fit": FIT, "progress": PROGRESS}
    )
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now(),
        status=SessionStatus.ATTENDED,
        recorded_by=therapist_user,
    )
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.ONGOING
    assert engagement.sharing == Sharing.SCORES_ONLY
    return engagement


def open_check_in(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


def sign_in_with_second_factor(tab: CareTab, user: Any) -> None:
    """Password, then the authenticator app's code: the practice pages need the second factor."""
    page = tab.page
    sign_in_with_password(tab, user, going_to="/practice/")
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    page.get_by_label(re.compile("code", re.IGNORECASE)).fill(totp_code(user.totp_secret))
    page.get_by_role("button", name=re.compile("sign in|confirm|verify", re.IGNORECASE)).click()
    tab.settled()
    assert page.url == f"{tab.traffic.origin}/practice/", page.url


def axe_clean(tab: CareTab) -> None:
    check_page(tab.tab, [])


def low_check_in_guidance(tab: CareTab, engagement: Engagement) -> Any:
    """The done page's guidance after a low check-in, checked in full; returns its section."""
    page = tab.page
    section = page.locator("main section[aria-labelledby='repair-heading']")
    assert section.count() == 1
    assert section.locator("h2").inner_text() == REPAIR_HEADING
    text = section.inner_text()
    assert COMMON_AND_WORTH_SAYING in text
    starters = section.locator("ul[aria-labelledby='starters-heading'] li")
    assert starters.count() == 4
    # One starter, and the note after them, say strong feelings toward a therapist are normal.
    assert any("strong feelings" in starter for starter in starters.all_inner_texts())
    assert "Strong feelings toward a therapist" in text
    assert "are normal" in text
    guide = section.get_by_role("link", name=FEEDBACK_GUIDE)
    assert guide.get_attribute("href") == "/guide/giving-feedback/"
    form = section.locator("form")
    assert form.get_attribute("action") == f"/care/{engagement.public_id}/not-the-right-fit/"
    assert form.get_by_label("Anything you want to say about why (optional)").count() == 1
    assert form.get_by_role("button", name=FIT_BUTTON).count() == 1
    assert f"This ends your work with {engagement.therapist.display_name}" in form.inner_text()
    return section


# --- 1 and 2. a low check-in, then the therapist's alert -------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_a_low_check_in_offers_words_and_a_way_out_and_the_therapist_acknowledges_the_alert(
    opener: Callable[..., CareTab], therapist_user: Any, width: int
):
    engagement = new_engagement(therapist_user)
    check_in = open_check_in(engagement)

    # The client answers every alliance question at its lowest, with the mouse.
    client_tab = opener(width)
    page = client_tab.page
    address = f"/care/check-ins/{check_in.public_id}/"
    sign_in_with_password(client_tab, engagement.client, going_to=address)
    assert page.url == client_tab.traffic.origin + address
    for item, value in ALLIANCE_LOWEST.items():
        page.locator(f"main form input[name='alliance-{item}'][value='{value}']").check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state("load")
    the_answer_was_taken(client_tab, address)

    assert page.locator("main h1").inner_text() == "Thank you: your answers are saved"
    assert page.locator("main .crisis-card").count() == 0
    scores = page.locator("main section[aria-labelledby='scores-heading']")
    assert ": 1 on a scale from 1 to 5 — Worth talking about together" in scores.inner_text()
    assert scores.locator("li").all_inner_texts() == [
        "Bond: 1",
        "Goals: 1",
        "Tasks: 1",
    ]
    low_check_in_guidance(client_tab, engagement)
    assert page.evaluate(FITS_SIDEWAYS)
    axe_clean(client_tab)
    client_tab.assert_clean()
    # The feedback guide it links to opens.
    page.get_by_role("link", name=FEEDBACK_GUIDE).click()
    client_tab.settled()
    assert page.url.endswith("/guide/giving-feedback/")
    assert page.locator("main h1").inner_text() == FEEDBACK_GUIDE

    # Stored: the alert is the low alliance's, about the bond; nothing else was raised.
    alert = Alert.objects.get(check_in=check_in)
    assert (alert.kind, alert.subscale) == (AlertKind.LOW_ALLIANCE, "bond")
    assert alert.acknowledged_at is None

    # The therapist, signed in with the second factor, meets it on the practice home.
    tab = opener(width)
    page = tab.page
    sign_in_with_second_factor(tab, therapist_user)
    dashboard = page.locator("main .care-dashboard-alerts")
    assert "Check-in alerts (1)" in dashboard.inner_text()
    link = dashboard.get_by_role("link", name="Robin Client: a check-in needs your attention")
    link.click()
    tab.settled()
    assert page.url.endswith(f"/practice/clients/{engagement.public_id}/#alerts")

    alerts = page.locator("main #alerts")
    assert alerts.locator("h2").inner_text() == "Alerts (1)"
    assert alerts.locator("h3").inner_text().startswith("The alliance is low — received ")
    assert page.evaluate(FITS_SIDEWAYS)
    axe_clean(tab)

    note = "Asked Robin at the start of today's session how our sessions feel; we slowed down."
    alerts.get_by_label("What did you do?").fill(note)
    alerts.get_by_role("button", name="Acknowledge the alert").click()
    tab.settled()
    assert page.url.endswith(f"/practice/clients/{engagement.public_id}/")
    assert "Alert acknowledged" in tab.main_text()
    assert page.locator("main #alerts").count() == 0

    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_by == therapist_user
    assert alert.acknowledgement == note

    # Off the practice home's list of what needs attention.
    tab.go("/practice/")
    assert page.locator("main .care-dashboard-alerts").count() == 0
    assert "a check-in needs your attention" not in tab.main_text()
    axe_clean(tab)
    tab.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_low_alliance_alert_shows_its_repair_suggestion_on_the_client_page(
    opener: Callable[..., CareTab], live_server: LiveServer, therapist_user: Any, width: int
):
    engagement = new_engagement(therapist_user)
    services.check_in_answer(
        check_in=open_check_in(engagement), answers={"alliance": ALLIANCE_LOWEST}
    )
    tab = opener(width)
    sign_in_by_cookie(tab, live_server, therapist_user)

    tab.go(f"/practice/clients/{engagement.public_id}/")

    alerts = tab.page.locator("main #alerts")
    assert alerts.locator("h3").inner_text().startswith("The alliance is low")
    assert BOND_SUGGESTION in alerts.inner_text()


# --- 3. graduation -------------------------------------------------------------------------------


def review(tab: CareTab, choices: dict[str, str]) -> None:
    """Choose each goal's review by its radio's label, then save."""
    page = tab.page
    form = page.locator("main section[aria-labelledby='review-heading'] form")
    for goal, choice in choices.items():
        group = form.get_by_role("group", name=goal)
        group.get_by_label(choice, exact=True).check()
    form.get_by_role("button", name="Save my review").click()
    tab.settled()
    assert "Your review of the goals is saved." in tab.main_text()


def review_rows(tab: CareTab, heading_id: str) -> list[list[str]]:
    rows = tab.page.locator(f"main div[aria-labelledby='{heading_id}'] tbody tr")
    return [
        [cell.strip() for cell in rows.nth(index).locator("th, td").all_inner_texts()]
        for index in range(rows.count())
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_both_sides_review_two_goals_and_graduate_to_a_closing_summary(
    opener: Callable[..., CareTab], live_server: LiveServer, therapist_user: Any, width: int
):
    engagement = new_engagement(therapist_user, goals=GOALS)
    services.check_in_answer(
        check_in=open_check_in(engagement),
        answers={"alliance": ALLIANCE_GOOD},
        goal_ratings={"1": 6, "2": 4},
    )

    # The therapist proposes graduating and reviews both goals.
    tab = opener(width)
    page = tab.page
    sign_in_by_cookie(tab, live_server, therapist_user)
    tab.go(f"/practice/clients/{engagement.public_id}/")
    page.get_by_role("link", name="Graduation: propose, review the goals, confirm").click()
    tab.settled()
    assert page.url.endswith(f"/practice/clients/{engagement.public_id}/graduation/")
    page.get_by_role("button", name="Propose graduating").click()
    tab.settled()
    assert "You proposed graduating." in tab.main_text()
    review(tab, {f"Goal 1: {GOALS[0]}": "Met", f"Goal 2: {GOALS[1]}": "Partly met"})
    assert review_rows(tab, "reviews-heading") == [
        [f"1. {GOALS[0]}", "Not reviewed yet", "Met"],
        [f"2. {GOALS[1]}", "Not reviewed yet", "Partly met"],
    ]
    # The proposer cannot confirm: the other side does.
    assert page.get_by_role("button", name="Confirm: we are graduating").count() == 0
    axe_clean(tab)
    tab.assert_clean()

    # The last progress check the proposal asked for, answered (so the summary can compare).
    final = open_check_in(engagement)
    services.check_in_answer(
        check_in=final, answers={"progress": {**PROGRESS, "energy": 3, "enjoyment": 4}}
    )

    # The client opens their graduation page, reviews both goals and confirms.
    client_tab = opener(width)
    page = client_tab.page
    sign_in_by_cookie(client_tab, live_server, engagement.client)
    client_tab.go(f"/care/{engagement.public_id}/")
    page.get_by_role("link", name="Graduation: a planned ending").click()
    client_tab.settled()
    assert page.url.endswith(f"/care/{engagement.public_id}/graduation/")
    assert "Dana Reyes proposed graduating on " in client_tab.main_text()
    axe_clean(client_tab)
    review(client_tab, {f"Goal 1: {GOALS[0]}": "Met", f"Goal 2: {GOALS[1]}": "Not yet"})
    assert review_rows(client_tab, "reviews-heading") == [
        [f"1. {GOALS[0]}", "Met", "Met"],
        [f"2. {GOALS[1]}", "Not yet", "Partly met"],
    ]
    axe_clean(client_tab)
    page.get_by_role("button", name="Confirm: we are graduating").click()
    client_tab.settled()

    # The closing summary: both reviews, the charts, nothing wider than the screen.
    assert page.url.endswith(f"/care/{engagement.public_id}/summary/")
    assert page.locator("main h1").inner_text() == "Closing summary"
    assert "Graduation confirmed. The closing summary is ready." in client_tab.main_text()
    assert review_rows(client_tab, "goals-heading") == [
        [f"1. {GOALS[0]}", "Met", "Met"],
        [f"2. {GOALS[1]}", "Not yet", "Partly met"],
    ]
    charts = page.locator("main svg[role=img]")
    # The alliance (one check-in), the progress check (the start and the last), the goals.
    assert charts.count() == 3
    for index in range(3):
        box = charts.nth(index).bounding_box()
        assert box is not None
        assert box["width"] > 0
        assert box["height"] > 0
        assert box["x"] + box["width"] <= width, box
    assert page.evaluate(FITS_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")
    axe_clean(client_tab)
    client_tab.assert_clean()

    # Stored: graduated, ended by the proposer, every review as chosen.
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.GRADUATED
    assert engagement.ended_by == Side.THERAPIST
    assert engagement.ended_at is not None
    goals = Goal.objects.filter(engagement=engagement).order_by("position")
    assert [(goal.client_review, goal.therapist_review) for goal in goals] == [
        ("met", "met"),
        ("not_yet", "partly"),
    ]


# --- 4. not the right fit --------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_not_the_right_fit_ends_the_work_and_offers_a_new_search(
    opener: Callable[..., CareTab], live_server: LiveServer, therapist_user: Any, width: int
):
    engagement = new_engagement(therapist_user)
    check_in = services.check_in_answer(
        check_in=open_check_in(engagement), answers={"alliance": ALLIANCE_LOWEST}
    ).check_in
    tab = opener(width)
    page = tab.page
    sign_in_by_cookie(tab, live_server, engagement.client)

    # The low check-in's page, opened again later: the guidance and the choice are still there.
    tab.go(f"/care/check-ins/{check_in.public_id}/")
    assert page.locator("main h1").inner_text() == "Your check-in"
    section = low_check_in_guidance(tab, engagement)
    # One click, no words needed.
    section.get_by_role("button", name=FIT_BUTTON).click()
    tab.settled()

    assert page.url.endswith(f"/care/{engagement.public_id}/not-the-right-fit/")
    assert page.locator("main h1").inner_text() == "Your work with Dana Reyes has ended"
    text = tab.main_text()
    assert "You said it isn't the right fit." in text
    assert "Find someone new" in text
    search = page.get_by_role("link", name="Search the directory")
    assert search.get_attribute("href") == "/therapists/"
    assert page.get_by_role("link", name="Why fit matters").get_attribute("href") == (
        "/guide/why-fit-matters/"
    )
    rematch = page.get_by_role("link", name="Tell us what didn't fit and see other therapists")
    assert rematch.get_attribute("href") == f"/match/rematch/{engagement.public_id}/"
    assert page.evaluate(FITS_SIDEWAYS)
    axe_clean(tab)
    tab.assert_clean()

    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.ENDED
    assert engagement.ended_for == "not_right_fit"
    assert engagement.ended_by == Side.CLIENT
    assert engagement.end_reason == "It isn't the right fit"

    # The search it offers opens.
    search.click()
    tab.settled()
    assert page.url.endswith("/therapists/")

    # The check-in's page keeps the words but no longer offers to end what has ended.
    tab.go(f"/care/check-ins/{check_in.public_id}/")
    section = page.locator("main section[aria-labelledby='repair-heading']")
    assert COMMON_AND_WORTH_SAYING in section.inner_text()
    assert section.locator("form").count() == 0
    assert page.get_by_role("button", name=FIT_BUTTON).count() == 0
