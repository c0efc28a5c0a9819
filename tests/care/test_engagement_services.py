"""The engagement's life through its services: every allowed and refused change, the one-open
rule, sessions, goals and their agreement, sharing, and booking's first-session hook."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.booking import services as booking_services
from rapport.booking.models import Party
from rapport.care import services
from rapport.care.models import (
    Engagement,
    EngagementStatus,
    Goal,
    Invitation,
    InvitationStatus,
    Session,
    SessionStatus,
    Sharing,
    SharingChange,
    Side,
)
from tests.booking.factories import make_appointment
from tests.care.factories import make_engagement
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db

S = EngagementStatus


@pytest.fixture
def engagement(reference_data) -> Engagement:
    return make_engagement()


def _status(engagement: Engagement) -> str:
    return Engagement.objects.get(pk=engagement.pk).status


# --- starting and the one-open rule ------------------------------------------------------------


def test_a_started_engagement_holds_the_default_sharing(engagement):
    assert engagement.status == S.FIT_CHECK
    assert engagement.sharing == Sharing.SCORES_ONLY
    assert engagement.ended_at is None


def test_a_second_open_engagement_with_the_same_pair_is_refused_clearly(engagement):
    with pytest.raises(ValidationError, match="already have an open engagement"):
        services.engagement_start(therapist=engagement.therapist, client=engagement.client)
    assert Engagement.objects.count() == 1


def test_the_database_refuses_a_second_open_engagement(engagement):
    with pytest.raises(IntegrityError), transaction.atomic():
        Engagement.objects.create(
            client=engagement.client,
            therapist=engagement.therapist,
            status=S.ONGOING,
            started_at=timezone.now(),
        )


def test_the_database_refuses_a_closed_engagement_without_its_end(engagement):
    with pytest.raises(IntegrityError), transaction.atomic():
        Engagement.objects.filter(pk=engagement.pk).update(status=S.ENDED)


@pytest.mark.parametrize(("field", "value"), [("status", "finished"), ("sharing", "everything")])
def test_the_database_refuses_unknown_values(engagement, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Engagement.objects.filter(pk=engagement.pk).update(**{field: value})


def test_after_an_ended_engagement_a_new_one_may_start(engagement):
    services.engagement_end(engagement=engagement, by=Side.CLIENT, reason="Moving away")
    again = services.engagement_start(therapist=engagement.therapist, client=engagement.client)
    assert again.status == S.FIT_CHECK
    assert Engagement.objects.count() == 2


def test_a_therapist_cannot_be_their_own_client(reference_data):
    user = make_therapist_user(mfa=True)
    therapist = make_therapist(user=user)
    with pytest.raises(ValidationError, match="own client"):
        services.engagement_start(therapist=therapist, client=user)


# --- transitions ----------------------------------------------------------------------------

ALL = [s.value for s in S]


@pytest.mark.parametrize("start", ALL)
def test_pause_only_from_ongoing(reference_data, start):
    engagement = make_engagement(status=start)
    if start == S.ONGOING:
        assert services.engagement_pause(engagement=engagement, by=Side.CLIENT).status == S.PAUSED
    else:
        with pytest.raises(ValidationError):
            services.engagement_pause(engagement=engagement, by=Side.THERAPIST)
        assert _status(engagement) == start


@pytest.mark.parametrize("start", ALL)
def test_resume_only_from_paused(reference_data, start):
    engagement = make_engagement(status=start)
    if start == S.PAUSED:
        assert services.engagement_resume(engagement=engagement, by=Side.CLIENT).status == S.ONGOING
    else:
        with pytest.raises(ValidationError, match="Only a paused"):
            services.engagement_resume(engagement=engagement, by=Side.THERAPIST)
        assert _status(engagement) == start


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("by", [Side.CLIENT, Side.THERAPIST])
def test_end_from_any_open_status_by_either_side(reference_data, start, by):
    engagement = make_engagement(status=start)
    if start in (S.ENDED, S.GRADUATED):
        with pytest.raises(ValidationError, match="has ended"):
            services.engagement_end(engagement=engagement, by=by, reason="Done")
        assert _status(engagement) == start
        return
    ended = services.engagement_end(engagement=engagement, by=by, reason="  Not a fit  ")
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.ended_by, stored.end_reason) == (S.ENDED, by, "Not a fit")
    assert stored.ended_at == ended.ended_at is not None


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_ending_needs_a_reason_of_sensible_length(engagement, reason):
    with pytest.raises(ValidationError) as caught:
        services.engagement_end(engagement=engagement, by=Side.CLIENT, reason=reason)
    assert "reason" in caught.value.message_dict
    assert _status(engagement) == S.FIT_CHECK


@pytest.mark.parametrize("start", ALL)
def test_graduate_from_ongoing_or_paused(reference_data, start):
    engagement = make_engagement(status=start)
    if start in (S.ONGOING, S.PAUSED):
        done = services.engagement_graduate(engagement=engagement, by=Side.THERAPIST)
        assert (done.status, done.ended_by) == (S.GRADUATED, Side.THERAPIST)
        assert done.ended_at is not None
    else:
        with pytest.raises(ValidationError):
            services.engagement_graduate(engagement=engagement, by=Side.CLIENT)
        assert _status(engagement) == start


def test_nobody_else_can_end(engagement):
    with pytest.raises(ValidationError):
        services.engagement_end(engagement=engagement, by="system", reason="x")


# --- sessions -------------------------------------------------------------------------------


def test_the_first_attended_session_makes_the_engagement_ongoing(engagement):
    therapist_user = engagement.therapist.user
    when = timezone.now() - dt.timedelta(hours=2)
    services.session_record(
        engagement=engagement, starts_at=when, status=SessionStatus.NO_SHOW,
        recorded_by=therapist_user,
    )  # fmt: skip
    assert _status(engagement) == S.FIT_CHECK
    session = services.session_record(
        engagement=engagement, starts_at=when, status=SessionStatus.ATTENDED,
        recorded_by=therapist_user,
    )  # fmt: skip
    assert (session.status, session.recorded_by) == (SessionStatus.ATTENDED, therapist_user)
    assert _status(engagement) == S.ONGOING


@pytest.mark.parametrize(
    ("offset", "status", "field"),
    [
        (dt.timedelta(days=2), SessionStatus.ATTENDED, "starts_at"),
        (-dt.timedelta(days=4 * 365), SessionStatus.ATTENDED, "starts_at"),
        (-dt.timedelta(hours=1), "scheduled", "status"),
        (-dt.timedelta(hours=1), "late", "status"),
    ],
)
def test_impossible_sessions_are_refused(engagement, offset, status, field):
    with pytest.raises(ValidationError) as caught:
        services.session_record(
            engagement=engagement, starts_at=timezone.now() + offset, status=status,
            recorded_by=None,
        )  # fmt: skip
    assert field in caught.value.message_dict
    assert not Session.objects.exists()


@pytest.mark.parametrize("start", [S.PAUSED, S.ENDED, S.GRADUATED])
def test_no_sessions_in_a_paused_or_closed_engagement(reference_data, start):
    engagement = make_engagement(status=start)
    with pytest.raises(ValidationError):
        services.session_record(
            engagement=engagement, starts_at=timezone.now(), status=SessionStatus.ATTENDED,
            recorded_by=None,
        )  # fmt: skip
    assert not Session.objects.exists()


# --- the first session booked after a consultation ----------------------------------------------


def _held_consultation(*, client=None):
    therapist = make_therapist(user=make_therapist_user(mfa=True))
    return make_appointment(
        therapist, timezone.now() - dt.timedelta(days=1), client=client,
        client_email=client.email if client else "no-account@example.org",
    )  # fmt: skip


def test_booking_the_first_session_starts_the_engagement(reference_data):
    client = make_user(role="client")
    consultation = _held_consultation(client=client)
    booked = booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    engagement = Engagement.objects.get()
    assert (engagement.client, engagement.therapist, engagement.consultation) == (
        client, consultation.therapist, consultation,
    )  # fmt: skip
    assert engagement.status == S.FIT_CHECK
    session = Session.objects.get()
    assert (session.appointment, session.status, session.starts_at) == (
        booked, SessionStatus.SCHEDULED, booked.starts_at,
    )  # fmt: skip


def test_a_booked_session_moved_or_cancelled_in_booking_follows_in_care(reference_data):
    client = make_user(role="client")
    consultation = _held_consultation(client=client)
    booked = booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    later = booked.starts_at + dt.timedelta(days=2)
    booking_services.appointment_reschedule(appointment=booked, starts_at=later, by=Party.THERAPIST)
    session = Session.objects.get()
    assert (session.starts_at, session.status) == (later, SessionStatus.SCHEDULED)
    booking_services.appointment_cancel(appointment=booked, by=Party.CLIENT, reason="Flu")
    session.refresh_from_db()
    assert (session.starts_at, session.status) == (later, SessionStatus.CANCELLED)


def test_a_session_already_marked_keeps_what_the_therapist_recorded(reference_data):
    client = make_user(role="client")
    consultation = _held_consultation(client=client)
    booked = booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    session = Session.objects.get()
    services.session_mark(
        session=session, status=SessionStatus.NO_SHOW, recorded_by=consultation.therapist.user
    )
    booking_services.appointment_cancel(appointment=booked, by=Party.THERAPIST, reason="Tidying up")
    session.refresh_from_db()
    assert (session.starts_at, session.status) == (booked.starts_at, SessionStatus.NO_SHOW)


def test_without_an_account_the_first_session_stores_nothing_in_care(reference_data):
    consultation = _held_consultation()
    booked = booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    assert booked.pk is not None
    assert not Engagement.objects.exists()
    assert not Session.objects.exists()
    with pytest.raises(ValidationError, match="no account yet"):
        services.engagement_start_after_first_session(session=booked)
    assert not Engagement.objects.exists()


def test_once_the_client_has_an_account_the_waiting_engagement_starts(reference_data):
    consultation = _held_consultation()
    booked = booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    client = make_user(role="client", email="no-account@example.org")
    booked.client = client
    booked.save(update_fields=["client"])
    engagement = services.engagement_start_after_first_session(session=booked)
    assert engagement.client == client
    assert Session.objects.get().appointment == booked
    with pytest.raises(ValidationError, match="already belongs"):
        services.engagement_start_after_first_session(session=booked)


def test_the_first_session_joins_an_open_engagement(reference_data):
    client = make_user(role="client")
    consultation = _held_consultation(client=client)
    existing = services.engagement_start(therapist=consultation.therapist, client=client)
    booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    assert list(Engagement.objects.all()) == [existing]
    assert Session.objects.get().engagement == existing


def test_a_booked_session_is_marked_once_it_took_place(reference_data):
    client = make_user(role="client")
    consultation = _held_consultation(client=client)
    booking_services.first_session_book(
        consultation=consultation, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    session = Session.objects.get()
    with pytest.raises(ValidationError, match="not started"):
        services.session_mark(session=session, status=SessionStatus.ATTENDED, recorded_by=None)
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - dt.timedelta(hours=1))
    session.refresh_from_db()
    services.session_mark(session=session, status=SessionStatus.ATTENDED, recorded_by=None)
    assert _status(session.engagement) == S.ONGOING
    with pytest.raises(ValidationError, match="already been recorded"):
        services.session_mark(session=session, status=SessionStatus.NO_SHOW, recorded_by=None)


# --- invitations ------------------------------------------------------------------------------


def test_an_invitation_accepted_starts_at_the_fit_check(reference_data):
    therapist = make_therapist(user=make_therapist_user(mfa=True))
    client = make_user(role="client", email="Invitee@Example.org")
    invitation = services.engagement_invite(therapist=therapist, email="invitee@example.org ")
    assert (invitation.client, invitation.status) == (client, InvitationStatus.PENDING)
    engagement = services.engagement_invitation_accept(invitation=invitation)
    assert (engagement.status, engagement.client) == (S.FIT_CHECK, client)
    assert Invitation.objects.get().status == InvitationStatus.ACCEPTED
    with pytest.raises(ValidationError, match="already been answered"):
        services.engagement_invitation_decline(invitation=invitation)


def test_a_declined_invitation_stores_no_engagement(reference_data):
    therapist = make_therapist(user=make_therapist_user(mfa=True))
    make_user(role="client", email="invitee@example.org")
    invitation = services.engagement_invite(therapist=therapist, email="invitee@example.org")
    services.engagement_invitation_decline(invitation=invitation)
    assert not Engagement.objects.exists()
    with pytest.raises(ValidationError, match="already been answered"):
        services.engagement_invitation_accept(invitation=invitation)
    assert not Engagement.objects.exists()


@pytest.mark.parametrize("email", ["", "nobody@example.org", "therapist@example.org"])
def test_invitations_need_a_client_account(reference_data, email):
    therapist = make_therapist(user=make_therapist_user(mfa=True, email="therapist@example.org"))
    with pytest.raises(ValidationError) as caught:
        services.engagement_invite(therapist=therapist, email=email)
    assert "email" in caught.value.message_dict
    assert not Invitation.objects.exists()


def test_no_second_invitation_and_none_while_working_together(engagement):
    with pytest.raises(ValidationError, match="already have an open"):
        services.engagement_invite(therapist=engagement.therapist, email=engagement.client.email)
    other = make_user(role="client")
    services.engagement_invite(therapist=engagement.therapist, email=other.email)
    with pytest.raises(ValidationError, match="already waiting"):
        services.engagement_invite(therapist=engagement.therapist, email=other.email)
    assert Invitation.objects.count() == 1


# --- goals ------------------------------------------------------------------------------------


def _goals(engagement: Engagement) -> list[tuple[int, str]]:
    return [(goal.position, goal.text) for goal in Goal.objects.filter(engagement=engagement)]


def test_up_to_three_goals_with_blanks_removed(engagement):
    services.goals_set(engagement=engagement, texts=["  Sleep better ", "", "Go back to work"])
    assert _goals(engagement) == [(1, "Sleep better"), (2, "Go back to work")]


def test_a_fourth_goal_is_refused_and_nothing_changes(engagement):
    services.goals_set(engagement=engagement, texts=["Sleep better"])
    with pytest.raises(ValidationError) as caught:
        services.goals_set(engagement=engagement, texts=["a", "b", "c", "d"])
    assert "goals" in caught.value.message_dict
    assert _goals(engagement) == [(1, "Sleep better")]


@pytest.mark.parametrize("texts", [["x" * 501], ["same", "same"]])
def test_too_long_or_repeated_goals_are_refused(engagement, texts):
    with pytest.raises(ValidationError):
        services.goals_set(engagement=engagement, texts=texts)
    assert _goals(engagement) == []


def test_both_sides_agree_and_an_edit_clears_both(engagement):
    first, second = services.goals_set(engagement=engagement, texts=["Sleep better", "Run"])
    services.goal_agree(goal=first, by=Side.CLIENT)
    assert not Goal.objects.get(pk=first.pk).is_agreed
    services.goal_agree(goal=first, by=Side.THERAPIST, expected_text="Sleep better")
    services.goal_agree(goal=second, by=Side.CLIENT)
    assert Goal.objects.get(position=1).is_agreed

    # The unchanged goal keeps its agreement even as it moves up; the edited one loses both.
    services.goals_set(engagement=engagement, texts=["Run five kilometres", "Sleep better"])
    goals = {goal.text: goal for goal in Goal.objects.all()}
    assert goals["Sleep better"].is_agreed
    assert goals["Sleep better"].position == 2
    edited = goals["Run five kilometres"]
    assert (edited.client_agreed_at, edited.therapist_agreed_at) == (None, None)


def test_an_agreement_to_words_changed_meanwhile_is_refused(engagement):
    (goal,) = services.goals_set(engagement=engagement, texts=["Sleep better"])
    with pytest.raises(ValidationError, match="changed since you read it"):
        services.goal_agree(goal=goal, by=Side.THERAPIST, expected_text="Sleep")
    assert Goal.objects.get().therapist_agreed_at is None


def test_the_therapist_proposes_and_the_client_takes_the_wording(engagement):
    (goal,) = services.goals_set(engagement=engagement, texts=["sleep"])
    services.goal_agree(goal=goal, by=Side.CLIENT)
    services.goal_propose(goal=goal, text="Sleep seven hours most nights")
    stored = Goal.objects.get()
    assert (stored.text, stored.proposed_text) == ("sleep", "Sleep seven hours most nights")
    assert stored.client_agreed_at is not None  # a proposal changes nothing agreed
    taken = services.goal_proposal_take(goal=stored)
    assert (taken.text, taken.proposed_text, taken.is_agreed) == (
        "Sleep seven hours most nights", "", True,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="no suggested wording"):
        services.goal_proposal_take(goal=taken)


def test_goals_do_not_change_after_the_end(reference_data):
    engagement = make_engagement(status=S.ONGOING, goals=["Sleep better"])
    goal = Goal.objects.get()
    services.engagement_end(engagement=engagement, by=Side.CLIENT, reason="Moving")
    for change in (
        lambda: services.goals_set(engagement=engagement, texts=["New"]),
        lambda: services.goal_agree(goal=goal, by=Side.CLIENT),
        lambda: services.goal_propose(goal=goal, text="Other"),
    ):
        with pytest.raises(ValidationError, match="has ended"):
            change()
    assert _goals(engagement) == [(1, "Sleep better")]


# --- sharing --------------------------------------------------------------------------------


def test_sharing_changes_are_kept_and_audited(engagement):
    from auditlog.models import LogEntry

    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)
    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)  # no change, no row
    services.sharing_set(engagement=engagement, sharing=Sharing.ITEM_ANSWERS)
    stored = Engagement.objects.get()
    assert stored.sharing == Sharing.ITEM_ANSWERS
    assert stored.sharing_changed_at is not None
    assert list(SharingChange.objects.values_list("sharing", flat=True)) == [
        Sharing.NOTHING, Sharing.ITEM_ANSWERS,
    ]  # fmt: skip
    changes = LogEntry.objects.filter(
        object_pk=str(engagement.pk), action=LogEntry.Action.UPDATE
    ).order_by("pk")
    assert [
        entry.changes_dict["sharing"] for entry in changes if "sharing" in entry.changes_dict
    ] == [
        ["scores_only", "nothing"], ["nothing", "item_answers"],
    ]  # fmt: skip


def test_an_unknown_sharing_value_is_refused(engagement):
    with pytest.raises(ValidationError) as caught:
        services.sharing_set(engagement=engagement, sharing="everything")
    assert "sharing" in caught.value.message_dict
    assert not SharingChange.objects.exists()


def test_sharing_can_change_after_the_end(reference_data):
    engagement = make_engagement(status=S.ENDED)
    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)
    assert Engagement.objects.get().sharing == Sharing.NOTHING


def test_lists_show_open_engagements_first_on_every_database(reference_data):
    from rapport.care.selectors import client_engagements, therapist_engagements, user_engagements

    client = make_user(role="client")
    therapist = make_therapist(user=make_therapist_user(mfa=True))
    now = timezone.now()
    ended = make_engagement(
        client=client, status=S.ENDED, started_at=now, ended_at=now - dt.timedelta(hours=1)
    )
    open_one = make_engagement(
        client=client, therapist=therapist, started_at=now - dt.timedelta(days=30)
    )
    other_ended = make_engagement(therapist=therapist, status=S.GRADUATED, started_at=now)

    assert list(client_engagements(user=client)) == [open_one, ended]
    assert list(therapist_engagements(therapist=therapist)) == [open_one, other_ended]
    assert list(user_engagements(user=client)) == [open_one, ended]
