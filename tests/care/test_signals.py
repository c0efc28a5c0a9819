"""A therapist's early-alliance signals, checked against figures worked out by hand.

Every alliance answer in these tests scores the same value, so a check-in's alliance total is
that value (the built-in alliance check-in's total is the mean of its six items, 1–5).

The five engagements of ``five``:

    engagement  alliance after s1, s2, s3   early mean   attended  status
    A           4, 3, 5                     4.0          4         graduated
    B           2                           2.0          1         ended
    C           3, 4                        3.5          4         ended
    D           5                           5.0          2         ended
    E           3, 2, 2                     7/3 ≈ 2.33   4         graduated

- median early alliance: sorted 2.0, 2.33, 3.5, 4.0, 5.0 -> 3.5 (A's answer of 1 after its
  4th session is not early and changes nothing);
- reached session 4, of those that reached it or closed: A, C, E of A–E -> 3 of 5 (60%);
- graduated, of the closed: A, E of A–E -> 2 of 5 (40%).

Each figure needs 5 different clients behind it, so all five are closed here; other tests add
an ongoing engagement, which counts for session 4 only once it has reached it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from rapport.care import services, signals
from rapport.care.models import (
    CheckIn,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    SessionStatus,
    Sharing,
)
from rapport.care.signals import Share
from tests.accounts.factories import make_therapist_user, make_user
from tests.care.factories import make_engagement
from tests.directory.factories import make_therapist

pytestmark = pytest.mark.django_db

FIT = {"understood": 4, "open": 4, "focus": 4, "continue": 4}
PROGRESS = {
    "energy": 2,
    "getting-things-done": 2,
    "enjoyment": 2,
    "connection": 2,
    "looking-after-myself": 2,
    "safety": 0,
}


def alliance(value: int) -> dict[str, int]:
    return {
        "bond-at-ease": value,
        "bond-holding-back": 6 - value,  # reverse-scored
        "goals-what-matters": value,
        "goals-direction": value,
        "tasks-makes-sense": value,
        "tasks-take-away": value,
    }


def attend(engagement: Engagement, number: int) -> None:
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=10 - number),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )


def answer(engagement: Engagement, value: int) -> None:
    check_in = CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)
    given = {"fit": FIT, "alliance": alliance(value), "progress": PROGRESS}
    services.check_in_answer(
        check_in=check_in,
        answers={part.purpose: given[part.purpose] for part in check_in.parts.all()},
        goal_ratings={},
    )


def course(
    therapist,
    *,
    alliance_after: list[int],
    attended: int,
    status: str = EngagementStatus.ONGOING,
    sharing: str = Sharing.SCORES_ONLY,
    client=None,
) -> Engagement:
    """An engagement with ``attended`` sessions, answering the alliance with the given values
    after the first sessions, then closed as ``status``."""
    engagement = make_engagement(
        therapist=therapist, client=client, status=EngagementStatus.ONGOING, sharing=sharing
    )
    for number in range(1, attended + 1):
        attend(engagement, number)
        if number <= len(alliance_after):
            answer(engagement, alliance_after[number - 1])
    if status in (EngagementStatus.ENDED, EngagementStatus.GRADUATED):
        Engagement.objects.filter(pk=engagement.pk).update(status=status, ended_at=timezone.now())
    return engagement


def new_therapist():
    return make_therapist(user=make_therapist_user(mfa=True))


def five(therapist) -> dict[str, Engagement]:
    made = {
        "A": course(therapist, alliance_after=[4, 3, 5], attended=4,
                    status=EngagementStatus.GRADUATED),
        "B": course(therapist, alliance_after=[2], attended=1, status=EngagementStatus.ENDED),
        "C": course(therapist, alliance_after=[3, 4], attended=4, status=EngagementStatus.ENDED),
        "D": course(therapist, alliance_after=[5], attended=2, status=EngagementStatus.ENDED),
        "E": course(therapist, alliance_after=[3, 2, 2], attended=4,
                    status=EngagementStatus.GRADUATED),
    }  # fmt: skip
    return made


@pytest.fixture
def therapist(reference_data):
    return new_therapist()


def test_five_clients_give_the_hand_computed_figures(therapist):
    made = five(therapist)
    # A's alliance after its 4th session (the schedule asks again) is not early.
    a = made["A"]
    Engagement.objects.filter(pk=a.pk).update(status=EngagementStatus.ONGOING)
    a.refresh_from_db()
    answer(a, 1)
    Engagement.objects.filter(pk=a.pk).update(status=EngagementStatus.GRADUATED)

    result = signals.therapist_alliance_signals(therapist=therapist)

    assert result is not None
    assert result.clients == 5
    assert result.engagements == 5
    assert result.early_alliance_median == pytest.approx(3.5)
    assert result.early_alliance_clients == 5
    assert (result.early_alliance_minimum, result.early_alliance_maximum) == (1.0, 5.0)
    assert result.reached_session_4 == Share(count=3, of=5)
    assert result.reached_session_4.percent == 60
    assert result.graduated == Share(count=2, of=5)
    assert result.graduated.percent == 40


def test_four_clients_give_nothing(therapist):
    made = five(therapist)
    made["E"].delete()
    assert signals.therapist_alliance_signals(therapist=therapist) is None


def test_an_engagement_without_an_attended_session_does_not_contribute(therapist):
    made = five(therapist)
    made["E"].delete()
    make_engagement(therapist=therapist)  # a fifth client, still at the fit check
    assert signals.therapist_alliance_signals(therapist=therapist) is None


def test_one_client_with_two_engagements_counts_once(therapist):
    made = five(therapist)
    returning = made["B"].client
    made["E"].delete()
    course(therapist, client=returning, alliance_after=[4], attended=1)
    assert Engagement.objects.filter(therapist=therapist).count() == 5
    assert signals.therapist_alliance_signals(therapist=therapist) is None


def test_a_client_who_shares_nothing_is_left_out_of_the_median_only(therapist):
    made = five(therapist)
    Engagement.objects.filter(pk=made["C"].pk).update(sharing=Sharing.NOTHING)

    result = signals.therapist_alliance_signals(therapist=therapist)

    assert result is not None
    # Four sharing clients are too few for a median; the shares do not use scores.
    assert result.early_alliance_median is None
    assert result.early_alliance_clients == 4
    assert result.reached_session_4 == Share(count=3, of=5)
    assert result.graduated == Share(count=2, of=5)


def test_the_median_of_six_is_the_mean_of_the_middle_two(therapist):
    five(therapist)
    course(therapist, alliance_after=[5, 5], attended=2)  # 5.0; ongoing at session 2

    result = signals.therapist_alliance_signals(therapist=therapist)

    assert result is not None
    # 2.0, 2.33, 3.5, 4.0, 5.0, 5.0 -> (3.5 + 4.0) / 2
    assert result.early_alliance_median == pytest.approx(3.75)
    # The new one is at its 2nd session: neither reached session 4 nor closed, so not counted.
    assert result.reached_session_4 == Share(count=3, of=5)
    assert result.clients == 6


def test_an_ongoing_engagement_counts_for_session_4_once_it_has_reached_it(therapist):
    five(therapist)
    course(therapist, alliance_after=[], attended=4)  # ongoing, at its 4th session

    result = signals.therapist_alliance_signals(therapist=therapist)

    assert result is not None
    assert result.reached_session_4 == Share(count=4, of=6)
    assert result.reached_session_4.percent == 67
    assert result.graduated == Share(count=2, of=5)  # still open: not among the closed
    assert result.early_alliance_median == pytest.approx(3.5)  # no early scores to add


def test_a_share_needs_five_clients_of_its_own(therapist):
    for values in ([4], [3], [5], [2], [4]):
        course(therapist, alliance_after=values, attended=1)  # all ongoing, none closed

    result = signals.therapist_alliance_signals(therapist=therapist)

    assert result is not None
    assert result.early_alliance_median == 4.0  # 2, 3, 4, 4, 5
    assert result.reached_session_4 is None
    assert result.graduated is None


def test_another_therapists_clients_do_not_count(therapist):
    five(new_therapist())
    assert signals.therapist_alliance_signals(therapist=therapist) is None


def test_the_signals_read_in_a_fixed_number_of_queries(therapist, django_assert_num_queries):
    five(therapist)
    for values in ([4], [3], [5]):
        course(therapist, alliance_after=values, attended=1)
    with django_assert_num_queries(3):
        signals.therapist_alliance_signals(therapist=therapist)


def test_the_counts_agree_with_the_database(therapist):
    """An independent reading of the attended counts behind the shares."""
    five(therapist)
    attended = dict(
        Engagement.objects.filter(therapist=therapist)
        .annotate(n=Count("sessions"))
        .values_list("pk", "n")
    )
    assert sorted(attended.values()) == [1, 2, 4, 4, 4]


# --- on the practice clients page -----------------------------------------------------------


def _page(therapist) -> str:
    client = Client()
    client.force_login(therapist.user)
    response = client.get("/practice/clients/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_therapist_sees_their_signals(therapist):
    five(therapist)
    body = _page(therapist)
    assert "Your early-alliance signals" in body
    assert "3.5" in body
    assert "3 of 5" in body
    assert "2 of 5" in body


def test_under_five_clients_the_page_says_when_they_will_show(therapist):
    course(therapist, alliance_after=[4], attended=1)
    body = _page(therapist)
    assert "Your early-alliance signals" in body
    assert "once 5 clients have contributed" in body


def test_a_client_page_user_is_not_a_therapist(reference_data):
    client = Client()
    client.force_login(make_user(role="client"))
    assert client.get("/practice/clients/").status_code == 404
