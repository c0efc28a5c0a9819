"""Re-matching after an engagement the client ended as not the right fit: care's page links
it, a few taps say what did not fit, and the next list leaves out past therapists and leans
away from it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.care.hooks import not_right_fit_step_url
from rapport.care.models import EndedFor, EngagementStatus, Side
from rapport.matching import learning, ranking
from rapport.matching.answers import MISFIT_LABELS, MisfitReason
from rapport.matching.models import FitProfile, MatchOutcome
from rapport.matching.selectors import fit_profile_answers
from tests.care.factories import make_engagement
from tests.factories import make_therapist, make_user
from tests.matching.factories import fit_answers, fit_profile

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rematch_url(engagement) -> str:
    return f"/match/rematch/{engagement.public_id}/"


def misfit(**fields):
    """An engagement the client ended as not the right fit (with sessions, as care's one click
    ends it)."""
    return make_engagement(
        status=EngagementStatus.ENDED,
        ended_for=EndedFor.NOT_THE_RIGHT_FIT,
        ended_by=Side.CLIENT,
        **fields,
    )


def stored_reasons(user) -> tuple[str, ...]:
    return fit_profile_answers(FitProfile.objects.get(owner=user)).did_not_fit


def test_the_url_is_the_named_route(reference_data):
    engagement = misfit()
    assert reverse("matching:rematch", args=[engagement.public_id]) == rematch_url(engagement)


# --- care's page links here -----------------------------------------------------------------


def test_care_offers_the_rematch_page_after_the_one_click_ending(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)

    response = signed_in(engagement.client).post(
        f"/care/{engagement.public_id}/not-the-right-fit/", {"reason": ""}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert (
        f'<a href="{rematch_url(engagement)}">Tell us what didn\'t fit and see other '
        "therapists</a>" in body
    )
    assert "later capability" not in body


def test_care_offers_no_rematch_for_an_engagement_ended_for_another_reason(reference_data):
    engagement = make_engagement(status=EngagementStatus.ENDED, ended_for=EndedFor.OTHER)
    assert not_right_fit_step_url(engagement=engagement) is None

    response = signed_in(engagement.client).post(
        f"/care/{engagement.public_id}/not-the-right-fit/", {"reason": ""}
    )

    assert response.status_code == 409
    assert "/match/rematch/" not in response.content.decode()


def test_the_ended_engagements_page_keeps_the_way_back_to_re_matching(reference_data):
    ended = misfit()
    other = make_engagement(status=EngagementStatus.ENDED, ended_for=EndedFor.OTHER)
    ongoing = make_engagement(status=EngagementStatus.ONGOING)

    page = signed_in(ended.client).get(f"/care/{ended.public_id}/").content.decode()

    assert f'<a href="{rematch_url(ended)}">Tell us what didn\'t fit' in page
    for engagement in (other, ongoing):
        page = signed_in(engagement.client).get(f"/care/{engagement.public_id}/").content.decode()
        assert "/match/rematch/" not in page


# --- the page -------------------------------------------------------------------------------


def test_the_page_offers_every_reason_as_a_checkbox(reference_data):
    engagement = misfit()

    response = signed_in(engagement.client).get(rematch_url(engagement))

    assert response.status_code == 200
    page = response.content.decode()
    assert f"<h1>What didn't fit with {engagement.therapist.display_name}?</h1>" in page
    assert "<legend>What didn&#x27;t fit?</legend>" in page
    for position, reason in enumerate(MisfitReason):
        assert f'type="checkbox" name="reasons" value="{reason.value}"' in page
        label = MISFIT_LABELS[reason].replace("'", "&#x27;")
        assert f'<label for="id_reasons_{position}">{label}</label>' in page
    assert not FitProfile.objects.exists()  # looking writes nothing


def test_taps_join_the_fit_profile_and_lead_to_the_results(reference_data):
    engagement = misfit()
    fit_profile(owner=engagement.client, did_not_fit=[MisfitReason.TOO_EXPENSIVE])

    response = signed_in(engagement.client).post(
        rematch_url(engagement),
        {"reasons": [MisfitReason.TOO_DIRECTIVE, MisfitReason.FELT_JUDGED]},
    )

    assert response.status_code == 302
    assert response["Location"] == "/match/results/"
    # Added to what was there, in the order given, and the rest of the profile kept.
    assert stored_reasons(engagement.client) == (
        MisfitReason.TOO_EXPENSIVE,
        MisfitReason.TOO_DIRECTIVE,
        MisfitReason.FELT_JUDGED,
    )
    assert fit_profile_answers(FitProfile.objects.get(owner=engagement.client)).concerns == (
        "anxiety",
    )
    # The reasons never travel in an address.
    assert "too_directive" not in response["Location"]


def test_without_a_profile_the_taps_start_one(reference_data):
    engagement = misfit()

    signed_in(engagement.client).post(
        rematch_url(engagement), {"reasons": [MisfitReason.HARD_TO_SCHEDULE]}
    )

    assert stored_reasons(engagement.client) == (MisfitReason.HARD_TO_SCHEDULE,)


def test_the_ended_engagement_becomes_one_outcome_however_often_the_form_is_sent(reference_data):
    engagement = misfit()
    fit_profile(owner=engagement.client)
    client = signed_in(engagement.client)

    client.post(rematch_url(engagement), {"reasons": [MisfitReason.TOO_DIRECTIVE]})
    client.post(rematch_url(engagement), {"reasons": [MisfitReason.TOO_DIRECTIVE]})

    outcomes = MatchOutcome.objects.filter(engagement=engagement)
    assert outcomes.count() == 1
    outcome = outcomes.get()
    assert outcome.therapist_id == engagement.therapist_id
    assert outcome.check_in_part_id is None
    assert stored_reasons(engagement.client) == (MisfitReason.TOO_DIRECTIVE,)


def test_no_taps_at_all_still_counts_the_ending_and_leads_to_the_results(reference_data):
    engagement = misfit()
    fit_profile(owner=engagement.client)

    response = signed_in(engagement.client).post(rematch_url(engagement), {})

    assert response.status_code == 302
    assert response["Location"] == "/match/results/"
    assert stored_reasons(engagement.client) == ()
    assert MatchOutcome.objects.filter(engagement=engagement).count() == 1


def test_an_unknown_reason_is_an_error_at_the_field_and_nothing_is_stored(reference_data):
    engagement = misfit()

    response = signed_in(engagement.client).post(
        rematch_url(engagement), {"reasons": [MisfitReason.TOO_DIRECTIVE, "was_rude"]}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert '<p class="field-error" id="id_reasons-error">“was_rude” is not one of the reasons' in (
        page
    )
    assert 'aria-describedby="id_reasons-help id_reasons-error"' in page
    assert "Nothing was saved." in page
    assert not FitProfile.objects.exists()
    assert not MatchOutcome.objects.exists()


def test_an_unknown_reason_leaves_an_existing_profile_as_it_was(reference_data):
    engagement = misfit()
    profile = fit_profile(owner=engagement.client, did_not_fit=[MisfitReason.TOO_EXPENSIVE])
    before = FitProfile.objects.get(pk=profile.pk)

    response = signed_in(engagement.client).post(rematch_url(engagement), {"reasons": ["x"]})

    assert response.status_code == 400
    after = FitProfile.objects.get(pk=profile.pk)
    assert (after.answers, after.updated_at) == (before.answers, before.updated_at)
    assert not MatchOutcome.objects.exists()


def test_another_clients_engagement_is_a_404_and_nothing_is_stored(reference_data):
    engagement = misfit()
    stranger = signed_in(make_user(role="client"))

    assert stranger.get(rematch_url(engagement)).status_code == 404
    response = stranger.post(rematch_url(engagement), {"reasons": [MisfitReason.FELT_JUDGED]})

    assert response.status_code == 404
    assert not FitProfile.objects.exists()
    assert not MatchOutcome.objects.exists()


def test_the_therapist_of_the_engagement_gets_the_same_404(reference_data):
    engagement = misfit()
    therapist_account = engagement.therapist.user
    assert signed_in(therapist_account).get(rematch_url(engagement)).status_code == 404


@pytest.mark.parametrize(
    ("status", "ended_for"),
    [
        (EngagementStatus.ENDED, EndedFor.OTHER),
        (EngagementStatus.ONGOING, ""),
        (EngagementStatus.GRADUATED, ""),
    ],
)
def test_an_engagement_not_ended_as_not_the_right_fit_is_a_404(reference_data, status, ended_for):
    engagement = make_engagement(status=status, ended_for=ended_for)
    client = signed_in(engagement.client)

    assert client.get(rematch_url(engagement)).status_code == 404
    response = client.post(rematch_url(engagement), {"reasons": [MisfitReason.FELT_JUDGED]})

    assert response.status_code == 404
    assert not FitProfile.objects.exists()
    assert not MatchOutcome.objects.exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(reference_data):
    engagement = misfit()
    response = Client().get(rematch_url(engagement))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- the next list --------------------------------------------------------------------------


@pytest.fixture
def no_exploration(monkeypatch):
    """Every therapist's learned effect at zero, so "otherwise equal" therapists differ only
    in what the person said (the Thompson draws would otherwise add a random spread)."""
    monkeypatch.setattr(
        learning,
        "therapist_draws",
        lambda state, therapist_ids, **_: np.zeros(len(therapist_ids)),
    )


def _card_position(page: str, name: str) -> int:
    assert name in page, f"{name} is not on the page"
    return page.index(name)


def test_the_next_list_leaves_out_the_past_therapist_and_leans_away(reference_data, no_exploration):
    # The past therapist would match best of all on style: only "past" keeps them off.
    past = make_therapist(display_name="Past Pat", style_direction=5)
    directive = make_therapist(display_name="Directive Dana", style_direction=1)
    client_led = make_therapist(display_name="Client-led Cam", style_direction=5)
    engagement = misfit(therapist=past)
    fit_profile(owner=engagement.client, place="Toronto, ON")
    client = signed_in(engagement.client)

    before = client.get("/match/results/").content.decode()
    response = client.post(rematch_url(engagement), {"reasons": [MisfitReason.TOO_DIRECTIVE]})
    after = client.get(response["Location"]).content.decode()

    assert "Past Pat" not in before  # an engagement (any status) keeps them out of every list
    assert "Past Pat" not in after
    assert _card_position(after, client_led.display_name) < _card_position(
        after, directive.display_name
    )
    assert "What you told us changed this list" in after
    assert "Leaning towards therapists who let you lead, since one felt too directive." in after
    assert "What you told us changed this list" not in before


def test_the_lean_is_what_orders_otherwise_equal_therapists(reference_data, no_exploration):
    """Without the taps the two tie (the daily seed orders them); with them, the client-led
    one is above for every seed."""
    make_therapist(display_name="Directive Dana", style_direction=1)
    make_therapist(display_name="Client-led Cam", style_direction=5)
    plain = fit_answers(place="Toronto, ON")
    leaned = fit_answers(place="Toronto, ON", did_not_fit=[MisfitReason.TOO_DIRECTIVE])
    now = timezone.now()
    firsts = set()
    for seed in range(8):
        tied = ranking.rank(answers=plain, now=now, seed=seed)
        assert tied.matches[0].score == tied.matches[1].score
        firsts.add(tied.matches[0].card.display_name)
        ranked = ranking.rank(answers=leaned, now=now + dt.timedelta(seconds=seed), seed=seed)
        assert [match.card.display_name for match in ranked.matches] == [
            "Client-led Cam",
            "Directive Dana",
        ]
    assert firsts == {"Directive Dana", "Client-led Cam"}  # a true tie: the seed decides
