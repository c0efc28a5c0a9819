"""The questionnaire's place question with a postal code, and with a misspelt name."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from rapport.matching.answers import FitAnswers
from rapport.matching.session import session_answers
from rapport.matching.sharing import shared_profile_in_words
from tests.html_tree import page_tree

pytestmark = pytest.mark.usefixtures("reference_data")

PLACE = reverse("matching:question", args=["place"])


def _error(response) -> str:
    return page_tree(response.content.decode()).get("main").get("id_place-error").text()


@pytest.mark.parametrize("typed", ["M5V 2T6", "98101", "h2x"])
def test_a_postal_code_is_a_place_the_question_accepts(typed):
    client = Client()

    response = client.post(PLACE, {"place": typed, "radius_km": ""})

    assert response.status_code == 302
    answers = session_answers(client.session)
    assert answers is not None
    assert answers.place == typed


def test_a_misspelt_place_is_refused_with_the_place_meant():
    client = Client()

    response = client.post(PLACE, {"place": "Torono", "radius_km": ""})

    assert response.status_code == 400
    assert _error(response) == "We could not find “Torono”. Did you mean Toronto, ON?"
    assert session_answers(client.session) is None


def _suggestion_forms(response) -> list[dict[str, str]]:
    """Each "Did you mean" answer offered: the fields its one-press form posts, and its
    button's words."""
    main = page_tree(response.content.decode()).get("main")
    (section,) = main.find_all("section", **{"aria-labelledby": "place-suggestions-heading"})
    assert main.get("place-suggestions-heading").text() == "Did you mean…"
    return [
        {
            node.attrs["name"]: node.attrs.get("value", "")
            for node in form.find_all("input")
            if node.attrs["name"] != "csrfmiddlewaretoken"
        }
        | {"button": form.find_all("button")[0].text()}
        for form in section.find_all("form")
    ]


def test_a_suggested_place_is_one_press_that_keeps_the_distance_typed():
    client = Client()
    refused = client.post(PLACE, {"place": "Vancuver", "radius_km": "40"})

    offered = _suggestion_forms(refused)
    assert offered == [
        {"place": "Vancouver, BC", "radius_km": "40", "button": "Vancouver, BC"},
        {"place": "Vancouver, WA", "radius_km": "40", "button": "Vancouver, WA"},
    ]
    chosen = {key: value for key, value in offered[0].items() if key != "button"}
    response = client.post(PLACE, chosen)

    assert response.status_code == 302
    answers = session_answers(client.session)
    assert answers is not None
    assert (answers.place, answers.radius_km) == ("Vancouver, BC", 40)


def test_no_suggestion_forms_when_nothing_is_close():
    response = Client().post(PLACE, {"place": "Xyzzyville", "radius_km": ""})
    assert response.status_code == 400
    assert "place-suggestions-heading" not in response.content.decode()


def test_an_unknown_postal_code_is_refused_as_unknown():
    client = Client()

    response = client.post(PLACE, {"place": "Z9Z", "radius_km": ""})

    assert response.status_code == 400
    assert _error(response).startswith("We do not know the postal code “Z9Z”.")
    assert session_answers(client.session) is None


@pytest.mark.parametrize(
    ("typed", "told"),
    [
        ("M5V 2T6", "Near Toronto, ON"),
        ("H2X", "Near Montréal, QC"),
        ("98101-1234", "Near Seattle, WA"),
    ],
)
def test_a_shared_profile_tells_a_postal_code_as_its_town_only(typed, told):
    # Never more of the place than the city: not the code, not the neighbourhood.
    parts = shared_profile_in_words(FitAnswers(place=typed), currency="CAD")
    lines = [item for part in parts for item in part.items]
    assert told in lines
    assert not any(typed.split()[0][:3] in line for line in lines)


def test_the_match_api_problem_for_a_misspelt_place_carries_suggestions():
    response = Client().post(
        "/api/v1/match", data={"place": "Torono"}, content_type="application/json"
    )

    assert response.status_code == 400
    problem = response.json()
    assert problem["suggestions"] == ["Toronto, ON"]
    assert problem["errors"] == [
        {"field": "place", "message": "We could not find “Torono”. Did you mean Toronto, ON?"}
    ]
    nothing_close = Client().post(
        "/api/v1/match", data={"place": "Xyzzyville"}, content_type="application/json"
    )
    assert "suggestions" not in nothing_close.json()
