"""The completeness meter and the listing's state in words (rapport.directory.completeness),
and the steps a returning therapist resumes at (rapport.directory.onboarding.steps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from rapport.directory.completeness import (
    ITEMS,
    ListingState,
    listing_state,
    profile_completeness,
)
from rapport.directory.models import Concern, Language, Modality, Population, TherapistProfile
from rapport.directory.onboarding.steps import STEPS, first_incomplete, step_done
from tests.factories import make_office, make_therapist

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

COMPLETE: dict[str, Any] = {
    "headline": "Grief and big changes",
    "about": "x" * 150,
    "first_session": "We talk.",
    "fee_minor": 12_000,
    "submitted_for_review_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
}


def complete_therapist(**overrides: Any) -> TherapistProfile:
    therapist = make_therapist(
        concerns=["grief"],
        modalities=["cbt"],
        populations=["individuals"],
        languages=["en"],
        **{**COMPLETE, **overrides},
    )
    return therapist


def test_a_complete_profile_meets_the_minimum_and_lists_only_the_optional_items():
    therapist = complete_therapist()
    completeness = profile_completeness(therapist=therapist)
    assert completeness.meets_minimum
    assert {item.key for item in completeness.missing} == {"photo", "availability", "video"}
    assert completeness.percent == round(100 * (len(ITEMS) - 3) / len(ITEMS))
    assert all(item.why for item in completeness.missing)


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"headline": "  "}, "headline"),
        ({"about": "x" * 149}, "about"),
        ({"first_session": ""}, "first_session"),
        ({"fee_minor": 0}, "fees"),
    ],
)
def test_each_missing_required_item_blocks_the_minimum(overrides, missing):
    therapist = complete_therapist(**overrides)
    completeness = profile_completeness(therapist=therapist)
    assert not completeness.meets_minimum
    assert [item.key for item in completeness.missing_required] == [missing]


@pytest.mark.parametrize(
    ("relation", "model", "key"),
    [
        ("concerns", Concern, "concerns"),
        ("modalities", Modality, "modalities"),
        ("populations", Population, "populations"),
        ("languages", Language, "languages"),
    ],
)
def test_every_searched_taxonomy_needs_one_term(relation, model, key):
    therapist = complete_therapist()
    getattr(therapist, relation).clear()
    assert [item.key for item in profile_completeness(therapist=therapist).missing_required] == [
        key
    ]


def test_in_person_without_an_office_is_incomplete_and_an_office_completes_it():
    therapist = complete_therapist(offers_in_person=True)
    assert "where" in {item.key for item in profile_completeness(therapist=therapist).missing}
    make_office(therapist)
    assert profile_completeness(therapist=therapist).meets_minimum


def test_a_draft_has_saved_none_of_the_steps_whose_fields_have_defaults():
    therapist = complete_therapist(
        submitted_for_review_at=None, verification_status="pending", verification_decided_at=None
    )
    missing = {item.key for item in profile_completeness(therapist=therapist).missing_required}
    assert missing == {"style", "where", "contact"}
    assert resume_at(therapist) == "style"
    therapist.onboarding_steps_saved = ["style", "where", "contact"]
    assert profile_completeness(therapist=therapist).meets_minimum
    assert resume_at(therapist) == "availability"
    therapist.onboarding_steps_saved += ["availability", "videos", "preview"]
    assert resume_at(therapist) == "submit"
    assert not step_done(therapist, "submit")


def resume_at(therapist: TherapistProfile) -> str:
    step = first_incomplete(therapist)
    return step.slug if step is not None else ""


def test_every_step_has_a_page():
    for step in STEPS:
        assert reverse(step.url_name).startswith("/practice/profile/")


# --- the listing's state ----------------------------------------------------------------------


def state(**overrides: Any) -> ListingState:
    return listing_state(therapist=complete_therapist(**overrides), now=timezone.now())


def test_a_draft_says_so_and_points_to_the_profile():
    found = state(
        verification_status="pending", verification_decided_at=None, submitted_for_review_at=None
    )
    assert found.code == "draft"
    assert found.action == ("Continue your profile", "directory:practice_profile")


def test_pending_review_never_says_accepting():
    found = state(verification_status="pending", verification_decided_at=None)
    assert found.code == "pending_review"
    assert "accepting" not in found.sentence.lower()
    reverse(found.action_url_name)


@pytest.mark.parametrize("status", ["rejected", "suspended"])
def test_a_refused_licence_reads_as_declined_with_the_reviewers_reason(status):
    found = state(
        verification_status=status, verification_reason="The number is not on the register."
    )
    assert found.code == "declined"
    assert "The number is not on the register." in found.sentence
    assert found.action_url_name == "directory:practice_profile_licence"


def test_the_other_states_follow_the_listing_rule():
    assert state().code == "live"
    assert state(is_listed=False).code == "paused"
    assert state(accepting_new_clients=False).code == "not_accepting"
    stale = state(accepting_confirmed_at=timezone.now() - dt.timedelta(days=400))
    assert stale.code == "paused"
    assert stale.action_url_name == "booking:practice_listing"
    for found in (state(), state(is_listed=False), stale):
        reverse(found.action_url_name)
