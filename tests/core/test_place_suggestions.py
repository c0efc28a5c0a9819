""" "Did you mean …?" for a place name that is not found: the closest served names, fast."""

from __future__ import annotations

import pytest

from rapport.core.geo import geocode, suggest_places


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("Torono", "Toronto, ON"),
        ("torono", "Toronto, ON"),
        ("Tornoto", "Toronto, ON"),
        ("Torono, ON", "Toronto, ON"),
        ("Torono, Ontario", "Toronto, ON"),
        ("Torono, Canada", "Toronto, ON"),
        ("Toronto, Ontaroi", "Toronto, ON"),  # the province misspelt
        ("Vancover", "Vancouver, BC"),  # the bigger Vancouver first
        ("Montreal", "Montréal, QC"),  # no accent
        ("Monreal", "Montréal, QC"),
        ("Seatle", "Seattle, WA"),
        ("Calgry", "Calgary, AB"),
        ("Winipeg", "Winnipeg, MB"),
        ("Hallifax", "Halifax, NS"),
        ("Philadephia", "Philadelphia, PA"),
        ("San Fransisco", "San Francisco, CA"),
        ("Ontaroi", "Ontario"),  # a province by name
    ],
)
def test_a_misspelt_name_suggests_the_place_meant_first(typed, first):
    suggestions = suggest_places(typed)
    assert suggestions[0] == first
    assert len(suggestions) <= 3
    # Each suggestion is a name the place search finds as it is.
    for label in suggestions:
        assert geocode(label).label == label


def test_near_equal_names_come_most_populous_first():
    assert suggest_places("Vancover") == ("Vancouver, BC", "Vancouver, WA")
    assert suggest_places("Otawa")[0] == "Ottawa, ON"


def test_one_clear_best_comes_alone():
    # Orono, Maine is one letter away too, but a few thousand people against millions.
    assert suggest_places("Torono") == ("Toronto, ON",)
    assert suggest_places("Seatle") == ("Seattle, WA",)


@pytest.mark.parametrize(
    "typed",
    [
        "asdfgh",
        "qwerty",
        "therapy",
        "Xyzzyville",
        "12345",
        "1234 Main Street",  # digits: an address, not a name
        "M5V 2T",  # a postal code cut short
        "ab",
        "",
        "   ",
        "Toronto!!",
        "x" * 300,
    ],
)
def test_no_suggestion_for_what_is_not_close_to_a_name(typed):
    assert suggest_places(typed) == ()


def test_a_country_after_the_name_keeps_suggestions_in_that_country():
    assert all(label.endswith(", WA") for label in suggest_places("Vancover, USA"))
    assert suggest_places("Vancover, Canada") == ("Vancouver, BC",)
