""" "Why this match" says only what the score counts and what the person asked: times by the
score's 14-day rule, style by which side of "In between" the therapist is on, leans from past
feedback worded as leans; the fit shown excludes the exploration draw; each therapist's draw
depends on the seed and its id alone; pairs of constraints to loosen when no single one helps."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.matching import features, learning, preference, ranking
from rapport.matching.answers import FitAnswers, MisfitReason, Preference, Weight
from rapport.matching.leaning import lean_away
from tests.directory.factories import make_office, make_therapist
from tests.html_tree import page_tree
from tests.matching.helpers import relax_buttons

pytestmark = pytest.mark.usefixtures("reference_data")

TORONTO = zoneinfo.ZoneInfo("America/Toronto")


def _rank(answers: FitAnswers, **kwargs: Any) -> ranking.MatchList:
    kwargs.setdefault("seed", 7)
    kwargs.setdefault("page_size", 50)
    return ranking.rank(answers=answers, now=kwargs.pop("now", timezone.now()), **kwargs)


def _by_name(result: ranking.MatchList) -> dict[str, ranking.Match]:
    return {match.card.display_name: match for match in result.matches}


def _only(answers: FitAnswers, **kwargs: Any) -> ranking.Match:
    result = _rank(answers, **kwargs)
    assert len(result.matches) == 1
    return result.matches[0]


# --- times: the words follow the score's rule ----------------------------------------------


def _weekday_at(days_ahead: int, hour: int) -> dt.datetime:
    """A weekday at ``hour`` in Toronto, at least ``days_ahead`` days from today there."""
    day = timezone.now().astimezone(TORONTO).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=TORONTO)


def _in_words(moment: dt.datetime, part: str) -> str:
    """ "Tuesday evening, Dec 15", written apart from the code under test."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    return f"{days[moment.weekday()]} {part}, {months[moment.month - 1]} {moment.day}"


def test_the_words_about_times_agree_with_the_score_over_a_hand_table(
    preferences_only: None,
) -> None:
    """Evenings chosen, nothing else: the score is 1 exactly when the next free consultation
    is within 14 days on a weekday evening, else 0; "a time you said works" exactly then."""
    soon_evening = _weekday_at(3, 18)
    soon_morning = _weekday_at(3, 9)
    late_evening = _weekday_at(20, 18)
    table = {
        # name: (next free consultation, score, reason, not met)
        "Soon evening": (
            soon_evening,
            100,
            f"Free consultation {_in_words(soon_evening, 'evening')}, a time you said works",
            (),
        ),
        "Soon morning": (
            soon_morning,
            0,
            f"Next free consultation {_in_words(soon_morning, 'morning')}",
            ("Not confirmed for weekday evenings: only their next free consultation is known",),
        ),
        "Three weeks out": (
            late_evening,
            0,
            f"Next free consultation {_in_words(late_evening, 'evening')}",
            ("No free consultation in the next 14 days",),
        ),
        "None listed": (None, 0, None, ("No free consultation time listed",)),
    }
    for name, (moment, _, _, _) in table.items():
        make_therapist(display_name=name, next_consultation_at=moment)
    result = _rank(FitAnswers(place="Toronto, ON", availability=("weekday_evening",)))
    matches = _by_name(result)
    assert set(matches) == set(table)
    for name, (_, score, reason, unmet) in table.items():
        match = matches[name]
        assert match.score == score, name
        if reason is not None:
            assert reason in match.reasons, (name, match.reasons)
        assert match.unmet == unmet, name
        # The one rule: "a time that works" is said exactly when the score counts it.
        says_it_works = any("a time you said works" in text for text in match.reasons)
        assert says_it_works == (match.preference_score == 1.0), name


def test_a_consultation_six_weeks_away_is_not_called_a_time_that_works(
    preferences_only: None,
) -> None:
    later = _weekday_at(42, 18)
    make_therapist(display_name="Later", next_consultation_at=later)
    match = _only(FitAnswers(place="Toronto, ON", availability=("weekday_evening",)))
    assert match.preference_score == 0.0
    assert not any("a time you said works" in reason for reason in match.reasons), match.reasons
    assert f"Next free consultation {_in_words(later, 'evening')}" in match.reasons
    assert match.unmet == ("No free consultation in the next 14 days",)


def test_evening_hours_are_not_called_missing_because_the_next_slot_is_a_morning(
    preferences_only: None,
) -> None:
    """Free every weekday morning and evening; the next slot is a morning. Only the next slot
    is known, so the evenings are "not confirmed", never "no free consultation"."""
    from rapport.booking.facts import therapist_booking_facts_refresh
    from tests.booking.factories import give_availability

    day = timezone.localdate() + dt.timedelta(days=7)
    while day.weekday() != 1:  # a Tuesday
        day += dt.timedelta(days=1)
    now = dt.datetime.combine(day, dt.time(3, 0), tzinfo=TORONTO)
    therapist = make_therapist(display_name="Mornings and evenings")
    policy: dict[str, Any] = {"minimum_notice_hours": 0, "buffer_minutes": 0}
    give_availability(therapist, starts_at=dt.time(9, 0), ends_at=dt.time(10, 0), **policy)
    give_availability(therapist, starts_at=dt.time(18, 0), ends_at=dt.time(20, 0), **policy)
    therapist_booking_facts_refresh(therapist=therapist, now=now)
    therapist.refresh_from_db()
    assert therapist.next_consultation_at is not None
    nine = therapist.next_consultation_at.astimezone(TORONTO)
    assert nine.hour == 9
    match = _only(FitAnswers(place="Toronto, ON", availability=("weekday_evening",)), now=now)
    assert "No free consultation soon at the times you chose" not in match.unmet
    assert f"Next free consultation {_in_words(nine, 'morning')}" in match.reasons
    assert match.unmet == (
        "Not confirmed for weekday evenings: only their next free consultation is known",
    )


# --- style: "as you asked" only on the same side -------------------------------------------


@pytest.mark.parametrize(
    ("wish", "placed", "reason", "unmet"),
    [
        # Leaning structured (2): the pole and 2 itself are on its side; 3 is not.
        (2, 1, "Structured, as you asked", None),
        (2, 2, "Structured, as you asked", None),
        (2, 3, None, None),  # one point away, in between: neither claimed nor missed
        (2, 4, None, "More exploratory than you asked"),
        (1, 3, None, "More exploratory than you asked"),
        # In between (3): only exactly in between is "as you asked"; two away is not met.
        (3, 3, "Between structured and exploratory, as you asked", None),
        (3, 2, None, None),
        (3, 1, None, "More structured than you asked"),
        (3, 5, None, "More exploratory than you asked"),
        (5, 4, "Exploratory, as you asked", None),
    ],
)
def test_style_words_by_side_and_distance(
    preferences_only: None, wish: int, placed: int, reason: str | None, unmet: str | None
) -> None:
    make_therapist(display_name="Placed", style_structure=placed)
    match = _only(FitAnswers(style={"style_structure": wish}, style_weight=Weight.VERY_IMPORTANT))
    # 1 - |placed - wish| / 4, the only thing chosen.
    assert match.score == round(100 * (1 - abs(placed - wish) / 4))
    style_reasons = [text for text in match.reasons if "as you asked" in text]
    assert style_reasons == ([reason] if reason else [])
    assert list(match.unmet) == ([unmet] if unmet else [])


def test_a_therapist_in_between_is_not_called_structured_as_you_asked(
    preferences_only: None,
) -> None:
    make_therapist(display_name="Middle")  # style_structure defaults to 3
    match = _only(FitAnswers(style={"style_structure": 2}, style_weight=Weight.VERY_IMPORTANT))
    assert "Structured, as you asked" not in match.reasons, match.reasons


def test_an_in_between_wish_far_from_the_therapist_is_listed_as_not_met(
    preferences_only: None,
) -> None:
    make_therapist(display_name="Pole", style_structure=1)
    match = _only(FitAnswers(style={"style_structure": 3}, style_weight=Weight.VERY_IMPORTANT))
    assert match.score == 50
    assert match.unmet == ("More structured than you asked",)


def test_other_dimensions_have_words_of_their_own(preferences_only: None) -> None:
    make_therapist(display_name="Quiet", style_humour=1, style_challenge=5)
    match = _only(
        FitAnswers(style={"style_humour": 4, "style_challenge": 3}, style_weight=Weight.IMPORTANT)
    )
    assert match.unmet == ("More challenging than you asked", "Less humour than you asked")


# --- leans from past feedback are said as such ----------------------------------------------


def test_a_lean_from_past_feedback_is_not_presented_as_what_the_person_asked(
    preferences_only: None,
) -> None:
    make_therapist(display_name="Led", style_direction=5)
    match = _only(FitAnswers(did_not_fit=(MisfitReason.TOO_DIRECTIVE,)))
    assert not any("as you asked" in reason for reason in match.reasons), match.reasons
    assert "Client-led (you found one too directive)" in match.reasons


def test_a_therapist_against_the_lean_is_said_to_be_so(preferences_only: None) -> None:
    make_therapist(display_name="Directive", style_direction=1)
    match = _only(FitAnswers(did_not_fit=(MisfitReason.TOO_DIRECTIVE,)))
    assert match.unmet == ("More directive, though you found one too directive",)


def test_a_wish_already_past_the_lean_stays_the_persons_own(preferences_only: None) -> None:
    make_therapist(display_name="Led", style_direction=5)
    match = _only(
        FitAnswers(
            style={"style_direction": 5},
            style_weight=Weight.IMPORTANT,
            did_not_fit=(MisfitReason.TOO_DIRECTIVE,),
        )
    )
    assert "Client-led, as you asked" in match.reasons


def test_a_lean_on_direction_does_not_switch_on_style_the_person_said_does_not_matter() -> None:
    answers = FitAnswers(
        style={"style_humour": 5},
        style_weight=Weight.NOT_IMPORTANT,
        did_not_fit=(MisfitReason.TOO_DIRECTIVE,),
    )
    leaning = lean_away(answers)
    weights = preference.feature_weights(leaning.answers)
    assert weights[features.FEATURES.index("style_humour")] == 0.0
    # The lean weighs the one dimension it moved, as "important".
    assert weights[features.FEATURES.index("style_direction")] == float(Weight.IMPORTANT)
    assert leaning.because == {"style_direction": "you found one too directive"}


def test_humour_they_placed_but_said_does_not_matter_is_not_worded_after_a_lean(
    preferences_only: None,
) -> None:
    make_therapist(display_name="Serious", style_humour=1, style_direction=4)
    match = _only(
        FitAnswers(
            style={"style_humour": 5},
            style_weight=Weight.NOT_IMPORTANT,
            did_not_fit=(MisfitReason.TOO_DIRECTIVE,),
        )
    )
    assert match.reasons[0] == "Client-led (you found one too directive)"
    assert not any("humour" in text.lower() for text in match.reasons + match.unmet)


# --- the fit shown and the exploration draw -----------------------------------------------------


def test_the_fit_shown_excludes_the_exploration_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve therapists alike, the learned part on with its draws: the order moves with the
    seed, the fit shown does not (the preference score, 50 for an empty profile)."""
    monkeypatch.setattr(learning, "current_model", learning.prior_state, raising=False)
    for n in range(12):
        make_therapist(display_name=f"Alike {n:02d}")
    orders = set()
    for seed in range(5):
        result = _rank(FitAnswers(), seed=seed)
        assert [match.score for match in result.matches] == [50] * 12
        assert any(match.learned != 0 for match in result.matches)
        orders.add(tuple(match.therapist_id for match in result.matches))
    assert len(orders) > 1


def test_a_therapists_draw_does_not_depend_on_who_else_is_in_the_list() -> None:
    state = learning.prior_state()
    alone = learning.therapist_draws(state, np.array([50]), seed=3, spread=1.0)[0]
    with_one_before = learning.therapist_draws(state, np.array([10, 50]), seed=3, spread=1.0)[1]
    assert alone == with_one_before
    ids = np.arange(1, 200)
    forwards = learning.therapist_draws(state, ids, seed=9)
    backwards = learning.therapist_draws(state, ids[::-1], seed=9)
    assert forwards.tolist() == backwards[::-1].tolist()
    # Another seed, other draws.
    assert learning.therapist_draws(state, ids, seed=10).tolist() != forwards.tolist()


# --- pairs of constraints to loosen ----------------------------------------------------------


def test_pairs_count_like_the_search_when_both_are_loosened(preferences_only: None) -> None:
    """In person near Toronto, within CA$100, speaking English: no single change brings anyone
    (each therapist fails two constraints); three pairs do, each counted by hand."""
    far = make_therapist(
        display_name="Far and dear",
        fee_minor=20000,
        languages=["en"],
        offers_in_person=True,
        offers_video=False,
    )
    make_office(far, city="Hamilton", latitude=43.2557, longitude=-79.8711, postal_code="L8P 4R5")
    make_therapist(display_name="Video, dear", fee_minor=20000, languages=["en"])
    make_therapist(display_name="Video, cheap, Punjabi", fee_minor=9000, languages=["pa"])
    answers = FitAnswers(
        place="Toronto, ON",
        delivery=("in_person",),
        budget_per_session=100,
        preferences={"language": Preference(Weight.IMPORTANT, ("en",))},
        language_required=True,
    )
    result = _rank(answers)
    assert result.total == 0
    # Hand table of each constraint alone (nobody) and each pair:
    # budget+language: in person within 25 km: nobody. budget+radius: Hamilton (en) → 1.
    # budget+delivery: the English video therapist → 1. language+radius: within budget in
    # person: nobody. language+delivery: the cheap Punjabi video therapist → 1.
    # radius+delivery: within budget and English: nobody.
    pairs = [(r.constraints, r.adds) for r in result.relaxations]
    assert sorted(pairs) == [
        (("budget", "delivery"), 1),
        (("budget", "radius"), 1),
        (("language", "delivery"), 1),
    ]
    budget_radius = next(r for r in result.relaxations if r.constraints == ("budget", "radius"))
    assert budget_radius.advice == (
        "Look beyond your budget per session, and look up to 100 km away"
    )
    assert budget_radius.together == (
        ("budget", "Look beyond your budget per session"),
        ("radius", "Look up to 100 km away"),
    )


def test_the_results_page_offers_a_pair_and_each_half_works(preferences_only: None) -> None:
    far = make_therapist(
        display_name="Far and dear", fee_minor=20000, offers_in_person=True, offers_video=False
    )
    make_office(far, city="Hamilton", latitude=43.2557, longitude=-79.8711, postal_code="L8P 4R5")
    client = Client()
    client.post(reverse("matching:question", args=["delivery"]), {"delivery": ["in_person"]})
    client.post(reverse("matching:question", args=["budget"]), {"budget_per_session": "100"})
    client.post(reverse("matching:question", args=["place"]), {"place": "Toronto, ON"})
    document = page_tree(client.get(reverse("matching:results")).content.decode()).get("main")
    text = document.text()
    assert "No single change brings anyone back, but changing two together would" in text
    assert (
        "Look beyond your budget per session, and look up to 100 km away: 1 more therapist." in text
    )
    buttons = relax_buttons(document)
    assert buttons == {
        "budget": "Look beyond your budget per session",
        "radius": "Look up to 100 km away",
    }
    # One half loosened: the other is then offered alone, with the same count.
    client.post(reverse("matching:relax"), {"constraint": "budget"})
    document = page_tree(client.get(reverse("matching:results")).content.decode()).get("main")
    assert "Look up to 100 km away (1 more therapist)" in [
        button.text() for button in document.find_all("button")
    ]


def test_the_api_relax_member_names_both_constraints_of_a_pair(preferences_only: None) -> None:
    import json

    far = make_therapist(
        display_name="Far and dear", fee_minor=20000, offers_in_person=True, offers_video=False
    )
    make_office(far, city="Hamilton", latitude=43.2557, longitude=-79.8711, postal_code="L8P 4R5")
    body = {"place": "Toronto, ON", "delivery": ["in_person"], "budget_per_session": 100}
    response = Client().post(
        "/api/v1/match", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 0
    assert data["relax"] == [
        {
            "constraint": "budget",
            "constraints": ["budget", "radius"],
            "advice": "Look beyond your budget per session, and look up to 100 km away",
            "adds": 1,
        }
    ]
    # One loosened: the other alone, as a single constraint.
    body.pop("budget_per_session")
    response = Client().post(
        "/api/v1/match", data=json.dumps(body), content_type="application/json"
    )
    assert response.json()["relax"] == [
        {
            "constraint": "radius",
            "constraints": ["radius"],
            "advice": "Look up to 100 km away",
            "adds": 1,
        }
    ]


# --- concerns ---------------------------------------------------------------------------------


def test_the_concern_part_is_the_share_of_the_persons_concerns(preferences_only: None) -> None:
    """Listing every concern scores as much as listing exactly the person's, never more
    (the share of *their* concerns; documented as the design)."""
    make_therapist(display_name="Just these", concerns=["anxiety", "grief"])
    make_therapist(display_name="One of them", concerns=["anxiety", "depression", "trauma"])
    scores = {
        name: match.score
        for name, match in _by_name(_rank(FitAnswers(concerns=("anxiety", "grief")))).items()
    }
    assert scores == {"Just these": 100, "One of them": 50}


def test_times_are_read_in_a_zone_half_an_hour_off_utc(preferences_only: None) -> None:
    """Newfoundland is UTC−3:30 (−2:30 in summer): a free consultation at 17:15 there is an
    evening, for the score and the words alike."""
    newfoundland = zoneinfo.ZoneInfo("America/St_Johns")
    day = timezone.now().astimezone(newfoundland).date() + dt.timedelta(days=3)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    evening = dt.datetime.combine(day, dt.time(17, 15), tzinfo=newfoundland)
    make_therapist(display_name="Quarter past five", next_consultation_at=evening)
    match = _only(FitAnswers(availability=("weekday_evening",)), time_zone="America/St_Johns")
    assert match.score == 100
    assert (
        f"Free consultation {_in_words(evening, 'evening')}, a time you said works" in match.reasons
    )


def test_opposite_past_feedback_leans_one_way_only_the_later(preferences_only: None) -> None:
    # Every write settles opposites, but anything read (an older row, an inline body built by
    # hand) must not lean both ways: the later answer wins, as when they are merged.
    make_therapist(display_name="Any")
    both = (MisfitReason.TOO_DIRECTIVE, MisfitReason.NOT_DIRECTIVE_ENOUGH)
    leaning = _rank(FitAnswers(did_not_fit=both)).leaning
    assert lean_away(FitAnswers(did_not_fit=both)).sentences == leaning
    assert leaning == lean_away(FitAnswers(did_not_fit=both[1:])).sentences
    reversed_leaning = _rank(FitAnswers(did_not_fit=both[::-1])).leaning
    assert reversed_leaning == lean_away(FitAnswers(did_not_fit=both[:1])).sentences
    assert leaning != reversed_leaning
