"""The simulation's filter-only baselines and its learner (bench/matching_simulation.py), on a
small world of hand-made therapists: the filters a person ticks really reach the search, they
are unticked last-chosen first when nobody is found, and the model is retrained at the stated
cadence as the product's housekeeping does."""

from __future__ import annotations

import dataclasses
from types import ModuleType

import numpy as np
import pytest
from django.utils import timezone

from rapport.directory.search import engine
from rapport.matching import learning, ranking
from rapport.matching.answers import FitAnswers, Preference, Weight
from tests.directory.factories import make_office, make_therapist

# Offices due north of where the search places "Toronto, ON", each about 3 km further than the
# last (degrees of latitude).
NEAREST, NEAR, FAR = 0.0, 0.03, 0.06


def _therapist(name: str, north: float, **fields: object) -> int:
    therapist = make_therapist(display_name=name, offers_in_person=True, **fields)  # type: ignore[arg-type]
    centre = ranking.constraints_query(
        FitAnswers(place="Toronto, ON"), index=engine.current_index()
    )
    assert centre.latitude is not None
    make_office(therapist, latitude=centre.latitude + north, longitude=centre.longitude)
    return therapist.pk


def _first(simulation: ModuleType, answers: FitAnswers, *, important: bool = False) -> tuple:
    """(therapist id of the first result on every simulated day, the pick)."""
    index = engine.current_index()
    query = ranking.constraints_query(answers, index=index)
    pick = simulation.searched(
        query,
        simulation.person_ticks(answers, important=important),
        now=timezone.now(),
        index=index,
    )
    firsts = {int(index.ids[page[0]]) for page in pick.pages}
    assert len(firsts) == 1, "distances differ here: no day's tie order may change the first"
    return firsts.pop(), pick


def test_ticks_are_the_concerns_in_order_then_the_important_preferences(
    simulation: ModuleType,
) -> None:
    answers = FitAnswers(
        concerns=("grief", "anxiety"),
        preferences={
            "lgbtq2s_affirming": Preference(Weight.VERY_IMPORTANT),
            "language": Preference(Weight.NICE_TO_HAVE, ("pa",)),
            "gender": Preference(Weight.IMPORTANT, ("woman", "non_binary")),
            "faith": Preference(Weight.NOT_IMPORTANT, ("sikh",)),
        },
    )
    tick = simulation.Tick
    assert simulation.person_ticks(answers) == (
        tick("concern", ("grief",)),
        tick("concern", ("anxiety",)),
    )
    # Only what was rated important or very important, in the questionnaire's order (gender
    # comes before LGBTQ2S+ affirmation there); a preference's values go together.
    assert simulation.person_ticks(answers, important=True) == (
        tick("concern", ("grief",)),
        tick("concern", ("anxiety",)),
        tick("gender", ("woman", "non_binary")),
        tick("lgbtq2s_affirming"),
    )
    assert simulation.person_ticks(FitAnswers(), important=True) == ()


@pytest.mark.usefixtures("reference_data")
def test_the_concern_a_person_ticks_reaches_the_search(simulation: ModuleType) -> None:
    nearest = _therapist("Nearest, no grief", NEAREST, concerns=["anxiety"])
    grief = _therapist("Grief, further away", FAR, concerns=["grief"])
    # Hard constraints only: the nearest therapist, whatever they treat (the old baseline).
    first, pick = _first(simulation, FitAnswers(place="Toronto, ON"))
    assert first == nearest
    assert (pick.wanted, pick.kept, pick.fell_back) == (0, 0, False)
    # With grief named, the person ticks it: the nearest one who lists grief comes first.
    first, pick = _first(simulation, FitAnswers(place="Toronto, ON", concerns=("grief",)))
    assert first == grief
    assert (pick.wanted, pick.kept, pick.fell_back) == (1, 1, False)


@pytest.mark.usefixtures("reference_data")
def test_the_pick_is_the_public_searchs_first_result_with_those_filters(
    simulation: ModuleType,
) -> None:
    for number in range(6):
        _therapist(f"Grief {number}", NEAR, concerns=["grief"])
        _therapist(f"Anxiety {number}", NEAR, concerns=["anxiety"])
    index = engine.current_index()
    now = timezone.now()
    query = ranking.constraints_query(FitAnswers(place="Toronto, ON"), index=index)
    ticks = (simulation.Tick("concern", ("grief",)),)
    pick = simulation.searched(query, ticks, now=now, index=index, days=(now.date(),))
    # Every office is equally far, so the order is today's tie order: the search's own.
    public = engine.search(
        dataclasses.replace(query, concerns=frozenset({"grief"}), page_size=10), now=now
    )
    assert [int(index.ids[row]) for row in pick.pages[0]] == [
        hit.therapist_id for hit in public.hits
    ]
    assert len(public.hits) == 6


@pytest.mark.usefixtures("reference_data")
def test_nobody_found_unticks_the_concern_chosen_last_first(simulation: ModuleType) -> None:
    _therapist("Nobody's concern", NEAREST, concerns=["depression"])
    anxiety = _therapist("Anxiety", NEAR, concerns=["anxiety"])
    grief = _therapist("Grief", FAR, concerns=["grief"])
    # Nobody lists both: grief, chosen last, is unticked; anxiety stays.
    first, pick = _first(simulation, FitAnswers(place="Toronto, ON", concerns=("anxiety", "grief")))
    assert first == anxiety
    assert (pick.wanted, pick.kept, pick.fell_back) == (2, 1, True)
    # Named the other way round: anxiety goes, grief stays.
    first, pick = _first(simulation, FitAnswers(place="Toronto, ON", concerns=("grief", "anxiety")))
    assert first == grief
    assert (pick.wanted, pick.kept) == (2, 1)
    # A concern nobody lists is unticked in the end: the nearest of all.
    first, pick = _first(simulation, FitAnswers(place="Toronto, ON", concerns=("trauma",)))
    assert (pick.wanted, pick.kept, pick.fell_back) == (1, 0, True)
    assert first not in (anxiety, grief)


@pytest.mark.usefixtures("reference_data")
def test_important_preferences_are_ticked_after_the_concerns_and_unticked_before_them(
    simulation: ModuleType,
) -> None:
    _therapist("Anxiety, a man", NEAREST, concerns=["anxiety"], gender_category="man")
    woman = _therapist("Anxiety, a woman", NEAR, concerns=["anxiety"], gender_category="woman")
    grief_woman = _therapist("Grief, a woman", FAR, concerns=["grief"], gender_category="woman")
    wants_a_woman = {"gender": Preference(Weight.IMPORTANT, ("woman",))}
    answers = FitAnswers(place="Toronto, ON", concerns=("anxiety",), preferences=wants_a_woman)
    # The concerns baseline leaves the gender filter alone; the third one ticks it.
    first, _ = _first(simulation, answers)
    assert first != woman
    first, pick = _first(simulation, answers, important=True)
    assert first == woman
    assert (pick.wanted, pick.kept) == (2, 2)
    # Nobody is a woman who lists anxiety and trauma: the gender filter, ticked last, goes
    # first, then trauma; anxiety stays.
    answers = dataclasses.replace(answers, concerns=("anxiety", "trauma"))
    first, pick = _first(simulation, answers, important=True)
    assert (pick.wanted, pick.kept) == (3, 1)
    assert first not in (woman, grief_woman)  # the nearest anxiety therapist, a man
    # Only "nice to have": not ticked.
    nice = {"gender": Preference(Weight.NICE_TO_HAVE, ("woman",))}
    _, pick = _first(simulation, dataclasses.replace(answers, preferences=nice), important=True)
    assert pick.wanted == 2


def test_the_learner_retrains_from_every_outcome_at_its_cadence(simulation: ModuleType) -> None:
    rng = np.random.default_rng(5)
    features = len(learning.FEATURES)
    outcomes = [
        (
            rng.choice((-1.0, 0.0, 1.0), features),
            float(rng.uniform(0.3, 1.0)),
            int(therapist),
            float(rng.uniform(0.0, 1.0)),  # the pair's preference score
        )
        for therapist in rng.integers(1, 6, 9)
    ]
    daily = simulation.Learner(seed=1, retrain_every=4)
    online = simulation.Learner(seed=1, retrain_every=None)
    for count, (inputs, answer, therapist_id, preference) in enumerate(outcomes, start=1):
        for learner in (daily, online):
            learner.record(
                inputs=inputs,
                preference=preference,
                answer=answer,
                therapist_id=therapist_id,
                good=True,
            )
        if count == 4:
            # Just retrained: the refit of the four outcomes so far, variances estimated, the
            # learned part's weight from their preference scores.
            refit = learning.fit(
                np.array([o[0] for o in outcomes[:4]]),
                np.array([o[1] for o in outcomes[:4]]),
                np.array([o[2] for o in outcomes[:4]]),
                preferences=np.array([o[3] for o in outcomes[:4]]),
            )
            assert daily.sums.effects == refit.effects
            assert daily.state.noise_variance == refit.noise_variance
            assert daily.state.mean == pytest.approx(refit.state().mean)
            assert daily.sums.calibration == refit.calibration
            assert refit.calibration.outcomes == 4
    assert (daily.retrains, online.retrains) == (2, 0)
    assert daily.state.noise_variance != learning.NOISE_VARIANCE_PRIOR  # estimated
    # The ninth answer was added on top of the eighth's retrain, as care's hook adds answers
    # to the newest version: nine outcomes counted, one since the retrain.
    assert daily.sums.shared.count == 9
    last_therapist = outcomes[-1][2]
    refit_of_eight = learning.fit(
        np.array([o[0] for o in outcomes[:8]]),
        np.array([o[1] for o in outcomes[:8]]),
        np.array([o[2] for o in outcomes[:8]]),
    )
    before = refit_of_eight.effects.get(last_therapist, (0, 0.0))[0]
    assert daily.sums.effects[last_therapist][0] == before + 1
    # Answer by answer only: the prior variances and weight throughout, as before any retrain.
    assert online.state.learned_weight == learning.LEARNED_WEIGHT_PRIOR
    assert online.state.noise_variance == learning.NOISE_VARIANCE_PRIOR
    assert online.state.effect_variance == learning.EFFECT_VARIANCE_PRIOR
    assert online.sums.shared.count == 9
