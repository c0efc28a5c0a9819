"""The one validator of fit-profile documents: every refusal names its field."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.matching import terms
from rapport.matching.answers import FitAnswers, FitAnswersError, Weight, answers_from_data

pytestmark = pytest.mark.usefixtures("reference_data")


def _check(data: Any) -> FitAnswers:
    return answers_from_data(data, term_slugs=terms.active_slugs())


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], ""),
        ({"colour": "blue"}, "colour"),
        ({"story": 5}, "story"),
        ({"story": "x" * 2001}, "story"),
        ({"story": "a lone \ud800 surrogate"}, "story"),
        ({"hopes": "nul \x00 byte"}, "hopes"),
        ({"concerns": "anxiety"}, "concerns"),
        ({"concerns": ["anxiety", "not-a-concern"]}, "concerns"),
        ({"concerns": ["anxiety"] * 41}, "concerns"),
        ({"preferences": {"height": {"weight": 1}}}, "preferences.height"),
        (
            {"preferences": {"language": {"weight": 7, "values": ["en"]}}},
            "preferences.language.weight",
        ),
        (
            {"preferences": {"language": {"weight": True, "values": ["en"]}}},
            "preferences.language.weight",
        ),
        ({"preferences": {"language": {"weight": 2}}}, "preferences.language.values"),
        (
            {"preferences": {"language": {"weight": 2, "values": ["xx"]}}},
            "preferences.language.values",
        ),
        (
            {"preferences": {"gender": {"weight": 2, "values": ["undisclosed"]}}},
            "preferences.gender.values",
        ),
        (
            {"preferences": {"lgbtq2s_affirming": {"weight": 2, "values": ["yes"]}}},
            "preferences.lgbtq2s_affirming.values",
        ),
        ({"language_required": True}, "language_required"),
        ({"style": {"style_warmth": 3}}, "style.style_warmth"),
        ({"style": {"style_structure": 6}}, "style.style_structure"),
        ({"style": {"style_structure": 2.5}}, "style.style_structure"),
        ({"budget_per_session": -1}, "budget_per_session"),
        ({"budget_per_session": "1e9"}, "budget_per_session"),
        ({"budget_per_session": 10001}, "budget_per_session"),
        ({"sessions_affordable": 0}, "sessions_affordable"),
        ({"radius_km": 501}, "radius_km"),
        ({"availability": ["midnight"]}, "availability"),
        ({"delivery": ["carrier_pigeon"]}, "delivery"),
        ({"did_not_fit": ["too_tall"]}, "did_not_fit"),
    ],
)
def test_each_bad_answer_is_refused_at_its_field(data: Any, field: str) -> None:
    with pytest.raises(FitAnswersError) as caught:
        _check(data)
    assert caught.value.field == field
    assert caught.value.message


def test_an_empty_document_is_a_valid_empty_profile_and_round_trips() -> None:
    assert _check({}) == FitAnswers()
    assert _check({}).is_empty
    full = _check(
        {
            "story": "  Work has taken over my sleep.  ",
            "concerns": ["anxiety", "anxiety", "grief"],
            "preferences": {
                "language": {"weight": 3, "values": ["pa", "en"]},
                "lgbtq2s_affirming": {"weight": 1},
                "faith": {"weight": 0, "values": []},
            },
            "language_required": True,
            "style": {"style_humour": 4, "style_structure": 2},
            "budget_per_session": "150",
            "availability": ["weekend"],
            "delivery": ["video"],
            "place": "Toronto, ON",
        }
    )
    assert full.story == "Work has taken over my sleep."
    assert full.concerns == ("anxiety", "grief")  # repeats kept once, order kept
    assert list(full.style) == ["style_structure", "style_humour"]  # dimension order
    assert full.budget_per_session == 150
    assert full.preference("language").weight == Weight.VERY_IMPORTANT
    assert "faith" not in full.preferences  # "doesn't matter" with nothing chosen is no answer
    assert _check(full.to_data()) == full
