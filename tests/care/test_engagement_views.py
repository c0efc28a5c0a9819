"""The care pages: the client's /care/ and the therapist's /practice/clients/. Actions write
through the services; bad input is shown at the field and writes nothing; someone else's
engagement is a 404 on every page (the role matrix in tests/test_access_matrix.py too)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from rapport.booking import services as booking_services
from rapport.care import services
from rapport.care.models import (
    Engagement,
    EngagementStatus,
    Goal,
    Invitation,
    Session,
    SessionStatus,
    Sharing,
    Side,
)
from tests.booking.factories import make_appointment
from tests.care.factories import make_engagement
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement(reference_data) -> Engagement:
    return make_engagement(status=EngagementStatus.ONGOING, goals=["Sleep better"])


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _client_url(engagement: Engagement, action: str = "") -> str:
    return f"/care/{engagement.public_id}/{action}"


def _practice_url(engagement: Engagement, action: str = "") -> str:
    return f"/practice/clients/{engagement.public_id}/{action}"


# --- the client -------------------------------------------------------------------------------


def test_the_client_sees_their_engagement_and_the_read_is_audited(engagement):
    from auditlog.models import LogEntry

    client = _as(engagement.client)
    home = client.get("/care/").content.decode()
    assert engagement.therapist.display_name in home
    page = client.get(_client_url(engagement))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Sleep better" in body
    assert "always alerted" in body
    assert "never leave Rapport" in body
    assert (
        LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=engagement.client).count() == 2
    )  # the engagement and its goal


def test_the_client_rewrites_goals_and_the_agreement_is_cleared(engagement):
    goal = Goal.objects.get()
    services.goal_agree(goal=goal, by=Side.THERAPIST)
    client = _as(engagement.client)
    response = client.post(
        _client_url(engagement, "goals/"),
        {"goal_1": "Sleep through the night", "goal_2": "", "goal_3": " Walk daily "},
    )
    assert response.status_code == 302
    goals = list(Goal.objects.values_list("position", "text", "therapist_agreed_at"))
    assert goals == [(1, "Sleep through the night", None), (2, "Walk daily", None)]


def test_a_too_long_goal_is_shown_at_its_field_and_nothing_is_written(engagement):
    response = _as(engagement.client).post(
        _client_url(engagement, "goals/"), {"goal_1": "x" * 501, "goal_2": "New"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'aria-invalid="true"' in body
    assert 'id="id_goal_1-error"' in body
    assert list(Goal.objects.values_list("text", flat=True)) == ["Sleep better"]


def test_both_agree_on_the_pages(engagement):
    _as(engagement.client).post(_client_url(engagement, "goals/1/agree/"), {"text": "Sleep better"})
    response = _as(engagement.therapist.user).post(
        _practice_url(engagement, "goals/1/agree/"), {"text": "Sleep better"}
    )
    assert response.status_code == 302
    assert Goal.objects.get().is_agreed
    assert (
        "Agreed by you both" in _as(engagement.client).get(_client_url(engagement)).content.decode()
    )


def test_an_agreement_to_stale_words_is_refused_on_the_page(engagement):
    response = _as(engagement.therapist.user).post(
        _practice_url(engagement, "goals/1/agree/"), {"text": "Sleep"}
    )
    assert response.status_code == 400
    assert "changed since you read it" in response.content.decode()
    assert Goal.objects.get().therapist_agreed_at is None


def test_the_therapist_proposes_and_the_client_takes_it(engagement):
    proposed = _as(engagement.therapist.user).post(
        _practice_url(engagement, "goals/1/propose/"), {"goal-1-proposed_text": "Sleep 7 hours"}
    )
    assert proposed.status_code == 302
    page = _as(engagement.client).get(_client_url(engagement)).content.decode()
    assert "Sleep 7 hours" in page
    taken = _as(engagement.client).post(_client_url(engagement, "goals/1/take/"))
    assert taken.status_code == 302
    goal = Goal.objects.get()
    assert (goal.text, goal.is_agreed) == ("Sleep 7 hours", True)


def test_sharing_is_chosen_on_the_page(engagement):
    bad = _as(engagement.client).post(_client_url(engagement, "sharing/"), {"sharing": "all"})
    assert bad.status_code == 400
    assert Engagement.objects.get().sharing == Sharing.SCORES_ONLY
    good = _as(engagement.client).post(_client_url(engagement, "sharing/"), {"sharing": "nothing"})
    assert good.status_code == 302
    assert Engagement.objects.get().sharing == Sharing.NOTHING


def test_the_client_ends_with_a_reason(engagement):
    empty = _as(engagement.client).post(_client_url(engagement, "end/"), {"reason": "  "})
    assert empty.status_code == 400
    assert Engagement.objects.get().status == EngagementStatus.ONGOING
    _as(engagement.client).post(_client_url(engagement, "end/"), {"reason": "Moving away"})
    stored = Engagement.objects.get()
    assert (stored.status, stored.ended_by, stored.end_reason) == ("ended", "client", "Moving away")
    therapist_page = _as(engagement.therapist.user).get(_practice_url(engagement)).content.decode()
    assert "Moving away" in therapist_page


def test_the_client_accepts_or_declines_invitations(reference_data):
    therapist = make_therapist(user=make_therapist_user(mfa=True))
    person = make_user(role="client")
    invitation = services.engagement_invite(therapist=therapist, email=person.email)
    assert therapist.display_name in _as(person).get("/care/").content.decode()
    # Someone else cannot answer it.
    stranger = _as(make_user(role="client"))
    assert stranger.post(f"/care/invitations/{invitation.public_id}/accept/").status_code == 404
    response = _as(person).post(f"/care/invitations/{invitation.public_id}/accept/")
    engagement = Engagement.objects.get()
    assert response["Location"] == f"/care/{engagement.public_id}/"
    assert (engagement.client, engagement.status) == (person, EngagementStatus.FIT_CHECK)
    # Answered: gone.
    assert _as(person).post(f"/care/invitations/{invitation.public_id}/decline/").status_code == 404


def test_client_pages_need_a_sign_in(engagement):
    response = Client().get(_client_url(engagement))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- the therapist ----------------------------------------------------------------------------


def test_the_therapist_lists_clients_and_records_a_session(engagement):
    therapist = _as(engagement.therapist.user)
    listed = therapist.get("/practice/clients/").content.decode()
    assert str(engagement.public_id) in listed
    yesterday = (timezone.now() - dt.timedelta(days=1)).astimezone(
        zoneinfo.ZoneInfo(engagement.therapist.time_zone)
    )
    response = therapist.post(
        _practice_url(engagement, "sessions/"),
        {"date": yesterday.date().isoformat(), "time": "10:00", "status": "no_show"},
    )
    assert response.status_code == 302
    assert Session.objects.get().status == SessionStatus.NO_SHOW


def test_a_session_in_the_future_is_refused_at_its_field(engagement):
    response = _as(engagement.therapist.user).post(
        _practice_url(engagement, "sessions/"),
        {"date": (timezone.now() + dt.timedelta(days=5)).date().isoformat(), "time": "10:00",
         "status": "attended"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Record sessions that have taken place" in response.content.decode()
    assert not Session.objects.exists()


def test_pause_and_resume_on_the_page(engagement):
    therapist = _as(engagement.therapist.user)
    assert therapist.post(_practice_url(engagement, "pause/")).status_code == 302
    assert Engagement.objects.get().status == EngagementStatus.PAUSED
    refused = therapist.post(_practice_url(engagement, "pause/"))
    assert refused.status_code == 400
    assert "Only an ongoing engagement" in refused.content.decode()
    therapist.post(_practice_url(engagement, "resume/"))
    assert Engagement.objects.get().status == EngagementStatus.ONGOING
    # Graduating is its own flow now (tests/care/test_graduation.py): no one-click graduate.
    assert therapist.post(_practice_url(engagement, "graduate/")).status_code == 404
    assert Engagement.objects.get().status == EngagementStatus.ONGOING


def test_the_therapist_invites_and_bad_addresses_are_shown(engagement):
    therapist = _as(engagement.therapist.user)
    unknown = therapist.post("/practice/clients/invite/", {"email": "nobody@example.org"})
    assert unknown.status_code == 400
    assert "No client account uses this address" in unknown.content.decode()
    person = make_user(role="client")
    assert therapist.post("/practice/clients/invite/", {"email": person.email}).status_code == 302
    assert Invitation.objects.get().client == person


def test_a_first_session_without_an_account_waits_on_the_clients_page(reference_data):
    therapist_profile = make_therapist(user=make_therapist_user(mfa=True))
    consultation = make_appointment(
        therapist_profile, timezone.now() - dt.timedelta(days=1),
        client_name="Robin Waiting", client_email="robin@example.org",
    )  # fmt: skip
    booked = booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    therapist = _as(therapist_profile.user)
    page = therapist.get("/practice/clients/").content.decode()
    assert "Robin Waiting" in page
    assert "create an account" in page
    refused = therapist.post(f"/practice/clients/waiting/{booked.public_id}/start/")
    assert refused.status_code == 302
    assert not Engagement.objects.exists()
    # The client makes an account and the booking links it: the therapist starts the work.
    booked.client = make_user(role="client", email="robin@example.org")
    booked.save(update_fields=["client"])
    started = therapist.post(f"/practice/clients/waiting/{booked.public_id}/start/")
    engagement = Engagement.objects.get()
    assert started["Location"] == f"/practice/clients/{engagement.public_id}/"
    assert Session.objects.get().appointment == booked
    # Another therapist cannot start it.
    other = make_therapist(user=make_therapist_user(mfa=True))
    assert (
        _as(other.user).post(f"/practice/clients/waiting/{booked.public_id}/start/").status_code
        == 404
    )


def test_the_practice_navigation_links_the_clients_page(engagement):
    page = _as(engagement.therapist.user).get("/practice/clients/").content.decode()
    assert 'href="/practice/clients/" aria-current="page"' in page
