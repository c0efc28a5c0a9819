"""The matching demo (`rapport seed_matching`, then `rapport retrain_matcher`): the care demo's
clients get fit profiles, the one who ended as not the right fit has said why, and their
check-in histories become outcomes the learned component is trained on."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from rapport.care.models import EndedFor, Engagement
from rapport.care.seeding import STORIES, THERAPIST_EMAIL, seed_care
from rapport.directory.models import TherapistProfile
from rapport.matching import ranking
from rapport.matching.answers import MisfitReason
from rapport.matching.models import FitProfile, MatchModel, MatchOutcome, TherapistEffect
from rapport.matching.seeding import PROFILES, seed_matching
from rapport.matching.selectors import fit_profile_answers, past_therapist_ids
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db

# The early answers of each care story, counted from rapport/care/seeding.py's STORIES: its fit
# check (when it has one) and its alliance check-ins after sessions 1-3 (those it reached).
EARLY_ANSWERS = {
    "on-track": 1 + 3,
    "low-alliance": 1 + 3,
    "crisis": 1 + 2,
    "just-started": 0,  # the fit check is still open
    "repaired": 1 + 3,
    "not-right-fit": 1 + 2,
    "graduated": 1 + 3,
}
# Plus the engagement ended as not the right fit, once.
EXPECTED_OUTCOMES = sum(EARLY_ANSWERS.values()) + 1


@pytest.fixture
def care_demo(reference_data):
    """Three generated therapists (as `rapport seed` makes them, licensed in Ontario, CA$120 a
    session) and the care demo on one of them."""
    for number in range(3):
        make_therapist(seed_key=f"demo-{number}", fee_minor=12000)
    seed_care(seed=1, now=timezone.now() - dt.timedelta(hours=1))
    return TherapistProfile.objects.get(user__email=THERAPIST_EMAIL)


def test_each_demo_client_gets_the_storys_fit_profile(care_demo):
    result = seed_matching()

    assert result.created == tuple(story.key for story in STORIES)
    assert result.already_present == ()
    # make_therapist's licence is in Ontario and it has no office: its largest town.
    assert result.place == "Toronto, ON"
    for story in STORIES:
        answers = fit_profile_answers(FitProfile.objects.get(owner__email=story.email))
        assert answers.story == PROFILES[story.key]["story"]
        assert list(answers.concerns) == PROFILES[story.key]["concerns"]
        assert answers.place == "Toronto, ON"
        expected = (
            (MisfitReason.TOO_DIRECTIVE, MisfitReason.GOALS_DISAGREED)
            if story.key == "not-right-fit"
            else ()
        )
        assert answers.did_not_fit == expected


def test_retraining_turns_the_demo_histories_into_outcomes_and_a_model(care_demo):
    seed_matching()
    out = io.StringIO()

    call_command("retrain_matcher", stdout=out)

    assert MatchOutcome.objects.count() == EXPECTED_OUTCOMES
    assert set(MatchOutcome.objects.values_list("therapist_id", flat=True)) == {care_demo.pk}
    misfit = Engagement.objects.get(ended_for=EndedFor.NOT_THE_RIGHT_FIT)
    assert MatchOutcome.objects.filter(engagement=misfit).count() == 1
    model = MatchModel.objects.order_by("-version").first()
    assert model is not None
    assert model.version >= 1
    assert model.trained_on == EXPECTED_OUTCOMES
    effect = TherapistEffect.objects.get(model=model, therapist=care_demo)
    assert effect.count == EXPECTED_OUTCOMES
    assert f"v{model.version}" in out.getvalue()


def test_a_demo_clients_list_leaves_out_the_demo_therapist_and_leans_away(care_demo):
    seed_matching()
    call_command("retrain_matcher", stdout=io.StringIO())
    client = FitProfile.objects.get(owner__email="care.not-right-fit@example.org").owner
    answers = fit_profile_answers(client.fit_profile)

    listing = ranking.rank(
        answers=answers,
        now=timezone.now(),
        seed=1,
        exclude_therapist_ids=past_therapist_ids(user=client),
    )

    assert listing.total == 2  # the two other therapists: licensed in Ontario, within budget
    assert care_demo.pk not in {match.therapist_id for match in listing.matches}
    assert listing.left_out == 1
    assert any("too directive" in sentence for sentence in listing.leaning)


def test_a_second_run_adds_nothing_and_keeps_the_profiles(care_demo):
    seed_matching()
    before = dict(FitProfile.objects.values_list("pk", "answers"))

    result = seed_matching()

    assert result.created == ()
    assert result.already_present == tuple(story.key for story in STORIES)
    assert dict(FitProfile.objects.values_list("pk", "answers")) == before


def test_the_command_reports_and_refuses_without_the_care_demo(reference_data):
    with pytest.raises(CommandError, match="seed_care"):
        call_command("seed_matching", stdout=io.StringIO())


def test_the_command_writes_the_profiles(care_demo):
    out = io.StringIO()
    call_command("seed_matching", stdout=out)
    assert FitProfile.objects.count() == len(STORIES)
    assert "Matching demo: fit profiles for on-track" in out.getvalue()
