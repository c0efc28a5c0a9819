"""The fit profile is the person's: a deleted profile never comes back (not from the session,
not at booking), deleting it ends every share, signing in never replaces a saved profile with
answers typed while signed out (they may be another person's) and says so,
and "what did not fit" answers never contradict each other and can be seen and removed."""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import replace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.selectors import account_export_data
from rapport.booking.models import Appointment, AppointmentKind
from rapport.booking.views.common import slot_key
from rapport.care.models import EndedFor, EngagementStatus
from rapport.directory.models import TherapistProfile
from rapport.matching import ranking, services
from rapport.matching.answers import MISFIT_LABELS, FitAnswersError, MisfitReason
from rapport.matching.models import FitProfile
from rapport.matching.selectors import fit_profile_answers
from rapport.matching.session import SESSION_KEY, session_answers_keep
from tests.accounts.factories import TEST_PASSWORD
from tests.booking.factories import make_appointment, make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.care.factories import make_engagement
from tests.factories import make_therapist_user, make_user
from tests.matching.factories import fit_answers, fit_profile
from tests.matching.helpers import last_change_of

pytestmark = pytest.mark.usefixtures("reference_data")

STORY = "Something private I wrote once about my sister."
NEW_STORY = "A new story, never shared with anyone."
CLIENT_EMAIL = "sam@example.org"
SHARE_BOX = "Share my fit profile"
PASSPHRASE = "a quiet harbour after the long rain"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def signed_in(user: Any) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def answer_story(browser: Client, story: str) -> None:
    response = browser.post(
        reverse("matching:question", args=["story"]), {"story": story, "concerns": ["anxiety"]}
    )
    assert response.status_code == 302, response.content[:300]


def api_delete(browser: Client, profile: FitProfile) -> None:
    assert browser.delete(f"/api/v1/fit-profiles/{profile.public_id}").status_code == 204


def page_delete(browser: Client, profile: FitProfile) -> None:
    assert browser.post(reverse("matching:profile_delete")).status_code == 302


DELETES = [pytest.param(api_delete, id="api"), pytest.param(page_delete, id="page")]


@pytest.fixture
def therapist() -> TherapistProfile:
    return make_bookable_therapist(
        display_name="Dana Reyes", currency="CAD", user=make_therapist_user(mfa=True)
    )


@pytest.fixture
def person() -> Any:
    return make_user(role="client", email=CLIENT_EMAIL)


def book_page(browser: Client, therapist: TherapistProfile) -> str:
    moment = free_times_ahead(therapist)[0].starts_at
    url = reverse("booking:consultation_book_time", args=[therapist.public_id, slot_key(moment)])
    return text(browser.get(url))


# --- finding 1: a deleted profile never comes back ------------------------------------------


def test_a_signed_in_persons_answers_are_kept_in_the_profile_only(person):
    browser = signed_in(person)

    answer_story(browser, STORY)

    assert fit_profile_answers(FitProfile.objects.get(owner=person)).story == STORY
    assert SESSION_KEY not in browser.session


@pytest.mark.parametrize("delete", DELETES)
def test_a_deleted_profile_does_not_come_back_from_the_session(delete, person, therapist):
    browser = signed_in(person)
    answer_story(browser, STORY)
    # A copy from before this account signed in, as older sessions may still hold.
    session = browser.session
    session_answers_keep(session, fit_answers(story=STORY))
    session.save()
    profile = FitProfile.objects.get(owner=person)

    delete(browser, profile)

    assert not FitProfile.objects.filter(owner=person).exists()
    assert SESSION_KEY not in browser.session
    assert STORY not in text(browser.get(reverse("matching:profile")))
    assert STORY not in text(browser.get(reverse("matching:question", args=["story"])))
    assert SHARE_BOX not in book_page(browser, therapist)
    # Answering another question starts a new profile holding only that answer.
    browser.post(reverse("matching:question", args=["hopes"]), {"hopes": "Sleep again."})
    revived = fit_profile_answers(FitProfile.objects.get(owner=person))
    assert (revived.story, revived.hopes) == ("", "Sleep again.")


def test_a_leftover_session_copy_is_never_a_signed_in_persons_answers(person, therapist):
    """A signed-in person without a profile, whose session still holds a copy (kept before the
    rule): no page shows it, the booking form offers nothing, and booking saves nothing."""
    browser = signed_in(person)
    session = browser.session
    session_answers_keep(session, fit_answers(story=STORY))
    session.save()

    assert STORY not in text(browser.get(reverse("matching:profile")))
    assert SHARE_BOX not in book_page(browser, therapist)
    moment = free_times_ahead(therapist)[0].starts_at
    url = reverse("booking:consultation_book_time", args=[therapist.public_id, slot_key(moment)])
    browser.post(
        url,
        {
            "client_name": "Sam Client",
            "client_email": CLIENT_EMAIL,
            "time_zone": "America/Vancouver",
            "share_fit_profile": "on",
        },
    )
    assert not FitProfile.objects.filter(owner=person).exists()
    assert Appointment.objects.get().share_fit_profile is False
    assert SESSION_KEY not in browser.session


def test_the_api_delete_leaves_another_persons_profile_alone(person):
    other = fit_profile(story=STORY)
    browser = signed_in(person)

    assert browser.delete(f"/api/v1/fit-profiles/{other.public_id}").status_code == 404

    assert FitProfile.objects.filter(pk=other.pk).exists()


# --- signing in with answers typed while signed out --------------------------------------------


def sign_in(browser: Client, user: Any) -> Any:
    response = browser.post(
        reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}, follow=True
    )
    assert response.wsgi_request.user == user
    return response


def test_signing_in_without_a_profile_makes_the_answers_the_profile(person):
    browser = Client()
    answer_story(browser, STORY)

    sign_in(browser, person)

    assert fit_profile_answers(FitProfile.objects.get(owner=person)).story == STORY
    assert SESSION_KEY not in browser.session


KEPT_SAID = "We kept your saved fit profile as it was"
NOT_USED_SAID = "answers given in this browser before you signed in were not used"


def review_link_in(response: Any) -> bool:
    """A real link (not escaped text) to the person's own answers."""
    link = f'<a href="{reverse("matching:profile")}">Review your answers</a>'
    return link in response.content.decode()


def test_newer_answers_typed_while_signed_out_never_replace_the_profile(person):
    past = timezone.now() - dt.timedelta(days=3)
    services.fit_profile_save(
        owner=person,
        answers=fit_answers(story="The old story.", did_not_fit=["felt_judged"]),
        now=past,
    )
    before = FitProfile.objects.get(owner=person)
    browser = Client()
    answer_story(browser, NEW_STORY)  # typed after the profile's last change

    response = sign_in(browser, person)
    page = text(response)

    after = FitProfile.objects.get(owner=person)
    assert (after.answers, after.updated_at) == (before.answers, before.updated_at)
    saved = fit_profile_answers(after)
    assert (saved.story, saved.did_not_fit) == ("The old story.", ("felt_judged",))
    assert KEPT_SAID in page
    assert NOT_USED_SAID in page
    assert review_link_in(response)
    assert NEW_STORY not in page  # the message never repeats an answer
    assert "The old story." not in page
    assert SESSION_KEY not in browser.session


def test_a_profile_changed_after_the_answers_were_typed_is_kept_and_a_message_says_so(person):
    browser = Client()
    answer_story(browser, NEW_STORY)
    services.fit_profile_save(
        owner=person,
        answers=fit_answers(story="Changed on my phone just now."),
        now=timezone.now() + dt.timedelta(minutes=1),
    )

    response = sign_in(browser, person)
    page = text(response)

    saved = fit_profile_answers(FitProfile.objects.get(owner=person))
    assert saved.story == "Changed on my phone just now."
    assert KEPT_SAID in page
    assert review_link_in(response)
    assert SESSION_KEY not in browser.session


def test_the_same_answers_as_the_profile_say_nothing(person):
    browser = Client()
    answer_story(browser, STORY)
    services.fit_profile_save(
        owner=person,
        answers=fit_answers(story=STORY),
        now=timezone.now() - dt.timedelta(days=1),
    )

    page = text(sign_in(browser, person))

    assert "saved fit profile" not in page
    assert SESSION_KEY not in browser.session


def test_signing_up_makes_the_answers_the_new_accounts_profile():
    browser = Client()
    answer_story(browser, STORY)

    response = browser.post(
        reverse("account_signup"),
        {
            "email": "new@example.org",
            "password1": PASSPHRASE,
            "password2": PASSPHRASE,
            "consent": "on",
            "terms_version": settings.CONSENT_VERSIONS["terms"],
            "privacy_version": settings.CONSENT_VERSIONS["privacy"],
        },
        follow=True,
    )

    assert response.status_code == 200
    profile = FitProfile.objects.get(owner__email="new@example.org")
    assert fit_profile_answers(profile).story == STORY
    assert SESSION_KEY not in browser.session


def test_a_session_copy_never_replaces_a_profile_however_old_the_profile(person):
    services.fit_profile_save(
        owner=person,
        answers=fit_answers(story=STORY),
        now=timezone.now() - dt.timedelta(days=400),
    )
    before = FitProfile.objects.get(owner=person)

    adopted = services.fit_profile_adopt(owner=person, answers=fit_answers(story=NEW_STORY))

    after = FitProfile.objects.get(owner=person)
    assert adopted is services.Adopted.KEPT_PROFILE
    assert (after.answers, after.updated_at) == (before.answers, before.updated_at)


def test_on_a_shared_computer_one_persons_answers_never_reach_anothers_therapists(therapist):
    """A answers the questionnaire signed out and walks away; B signs in on the same browser.
    B's profile, shared with B's therapist, stays B's; A's answers are forgotten unused."""
    person_b = make_user(role="client", email="b@example.org")
    fit_profile(owner=person_b, story=STORY)
    before = FitProfile.objects.get(owner=person_b)
    shared = make_appointment(
        therapist, client=person_b, client_email="b@example.org", share_fit_profile=True
    )
    browser = Client()
    answer_story(browser, NEW_STORY)  # person A, signed out
    assert SESSION_KEY in browser.session

    page = text(sign_in(browser, person_b))

    after = FitProfile.objects.get(owner=person_b)
    assert (after.answers, after.updated_at) == (before.answers, before.updated_at)
    assert SESSION_KEY not in browser.session
    assert KEPT_SAID in page
    assert NEW_STORY not in page
    shared_view = text(signed_in(therapist.user).get(shared_url(shared)))
    assert STORY in shared_view
    assert NEW_STORY not in shared_view
    # B's own pages show B's answers, never A's.
    own = text(browser.get(reverse("matching:profile")))
    assert STORY in own
    assert NEW_STORY not in own


# --- finding 2: deleting the profile ends every share -----------------------------------------


def shared_pair(therapist: TherapistProfile, person: Any) -> tuple[Appointment, Appointment]:
    """A consultation that shared the profile, and the session that followed it."""
    now = timezone.now()
    consultation = make_appointment(
        therapist,
        now - dt.timedelta(days=2),
        client=person,
        client_email=CLIENT_EMAIL,
        share_fit_profile=True,
    )
    session = make_appointment(
        therapist,
        now + dt.timedelta(days=5),
        client=person,
        client_email=CLIENT_EMAIL,
        share_fit_profile=True,
        kind=AppointmentKind.SESSION,
        follows=consultation,
    )
    return consultation, session


def shared_url(appointment: Appointment) -> str:
    return reverse("matching:shared_profile", args=[appointment.public_id])


@pytest.mark.parametrize("delete", DELETES)
def test_deleting_the_profile_withdraws_every_share_and_a_new_profile_stays_unshared(
    delete, therapist, person
):
    profile = fit_profile(owner=person, story=STORY)
    consultation, session = shared_pair(therapist, person)
    elsewhere = make_bookable_therapist(display_name="Eli Other")
    another = make_appointment(
        elsewhere, client=person, client_email=CLIENT_EMAIL, share_fit_profile=True
    )
    reader = signed_in(therapist.user)
    assert reader.get(shared_url(consultation)).status_code == 200
    browser = signed_in(person)

    delete(browser, profile)

    for appointment in (consultation, session, another):
        appointment.refresh_from_db()
        assert appointment.share_fit_profile is False
        assert "share_fit_profile" in last_change_of(appointment)
    assert reader.get(shared_url(consultation)).status_code == 404
    assert reader.get(shared_url(session)).status_code == 404

    answer_story(browser, NEW_STORY)  # a new profile, never shared

    assert FitProfile.objects.filter(owner=person).exists()
    assert reader.get(shared_url(consultation)).status_code == 404
    assert reader.get(shared_url(session)).status_code == 404
    practice = text(reader.get(reverse("booking:practice_home")))
    assert shared_url(consultation) not in practice


def test_deleting_leaves_other_peoples_shares_alone(therapist, person):
    profile = fit_profile(owner=person)
    someone = make_user(role="client", email="kim@example.org")
    fit_profile(owner=someone)
    theirs = make_appointment(
        therapist, client=someone, client_email="kim@example.org", share_fit_profile=True
    )

    withdrawn = services.fit_profile_delete(profile=profile)

    theirs.refresh_from_db()
    assert (withdrawn, theirs.share_fit_profile) == (0, True)


def test_a_failed_delete_withdraws_nothing(therapist, person, monkeypatch):
    """One transaction: when the profile cannot be removed, the shares stay as they were."""
    profile = fit_profile(owner=person)
    consultation, _ = shared_pair(therapist, person)

    def broken(**_: Any) -> None:
        raise RuntimeError("the model's store is down")

    monkeypatch.setattr(services.learning, "outcomes_forget", broken)
    with pytest.raises(RuntimeError):
        services.fit_profile_delete(profile=profile)

    consultation.refresh_from_db()
    assert consultation.share_fit_profile is True
    assert FitProfile.objects.filter(pk=profile.pk).exists()


# --- finding 7: what did not fit -----------------------------------------------------------


def misfit(person: Any) -> Any:
    return make_engagement(
        client=person, status=EngagementStatus.ENDED, ended_for=EndedFor.NOT_THE_RIGHT_FIT
    )


def stored_misfits(person: Any) -> tuple[str, ...]:
    return fit_profile_answers(FitProfile.objects.get(owner=person)).did_not_fit


def test_the_newest_answer_replaces_its_opposite(person):
    services.misfit_feedback_record(
        owner=person,
        engagement=misfit(person),
        reasons=[MisfitReason.FELT_JUDGED, MisfitReason.TOO_DIRECTIVE],
    )
    services.misfit_feedback_record(
        owner=person,
        engagement=misfit(person),
        reasons=[MisfitReason.NOT_DIRECTIVE_ENOUGH, MisfitReason.TOO_STRUCTURED],
    )
    assert stored_misfits(person) == (
        "felt_judged",
        "not_directive_enough",
        "too_structured",
    )
    services.misfit_feedback_record(
        owner=person,
        engagement=misfit(person),
        reasons=[MisfitReason.NOT_STRUCTURED_ENOUGH, MisfitReason.TOO_CHALLENGING],
    )
    services.misfit_feedback_record(
        owner=person, engagement=misfit(person), reasons=[MisfitReason.NOT_CHALLENGING_ENOUGH]
    )
    assert stored_misfits(person) == (
        "felt_judged",
        "not_directive_enough",
        "not_structured_enough",
        "not_challenging_enough",
    )


def test_the_list_leans_only_on_the_newest_of_two_opposites(person):
    services.misfit_feedback_record(
        owner=person, engagement=misfit(person), reasons=[MisfitReason.TOO_DIRECTIVE]
    )
    services.misfit_feedback_record(
        owner=person, engagement=misfit(person), reasons=[MisfitReason.NOT_DIRECTIVE_ENOUGH]
    )
    answers = fit_profile_answers(FitProfile.objects.get(owner=person))
    now = timezone.now()

    leaning = ranking.rank(answers=answers, now=now, seed=7).leaning
    newest_only = ranking.rank(
        answers=replace(answers, did_not_fit=(MisfitReason.NOT_DIRECTIVE_ENOUGH.value,)),
        now=now,
        seed=7,
    ).leaning

    assert leaning == newest_only


def test_one_answer_naming_both_opposites_is_refused_and_writes_nothing(person):
    fit_profile(owner=person, did_not_fit=["felt_judged"])
    engagement = misfit(person)

    with pytest.raises(FitAnswersError) as refused:
        services.misfit_feedback_record(
            owner=person,
            engagement=engagement,
            reasons=[MisfitReason.TOO_STRUCTURED, MisfitReason.NOT_STRUCTURED_ENOUGH],
        )

    assert refused.value.field == "reasons"
    assert "not both" in refused.value.message
    assert stored_misfits(person) == ("felt_judged",)
    page = signed_in(person).post(
        reverse("matching:rematch", args=[engagement.public_id]),
        {"reasons": ["too_structured", "not_structured_enough"]},
    )
    assert page.status_code == 400
    assert "not both" in text(page)
    assert stored_misfits(person) == ("felt_judged",)


def test_a_profile_stored_with_both_opposites_reads_the_later_only(person):
    profile = fit_profile(owner=person)
    document = json.loads(profile.answers)
    document["did_not_fit"] = ["not_directive_enough", "felt_judged", "too_directive"]
    # Written past the service, as a profile stored before the rule would be.
    FitProfile.objects.filter(pk=profile.pk).update(answers=json.dumps(document))

    assert stored_misfits(person) == ("felt_judged", "too_directive")


def test_the_api_carries_them_and_refuses_opposites_naming_the_field(person):
    profile = fit_profile(owner=person, did_not_fit=["felt_judged", "too_directive"])
    browser = signed_in(person)
    url = f"/api/v1/fit-profiles/{profile.public_id}"

    got = browser.get(url).json()
    assert got["answers"]["did_not_fit"] == ["felt_judged", "too_directive"]

    document = {**got["answers"], "did_not_fit": ["too_directive", "not_directive_enough"]}
    refused = browser.put(url, json.dumps(document), content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "did_not_fit"
    assert stored_misfits(person) == ("felt_judged", "too_directive")

    document = {**got["answers"], "did_not_fit": ["too_expensive"]}
    replaced = browser.put(url, json.dumps(document), content_type="application/json")
    assert replaced.status_code == 200
    assert replaced.json()["answers"]["did_not_fit"] == ["too_expensive"]
    assert stored_misfits(person) == ("too_expensive",)


def test_the_profile_page_shows_each_in_words_with_a_form_to_remove_it(person):
    fit_profile(owner=person, did_not_fit=["too_directive", "too_expensive"])
    browser = signed_in(person)

    page = text(browser.get(reverse("matching:profile")))

    assert "What did not fit with past therapists" in page
    for reason in (MisfitReason.TOO_DIRECTIVE, MisfitReason.TOO_EXPENSIVE):
        assert MISFIT_LABELS[reason] in page
        assert f'name="reason" value="{reason.value}"' in page
    assert page.count(f'action="{reverse("matching:profile_misfit_remove")}"') == 2

    response = browser.post(reverse("matching:profile_misfit_remove"), {"reason": "too_directive"})

    assert response.status_code == 302
    assert stored_misfits(person) == ("too_expensive",)
    after = text(browser.get(response["Location"]))
    assert MISFIT_LABELS[MisfitReason.TOO_DIRECTIVE] not in after
    assert "Removed." in after


@pytest.mark.parametrize("value", ["too_tall", "", "felt_judged"])
def test_removing_an_unknown_or_absent_answer_changes_nothing(person, value):
    profile = fit_profile(owner=person, did_not_fit=["too_expensive"])
    before = FitProfile.objects.get(pk=profile.pk).updated_at
    browser = signed_in(person)

    response = browser.post(reverse("matching:profile_misfit_remove"), {"reason": value})

    assert response.status_code == 302
    assert stored_misfits(person) == ("too_expensive",)
    assert FitProfile.objects.get(pk=profile.pk).updated_at == before


def test_removing_needs_a_post_and_touches_only_ones_own_profile(person):
    other = fit_profile(did_not_fit=["too_expensive"])
    fit_profile(owner=person, did_not_fit=["too_expensive"])
    url = reverse("matching:profile_misfit_remove")

    assert signed_in(person).get(url).status_code == 405
    Client().post(url, {"reason": "too_expensive"})  # signed out: nobody's profile
    assert fit_profile_answers(FitProfile.objects.get(pk=other.pk)).did_not_fit == (
        "too_expensive",
    )
    signed_in(person).post(url, {"reason": "too_expensive"})
    assert fit_profile_answers(FitProfile.objects.get(pk=other.pk)).did_not_fit == (
        "too_expensive",
    )
    assert stored_misfits(person) == ()


def test_the_export_gives_them_as_stored_and_in_words(person):
    fit_profile(owner=person, did_not_fit=["too_directive"])

    section = account_export_data(user=person)["fit_profile"]

    assert section["answers"]["did_not_fit"] == ["too_directive"]
    assert section["did_not_fit_in_words"] == [MISFIT_LABELS[MisfitReason.TOO_DIRECTIVE]]


def test_a_list_asked_for_inline_with_both_opposites_is_refused_naming_the_field():
    response = Client().post(
        "/api/v1/match",
        json.dumps({"did_not_fit": ["too_challenging", "not_challenging_enough"]}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "did_not_fit"
