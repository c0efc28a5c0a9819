"""The client's check-in pages: answering signed in and through the e-mail's link, the crisis
card, and the progress page with its charts. Pages are read with an HTML parser (the standard
library's), and what was stored is read back through the model (decrypted), not through the
pages' own code."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.utils import timezone

from rapport.care import history, instruments, progress, services
from rapport.care.models import (
    CheckIn,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    SessionStatus,
)
from rapport.care.tokens import check_in_token_make
from tests.care.factories import make_engagement
from tests.care.instrument_definitions import nine_item
from tests.html_tree import Node, page_tree

pytestmark = pytest.mark.django_db

FIT = {"understood": 4, "open": 5, "focus": 3, "continue": 4}  # sum 16: "A good start"
# Sum 15 ("Getting by"); safety 0 is below its threshold.
PROGRESS = {
    "energy": 3,
    "getting-things-done": 3,
    "enjoyment": 4,
    "connection": 2,
    "looking-after-myself": 3,
    "safety": 0,
}
# bond 4 and (6 - 2) = 4 -> 4; goals 3 and 3 -> 3; tasks 5 and 4 -> 4.5; mean of the six: 23/6
# = 3.83 -> 3.8, "Working well".
ALLIANCE = {
    "bond-at-ease": 4,
    "bond-holding-back": 2,
    "goals-what-matters": 3,
    "goals-direction": 3,
    "tasks-makes-sense": 5,
    "tasks-take-away": 4,
}
ANSWERS = {"fit": FIT, "alliance": ALLIANCE, "progress": PROGRESS}


# --- reading pages ------------------------------------------------------------------------------


def page(response) -> Node:
    return page_tree(response.content.decode())


def main(response) -> Node:
    found = page(response).by_id("main")
    assert found is not None
    return found


def fieldsets(document: Node) -> dict[str, Node]:
    """Each fieldset by its legend's text."""
    found = {}
    for fieldset in document.find_all("fieldset"):
        legend = fieldset.find_all("legend")[0]
        found[legend.text()] = fieldset
    return found


def radios(fieldset: Node) -> list[Node]:
    return [node for node in fieldset.find_all("input") if node.attrs.get("type") == "radio"]


# --- builders -------------------------------------------------------------------------------


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attend(engagement: Engagement, *, hours_ago: float) -> None:
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=hours_ago),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )


def open_check_in(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


def purposes(check_in: CheckIn) -> list[str]:
    return list(check_in.parts.order_by("position").values_list("purpose", flat=True))


def form_data(
    check_in: CheckIn,
    goals: dict[str, str] | None = None,
    changes: dict[str, str] | None = None,
) -> dict[str, str]:
    """Good answers to every part the check-in asks, as the form posts them."""
    data = {
        f"{purpose}-{item}": str(value)
        for purpose in purposes(check_in)
        for item, value in ANSWERS[purpose].items()
    }
    for position, rating in (goals or {}).items():
        data[f"goal-{position}"] = rating
    data.update(changes or {})
    return data


def url(check_in: CheckIn) -> str:
    return f"/care/check-ins/{check_in.public_id}/"


def link(check_in: CheckIn) -> str:
    return f"/care/check-ins/link/{check_in_token_make(check_in=check_in)}/"


def stored_answers(check_in: CheckIn) -> dict[str, dict | None]:
    return {
        part.purpose: json.loads(part.answers) if part.answers else None
        for part in check_in.parts.all()
    }


@pytest.fixture
def with_alliance(reference_data) -> CheckIn:
    """An ongoing engagement with two goals after its first attended session: the open
    check-in asks the fit check, the alliance check-in with the goal ratings, and the progress
    check (the start's request, replaced, passes its questions on)."""
    engagement = make_engagement(
        status=EngagementStatus.ONGOING, goals=["Sleep through the night", "Walk each morning"]
    )
    attend(engagement, hours_ago=3)
    check_in = open_check_in(engagement)
    assert purposes(check_in) == ["fit", "alliance", "progress"]
    return check_in


@pytest.fixture
def at_start(reference_data) -> CheckIn:
    """A new engagement's first check-in: the fit check and the progress baseline."""
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    check_in = open_check_in(engagement)
    assert purposes(check_in) == ["fit", "progress"]
    return check_in


# --- the form -------------------------------------------------------------------------------


def test_the_form_asks_every_question_of_each_part_with_its_options_and_no_default(
    with_alliance,
):
    check_in = with_alliance
    response = as_user(check_in.engagement.client).get(url(check_in))
    assert response.status_code == 200
    document = main(response)
    headings = [h.text() for h in document.find_all("h2")]
    groups = fieldsets(document)
    asked = 0
    for part in check_in.parts.select_related("instrument"):
        instrument = instruments.load_definition(part.instrument.definition)
        assert instrument.title in headings
        assert instrument.instructions in document.text()
        for item in instrument.items:
            buttons = radios(groups[item.text])
            assert [b.attrs["name"] for b in buttons] == [f"{part.purpose}-{item.id}"] * len(
                item.options
            )
            assert [int(b.attrs["value"]) for b in buttons] == [o.value for o in item.options]
            assert not any("checked" in b.attrs for b in buttons)
            labels = {lab.attrs["for"]: lab.text() for lab in groups[item.text].find_all("label")}
            assert [labels[b.attrs["id"]] for b in buttons] == [o.label for o in item.options]
            asked += 1
    assert asked == 4 + 6 + 6
    # One fieldset per goal, its legend the client's words, rated 0 to 10 or skipped.
    for position, text in ((1, "Sleep through the night"), (2, "Walk each morning")):
        buttons = radios(groups[text])
        assert {b.attrs["name"] for b in buttons} == {f"goal-{position}"}
        assert [b.attrs["value"] for b in buttons] == [str(n) for n in range(11)] + ["skip"]
    assert "Your goals" in headings
    # The CSRF token travels with the form, as with every form.
    form = document.find_all("form", method="post")[-1]
    assert form.find_all("input", name="csrfmiddlewaretoken")
    # The goals shown are the client's words: the read is recorded.
    assert LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=check_in.engagement.client
    ).exists()


def test_valid_answers_are_stored_and_the_check_in_is_completed(with_alliance):
    check_in = with_alliance
    client = as_user(check_in.engagement.client)
    response = client.post(url(check_in), form_data(check_in, goals={"1": "6", "2": "skip"}))
    assert response.status_code == 302
    assert response["Location"] == url(check_in)

    stored = CheckIn.objects.get(pk=check_in.pk)
    assert stored.status == CheckInStatus.COMPLETED
    assert stored.completed_at is not None
    assert stored_answers(stored) == {
        "fit": FIT,
        "alliance": ALLIANCE,
        "progress": PROGRESS,
    }
    ratings = json.loads(stored.goal_ratings)["ratings"]
    assert ratings == {"1": 6}

    done = client.get(url(check_in))
    assert done.status_code == 200
    text = main(done).text()
    assert "Thank you" in text
    assert "You answered this on" in text
    # The scores by hand (see the answers' notes above), with their bands.
    assert "Fit check: 16 on a scale from 4 to 20 — A good start" in text
    assert "Alliance check-in: 3.8 on a scale from 1 to 5 — Working well" in text
    assert "Tasks: 4.5" in text
    assert "Progress check: 15 on a scale from 0 to 20 — Getting by" in text
    assert "Sleep through the night: 6 out of 10" in text
    assert "Walk each morning: not rated this time" in text
    # No crisis card, and nothing that reads as an all-clear.
    assert page(done).by_id("crisis-card-title") is None
    assert "risk" not in text.lower()
    progress_link = f"/care/{check_in.engagement.public_id}/progress/"
    assert any(a.attrs.get("href") == progress_link for a in page(done).find_all("a"))
    # The thanks is for the visit right after answering only.
    assert "Thank you" not in main(client.get(url(check_in))).text()


def _nothing_stored(check_in: CheckIn) -> None:
    stored = CheckIn.objects.get(pk=check_in.pk)
    assert stored.status == CheckInStatus.OPEN
    assert stored.completed_at is None
    assert all(part.answers == "" and part.scores == "" for part in stored.parts.all())


def test_an_answer_outside_the_options_is_shown_at_its_question_and_nothing_is_stored(
    with_alliance,
):
    check_in = with_alliance
    response = as_user(check_in.engagement.client).post(
        url(check_in), form_data(check_in, changes={"alliance-bond-at-ease": "7"})
    )
    assert response.status_code == 400
    _nothing_stored(check_in)
    document = main(response)
    group = fieldsets(document)["I felt at ease being myself in the session."]
    error = group.by_id("id_alliance-bond-at-ease-error")
    assert error is not None
    assert "7 is not one of this item's answers" in error.text()
    for button in radios(group):
        assert button.attrs["aria-invalid"] == "true"
        assert "id_alliance-bond-at-ease-error" in button.attrs["aria-describedby"].split()
    # Listed at the top, linking to the question.
    summary = document.by_id("error-summary")
    assert summary is not None
    assert summary.attrs.get("role") == "alert"
    hrefs = [a.attrs["href"] for a in summary.find_all("a")]
    assert hrefs == ["#id_alliance-bond-at-ease_0"]
    assert document.by_id("id_alliance-bond-at-ease_0") is not None
    # The other answers are kept.
    kept = fieldsets(document)["The way we spend our time in sessions makes sense to me."]
    checked = [b.attrs["value"] for b in radios(kept) if "checked" in b.attrs]
    assert checked == ["5"]


def test_an_answer_to_a_question_the_check_in_does_not_ask_is_refused_for_its_part(
    with_alliance,
):
    check_in = with_alliance
    response = as_user(check_in.engagement.client).post(
        url(check_in), form_data(check_in, changes={"alliance-made-up": "3"})
    )
    assert response.status_code == 400
    _nothing_stored(check_in)
    document = main(response)
    errors = document.by_id("part-alliance-errors")
    assert errors is not None
    assert "made-up" in errors.text()
    assert document.get("part-alliance").attrs["aria-describedby"] == "part-alliance-errors"
    summary = document.get("error-summary")
    assert [a.attrs["href"] for a in summary.find_all("a")] == ["#part-alliance-errors"]


def test_too_many_questions_left_out_is_shown_for_the_part_and_nothing_is_stored(
    with_alliance,
):
    check_in = with_alliance
    data = form_data(check_in)
    for item in ("energy", "enjoyment", "connection"):
        del data[f"progress-{item}"]
    response = as_user(check_in.engagement.client).post(url(check_in), data)
    assert response.status_code == 400
    _nothing_stored(check_in)
    errors = main(response).by_id("part-progress-errors")
    assert errors is not None
    # Five scored questions, one may be left out.
    assert "Answer at least 4 of the 5 questions" in errors.text()


@pytest.mark.parametrize("rating", ["11", "-1", "seven"])
def test_a_goal_rating_outside_0_to_10_is_shown_at_the_goal(with_alliance, rating):
    check_in = with_alliance
    response = as_user(check_in.engagement.client).post(
        url(check_in), form_data(check_in, goals={"1": rating})
    )
    assert response.status_code == 400
    _nothing_stored(check_in)
    error = main(response).by_id("id_goal-1-error")
    assert error is not None
    assert error.text()


def test_leaving_out_an_optional_question_and_a_goal_is_accepted(with_alliance):
    check_in = with_alliance
    data = form_data(check_in)
    del data["progress-safety"]
    del data["alliance-tasks-take-away"]  # one of six: prorated
    response = as_user(check_in.engagement.client).post(url(check_in), data)
    assert response.status_code == 302
    stored = stored_answers(CheckIn.objects.get(pk=check_in.pk))
    assert stored["progress"] == PROGRESS | {"safety": None}
    assert stored["alliance"] == ALLIANCE | {"tasks-take-away": None}


def test_a_second_submission_is_already_answered_and_changes_nothing(at_start):
    check_in = at_start
    client = as_user(check_in.engagement.client)
    assert client.post(url(check_in), form_data(check_in)).status_code == 302
    before = stored_answers(CheckIn.objects.get(pk=check_in.pk))
    again = form_data(check_in, changes={"fit-understood": "1", "progress-energy": "0"})
    response = client.post(url(check_in), again)
    assert response.status_code == 409
    assert "already answered" in main(response).text()
    assert any(a.attrs.get("href") == url(check_in) for a in main(response).find_all("a"))
    assert stored_answers(CheckIn.objects.get(pk=check_in.pk)) == before
    # Even answers the form cannot read are met with "already answered", not the form.
    garbled = client.post(url(check_in), {"fit-understood": "lots"})
    assert garbled.status_code == 409
    assert not page(garbled).find_all("fieldset")


def test_an_expired_check_in_is_closed_and_takes_no_answers(at_start):
    check_in = at_start
    CheckIn.objects.filter(pk=check_in.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=8),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    client = as_user(check_in.engagement.client)
    shown = client.get(url(check_in))
    assert shown.status_code == 200
    assert "This check-in has closed" in main(shown).text()
    assert not page(shown).find_all("fieldset")
    refused = client.post(url(check_in), form_data(check_in))
    assert refused.status_code == 410
    assert "This check-in has closed" in main(refused).text()
    assert "The answers you just sent were not saved" in main(refused).text()
    assert "were not saved" not in main(shown).text()
    _nothing_stored(check_in)


def test_a_replaced_check_in_links_to_the_one_that_took_its_place(at_start):
    check_in = at_start
    attend(check_in.engagement, hours_ago=2)
    newer = open_check_in(check_in.engagement)
    response = as_user(check_in.engagement.client).get(url(check_in))
    assert "A newer check-in took its place" in main(response).text()
    assert any(a.attrs.get("href") == url(newer) for a in page(response).find_all("a"))


def test_another_clients_check_in_is_not_found_and_takes_no_answers(with_alliance):
    check_in = with_alliance
    stranger = as_user(make_engagement().client)
    assert stranger.get(url(check_in)).status_code == 404
    response = stranger.post(url(check_in), form_data(check_in))
    assert response.status_code == 404
    assert b"Sleep through the night" not in response.content
    _nothing_stored(check_in)
    # Nor does the therapist answer for their client.
    therapist = as_user(check_in.engagement.therapist.user)
    assert therapist.post(url(check_in), form_data(check_in)).status_code == 404
    _nothing_stored(check_in)


def test_anonymous_visitors_are_sent_to_sign_in(with_alliance):
    check_in = with_alliance
    for address in (url(check_in), f"/care/{check_in.engagement.public_id}/progress/"):
        response = Client().get(address)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert Client().post(url(check_in), form_data(check_in)).status_code == 302
    _nothing_stored(check_in)


# --- the e-mail's link -----------------------------------------------------------------------


def _private_headers(response) -> None:
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "eyJjIjoiMDAwIn0:1abcde:forged",
        lambda c: check_in_token_make(check_in=c)[:-2],
    ],
)
def test_a_forged_link_is_not_found(at_start, token):
    check_in = at_start
    text = token(check_in) if callable(token) else token
    assert Client().get(f"/care/check-ins/link/{text}/").status_code == 404
    assert Client().post(f"/care/check-ins/link/{text}/", form_data(check_in)).status_code == 404
    _nothing_stored(check_in)


def test_the_link_asks_the_questions_without_sign_in_and_shows_nothing_else(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING, goals=["Sleep better"])
    first = open_check_in(engagement)
    # An earlier answered check-in, with a band that must not appear on the link's pages.
    low = dict.fromkeys(PROGRESS, 0)
    services.check_in_answer(check_in=first, answers={"fit": FIT, "progress": low})
    attend(engagement, hours_ago=2)
    check_in = open_check_in(engagement)
    assert purposes(check_in) == ["alliance"]

    visitor = Client()
    shown = visitor.get(link(check_in))
    assert shown.status_code == 200
    _private_headers(shown)
    body = shown.content.decode()
    for private in (
        engagement.client.email,
        engagement.client.name or engagement.client.email,
        engagement.therapist.display_name,
        "Having a very hard time",
    ):
        assert private not in body
    groups = fieldsets(main(shown))
    assert "Sleep better" in groups  # the goal is rated, in the client's words
    assert len(groups) == 6 + 1

    answered = visitor.post(link(check_in), form_data(check_in, goals={"1": "4"}))
    assert answered.status_code == 200
    _private_headers(answered)
    text = main(answered).text()
    assert "Thank you" in text
    assert "Alliance check-in: 3.8 on a scale from 1 to 5 — Working well" in text
    assert "Sleep better: 4 out of 10" in text
    assert "Having a very hard time" not in text  # only this check-in's scores
    assert "Progress check" not in text
    assert "Sign in to see your check-ins over time" in text
    stored = CheckIn.objects.get(pk=check_in.pk)
    assert stored.status == CheckInStatus.COMPLETED
    assert stored_answers(stored) == {"alliance": ALLIANCE}

    again = visitor.get(link(check_in))
    assert again.status_code == 200
    _private_headers(again)
    text = main(again).text()
    assert "already answered" in text
    for private in ("Sleep better", "Working well", "3.8", engagement.therapist.display_name):
        assert private not in again.content.decode()
    assert not page(again).find_all("fieldset")
    # Posting again through the link changes nothing.
    refused = visitor.post(
        link(check_in), form_data(check_in, changes={"alliance-bond-at-ease": "1"})
    )
    assert refused.status_code == 409
    _private_headers(refused)
    assert stored_answers(CheckIn.objects.get(pk=check_in.pk)) == {"alliance": ALLIANCE}


def test_a_closed_check_ins_link_says_so_without_data(at_start):
    check_in = at_start
    CheckIn.objects.filter(pk=check_in.pk).update(status=CheckInStatus.WITHDRAWN)
    response = Client().get(link(check_in))
    assert response.status_code == 200
    _private_headers(response)
    assert "This check-in has closed" in main(response).text()
    assert not page(response).find_all("fieldset")


def test_invalid_answers_through_the_link_keep_the_form_and_store_nothing(at_start):
    check_in = at_start
    response = Client().post(link(check_in), form_data(check_in, changes={"fit-open": "9"}))
    assert response.status_code == 400
    _private_headers(response)
    assert main(response).get("id_fit-open-error").text()
    _nothing_stored(check_in)


# --- the crisis card --------------------------------------------------------------------------


def _critical_cases():
    for instrument in instruments.builtin_instruments():
        for rule in instrument.critical_items:
            item = instrument.items_by_id[rule.item_id]
            for option in item.options:
                yield pytest.param(
                    instrument.slug,
                    rule.item_id,
                    option.value,
                    option.value >= rule.threshold,
                    id=f"{instrument.slug}:{rule.item_id}={option.value}",
                )


CRITICAL_CASES = list(_critical_cases())


def test_there_are_critical_items_to_test():
    assert any(shown for *_, shown in (case.values for case in CRITICAL_CASES))
    assert any(not shown for *_, shown in (case.values for case in CRITICAL_CASES))


def _answers_with(check_in: CheckIn, slug: str, item_id: str, value: int) -> dict:
    data = {}
    for part in check_in.parts.select_related("instrument"):
        instrument = instruments.load_definition(part.instrument.definition)
        for item in instrument.items:
            # Every other question at an answer that is not itself critical (the lowest).
            lowest = min(option.value for option in item.options)
            data[f"{part.purpose}-{item.id}"] = str(lowest)
        if instrument.slug == slug:
            data[f"{part.purpose}-{item_id}"] = str(value)
    return data


def _check_in_asking(settings, slug: str) -> CheckIn:
    engagement = make_engagement(status=EngagementStatus.ONGOING, goals=["Sleep better"])
    purpose = next(p for p, s in settings.CARE_INSTRUMENTS.items() if s == slug)
    if purpose == "alliance":
        attend(engagement, hours_ago=2)
    check_in = open_check_in(engagement)
    assert purpose in purposes(check_in)
    return check_in


def _card_first_if_shown(response, shown: bool) -> None:
    document = main(response)
    card = document.by_id("crisis-card-title")
    if not shown:
        assert card is None
        assert "crisis-card" not in response.content.decode()
        assert "risk" not in document.text().lower()
        return
    assert card is not None
    assert "{#" not in response.content.decode()  # the card's own note is not shown
    section = next(s for s in document.find_all("section") if s.by_id("crisis-card-title"))
    assert section.attrs.get("role") == "alert"
    # First: before the page's heading and before any score.
    nodes = list(document.walk())
    assert nodes.index(section) < nodes.index(document.find_all("h1")[0])
    assert "9-8-8" in section.text() or "988" in section.text()


@pytest.mark.parametrize(("slug", "item_id", "value", "shown"), CRITICAL_CASES)
def test_the_crisis_card_shows_at_once_at_the_threshold_and_above_only(
    reference_data, settings, slug, item_id, value, shown
):
    # Signed in: the page after the answer.
    check_in = _check_in_asking(settings, slug)
    client = as_user(check_in.engagement.client)
    posted = client.post(url(check_in), _answers_with(check_in, slug, item_id, value))
    assert posted.status_code == 302
    _card_first_if_shown(client.get(url(check_in)), shown)
    # Through the link: the card is in the answer to the POST itself.
    check_in = _check_in_asking(settings, slug)
    answered = Client().post(link(check_in), _answers_with(check_in, slug, item_id, value))
    assert answered.status_code == 200
    _card_first_if_shown(answered, shown)


def test_the_card_stays_on_a_flagged_check_ins_page_without_being_announced_again(
    reference_data, settings
):
    check_in = _check_in_asking(settings, "progress-check")
    client = as_user(check_in.engagement.client)
    client.post(url(check_in), _answers_with(check_in, "progress-check", "safety", 3))
    client.get(url(check_in))  # the page right after answering announces it
    later = main(client.get(url(check_in)))
    section = next(s for s in later.find_all("section") if s.by_id("crisis-card-title"))
    assert "role" not in section.attrs


# --- over time ------------------------------------------------------------------------------


@pytest.fixture
def history_of_three(reference_data) -> Engagement:
    """Three answered check-ins: at the start (fit, progress), after session 1 (alliance,
    goals), after session 2 (alliance, progress, goals)."""
    engagement = make_engagement(status=EngagementStatus.ONGOING, goals=["Sleep better"])
    low = dict.fromkeys(PROGRESS, 1) | {"safety": 0}  # 5: "Having a very hard time"
    services.check_in_answer(
        check_in=open_check_in(engagement), answers={"fit": FIT, "progress": low}
    )
    attend(engagement, hours_ago=5)
    services.check_in_answer(
        check_in=open_check_in(engagement), answers={"alliance": ALLIANCE}, goal_ratings={"1": 3}
    )
    attend(engagement, hours_ago=3)
    check_in = open_check_in(engagement)
    assert purposes(check_in) == ["alliance", "progress"]
    services.check_in_answer(
        check_in=check_in,
        answers={"alliance": ALLIANCE, "progress": PROGRESS},
        goal_ratings={"1": 7},
    )
    return engagement


def _progress(engagement: Engagement) -> str:
    return f"/care/{engagement.public_id}/progress/"


def test_the_progress_page_draws_each_chart_with_its_summary_and_table(history_of_three):
    engagement = history_of_three
    response = as_user(engagement.client).get(_progress(engagement))
    assert response.status_code == 200
    document = main(response)
    svgs = document.find_all("svg", role="img")
    assert len(svgs) == 3
    figures = document.find_all("figure")
    titles = [f.find_all("p")[0].text() for f in figures]
    assert titles == [
        "How your sessions are going",
        "How you have been",
        "Progress on your goals, 0 to 10",
    ]
    captions = [f.find_all("figcaption")[0].text() for f in figures]
    assert "2 check-ins, from After session 1 to After session 2." in captions[0]
    assert "2 check-ins, from At the start to After session 2." in captions[1]
    # 5 -> 15: beyond the reliable-change band (1.96 × 4 × √2 × √0.2 ≈ 4.96), and the latest
    # score is above the cutoff (about 12.4).
    assert "up 10 points" in captions[1]
    tables = [f.find_all("table")[0] for f in figures]
    rows = [[tr.text() for tr in t.find_all("tbody")[0].find_all("tr")] for t in tables]
    assert rows[0] == ["After session 1 3.8 4 3 4.5", "After session 2 3.8 4 3 4.5"]
    assert rows[1] == ["At the start 5", "After session 2 15"]
    assert rows[2] == ["After session 1 3", "After session 2 7"]
    # The cutoff is drawn on the progress chart.
    assert "cutoff" in svgs[1].text().lower() or "cutoff" in captions[1].lower()

    # Every check-in in a plain table, newest first, one row each, with its bands.
    listing = document.by_id("check-ins-heading")
    assert listing is not None
    table = [t for t in document.find_all("table") if "care-check-ins" in t.attrs.get("class", "")]
    body_rows = table[0].find_all("tbody")[0].find_all("tr")
    assert len(body_rows) == 3
    assert "After session 2" in body_rows[0].text()
    assert "Getting by" in body_rows[0].text()
    assert "At the start" in body_rows[2].text()
    assert "Having a very hard time" in body_rows[2].text()
    assert "A good start" in body_rows[2].text()

    # Every check-in shown and its parts are recorded as read.
    reads = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=engagement.client, content_type__model="checkin"
    )
    assert reads.count() == 3


def test_the_progress_page_with_no_answers_yet_says_so(at_start):
    engagement = at_start.engagement
    response = as_user(engagement.client).get(_progress(engagement))
    assert response.status_code == 200
    document = main(response)
    assert not document.find_all("svg", role="img")
    assert "No answered check-ins yet" in document.text()
    # The open check-in is offered.
    assert any(a.attrs.get("href") == url(at_start) for a in document.find_all("a"))


def test_another_clients_progress_page_is_not_found(history_of_three):
    engagement = history_of_three
    stranger = as_user(make_engagement().client)
    response = stranger.get(_progress(engagement))
    assert response.status_code == 404
    assert b"Sleep better" not in response.content
    assert as_user(engagement.therapist.user).get(_progress(engagement)).status_code == 404


# --- the charts' data (rapport.care.progress), also used by the therapist's page ---------------


def test_the_charts_carry_each_check_ins_scores_and_the_norms_of_the_progress_check(
    history_of_three,
):
    records = history.for_client(engagement=history_of_three)
    alliance = progress.alliance_chart(records)
    assert alliance is not None
    assert (alliance.y_min, alliance.y_max) == (1, 5)
    assert [line.label for line in alliance.lines] == ["Total", "Bond", "Goals", "Tasks"]
    assert alliance.x_labels == ("After session 1", "After session 2")
    assert [[p.value for p in line.points] for line in alliance.lines] == [
        [3.8, 3.8],
        [4, 4],
        [3, 3],
        [4.5, 4.5],
    ]
    # The alliance check-in's (synthetic) norms publish a cutoff of 2.5; reliable change is
    # 1.96 × √2 × 0.8 × √(1 − 0.85).
    assert alliance.cutoff == 2.5
    assert alliance.reliable_change == pytest.approx(1.96 * 2**0.5 * 0.8 * 0.15**0.5)

    chart = progress.progress_chart(records)
    assert chart is not None
    assert (chart.y_min, chart.y_max) == (0, 20)
    assert chart.x_labels == ("At the start", "After session 2")
    assert [p.value for p in chart.lines[0].points] == [5, 15]
    assert chart.higher_is_better is True
    # By hand from the definition's (synthetic) norms: the cutoff between the two samples'
    # means weighted by the other's SD, (4 × 15 + 3 × 9) / 7; the reliable difference
    # 1.96 × √2 × SD_clinical × √(1 − reliability) = 1.96 × √2 × 4 × √0.2.
    assert chart.cutoff == pytest.approx(87 / 7)
    assert chart.reliable_change == pytest.approx(1.96 * math.sqrt(2) * 4 * math.sqrt(0.2))

    goals = progress.goals_chart(records)
    assert goals is not None
    assert (goals.y_min, goals.y_max) == (0, 10)
    assert [line.label for line in goals.lines] == ["Goal 1: Sleep better"]
    assert [p.value for p in goals.lines[0].points] == [3, 7]


def _record(after: int, ratings: list[tuple[int, str, int | None]]) -> history.CheckInRecord:
    return history.CheckInRecord(
        check_in=CheckIn(),
        completed_at=timezone.now(),
        after_session=after,
        parts=(),
        goal_ratings=tuple(history.GoalRating(p, text, rating) for p, text, rating in ratings),
    )


def test_goal_lines_follow_each_goal_by_its_number_with_gaps_where_it_was_not_rated():
    records = [
        _record(0, []),  # asked no goals: not on the chart
        _record(1, [(1, "Sleep", 2), (2, "Walk", None)]),
        _record(2, [(1, "Sleep through the night", 5)]),  # goal 2 not asked this time
        _record(3, [(1, "Sleep through the night", 6), (2, "Walk daily", 4)]),
    ]
    chart = progress.goals_chart(records)
    assert chart is not None
    assert chart.x_labels == ("After session 1", "After session 2", "After session 3")
    # Named with the latest wording.
    assert [line.label for line in chart.lines] == [
        "Goal 1: Sleep through the night",
        "Goal 2: Walk daily",
    ]
    assert [[p.value for p in line.points] for line in chart.lines] == [
        [2, 5, 6],
        [None, None, 4],
    ]


def test_nothing_to_draw_is_no_chart():
    records = [_record(1, [])]
    assert progress.alliance_chart(records) is None
    assert progress.progress_chart(records) is None
    assert progress.goals_chart(records) is None
    assert progress.goals_chart([]) is None


# --- the way in -------------------------------------------------------------------------------


def test_the_care_pages_offer_the_waiting_check_in_and_the_progress_page(at_start):
    check_in = at_start
    engagement = check_in.engagement
    client = as_user(engagement.client)
    for address in ("/care/", f"/care/{engagement.public_id}/"):
        document = main(client.get(address))
        assert "A check-in is waiting" in document.text()
        assert any(a.attrs.get("href") == url(check_in) for a in document.find_all("a"))
    engagement_page = main(client.get(f"/care/{engagement.public_id}/"))
    assert any(a.attrs.get("href") == _progress(engagement) for a in engagement_page.find_all("a"))
    # Once answered, nothing is waiting.
    services.check_in_answer(check_in=check_in, answers={"fit": FIT, "progress": PROGRESS})
    for address in ("/care/", f"/care/{engagement.public_id}/"):
        assert "A check-in is waiting" not in main(client.get(address)).text()


def test_the_links_form_works_with_csrf_checks_on(at_start):
    check_in = at_start
    browser = Client(enforce_csrf_checks=True)
    shown = browser.get(link(check_in))
    token = main(shown).find_all("input", name="csrfmiddlewaretoken")[0].attrs["value"]
    assert browser.post(link(check_in), form_data(check_in)).status_code == 403
    _nothing_stored(check_in)
    data = form_data(check_in) | {"csrfmiddlewaretoken": token}
    assert browser.post(link(check_in), data).status_code == 200
    assert CheckIn.objects.get(pk=check_in.pk).status == CheckInStatus.COMPLETED


def test_a_loaded_definitions_critical_item_shows_the_card_too(reference_data, settings):
    services.instrument_load(text=json.dumps(nine_item(threshold=2)))
    settings.CARE_INSTRUMENTS = {**settings.CARE_INSTRUMENTS, "progress": "synthetic-nine"}
    for value, shown in ((0, False), (1, False), (2, True), (3, True)):
        check_in = open_check_in(make_engagement(status=EngagementStatus.ONGOING))
        groups = fieldsets(main(Client().get(link(check_in))))
        assert [f"Line {n}." for n in range(1, 10)] == [t for t in groups if t.startswith("Line")]
        data = {f"fit-{item}": str(answer) for item, answer in FIT.items()}
        data |= {f"progress-q{n}": "0" for n in range(1, 9)} | {"progress-q9": str(value)}
        answered = Client().post(link(check_in), data)
        assert answered.status_code == 200
        _card_first_if_shown(answered, shown)
