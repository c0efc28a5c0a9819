"""The ranked list: hard constraints as the search defines them, scores against a hand table
and a brute-force oracle written apart from the engine, reasons, ties, relaxations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import numpy as np
import pytest
from django.utils import timezone

from rapport.directory.models import TherapistProfile
from rapport.directory.search import engine
from rapport.matching import ranking
from rapport.matching.answers import FitAnswers, Preference, Weight
from tests.directory.factories import make_licence, make_office, make_therapist

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)


def _rank(answers: FitAnswers, **kwargs) -> ranking.MatchList:
    kwargs.setdefault("seed", 7)
    kwargs.setdefault("page_size", 50)
    return ranking.rank(answers=answers, now=kwargs.pop("now", timezone.now()), **kwargs)


def _names(result: ranking.MatchList) -> list[str]:
    return [match.card.display_name for match in result.matches]


def test_the_minimal_profile_gives_results_with_reasons_and_only_who_meets_the_constraints(
    preferences_only: None,
) -> None:
    fits = make_therapist(
        display_name="Fits", concerns=["anxiety"], fee_minor=12000, offers_in_person=True
    )
    make_office(fits)
    scale = make_therapist(
        display_name="Sliding", concerns=["anxiety"], fee_minor=20000, sliding_scale_min_minor=9000
    )
    make_therapist(display_name="Too dear", concerns=["anxiety"], fee_minor=20000)
    make_therapist(display_name="Full", concerns=["anxiety"], accepting_new_clients=False)
    elsewhere = make_therapist(display_name="Licensed in BC only", concerns=["anxiety"])
    elsewhere.licences.all().delete()
    make_licence(elsewhere, jurisdiction_id="CA-BC", regulator="BCACC")
    answers = FitAnswers(place="Toronto, ON", concerns=("anxiety",), budget_per_session=150)
    result = _rank(answers)
    assert sorted(_names(result)) == ["Fits", "Sliding"]
    assert result.total == 2
    assert result.place_label == "Toronto, ON"
    by_name = {match.card.display_name: match for match in result.matches}
    assert "Anxiety" in by_name["Fits"].reasons
    assert "CA$120, within your budget" in by_name["Fits"].reasons
    assert any(reason.startswith("Office ") for reason in by_name["Fits"].reasons)
    assert "Sliding scale from CA$90 reaches your budget" in by_name["Sliding"].reasons
    assert by_name["Sliding"].therapist_id == scale.pk
    # Fewer than three meet everything, so loosening is offered: only the budget adds anyone
    # ("Too dear"); not accepting and licensed elsewhere are never offered as relaxations.
    assert [(r.constraint, r.adds) for r in result.relaxations] == [("budget", 1)]
    assert result.leaning == ()


def test_scores_follow_the_hand_table(preferences_only: None) -> None:
    make_therapist(
        display_name="A", concerns=["anxiety", "grief"], languages=["pa"], style_structure=2
    )
    make_therapist(display_name="B", concerns=["anxiety"], languages=["en"], style_structure=4)
    make_therapist(display_name="C", concerns=[], languages=["en"], style_structure=5)
    answers = FitAnswers(
        concerns=("anxiety", "grief"),  # weight 2 (important)
        preferences={"language": Preference(Weight.NICE_TO_HAVE, ("pa",))},  # weight 1
        style={"style_structure": 2},
        style_weight=Weight.IMPORTANT,  # weight 2 on the one placed dimension
    )
    result = _rank(answers)
    # A: concerns 2/2, Punjabi, structure exact → (2·1 + 1·1 + 2·1) / 5 = 1.00
    # B: concerns 1/2, no Punjabi, structure 2 away → (2·0.5 + 0 + 2·0.5) / 5 = 0.40
    # C: no concern, no Punjabi, structure 3 away → (0 + 0 + 2·0.25) / 5 = 0.10
    assert [(m.card.display_name, m.score) for m in result.matches] == [
        ("A", 100),
        ("B", 40),
        ("C", 10),
    ]
    b = result.matches[1]
    assert "Does not speak Punjabi" in b.unmet
    assert "Does not list grief and loss" in b.unmet
    assert "More exploratory than you asked" in b.unmet
    a = result.matches[0]
    assert a.reasons[:3] == (
        "Speaks Punjabi",
        "Anxiety · grief and loss",
        "Structured, as you asked",
    )
    assert a.unmet == ()


def test_an_empty_profile_lists_everyone_accepting_at_an_even_score(preferences_only: None) -> None:
    for name in ("One", "Two", "Three"):
        make_therapist(display_name=name)
    make_therapist(display_name="Closed", accepting_new_clients=False)
    result = _rank(FitAnswers())
    assert sorted(_names(result)) == ["One", "Three", "Two"]
    assert {match.score for match in result.matches} == {50}


def test_ties_are_broken_by_the_rotating_seed_not_by_id_or_name(preferences_only: None) -> None:
    ids = [make_therapist(display_name=f"Same {n:02d}").pk for n in range(12)]
    firsts = set()
    for seed in range(40):
        result = _rank(FitAnswers(), seed=seed)
        order = [match.therapist_id for match in result.matches]
        assert sorted(order) == sorted(ids)
        firsts.add(order[0])
    assert len(firsts) >= 6
    # The same seed gives the same order (a person's list does not jump on reload).
    again = [_rank(FitAnswers(), seed=3).matches[n].therapist_id for n in range(12)]
    assert again == [_rank(FitAnswers(), seed=3).matches[n].therapist_id for n in range(12)]


def test_nothing_meets_everything_so_each_constraint_to_relax_says_how_many_it_adds(
    preferences_only: None,
) -> None:
    for n in range(3):
        make_therapist(display_name=f"Dear {n}", fee_minor=25000, languages=["en"])
    make_therapist(display_name="Punjabi, dear", fee_minor=25000, languages=["pa"])
    far = make_therapist(
        display_name="Ottawa office",
        offers_video=False,
        offers_in_person=True,
        fee_minor=9000,
        languages=["pa"],
    )
    make_office(far, city="Ottawa", latitude=45.4215, longitude=-75.6972, postal_code="K1P 1J1")
    answers = FitAnswers(
        place="Toronto, ON",
        delivery=("in_person",),
        budget_per_session=100,
        preferences={"language": Preference(Weight.IMPORTANT, ("pa",))},
        language_required=True,
    )
    result = _rank(answers)
    assert result.total == 0
    assert result.matches == ()
    # No single change brings anyone back: Ottawa is ~350 km away (a wider look reaches
    # 100 km), the video therapists are over budget or do not speak Punjabi. Nothing is
    # offered that would add nobody; the one pair that does is: beyond the budget and by
    # video, the Punjabi-speaking therapist.
    assert [(r.constraints, r.adds) for r in result.relaxations] == [(("budget", "delivery"), 1)]
    answers_wider = FitAnswers(**{**answers.__dict__, "delivery": ()})
    wider = _rank(answers_wider)
    relax = {option.constraint: option.adds for option in wider.relaxations}
    # Without the budget: the Punjabi-speaking, licensed-in-Ontario one (video) appears.
    assert relax.get("budget") == 1
    # Without the language requirement nobody is within budget near Toronto either.
    assert "language" not in relax


def test_relaxing_the_language_requirement_and_the_distance_count_exactly(
    preferences_only: None,
) -> None:
    for n in range(2):
        make_therapist(display_name=f"English {n}", languages=["en"], fee_minor=9000)
    answers = FitAnswers(
        place="Toronto, ON",
        preferences={"language": Preference(Weight.IMPORTANT, ("pa",))},
        language_required=True,
    )
    result = _rank(answers)
    assert result.total == 0
    assert [(r.constraint, r.adds) for r in result.relaxations] == [("language", 2)]
    assert result.relaxations[0].advice == "Make language a preference instead of a requirement"
    in_person = make_therapist(display_name="Hamilton", offers_video=False, offers_in_person=True)
    make_office(
        in_person, city="Hamilton", latitude=43.2557, longitude=-79.8711, postal_code="L8P 4R5"
    )  # ~58 km from Toronto
    near = FitAnswers(place="Toronto, ON", delivery=("in_person",))
    result = _rank(near)
    assert result.total == 0
    # Any way of meeting adds the two licensed-in-Ontario video therapists; 100 km reaches
    # Hamilton's office.
    assert [(r.constraint, r.adds) for r in result.relaxations] == [("delivery", 2), ("radius", 1)]
    assert result.relaxations[1].advice == "Look up to 100 km away"


def test_past_therapists_are_left_out_and_counted(preferences_only: None) -> None:
    kept = make_therapist(display_name="Kept")
    past = make_therapist(display_name="Past")
    result = _rank(FitAnswers(), exclude_therapist_ids=[past.pk])
    assert _names(result) == ["Kept"]
    assert result.left_out == 1
    assert result.matches[0].therapist_id == kept.pk


def _oracle_scores(answers: FitAnswers, therapists: list[TherapistProfile]) -> dict[int, float]:
    """The preference score worked out from the profiles' own fields, without the index."""
    scores = {}
    for therapist in therapists:
        concerns = set(therapist.concerns.values_list("slug", flat=True))
        languages = set(therapist.languages.values_list("slug", flat=True))
        parts: list[tuple[float, float]] = []
        if answers.concerns:
            had = sum(slug in concerns for slug in answers.concerns)
            parts.append((2.0, had / len(answers.concerns)))
        language = answers.preference("language")
        if language.weight:
            parts.append((float(language.weight), float(bool(languages & set(language.values)))))
        gender = answers.preference("gender")
        if gender.weight:
            parts.append((float(gender.weight), float(therapist.gender_category in gender.values)))
        placed = list(answers.style.items())
        for dimension, wanted in placed:
            closeness = 1 - abs(getattr(therapist, dimension) - wanted) / 4
            parts.append((answers.style_weight / len(placed), closeness))
        total_weight = sum(weight for weight, _ in parts)
        scores[therapist.pk] = (
            sum(weight * value for weight, value in parts) / total_weight if total_weight else 0.5
        )
    return scores


def test_scores_and_order_match_a_brute_force_oracle(preferences_only: None) -> None:
    rng = random.Random(16)
    concern_pool = ["anxiety", "grief", "depression", "trauma"]
    therapists = []
    for n in range(40):
        therapists.append(
            make_therapist(
                display_name=f"T{n:02d}",
                concerns=rng.sample(concern_pool, rng.randint(0, 3)),
                languages=rng.sample(["en", "fr", "pa"], rng.randint(1, 2)),
                gender_category=rng.choice(["woman", "man", "non_binary"]),
                style_structure=rng.randint(1, 5),
                style_challenge=rng.randint(1, 5),
                fee_minor=rng.choice([9000, 12000, 16000, 21000]),
            )
        )
    for trial in range(6):
        answers = FitAnswers(
            concerns=tuple(rng.sample(concern_pool, rng.randint(0, 2))),
            preferences={
                "language": Preference(Weight(rng.randint(1, 3)), ("fr",)),
                "gender": Preference(Weight(rng.randint(0, 3)), ("woman",)),
            },
            style={"style_structure": rng.randint(1, 5), "style_challenge": rng.randint(1, 5)},
            style_weight=Weight(rng.randint(0, 3)),
            budget_per_session=rng.choice([None, 100, 150, 200]),
        )
        within = [
            t
            for t in therapists
            if answers.budget_per_session is None or t.fee_minor <= answers.budget_per_session * 100
        ]
        if answers.style_weight == 0:
            answers = FitAnswers(**{**answers.__dict__, "style": {}})
        expected = _oracle_scores(answers, within)
        result = _rank(answers, seed=trial)
        assert result.total == len(within)
        got = {m.therapist_id: m.preference_score for m in result.matches}
        assert got.keys() == expected.keys()
        for therapist_id, score in expected.items():
            assert got[therapist_id] == pytest.approx(score), therapist_id
        ordered = [m.preference_score for m in result.matches]
        assert ordered == sorted(ordered, reverse=True)


def test_the_learned_part_moves_a_therapist_with_strong_early_alliance_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rapport.matching import learning

    good = make_therapist(display_name="Good early alliance")
    plain = make_therapist(display_name="No data")
    sums = learning.ModelSums()
    inputs = np.zeros(len(learning.FEATURES))
    for _ in range(30):
        sums.add(inputs=inputs, alliance=0.95, therapist_id=good.pk)
        # Others (no longer listed) set the mean that "good" is compared with.
        for other in (9001, 9002, 9003):
            sums.add(inputs=inputs, alliance=0.55, therapist_id=other)
    state = sums.state(version=1)
    monkeypatch.setattr(learning, "current_model", lambda: state, raising=False)
    wins = sum(
        _rank(FitAnswers(), seed=seed).matches[0].therapist_id == good.pk for seed in range(30)
    )
    # Its effect is well known and positive; the newcomer is drawn from the prior's spread.
    assert wins >= 28
    result = _rank(FitAnswers(), seed=1)
    by_id = {m.therapist_id: m for m in result.matches}
    assert by_id[good.pk].learned > 0
    assert plain.pk in by_id
    assert engine.current_index().size == 2


def test_the_learned_part_is_scaled_by_the_versions_weight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same model at weight 1 and at weight 2.5, without exploration: each therapist's
    learned part (what the model predicts of them) is exactly 2.5 times as large, the
    preference score (the fit shown) unchanged. (The draws keep their reach whatever the
    weight: the test below.)"""
    from rapport.matching import learning

    monkeypatch.setattr(ranking.scoring, "EXPLORATION", 0.0)
    make_therapist(display_name="Strong")
    make_therapist(display_name="Weak")
    sums = learning.ModelSums()
    inputs = np.zeros(len(learning.FEATURES))
    therapists = TherapistProfile.objects.order_by("pk")
    for therapist, alliance in zip(therapists, (0.9, 0.5), strict=True):
        for _ in range(10):
            sums.add(inputs=inputs, alliance=alliance, therapist_id=therapist.pk)
    plain = sums.state(version=1)
    weighed = dataclasses.replace(plain, learned_weight=2.5)
    results = {}
    for state in (plain, weighed):
        monkeypatch.setattr(learning, "current_model", lambda state=state: state)
        results[state.learned_weight] = {m.therapist_id: m for m in _rank(FitAnswers()).matches}
    assert results[1.0].keys() == results[2.5].keys() == {t.pk for t in therapists}
    for therapist_id, match in results[1.0].items():
        assert match.learned != 0
        assert results[2.5][therapist_id].learned == pytest.approx(2.5 * match.learned)
        assert results[2.5][therapist_id].preference_score == match.preference_score


def test_exploration_reaches_as_far_whatever_the_learned_weight() -> None:
    """Newcomers only (every effect at its prior): the learned part is the exploration draw
    alone, and it moves each score by exactly the same amount at a weight of 1, 3 or 1/3, so a
    heavier weight (what the model knows) never makes a guess reach further."""
    from rapport.directory.search.engine import current_index
    from rapport.matching import learning
    from rapport.matching.ranking.scoring import scored

    for number in range(6):
        make_therapist(display_name=f"New {number}")
    index = current_index()
    now = timezone.now()
    learned = {}
    for weight in (1.0, 3.0, 1 / 3):
        state = dataclasses.replace(learning.prior_state(), learned_weight=weight)
        result = scored(answers=FitAnswers(), index=index, now=now, seed=5, model=state)
        learned[weight] = dict(zip(index.ids[result.rows].tolist(), result.learned, strict=True))
    assert len(learned[1.0]) == 6
    assert any(value != 0 for value in learned[1.0].values())
    for weight in (3.0, 1 / 3):
        assert learned[weight].keys() == learned[1.0].keys()
        for therapist_id, value in learned[1.0].items():
            assert learned[weight][therapist_id] == pytest.approx(value)


def test_required_languages_mean_at_least_one_of_them(preferences_only: None) -> None:
    make_therapist(display_name="Punjabi", languages=["pa"])
    make_therapist(display_name="French", languages=["fr"])
    make_therapist(display_name="Both", languages=["pa", "fr"])
    make_therapist(display_name="English", languages=["en"])
    answers = FitAnswers(
        preferences={"language": Preference(Weight.IMPORTANT, ("pa", "fr"))},
        language_required=True,
    )
    result = _rank(answers)
    assert sorted(_names(result)) == ["Both", "French", "Punjabi"]
    # The search page's own language filter is unchanged: every chosen language.
    index = engine.current_index()
    query = ranking.constraints_query(answers, index=index)
    both = engine.search(
        dataclasses.replace(query, any_languages=frozenset(), languages=frozenset({"pa", "fr"})),
        now=timezone.now(),
    )
    assert [hit.therapist_id for hit in both.hits] == [
        TherapistProfile.objects.get(display_name="Both").pk
    ]


def test_a_stated_preference_outweighs_the_exploration_of_therapists_without_data() -> None:
    """With the real learned part (no outcomes yet: every effect drawn from the prior, scaled by
    EXPLORATION), a therapist who meets the one thing asked for is first whatever the day."""
    from rapport.matching import learning

    learning.model_cache_clear()
    client_led = make_therapist(display_name="Client-led", style_direction=5)
    make_therapist(display_name="Directive", style_direction=1)
    answers = FitAnswers(style={"style_direction": 4}, style_weight=Weight.IMPORTANT)
    firsts = {_rank(answers, seed=seed).matches[0].therapist_id for seed in range(60)}
    assert firsts == {client_led.pk}
