"""A planned graduation: one side proposes, both review every goal, the other side confirms.

The services, the two pages per side (graduation and summary) and ``POST
/api/v1/engagements/{id}/graduate``. Refusals write nothing; someone else's engagement is a 404
everywhere (the role matrix in tests/test_access_matrix.py too). The reliable-change verdicts
are checked against the progress check's published norms worked by hand (see
``test_the_summary_shows_both_reviews_scores_and_charts``).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from rapport.care import services
from rapport.care.models import (
    CheckIn,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    Goal,
    Purpose,
    SessionStatus,
    Sharing,
    Side,
)
from tests.care.factories import make_engagement
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
FIT = {"understood": 4, "open": 4, "focus": 4, "continue": 4}


def _progress(value: int) -> dict[str, int]:
    # Five scored items (0–4) and the safety item at 0: the total is 5 × value.
    return {
        "energy": value,
        "getting-things-done": value,
        "enjoyment": value,
        "connection": value,
        "looking-after-myself": value,
        "safety": 0,
    }


@pytest.fixture
def engagement(reference_data) -> Engagement:
    return make_engagement(
        status=EngagementStatus.ONGOING, goals=["Sleep through the night", "Call my sister"]
    )


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _open(engagement: Engagement) -> CheckIn | None:
    return CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN).first()


def _waiting(engagement: Engagement) -> CheckIn:
    check_in = _open(engagement)
    assert check_in is not None, "no open check-in"
    return check_in


def _purposes(check_in: CheckIn) -> set[str]:
    return set(check_in.parts.values_list("purpose", flat=True))


def _state(engagement: Engagement) -> tuple:
    stored = Engagement.objects.get(pk=engagement.pk)
    goals = [
        (goal.position, goal.client_review, goal.therapist_review)
        for goal in Goal.objects.filter(engagement=stored).order_by("position")
    ]
    check_ins = list(
        CheckIn.objects.filter(engagement=stored).order_by("id").values_list("id", "status")
    )
    return (
        stored.status,
        stored.ended_at,
        stored.ended_by,
        stored.graduation_proposed_by,
        stored.graduation_proposed_at,
        goals,
        check_ins,
    )


def _review_all(engagement: Engagement, by: str, review: str = "met") -> None:
    services.goal_reviews_set(
        engagement=engagement,
        by=by,
        reviews={str(goal.position): review for goal in engagement.goals.all()},
    )


# --- services -------------------------------------------------------------------------------


def test_the_client_proposes_both_review_and_the_therapist_confirms(
    engagement, django_capture_on_commit_callbacks
):
    services.check_in_answer(
        check_in=_waiting(engagement), answers={"fit": FIT, "progress": _progress(1)}
    )
    assert _open(engagement) is None
    proposed_at = timezone.now()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.graduation_propose(engagement=engagement, by=Side.CLIENT, now=proposed_at)

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.graduation_proposed_by == Side.CLIENT
    assert stored.graduation_proposed_at == proposed_at
    assert stored.status == EngagementStatus.ONGOING
    # A last progress check is asked, and its request e-mail queued.
    final = _open(engagement)
    assert final is not None
    assert _purposes(final) == {Purpose.PROGRESS}
    assert final.requested_at == proposed_at
    assert len(callbacks) == 1

    _review_all(engagement, Side.CLIENT, "met")
    services.goal_review_set(
        goal=engagement.goals.get(position=1), by=Side.THERAPIST, review="partly"
    )
    services.goal_review_set(
        goal=engagement.goals.get(position=2), by=Side.THERAPIST, review="not_yet"
    )
    ended_at = timezone.now()
    services.graduation_confirm(engagement=engagement, by=Side.THERAPIST, now=ended_at)

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == EngagementStatus.GRADUATED
    assert stored.ended_at == ended_at
    assert stored.ended_by == Side.CLIENT  # the proposer
    assert [(g.client_review, g.therapist_review) for g in stored.goals.all()] == [
        ("met", "partly"),
        ("met", "not_yet"),
    ]
    # The last progress check stays answerable after graduating, and its score counts.
    assert _open(engagement) == final
    services.check_in_answer(check_in=final, answers={"progress": _progress(3)})
    assert CheckIn.objects.get(pk=final.pk).status == CheckInStatus.COMPLETED


def test_the_therapist_proposes_and_the_client_confirms(engagement):
    services.graduation_propose(engagement=engagement, by=Side.THERAPIST)
    _review_all(engagement, Side.CLIENT, "partly")
    _review_all(engagement, Side.THERAPIST, "met")

    services.graduation_confirm(engagement=engagement, by=Side.CLIENT)

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == EngagementStatus.GRADUATED
    assert stored.ended_by == Side.THERAPIST


def test_the_final_check_takes_over_an_open_request_and_a_later_one_is_withdrawn(engagement):
    start = _waiting(engagement)
    assert _purposes(start) == {Purpose.FIT, Purpose.PROGRESS}
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    final = _waiting(engagement)
    # It replaced the unanswered start request, asking what that still asked.
    assert CheckIn.objects.get(pk=start.pk).status == CheckInStatus.REPLACED
    assert _purposes(final) == {Purpose.FIT, Purpose.PROGRESS}
    services.check_in_answer(check_in=final, answers={"fit": FIT, "progress": _progress(2)})
    # A session after the proposal asks the alliance check-in only: that one is withdrawn.
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=1),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )
    later = _waiting(engagement)
    assert _purposes(later) == {Purpose.ALLIANCE}
    _review_all(engagement, Side.CLIENT)
    _review_all(engagement, Side.THERAPIST)

    services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)

    assert CheckIn.objects.get(pk=later.pk).status == CheckInStatus.WITHDRAWN
    assert _open(engagement) is None


def test_the_proposer_cannot_confirm_alone(engagement):
    services.graduation_propose(engagement=engagement, by=Side.THERAPIST)
    _review_all(engagement, Side.CLIENT)
    _review_all(engagement, Side.THERAPIST)
    before = _state(engagement)

    with pytest.raises(services.GraduationConflict, match="the client confirms"):
        services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)

    assert _state(engagement) == before


def test_confirming_with_a_goal_not_reviewed_is_refused_and_changes_nothing(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    _review_all(engagement, Side.CLIENT)
    services.goal_review_set(goal=engagement.goals.get(position=1), by=Side.THERAPIST, review="met")
    before = _state(engagement)

    with pytest.raises(services.GraduationConflict) as refused:
        services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)

    assert "goal 2 (the therapist)" in " ".join(refused.value.messages)
    assert "goal 1" not in " ".join(refused.value.messages)
    assert _state(engagement) == before
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.ONGOING


def test_every_goal_counts_even_one_never_agreed(engagement):
    # The goals of the fixture were never agreed by either side: they still need reviews.
    assert not any(goal.is_agreed for goal in engagement.goals.all())
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    with pytest.raises(
        services.GraduationConflict, match=r"goal 1 \(the client and the therapist\)"
    ):
        services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)


def test_without_goals_there_is_nothing_to_review(reference_data):
    engagement = make_engagement(status=EngagementStatus.PAUSED)
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.GRADUATED


@pytest.mark.parametrize(
    ("reviews", "field"),
    [
        ({"1": "met", "2": "great"}, "reviews.2"),
        ({"1": "met", "4": "met"}, "reviews.4"),
        ({"1": ""}, "reviews.1"),
        ({"1": "MET"}, "reviews.1"),
    ],
)
def test_reviews_are_checked_and_a_bad_one_writes_none(engagement, reviews, field):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    before = _state(engagement)

    with pytest.raises(ValidationError) as refused:
        services.goal_reviews_set(engagement=engagement, by=Side.CLIENT, reviews=reviews)

    assert field in refused.value.message_dict
    assert not isinstance(refused.value, services.GraduationConflict)
    assert _state(engagement) == before  # not even goal 1's valid review


def test_a_single_review_is_checked_too(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    with pytest.raises(ValidationError, match="met, partly met or not yet"):
        services.goal_review_set(goal=engagement.goals.get(position=1), by=Side.CLIENT, review="x")


def test_reviews_need_a_proposal(engagement):
    before = _state(engagement)
    with pytest.raises(services.GraduationConflict, match="Nobody has proposed"):
        _review_all(engagement, Side.CLIENT)
    with pytest.raises(services.GraduationConflict, match="Nobody has proposed"):
        services.graduation_confirm(engagement=engagement, by=Side.CLIENT)
    with pytest.raises(services.GraduationConflict, match="Nobody has proposed"):
        services.graduation_withdraw(engagement=engagement, by=Side.CLIENT)
    assert _state(engagement) == before


@pytest.mark.parametrize("by", [Side.CLIENT, Side.THERAPIST])
def test_either_side_withdraws_and_the_reviews_go_with_the_proposal(engagement, by):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    _review_all(engagement, Side.CLIENT)
    _review_all(engagement, Side.THERAPIST)

    services.graduation_withdraw(engagement=engagement, by=by)

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.graduation_proposed_by == ""
    assert stored.graduation_proposed_at is None
    assert stored.status == EngagementStatus.ONGOING
    assert [(g.client_review, g.therapist_review) for g in stored.goals.all()] == [("", "")] * 2
    with pytest.raises(services.GraduationConflict):
        services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)
    # And it can be proposed again later, by either side.
    services.graduation_propose(engagement=engagement, by=Side.THERAPIST)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (EngagementStatus.ENDED, "has ended"),
        (EngagementStatus.GRADUATED, "has ended"),
        (EngagementStatus.FIT_CHECK, "after the work has begun"),
        (EngagementStatus.CONSULTATION_HELD, "after the work has begun"),
    ],
)
def test_only_an_ongoing_or_paused_engagement_can_be_proposed(reference_data, status, message):
    engagement = make_engagement(status=status)
    before = _state(engagement)
    with pytest.raises(services.GraduationConflict, match=message):
        services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    assert _state(engagement) == before


def test_a_second_proposal_is_refused(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    before = _state(engagement)
    with pytest.raises(services.GraduationConflict, match="already proposed by the client"):
        services.graduation_propose(engagement=engagement, by=Side.THERAPIST)
    assert _state(engagement) == before


def test_nothing_changes_after_graduating(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    _review_all(engagement, Side.CLIENT)
    _review_all(engagement, Side.THERAPIST)
    services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)
    before = _state(engagement)
    for step in (
        lambda: services.graduation_confirm(engagement=engagement, by=Side.THERAPIST),
        lambda: services.graduation_withdraw(engagement=engagement, by=Side.CLIENT),
        lambda: _review_all(engagement, Side.CLIENT, "partly"),
    ):
        with pytest.raises(services.GraduationConflict, match="has ended"):
            step()
    assert _state(engagement) == before


def test_an_unknown_side_is_refused(engagement):
    with pytest.raises(ValidationError):
        services.graduation_propose(engagement=engagement, by="staff")
    assert Engagement.objects.get(pk=engagement.pk).graduation_proposed_by == ""


def test_graduating_at_once_still_works_for_older_callers(engagement):
    services.engagement_graduate(engagement=engagement, by=Side.THERAPIST)
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.GRADUATED


# --- pages ----------------------------------------------------------------------------------


def _client_url(engagement: Engagement, page: str) -> str:
    return f"/care/{engagement.public_id}/{page}/"


def _practice_url(engagement: Engagement, page: str) -> str:
    return f"/practice/clients/{engagement.public_id}/{page}/"


def test_the_whole_flow_through_the_pages(engagement):
    client_side = _as(engagement.client)
    therapist_side = _as(engagement.therapist.user)
    page = client_side.get(_client_url(engagement, "graduation")).content.decode()
    assert "Propose graduating" in page
    assert "/guide/graduating/" in page

    response = therapist_side.post(_practice_url(engagement, "graduation"), {"action": "propose"})
    assert response.status_code == 302
    assert Engagement.objects.get(pk=engagement.pk).graduation_proposed_by == Side.THERAPIST

    page = client_side.get(_client_url(engagement, "graduation")).content.decode()
    assert "proposed graduating on" in page
    assert "/guide/graduating/" in page  # linked when either side proposes
    assert "A last progress check is waiting for you" in page
    assert "Confirm: we are graduating" in page
    # The proposer sees no confirm button, only the withdraw one.
    therapist_page = therapist_side.get(_practice_url(engagement, "graduation")).content.decode()
    assert "Confirm: we are graduating" not in therapist_page
    assert "Withdraw the proposal" in therapist_page
    assert "/guide/graduating/" in therapist_page

    client_side.post(
        _client_url(engagement, "graduation"),
        {"action": "review", "goal_1": "met", "goal_2": "partly"},
    )
    therapist_side.post(
        _practice_url(engagement, "graduation"),
        {"action": "review", "goal_1": "partly", "goal_2": "not_yet"},
    )
    response = client_side.post(_client_url(engagement, "graduation"), {"action": "confirm"})

    assert response.status_code == 302
    assert response["Location"] == _client_url(engagement, "summary")
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == EngagementStatus.GRADUATED
    assert stored.ended_by == Side.THERAPIST


def test_a_review_with_a_goal_left_out_is_shown_at_the_field_and_writes_nothing(engagement):
    services.graduation_propose(engagement=engagement, by=Side.THERAPIST)
    client_side = _as(engagement.client)
    before = _state(engagement)

    response = client_side.post(
        _client_url(engagement, "graduation"), {"action": "review", "goal_1": "met"}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_goal_2-error">Choose met, partly met or not yet.' in body
    assert 'aria-describedby="id_goal_2-error"' in body
    assert _state(engagement) == before


def test_a_refused_step_on_the_page_says_why_and_writes_nothing(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    before = _state(engagement)
    client_side = _as(engagement.client)

    confirm = client_side.post(_client_url(engagement, "graduation"), {"action": "confirm"})
    unknown = client_side.post(_client_url(engagement, "graduation"), {"action": "graduate"})

    assert confirm.status_code == 400
    assert "the therapist confirms it" in confirm.content.decode()
    assert unknown.status_code == 400
    assert _state(engagement) == before


def test_confirming_with_goals_not_reviewed_on_the_page_says_which(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    response = _as(engagement.therapist.user).post(
        _practice_url(engagement, "graduation"), {"action": "confirm"}
    )
    assert response.status_code == 400
    assert "goal 1 (the client and the therapist)" in response.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.ONGOING


def _graduate_with_scores(engagement: Engagement, *, first: int, last: int | dict) -> None:
    services.check_in_answer(
        check_in=_waiting(engagement), answers={"fit": FIT, "progress": _progress(first)}
    )
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    final = _progress(last) if isinstance(last, int) else last
    services.check_in_answer(check_in=_waiting(engagement), answers={"progress": final})
    services.goal_reviews_set(
        engagement=engagement, by=Side.CLIENT, reviews={"1": "met", "2": "partly"}
    )
    services.goal_reviews_set(
        engagement=engagement, by=Side.THERAPIST, reviews={"1": "partly", "2": "not_yet"}
    )
    services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)


def test_the_summary_shows_both_reviews_scores_and_charts(engagement):
    from auditlog.models import LogEntry

    # Totals 5 then 15. By hand from the progress check's norms (clinical SD 4, reliability
    # 0.8): SE = 4 × √0.2 ≈ 1.79, SE of a difference ≈ 2.53, reliable change ≈ 1.96 × 2.53 ≈
    # 4.96 points; a rise of 10 is a reliable improvement.
    _graduate_with_scores(engagement, first=1, last=3)
    response = _as(engagement.client).get(_client_url(engagement, "summary"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Closing summary" in body
    assert "Sleep through the night" in body
    # Goal 1: the client said met, the therapist partly; goal 2: partly and not yet.
    assert "<td>Met</td><td>Partly met</td>" in body
    assert "<td>Partly met</td><td>Not yet</td>" in body
    assert "<dt>First score</dt><dd>5</dd>" in body
    assert "<dt>Last score</dt><dd>15" in body
    assert "A reliable improvement" in body
    assert body.count('class="care-chart"') == 1  # only the progress check was answered
    assert "Print command" in body
    assert "window.print" not in body
    assert "Sessions attended: 0" in body
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=engagement.client).exists()


def test_a_small_change_is_no_reliable_change(engagement):
    # Totals 10 then 13: a rise of 3 is below the reliable change worked by hand above (about
    # 4.96 points; 3.72 even with the smaller, non-clinical SD of 3).
    _graduate_with_scores(
        engagement, first=2, last={**_progress(2), "energy": 3, "connection": 3, "enjoyment": 3}
    )
    body = _as(engagement.client).get(_client_url(engagement, "summary")).content.decode()
    assert "<dt>First score</dt><dd>10</dd>" in body
    assert "<dt>Last score</dt><dd>13" in body
    assert "No reliable change" in body


@pytest.mark.parametrize(
    ("sharing", "charts", "scores"),
    [(Sharing.SCORES_ONLY, 1, True), (Sharing.ITEM_ANSWERS, 1, True), (Sharing.NOTHING, 0, False)],
)
def test_the_therapists_summary_respects_sharing(engagement, sharing, charts, scores):
    _graduate_with_scores(engagement, first=1, last=3)
    services.sharing_set(engagement=engagement, sharing=sharing)

    body = _as(engagement.therapist.user).get(_practice_url(engagement, "summary")).content
    text = body.decode()

    assert text.count('class="care-chart"') == charts
    assert ("<dt>First score</dt><dd>5</dd>" in text) is scores
    assert ("does not share their check-ins" in text) is not scores
    assert "<td>Met</td><td>Partly met</td>" in text  # the reviews are both sides' own words


@pytest.mark.parametrize(
    ("url", "method"),
    [
        (lambda e: _client_url(e, "graduation"), "get"),
        (lambda e: _client_url(e, "graduation"), "post"),
        (lambda e: _client_url(e, "summary"), "get"),
        (lambda e: _practice_url(e, "graduation"), "get"),
        (lambda e: _practice_url(e, "graduation"), "post"),
        (lambda e: _practice_url(e, "summary"), "get"),
    ],
)
def test_someone_elses_engagement_is_not_found_on_the_pages(engagement, url, method):
    other_client = make_user(role="client")
    other_therapist = make_therapist(user=make_therapist_user(mfa=True)).user
    before = _state(engagement)
    for person in (other_client, other_therapist):
        browser = _as(person)
        if method == "get":
            response = browser.get(url(engagement))
        else:
            response = browser.post(url(engagement), {"action": "propose"})
        assert response.status_code == 404
        assert b"Sleep through the night" not in response.content
    assert _state(engagement) == before


# --- API ------------------------------------------------------------------------------------


def _api(engagement: Engagement) -> str:
    return f"/api/v1/engagements/{engagement.public_id}/graduate"


def _post(browser: Client, engagement: Engagement, body: object):
    return browser.post(_api(engagement), json.dumps(body), content_type="application/json")


def test_the_whole_flow_through_the_api(engagement):
    therapist_side = _as(engagement.therapist.user)
    client_side = _as(engagement.client)

    proposed = _post(therapist_side, engagement, {"action": "propose"})
    assert proposed.status_code == 200, proposed.content
    block = proposed.json()["graduation"]
    assert block["proposed_by"] == "therapist"
    assert block["proposed_at"] is not None
    assert block["guide_url"] == "/guide/graduating/"
    assert proposed.json()["role"] == "therapist"

    reviewed = _post(
        client_side, engagement, {"action": "review", "reviews": {"1": "met", "2": "partly"}}
    )
    assert reviewed.status_code == 200
    assert reviewed.json()["graduation"]["goals"] == [
        {
            "position": 1,
            "text": "Sleep through the night",
            "client_review": "met",
            "therapist_review": "",
        },
        {
            "position": 2,
            "text": "Call my sister",
            "client_review": "partly",
            "therapist_review": "",
        },
    ]
    _post(therapist_side, engagement, {"action": "review", "reviews": {"1": "met", "2": "met"}})

    confirmed = _post(client_side, engagement, {"action": "confirm"})

    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "graduated"
    assert confirmed.json()["ended_at"] is not None
    assert Engagement.objects.get(pk=engagement.pk).ended_by == Side.THERAPIST


def test_the_api_refuses_with_problem_documents_and_writes_nothing(engagement):
    client_side = _as(engagement.client)
    therapist_side = _as(engagement.therapist.user)
    _post(client_side, engagement, {"action": "propose"})
    before = _state(engagement)

    bad_review = _post(
        client_side, engagement, {"action": "review", "reviews": {"1": "met", "2": "done"}}
    )
    unknown_field = _post(client_side, engagement, {"action": "review", "review": {"1": "met"}})
    unknown_action = _post(client_side, engagement, {"action": "graduate"})
    reviews_with_confirm = _post(
        therapist_side, engagement, {"action": "confirm", "reviews": {"1": "met"}}
    )
    proposer_confirms = _post(client_side, engagement, {"action": "confirm"})
    unreviewed = _post(therapist_side, engagement, {"action": "confirm"})
    twice = _post(therapist_side, engagement, {"action": "propose"})

    for response in (bad_review, unknown_field, unknown_action, reviews_with_confirm):
        assert response.status_code == 400, response.content
        assert response["Content-Type"] == PROBLEM
    assert {"field": "reviews.2", "message": "Choose met, partly met or not yet."} in (
        bad_review.json()["errors"]
    )
    for response in (proposer_confirms, unreviewed, twice):
        assert response.status_code == 409, response.content
        assert response["Content-Type"] == PROBLEM
        assert response.json()["status"] == 409
    assert "the therapist confirms it" in proposer_confirms.json()["detail"]
    assert "goal 1 (the client and the therapist)" in unreviewed.json()["detail"]
    assert _state(engagement) == before


def test_the_api_refuses_an_ended_engagement_with_a_conflict(reference_data):
    engagement = make_engagement(status=EngagementStatus.ENDED)
    response = _post(_as(engagement.client), engagement, {"action": "propose"})
    assert response.status_code == 409
    assert "has ended" in response.json()["detail"]


def test_someone_elses_engagement_is_not_found_in_the_api(engagement):
    before = _state(engagement)
    for person in (
        make_user(role="client"),
        make_therapist(user=make_therapist_user(mfa=True)).user,
    ):
        response = _post(_as(person), engagement, {"action": "propose"})
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
    malformed = _as(engagement.client).post(
        "/api/v1/engagements/not-an-id/graduate", "{}", content_type="application/json"
    )
    assert malformed.status_code in (400, 404)
    assert _state(engagement) == before


def test_the_endpoint_is_documented(reference_data):
    document = Client().get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/engagements/{id}/graduate"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "404", "409"}


def test_the_proposal_and_both_reviews_are_in_both_exports(engagement):
    from rapport.accounts.selectors import account_export_data

    services.graduation_propose(engagement=engagement, by=Side.THERAPIST)
    services.goal_reviews_set(engagement=engagement, by=Side.CLIENT, reviews={"1": "met"})
    services.goal_reviews_set(engagement=engagement, by=Side.THERAPIST, reviews={"1": "not_yet"})

    for person in (engagement.client, engagement.therapist.user):
        (row,) = account_export_data(user=person)["care"]
        assert row["graduation_proposed_by"] == "therapist"
        assert row["graduation_proposed_at"] is not None
        assert [(g["client_review"], g["therapist_review"]) for g in row["goals"]] == [
            ("met", "not_yet"),
            ("", ""),
        ]


def test_both_engagement_pages_link_graduation_and_the_guide_once_proposed(engagement):
    pages = {
        "client": (_as(engagement.client), f"/care/{engagement.public_id}/"),
        "therapist": (_as(engagement.therapist.user), f"/practice/clients/{engagement.public_id}/"),
    }
    for browser, url in pages.values():
        body = browser.get(url).content.decode()
        assert 'id="graduation-heading"' in body
        assert "/graduation/" in body
        assert "/summary/" in body
        assert "/guide/graduating/" not in body
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    for browser, url in pages.values():
        body = browser.get(url).content.decode()
        assert "Graduating is proposed" in body
        assert "/guide/graduating/" in body
    # The therapist's graduate button opens the planned flow instead of graduating at once.
    therapist_page = pages["therapist"][0].get(pages["therapist"][1]).content.decode()
    assert f'action="/practice/clients/{engagement.public_id}/graduate/"' not in therapist_page


def test_the_last_progress_check_can_be_answered_on_its_page_after_graduating(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    final = _waiting(engagement)
    _review_all(engagement, Side.CLIENT)
    _review_all(engagement, Side.THERAPIST)
    services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)
    client_side = _as(engagement.client)

    page = client_side.get(f"/care/check-ins/{final.public_id}/")
    graduation = client_side.get(_client_url(engagement, "graduation")).content.decode()

    assert page.status_code == 200
    assert "<form" in page.content.decode()
    assert f"/care/check-ins/{final.public_id}/" in graduation
    assert "Your last progress check is still open" in graduation


def test_saving_the_same_goals_again_keeps_their_reviews(engagement):
    services.graduation_propose(engagement=engagement, by=Side.THERAPIST)
    _review_all(engagement, Side.THERAPIST)
    _review_all(engagement, Side.CLIENT, "partly")
    services.goals_set(engagement=engagement, texts=["Sleep through the night", "Call my sister"])
    assert [
        (g.client_review, g.therapist_review) for g in engagement.goals.order_by("position")
    ] == [
        ("partly", "met"),
        ("partly", "met"),
    ]
    # A reworded goal starts unreviewed; the unchanged one keeps its reviews.
    services.goals_set(engagement=engagement, texts=["Sleep through the night", "Call my brother"])
    assert [
        (g.client_review, g.therapist_review) for g in engagement.goals.order_by("position")
    ] == [
        ("partly", "met"),
        ("", ""),
    ]
    with pytest.raises(ValidationError):
        services.graduation_confirm(engagement=engagement, by=Side.CLIENT)


def test_a_pause_keeps_the_last_progress_check(engagement):
    services.graduation_propose(engagement=engagement, by=Side.CLIENT)
    final = _waiting(engagement)
    assert "progress" in _purposes(final)
    services.engagement_pause(engagement=engagement, by=Side.THERAPIST)
    final.refresh_from_db()
    assert final.status == CheckInStatus.OPEN
    _review_all(engagement, Side.CLIENT)
    _review_all(engagement, Side.THERAPIST)
    services.graduation_confirm(engagement=engagement, by=Side.THERAPIST)
    final.refresh_from_db()
    assert final.status == CheckInStatus.OPEN
