"""The fit questionnaire, the results and the fit-profile page, through the test client with no
JavaScript: one question per page, every one skippable, a refused answer shown at its field
with nothing stored, answers kept in the session and (signed in) in the fit profile."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from rapport.care.models import EngagementStatus
from rapport.matching.answers import FitAnswers
from rapport.matching.models import Exposure, FitProfile
from rapport.matching.selectors import fit_profile_answers
from rapport.matching.session import session_answers, session_answers_keep
from tests.care.factories import make_engagement
from tests.factories import TEST_PASSWORD, make_office, make_therapist, make_user
from tests.html_tree import Node, page_tree
from tests.matching.factories import fit_answers, fit_profile
from tests.matching.helpers import relax_buttons

pytestmark = pytest.mark.usefixtures("reference_data")

STEPS = [
    "story",
    "hopes",
    "gender",
    "identity",
    "language",
    "faith",
    "population",
    "affirming",
    "style",
    "budget",
    "availability",
    "delivery",
    "place",
]
STORY = "Since the move I have been waking at 4 and dreading work."


# --- reading pages ------------------------------------------------------------------------------


def main(response) -> Node:
    return page_tree(response.content.decode()).get("main")


def error_of(document: Node, name: str) -> str:
    """The error text tied to a field (core/_field.html, core/_radio_field.html)."""
    return document.get(f"id_{name}-error").text()


def question(step: str) -> str:
    return reverse("matching:question", args=[step])


def stored(client: Client) -> Any:
    """The session's answers as their document (None when there are none)."""
    answers = session_answers(client.session)
    return None if answers is None else answers.to_data()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the start page and the walk ----------------------------------------------------------


def test_the_start_page_says_how_long_that_everything_is_optional_and_what_happens_to_answers():
    response = Client().get(reverse("matching:start"))
    assert response.status_code == 200
    text = main(response).text()
    assert "About 3 minutes" in text
    assert "Every question can be skipped" in text
    assert "No account needed" in text
    assert "What we do with your answers" in text
    assert main(response).links()["Start"] == question("story")


def test_walking_the_whole_questionnaire_skipping_some_questions_keeps_the_answers_given():
    client = Client()
    posted = {
        "story": {"story": STORY, "concerns": ["anxiety", "sleep"]},
        "language": {"values": ["pa", "en"], "weight": "3", "required": "on"},
        "style": {"style_structure": "1", "style_humour": "4", "style_weight": "2"},
        "budget": {"budget_per_session": "120", "sessions_affordable": ""},
        "availability": {"availability": ["weekday_evening", "weekend"]},
        "place": {"place": "Toronto, ON", "radius_km": "40"},
    }
    url = question("story")
    for number, step in enumerate(STEPS, start=1):
        assert url == question(step)
        response = client.get(url)
        assert response.status_code == 200
        document = main(response)
        assert f"Question {number} of {len(STEPS)}" in document.text()
        links = document.links()
        following = question(STEPS[number]) if number < len(STEPS) else "/match/results/"
        assert links["Skip this question"] == following
        assert links["← Back"] == (
            question(STEPS[number - 2]) if number > 1 else reverse("matching:start")
        )
        if step in posted:
            response = client.post(url, posted[step])
            assert response.status_code == 302, response.content.decode()[:2000]
            assert response["Location"] == following
        url = following

    # Written out by hand: the document the validator keeps for these answers.
    assert stored(client) == {
        "story": STORY,
        "hopes": "",
        "concerns": ["anxiety", "sleep"],
        "preferences": {"language": {"weight": 3, "values": ["pa", "en"]}},
        "language_required": True,
        "style": {"style_structure": 1, "style_humour": 4},
        "style_weight": 2,
        "budget_per_session": 120,
        "sessions_affordable": None,
        "availability": ["weekday_evening", "weekend"],
        "delivery": [],
        "place": "Toronto, ON",
        "radius_km": 40,
        "did_not_fit": [],
    }
    assert FitProfile.objects.count() == 0  # nobody is signed in


def test_a_step_shows_the_answers_given_before():
    client = Client()
    client.post(question("language"), {"values": ["fr"], "weight": "1"})
    document = main(client.get(question("language")))
    checked = {
        node.attrs["value"]
        for node in document.find_all("input")
        if "checked" in node.attrs and node.attrs.get("type") in ("checkbox", "radio")
    }
    assert checked == {"fr", "1"}


def test_radio_groups_are_fieldsets_with_legends_and_style_points_are_words():
    document = main(Client().get(question("style")))
    legends = [fieldset.find_all("legend")[0].text() for fieldset in document.find_all("fieldset")]
    assert legends == [
        "Structured … Exploratory",
        "Directive … Client-led",
        "Gentle … Challenging",
        "Present-focused … Past-focused",
        "Rarely uses humour … Often uses humour",
        "How much does the way they work matter to you?",
    ]
    structure = document.find_all("fieldset")[0]
    labels = [label.text() for label in structure.find_all("label")]
    assert labels == [
        "No preference",
        "Structured",
        "Leaning towards “structured”",
        "In between",
        "Leaning towards “exploratory”",
        "Exploratory",
    ]
    assert not any(label.strip().isdigit() for label in labels)
    weights = [label.text() for label in document.find_all("fieldset")[-1].find_all("label")]
    assert weights == ["Doesn't matter to me", "Nice to have", "Important", "Very important"]


def test_an_unknown_step_is_not_found():
    assert Client().get("/match/q/nonsense/").status_code == 404


# --- refused answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "data", "name", "message"),
    [
        ("story", {"concerns": ["anxiety", "made-up"]}, "concerns", "“made-up” is not one of"),
        ("budget", {"budget_per_session": "abc"}, "budget_per_session", "Enter a whole number."),
        ("budget", {"sessions_affordable": "201"}, "sessions_affordable", "from 1 to 200"),
        ("place", {"place": "Toronto, ON", "radius_km": "600"}, "radius_km", "from 1 to 500"),
        ("language", {"values": ["klingon"], "weight": "2"}, "values", "“klingon” is not one"),
        ("language", {"values": ["en"], "weight": "9"}, "weight", "Choose how much this matters"),
        ("language", {"required": "on"}, "required", "Choose the languages that are required"),
        ("gender", {"weight": "2"}, "values", "Choose at least one option"),
        ("style", {"style_direction": "6"}, "style_direction", "from 1 to 5"),
        ("availability", {"availability": ["midnight"]}, "availability", "“midnight” is not"),
        ("delivery", {"delivery": ["carrier_pigeon"]}, "delivery", "is not one of the ways"),
        ("hopes", {"hopes": "x" * 1001}, "hopes", "Keep this under 1,000 characters."),
    ],
)
def test_a_refused_answer_is_shown_at_its_field_and_nothing_changes(step, data, name, message):
    client = Client()
    client.post(question("story"), {"story": STORY, "concerns": ["grief"]})
    before = stored(client)

    response = client.post(question(step), data)

    assert response.status_code == 400
    document = main(response)
    assert message in error_of(document, name)
    assert "Nothing was saved" in document.text()
    # The error is tied to the field for screen readers.
    described = [
        node
        for node in document.walk()
        if f"id_{name}-error" in node.attrs.get("aria-describedby", "")
    ]
    assert described
    assert all(node.attrs.get("aria-invalid") == "true" for node in described)
    assert stored(client) == before


def test_a_place_nobody_can_find_is_refused_at_the_place_question():
    client = Client()
    response = client.post(question("place"), {"place": "Xyzzyville, Atlantis"})
    assert response.status_code == 400
    assert "could not find" in error_of(main(response), "place")
    assert stored(client) is None


def test_a_refused_answer_for_a_signed_in_person_leaves_their_profile_as_it_was():
    profile = fit_profile(budget_per_session=90)
    client = signed_in(profile.owner)
    response = client.post(question("budget"), {"budget_per_session": "abc"})
    assert response.status_code == 400
    profile.refresh_from_db()
    assert fit_profile_answers(profile).budget_per_session == 90


# --- signed in: the fit profile is where answers go and where they come from ---------------


def test_a_signed_in_person_saves_each_step_to_their_fit_profile_and_starts_from_it():
    user = make_user()
    client = signed_in(user)
    client.post(question("story"), {"story": STORY, "concerns": ["anxiety"]})
    profile = FitProfile.objects.get(owner=user)
    assert fit_profile_answers(profile).story == STORY
    client.post(question("budget"), {"budget_per_session": "80"})
    profile.refresh_from_db()
    assert fit_profile_answers(profile).budget_per_session == 80
    assert fit_profile_answers(profile).story == STORY

    # Another browser, same account: the questionnaire starts from the saved profile.
    elsewhere = signed_in(user)
    document = main(elsewhere.get(question("story")))
    assert STORY in document.get("id_story").text()


# --- results ------------------------------------------------------------------------------


def _in_toronto(**fields):
    therapist = make_therapist(offers_in_person=True, **fields)
    make_office(therapist)
    return therapist


def _cards(response) -> list[Node]:
    return [
        node for node in main(response).find_all("article") if node.attrs.get("class") == "card"
    ]


def _card_named(response, name: str) -> Node:
    return next(card for card in _cards(response) if name in card.find_all("h3")[0].text())


def _list_after(card: Node, heading: str) -> list[str]:
    """The items of the list that follows a heading inside a card."""
    children = [child for child in card.children if isinstance(child, Node)]
    for position, child in enumerate(children):
        if child.tag == "h4" and child.text() == heading:
            return [item.text() for item in children[position + 1].find_all("li")]
    return []


def test_results_explain_each_match_and_what_differs_for_a_hand_built_set_of_therapists():
    punjabi = _in_toronto(
        display_name="Asha Punjabi", languages=["pa", "en"], concerns=["anxiety"], fee_minor=12000
    )
    english = _in_toronto(
        display_name="Ben English", languages=["en"], concerns=["anxiety", "grief"], fee_minor=9000
    )
    _in_toronto(display_name="Cara Costly", languages=["pa"], concerns=["anxiety"], fee_minor=25000)
    client = Client()
    client.post(question("story"), {"concerns": ["anxiety", "grief"]})
    client.post(question("language"), {"values": ["pa"], "weight": "3"})
    client.post(question("budget"), {"budget_per_session": "150"})
    client.post(question("place"), {"place": "Toronto, ON"})

    response = client.get(reverse("matching:results"))

    assert response.status_code == 200
    names = [card.find_all("h3")[0].text() for card in _cards(response)]
    # Over budget: left out (a hard constraint). Both others meet every constraint.
    assert sorted(names) == ["Asha Punjabi", "Ben English"]
    asha = _card_named(response, "Asha Punjabi")
    assert "Speaks Punjabi" in _list_after(asha, "Why this match")
    assert "CA$120, within your budget" in _list_after(asha, "Why this match")
    assert _list_after(asha, "What's different from what you asked") == [
        "Does not list grief and loss"
    ]
    ben = _card_named(response, "Ben English")
    assert "Does not speak Punjabi" in _list_after(ben, "What's different from what you asked")
    # Names that hold "and" are set apart with a dot, not joined with another "and".
    assert "Anxiety · grief and loss" in _list_after(ben, "Why this match")
    links = asha.links()
    assert links["Asha Punjabi"] == reverse("directory:therapist_detail", args=[punjabi.public_id])
    assert links["Book a free consultation with Asha Punjabi"] == reverse(
        "booking:consultation_book", args=[punjabi.public_id]
    )
    assert "out of 100" in asha.text()
    assert english.display_name == "Ben English"


def test_nobody_meets_everything_offers_each_relaxation_as_a_button_that_works():
    _in_toronto(display_name="Only English", languages=["en"], concerns=["anxiety"])
    client = Client()
    client.post(question("language"), {"values": ["pa"], "weight": "3", "required": "on"})
    client.post(question("place"), {"place": "Toronto, ON"})

    response = client.get(reverse("matching:results"))
    document = main(response)
    assert "Nobody meets everything you asked" in document.text()
    assert _cards(response) == []
    buttons = relax_buttons(document)
    assert buttons == {
        "language": "Make language a preference instead of a requirement (1 more therapist)"
    }

    response = client.post(reverse("matching:relax"), {"constraint": "language"})
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:results")
    assert stored(client)["language_required"] is False
    assert stored(client)["preferences"]["language"] == {"weight": 3, "values": ["pa"]}
    after = client.get(reverse("matching:results"))
    assert [card.find_all("h3")[0].text() for card in _cards(after)] == ["Only English"]


def test_the_radius_button_looks_as_far_as_its_advice_says():
    # Hamilton is about 58 km from Toronto: outside the default 25 km, inside 100 km.
    hamilton = make_therapist(display_name="In Hamilton", offers_in_person=True, offers_video=False)
    make_office(hamilton, city="Hamilton", latitude=43.2557, longitude=-79.8711)
    client = Client()
    client.post(question("delivery"), {"delivery": ["in_person"]})
    client.post(question("place"), {"place": "Toronto, ON"})

    document = main(client.get(reverse("matching:results")))
    buttons = [button.text() for button in document.find_all("button")]
    assert "Look up to 100 km away (1 more therapist)" in buttons

    client.post(reverse("matching:relax"), {"constraint": "radius"})
    assert stored(client)["radius_km"] == 100
    after = client.get(reverse("matching:results"))
    assert [card.find_all("h3")[0].text() for card in _cards(after)] == ["In Hamilton"]


def test_an_unknown_relaxation_changes_nothing():
    client = Client()
    client.post(question("budget"), {"budget_per_session": "100"})
    before = stored(client)
    response = client.post(reverse("matching:relax"), {"constraint": "everything"}, follow=True)
    assert "Nothing was changed" in main(response).text()
    assert stored(client) == before


def test_a_place_the_ranking_cannot_find_sends_the_person_back_to_the_place_question():
    client = Client()
    session = client.session
    session_answers_keep(session, FitAnswers(place="Xyzzyville, Atlantis"))
    session.save()

    response = client.get(reverse("matching:results"))

    assert response.status_code == 302
    assert response["Location"] == question("place")
    document = main(client.get(question("place")))
    assert "could not find" in error_of(document, "place")


def test_exposure_is_counted_for_the_first_page_only_and_pages_go_on():
    made = [_in_toronto(display_name=f"Therapist {n:02d}") for n in range(12)]
    client = Client()
    first = client.get(reverse("matching:results"))
    assert len(_cards(first)) == 10
    assert "Page 1 of 2" in main(first).text()
    total = Exposure.objects.get(therapist__isnull=True)
    assert total.first_page_count == 1
    shown = set(
        Exposure.objects.filter(therapist__isnull=False).values_list("therapist", flat=True)
    )
    assert len(shown) == 10
    assert shown <= {therapist.pk for therapist in made}

    second = client.get(reverse("matching:results"), {"page": "2"})
    assert len(_cards(second)) == 2
    names = {card.find_all("h3")[0].text() for card in _cards(first) + _cards(second)}
    assert len(names) == 12
    assert Exposure.objects.get(therapist__isnull=True).first_page_count == 1
    assert (
        sum(
            Exposure.objects.filter(therapist__isnull=False).values_list(
                "first_page_count", flat=True
            )
        )
        == 10
    )


def test_what_did_not_fit_before_is_said_above_the_list():
    _in_toronto(display_name="Anyone")
    profile = fit_profile(did_not_fit=["too_expensive"])
    document = main(signed_in(profile.owner).get(reverse("matching:results")))
    section = next(
        node
        for node in document.find_all("section")
        if node.find_all("h2")
        and node.find_all("h2")[0].text() == "What you told us changed this list"
    )
    assert [item.text() for item in section.find_all("li")] == [
        "Leaning towards lower fees and sliding scales, since cost got in the way."
    ]
    # Nothing to say: no such section.
    other = main(Client().get(reverse("matching:results")))
    assert "What you told us changed this list" not in other.text()


def test_a_page_past_the_end_goes_to_the_last_page():
    for number in range(11):
        _in_toronto(display_name=f"Therapist {number:02d}")
    response = Client().get(reverse("matching:results"), {"page": "7"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('matching:results')}?page=2"


@pytest.mark.parametrize(
    ("answer_field", "step"),
    [
        ("place", "place"),
        ("radius_km", "place"),
        ("budget_per_session", "budget"),
        ("preferences.language.values", "language"),
        ("language_required", "language"),
        ("preferences.lgbtq2s_affirming.values", "affirming"),
        ("style.style_humour", "style"),
        ("style_weight", "style"),
        ("concerns", "story"),
        ("delivery", "delivery"),
    ],
)
def test_each_answer_field_belongs_to_the_question_that_asks_it(answer_field, step):
    from rapport.matching.forms import step_of

    found = step_of(answer_field)
    assert found is not None
    assert found.slug == step


def test_a_nonsense_page_number_gives_the_first_page():
    _in_toronto(display_name="Anyone")
    response = Client().get(reverse("matching:results"), {"page": "abc"})
    assert response.status_code == 200
    assert len(_cards(response)) == 1


def test_the_results_leave_out_therapists_the_signed_in_person_has_worked_with():
    past = _in_toronto(display_name="Worked With")
    _in_toronto(display_name="Someone New")
    user = make_user()
    make_engagement(client=user, therapist=past, status=EngagementStatus.ENDED)
    response = signed_in(user).get(reverse("matching:results"))
    assert [card.find_all("h3")[0].text() for card in _cards(response)] == ["Someone New"]
    anonymous = Client().get(reverse("matching:results"))
    assert len(_cards(anonymous)) == 2


# --- the fit profile page -------------------------------------------------------------------


def test_the_profile_page_shows_every_answer_in_words_with_change_links():
    profile = fit_profile(
        story=STORY,
        concerns=["anxiety", "grief"],
        preferences={"language": {"weight": 3, "values": ["pa"]}},
        language_required=True,
        style={"style_structure": 2},
        style_weight=1,
        budget_per_session=120,
        delivery=["video"],
        availability=["weekend", "weekday_morning"],
        place="Toronto, ON",
    )
    document = main(signed_in(profile.owner).get(reverse("matching:profile")))
    answers = {
        node.find_all("dt")[0].text(): node.find_all("dd")[0].text()
        for node in document.find_all("div")
        if node.find_all("dt") and node.children and node.find_all("dt")[0] in node.children
    }
    assert answers["What brings you here?"].startswith(STORY)
    assert "Concerns: Anxiety, Grief and loss" in answers["What brings you here?"]
    assert answers["Language"].startswith("Punjabi How much it matters: Very important")
    assert "Only therapists who speak one of these" in answers["Language"]
    assert answers["How you would like them to work"].startswith(
        "Leaning towards “structured” How much it matters: Nice to have"
    )
    assert answers["Budget"].startswith("Up to 120 per session")
    assert answers["How you would like to meet"].startswith("By video")
    assert answers["When you can meet"].startswith("Weekends, Weekday mornings")
    assert answers["Your therapist's gender"].startswith("Skipped")
    links = document.links()
    assert links["Change language"] == question("language")
    assert links["Change budget"] == question("budget")
    assert len([text for text in links if text.startswith("Change ")]) == len(STEPS)


def test_someone_not_signed_in_sees_their_session_answers_and_is_told_how_to_keep_them():
    client = Client()
    client.post(question("hopes"), {"hopes": "Sleep through the night."})
    text = main(client.get(reverse("matching:profile"))).text()
    assert "Sleep through the night." in text
    assert "Create an account to keep them" in text


def test_deleting_asks_first_then_removes_only_the_signed_in_persons_profile_and_session_copy():
    mine = fit_profile(story=STORY)
    theirs = fit_profile(story="Someone else's words.")
    client = signed_in(mine.owner)
    # A copy kept in the session before signing in (older sessions may hold one).
    session = client.session
    session_answers_keep(session, fit_answers(story=STORY))
    session.save()
    client.post(question("hopes"), {"hopes": "Feel calmer."})

    confirm = client.get(reverse("matching:profile_delete"))
    assert confirm.status_code == 200
    assert FitProfile.objects.filter(pk=mine.pk).exists()  # asking deletes nothing

    response = client.post(reverse("matching:profile_delete"))
    assert response.status_code == 302
    assert not FitProfile.objects.filter(pk=mine.pk).exists()
    assert FitProfile.objects.filter(pk=theirs.pk).exists()
    assert stored(client) is None

    # A second POST, with no profile left, deletes nobody else's either.
    client.post(reverse("matching:profile_delete"), {"public_id": str(theirs.public_id)})
    assert FitProfile.objects.filter(pk=theirs.pk).exists()


def test_someone_not_signed_in_can_delete_their_session_answers():
    other = fit_profile()
    client = Client()
    client.post(question("hopes"), {"hopes": "Feel calmer."})
    client.post(reverse("matching:profile_delete"))
    assert stored(client) is None
    assert FitProfile.objects.filter(pk=other.pk).exists()


# --- signing up and signing in keep the session's answers ---------------------------------


def _answer_as_visitor(client: Client) -> None:
    client.post(question("story"), {"story": STORY, "concerns": ["anxiety"]})
    client.post(question("budget"), {"budget_per_session": "110"})


def test_signing_up_saves_the_sessions_answers_as_the_new_accounts_fit_profile():
    client = Client()
    _answer_as_visitor(client)
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.client@example.org",
            "password1": TEST_PASSWORD,
            "password2": TEST_PASSWORD,
            "consent": "on",
            "terms_version": settings.CONSENT_VERSIONS["terms"],
            "privacy_version": settings.CONSENT_VERSIONS["privacy"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    profile = FitProfile.objects.get(owner__email="new.client@example.org")
    answers = fit_profile_answers(profile)
    assert answers.story == STORY
    assert answers.concerns == ("anxiety",)
    assert answers.budget_per_session == 110


def test_signing_in_saves_the_sessions_answers_or_keeps_a_profile_changed_since():
    newcomer = make_user()
    client = Client()
    _answer_as_visitor(client)
    assert client.post("/accounts/login/", {"login": newcomer.email, "password": TEST_PASSWORD})[
        "Location"
    ]
    assert fit_profile_answers(FitProfile.objects.get(owner=newcomer)).budget_per_session == 110
    assert stored(client) is None  # the copy became the profile, and is forgotten

    # A profile changed after the answers were typed is the newer: it is kept (and a message
    # says so: tests/matching/test_profile_ownership.py).
    other = Client()
    _answer_as_visitor(other)
    keeper = fit_profile(story="My own saved words.", budget_per_session=60)
    other.post("/accounts/login/", {"login": keeper.owner.email, "password": TEST_PASSWORD})
    keeper.refresh_from_db()
    assert fit_profile_answers(keeper).story == "My own saved words."
    assert fit_profile_answers(keeper).budget_per_session == 60


# --- the way in -----------------------------------------------------------------------------


def test_find_my_match_is_linked_from_the_home_page_and_the_header():
    response = Client().get("/")
    html = response.content.decode()
    header = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert f'href="{reverse("matching:start")}"' in header
    assert main(response).links()["Find my match"] == reverse("matching:start")


def test_fit_answers_builder_gives_validated_answers():
    answers = fit_answers(budget_per_session="75", delivery=("video",))
    assert answers.budget_per_session == 75
    assert answers.delivery == ("video",)


def test_a_list_without_a_place_says_it_cannot_check_licences_and_asks_for_one():
    _in_toronto(display_name="Anywhere Therapist", concerns=["anxiety"])
    client = Client()
    client.post(question("story"), {"concerns": ["anxiety"]})

    note = main(client.get(reverse("matching:results"))).get("no-place-note")
    assert "licensed" in note.text()
    assert note.links()["Tell us your town or postal code"] == question("place")

    client.post(question("place"), {"place": "Toronto, ON"})
    assert main(client.get(reverse("matching:results"))).by_id("no-place-note") is None
