"""Match degrees against hand tables, the hard constraints as the search's own, leaning away
from what did not fit, the rotating tie-break, and availability windows across DST."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest

from rapport.directory.models import Faith, LivedExperience
from rapport.directory.search import engine
from rapport.directory.search.contract import SearchQuery
from rapport.matching import features, preference, ranking
from rapport.matching.answers import (
    Availability,
    FitAnswers,
    FitAnswersError,
    MisfitReason,
    Preference,
    Weight,
)
from tests.directory.factories import make_therapist

pytestmark = pytest.mark.usefixtures("reference_data")


def _row(index: engine.SearchIndex, therapist_id: int) -> int:
    rows = index.rows_of_ids(np.array([therapist_id]))
    assert rows.size == 1
    return int(rows[0])


def test_degrees_follow_the_hand_table() -> None:
    a = make_therapist(
        concerns=["anxiety", "grief"],
        languages=["en", "pa"],
        populations=["teens"],
        gender_category="woman",
        lgbtq2s_affirming=True,
        style_structure=1,
        style_direction=5,
    )
    a.lived_experiences.set(LivedExperience.objects.filter(slug="immigration"))
    a.faiths.set(Faith.objects.filter(slug__in=[Faith.objects.order_by("pk")[0].slug]))
    b = make_therapist(
        concerns=["depression"],
        languages=["fr"],
        gender_category="man",
        style_structure=4,
        style_direction=3,
    )
    answers = FitAnswers(
        concerns=("anxiety", "grief", "depression"),
        preferences={
            "gender": Preference(Weight.IMPORTANT, ("woman", "non_binary")),
            "language": Preference(Weight.NICE_TO_HAVE, ("pa", "fr")),
            "lived_experience": Preference(Weight.IMPORTANT, ("immigration", "parenthood")),
            "population": Preference(Weight.NICE_TO_HAVE, ("teens",)),
            "lgbtq2s_affirming": Preference(Weight.VERY_IMPORTANT, ()),
            "faith": Preference(Weight.NOT_IMPORTANT, ()),
        },
        style={"style_structure": 2, "style_direction": 5},
        style_weight=Weight.IMPORTANT,
    )
    index = engine.current_index()
    rows = np.array([_row(index, a.pk), _row(index, b.pk)])
    got = features.degrees(answers, index, rows)
    column = {name: position for position, name in enumerate(features.FEATURES)}
    # Worked by hand: a lists 2 of the 3 concerns, b lists 1; a is a woman (chosen), b a man;
    # a speaks Punjabi, b French (either is enough); a has 1 of 2 lived experiences, b none;
    # a works with teens; a is affirming, b not; faith is not chosen (NaN); structure wanted 2:
    # a placed 1 → 1 − 1/4, b placed 4 → 1 − 2/4; direction wanted 5: a 5 → 1, b 3 → 0.5;
    # the other three style dimensions were not placed (NaN).
    expected = {
        "concerns": (2 / 3, 1 / 3),
        "gender": (1.0, 0.0),
        "language": (1.0, 1.0),
        "lived_experience": (0.5, 0.0),
        "population": (1.0, 0.0),
        "lgbtq2s_affirming": (1.0, 0.0),
        "style_structure": (0.75, 0.5),
        "style_direction": (1.0, 0.5),
    }
    for name, (first, second) in expected.items():
        assert got[0, column[name]] == pytest.approx(first), name
        assert got[1, column[name]] == pytest.approx(second), name
    for name in ("faith", "style_challenge", "style_time_focus", "style_humour"):
        assert np.isnan(got[:, column[name]]).all(), name
    inputs = features.model_inputs(got)
    assert inputs[0, column["faith"]] == 0.0
    assert inputs[1, column["gender"]] == -1.0
    assert inputs[0, column["gender"]] == 1.0


def test_the_hard_constraints_are_the_searchs_own_query() -> None:
    index = engine.current_index()
    answers = FitAnswers(
        place="Toronto, ON",
        radius_km=40,
        delivery=("in_person", "video"),
        budget_per_session=120,
        preferences={"language": Preference(Weight.IMPORTANT, ("pa",))},
        language_required=True,
        concerns=("anxiety",),  # scored, never filtered
    )
    query = ranking.constraints_query(answers, index=index)
    assert isinstance(query, SearchQuery)
    assert query.place_label == "Toronto, ON"
    assert query.jurisdiction_code == "CA-ON"
    assert query.radius_km == 40
    assert query.delivery == frozenset({"in_person", "video"})
    assert query.max_fee_minor == 12000
    assert query.sliding_scale is True
    assert query.languages == frozenset()
    assert query.any_languages == frozenset({"pa"})
    assert query.concerns == frozenset()
    assert query.accepting_only is True
    preferred_only = ranking.constraints_query(
        FitAnswers(preferences={"language": Preference(Weight.IMPORTANT, ("pa",))}), index=index
    )
    assert preferred_only.any_languages == frozenset()
    assert not preferred_only.has_location


def test_an_unknown_place_is_an_error_on_the_place_field() -> None:
    with pytest.raises(FitAnswersError) as caught:
        ranking.constraints_query(
            FitAnswers(place="Nowhereville, ZZ"), index=engine.current_index()
        )
    assert caught.value.field == "place"
    assert "could not find" in caught.value.message


@pytest.mark.parametrize(
    ("reason", "dimension", "start", "expected"),
    [
        (MisfitReason.TOO_DIRECTIVE, "style_direction", 2, 4),
        (MisfitReason.TOO_DIRECTIVE, "style_direction", 5, 5),
        (MisfitReason.NOT_DIRECTIVE_ENOUGH, "style_direction", 4, 2),
        (MisfitReason.TOO_STRUCTURED, "style_structure", None, 4),
        (MisfitReason.NOT_STRUCTURED_ENOUGH, "style_structure", None, 2),
        (MisfitReason.TOO_CHALLENGING, "style_challenge", 5, 2),
        (MisfitReason.FELT_JUDGED, "style_challenge", 1, 1),
        (MisfitReason.NOT_CHALLENGING_ENOUGH, "style_challenge", 3, 4),
    ],
)
def test_leaning_away_moves_the_style_target(reason, dimension, start, expected) -> None:
    style = {} if start is None else {dimension: start}
    leaned = ranking.lean_away(
        FitAnswers(style=style, style_weight=Weight.NOT_IMPORTANT, did_not_fit=(reason,))
    )
    assert leaned.answers.style[dimension] == expected
    assert leaned.answers.style_weight == (
        Weight.IMPORTANT if start != expected else Weight.NOT_IMPORTANT
    )
    assert len(leaned.sentences) == 1


def test_leaning_away_from_cost_schedule_and_background() -> None:
    answers = FitAnswers(
        preferences={
            "faith": Preference(Weight.NICE_TO_HAVE, (Faith.objects.order_by("pk")[0].slug,)),
            "gender": Preference(Weight.IMPORTANT, ("woman",)),
        },
        did_not_fit=(
            MisfitReason.TOO_EXPENSIVE,
            MisfitReason.HARD_TO_SCHEDULE,
            MisfitReason.DID_NOT_UNDERSTAND_ME,
        ),
    )
    leaned = ranking.lean_away(answers)
    assert leaned.affordable
    assert leaned.soon
    assert leaned.answers.preference("faith").weight == Weight.IMPORTANT
    assert leaned.answers.preference("gender").weight == Weight.IMPORTANT  # not background
    assert len(leaned.sentences) == 3
    assert ranking.lean_away(FitAnswers()).sentences == ()


def test_the_seed_rotates_daily_and_the_tie_order_is_not_the_id_order() -> None:
    day = dt.date(2026, 12, 7)
    assert ranking.rotating_seed(day=day, key="a") == ranking.rotating_seed(day=day, key="a")
    assert ranking.rotating_seed(day=day, key="a") != ranking.rotating_seed(
        day=day + dt.timedelta(days=1), key="a"
    )
    ids = np.arange(1, 201, dtype=np.int64)
    orders = {
        tuple(
            np.argsort(
                ranking.scoring._tie_breaks(ids, ranking.rotating_seed(day=day, key=str(n)))
            )[:5]
        )
        for n in range(20)
    }
    assert len(orders) > 15  # different seeds, different first places
    first_places = [int(np.argmin(ranking.scoring._tie_breaks(ids, seed))) for seed in range(2000)]
    # Over many seeds every id gets first place about equally often (200 ids, 2000 seeds).
    counts = np.bincount(first_places, minlength=200)
    assert counts.max() < 40
    assert (counts > 0).sum() > 150


def test_availability_windows_are_read_in_the_persons_zone_across_a_dst_change() -> None:
    zone = zoneinfo.ZoneInfo("America/Toronto")
    # 2027-03-14: clocks go forward at 02:00 in Toronto. 21:30 UTC is 17:30 EDT (evening) after
    # the change; the same UTC time the day before is 16:30 EST (afternoon).
    before = dt.datetime(2027, 3, 13, 21, 30, tzinfo=dt.UTC)  # a Saturday: weekend
    friday = dt.datetime(2027, 3, 12, 21, 30, tzinfo=dt.UTC)  # 16:30 EST: afternoon
    monday = dt.datetime(2027, 3, 15, 21, 30, tzinfo=dt.UTC)  # 17:30 EDT: evening
    now = dt.datetime(2027, 3, 10, tzinfo=dt.UTC)
    starts = np.array([int(moment.timestamp()) * 1_000_000 for moment in (friday, before, monday)])
    now_us = int(now.timestamp()) * 1_000_000
    evening = preference.in_windows(starts, [Availability.WEEKDAY_EVENING], zone, now_us, 14)
    assert evening.tolist() == [False, False, True]
    afternoon = preference.in_windows(starts, [Availability.WEEKDAY_AFTERNOON], zone, now_us, 14)
    assert afternoon.tolist() == [True, False, False]
    weekend = preference.in_windows(starts, [Availability.WEEKEND], zone, now_us, 14)
    assert weekend.tolist() == [False, True, False]
    # Too far ahead, or already past: never counts.
    late = preference.in_windows(starts, list(Availability), zone, now_us, 2)
    assert late.tolist() == [False, False, False]


def test_each_relaxation_loosens_exactly_its_own_constraint() -> None:
    answers = FitAnswers(
        place="Toronto, ON",
        radius_km=30,
        budget_per_session=90,
        delivery=("in_person",),
        preferences={"language": Preference(Weight.IMPORTANT, ("pa",))},
        language_required=True,
        concerns=("anxiety",),
    )
    assert ranking.relaxed(answers, "radius").radius_km == 120  # 4 × 30
    assert ranking.relaxed(FitAnswers(), "radius").radius_km == 100  # 4 × 25, at least 100
    assert ranking.relaxed(FitAnswers(radius_km=300), "radius").radius_km == 500  # the most
    assert ranking.relaxed(answers, "budget").budget_per_session is None
    assert ranking.relaxed(answers, "language").language_required is False
    assert ranking.relaxed(answers, "language").preference("language").values == ("pa",)
    assert ranking.relaxed(answers, "delivery").delivery == ()
    for constraint in ranking.RELAX_CONSTRAINTS:
        loosened = ranking.relaxed(answers, constraint)
        assert loosened.concerns == answers.concerns
        assert loosened.place == answers.place
    with pytest.raises(ValueError, match="accepting"):
        ranking.relaxed(answers, "accepting")
