"""Alerts raised from scores, each rule at its edges, through the check-in service.

Numbers from the built-ins' (synthetic) norms, worked out by hand:
- alliance check-in (1–5, mean to one decimal): published cutoff 2.5, so 2.5 is low and 2.7
  is not (a mean of six answers moves in steps of 1/6 and rounds to 2.5 or 2.7 around it);
  reliable change = 1.96 × √2 × 0.8 × √(1 − 0.85) ≈ 0.859, so a drop of 0.8 is not reliable
  and one of 1.0 is;
- progress check (0–20, summed): reliable change = 1.96 × √2 × 4 × √(1 − 0.8) ≈ 4.96, so a
  change of 4 points is not reliable and one of 5 is.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from rapport.care import alert_rules, repair, selectors, services
from rapport.care.models import (
    Alert,
    AlertKind,
    CheckIn,
    CheckInStatus,
    Engagement,
    SessionStatus,
    Sharing,
)
from tests.care.factories import make_engagement

pytestmark = pytest.mark.django_db

FIT = {"understood": 4, "open": 4, "focus": 4, "continue": 4}
ALLIANCE_IDS = (
    "bond-at-ease",
    "bond-holding-back",
    "goals-what-matters",
    "goals-direction",
    "tasks-makes-sense",
    "tasks-take-away",
)
PROGRESS_IDS = ("energy", "getting-things-done", "enjoyment", "connection", "looking-after-myself")


def alliance(*scored: int) -> dict[str, int]:
    """Answers whose scored values are ``scored`` (bond-holding-back is reverse-scored)."""
    assert len(scored) == 6
    answers = dict(zip(ALLIANCE_IDS, scored, strict=True))
    answers["bond-holding-back"] = 6 - answers["bond-holding-back"]
    return answers


def progress(total: int) -> dict[str, int]:
    values = [total // 5 + (1 if index < total % 5 else 0) for index in range(5)]
    return dict(zip(PROGRESS_IDS, values, strict=True)) | {"safety": 0}


GOOD_ALLIANCE = alliance(4, 4, 4, 4, 4, 4)  # 4.0


def _answer_open(engagement, *, alliance_answers=GOOD_ALLIANCE, progress_total=12, goals=None):
    check_in = CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)
    answers = {}
    for purpose in check_in.parts.values_list("purpose", flat=True):
        answers[purpose] = {
            "fit": FIT,
            "alliance": alliance_answers,
            "progress": progress(progress_total),
        }[purpose]
    services.check_in_answer(check_in=check_in, answers=answers, goal_ratings=goals)
    return check_in


def _attend(engagement):
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=1),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )


def _kinds(engagement) -> list[str]:
    return sorted(Alert.objects.filter(engagement=engagement).values_list("kind", flat=True))


def _started(*, sharing=Sharing.SCORES_ONLY, goals=None, baseline=12) -> Engagement:
    engagement = make_engagement(sharing=sharing, goals=goals)
    _answer_open(engagement, progress_total=baseline)  # fit check + progress baseline
    return engagement


# --- low alliance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scored", "total", "alerted"),
    [
        ((3, 2, 2, 3, 2, 3), 2.5, True),  # 15 / 6 = 2.5: at the cutoff counts as low
        ((3, 3, 2, 3, 2, 3), 2.7, False),  # 16 / 6 = 2.67 -> 2.7
        ((1, 1, 2, 2, 3, 3), 2.0, True),
    ],
)
def test_a_low_alliance_alerts_at_the_cutoff_and_below(reference_data, scored, total, alerted):
    engagement = _started()
    _attend(engagement)
    check_in = _answer_open(engagement, alliance_answers=alliance(*scored))
    stored = check_in.parts.get(purpose="alliance")
    assert json.loads(stored.scores)["total"]["value"] == total
    assert (AlertKind.LOW_ALLIANCE in _kinds(engagement)) is alerted


def test_a_low_alliance_alert_names_the_weakest_subscale_and_its_suggestion(reference_data):
    engagement = _started()
    _attend(engagement)
    # bond (1 + 2) / 2 = 1.5, goals 3.0, tasks 3.0: total 2.5, the bond weakest.
    _answer_open(engagement, alliance_answers=alliance(1, 2, 3, 3, 3, 3))
    alert = Alert.objects.get(engagement=engagement, kind=AlertKind.LOW_ALLIANCE)
    assert alert.subscale == "bond"
    assert repair.alert_suggestion(alert).startswith("The bond looks weakest")
    assert "goals" not in repair.alert_suggestion(alert).split(".")[0].lower()


# --- alliance drop --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "dropped"),
    [
        (alliance(4, 4, 3, 3, 3, 3), False),  # 3.3 after 4.0: a drop of 0.7 < 0.859
        (alliance(3, 3, 3, 3, 3, 4), False),  # 3.2: 0.8, still under the line
        (alliance(3, 3, 3, 3, 3, 3), True),  # 3.0: 1.0 past it, but 3.0 is not low
    ],
)
def test_an_alliance_drop_alerts_only_beyond_reliable_change(reference_data, second, dropped):
    engagement = _started()
    _attend(engagement)
    _answer_open(engagement, alliance_answers=GOOD_ALLIANCE)
    _attend(engagement)
    _answer_open(engagement, alliance_answers=second)
    assert _kinds(engagement) == ([AlertKind.ALLIANCE_DROP] if dropped else [])


# --- goals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "alerted"),
    [(2, 2, True), (0, 1, True), (2, 3, False), (3, 2, False), (None, 1, False)],
)
def test_a_goal_rated_as_going_nowhere_twice_in_a_row_alerts(
    reference_data, first, second, alerted
):
    engagement = _started(goals=["Sleep through the night", "See friends weekly"])
    _attend(engagement)
    _answer_open(engagement, goals={"1": first, "2": 8})
    _attend(engagement)
    _answer_open(engagement, goals={"1": second, "2": 8})
    alerts = Alert.objects.filter(engagement=engagement, kind=AlertKind.GOAL_STUCK)
    assert [a.goal_position for a in alerts] == ([1] if alerted else [])


def test_a_reworded_goal_starts_again(reference_data):
    engagement = _started(goals=["Sleep through the night"])
    _attend(engagement)
    _answer_open(engagement, goals={"1": 1})
    services.goals_set(engagement=engagement, texts=["Sleep six hours most nights"])
    _attend(engagement)
    _answer_open(engagement, goals={"1": 1})
    assert not Alert.objects.filter(engagement=engagement, kind=AlertKind.GOAL_STUCK).exists()


# --- progress -------------------------------------------------------------------------------


@pytest.mark.parametrize(("later", "alerted"), [(8, False), (7, True)])
def test_a_reliable_deterioration_since_the_baseline_alerts(reference_data, later, alerted):
    engagement = _started(baseline=12)
    _attend(engagement)
    _answer_open(engagement)
    _attend(engagement)  # session 2 asks the progress check
    _answer_open(engagement, progress_total=later)
    assert (AlertKind.PROGRESS_OFF_TRACK in _kinds(engagement)) is alerted


@pytest.mark.parametrize(
    ("sessions", "later", "alerted"),
    [(4, 16, False), (6, 16, True), (6, 17, False)],
)
def test_no_reliable_improvement_by_the_6th_session_alerts(
    reference_data, sessions, later, alerted
):
    engagement = _started(baseline=12)
    for number in range(1, sessions + 1):
        _attend(engagement)
        open_one = CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN)
        if not open_one.exists():
            continue
        # Progress stays at the baseline until the last session's check.
        _answer_open(engagement, progress_total=later if number == sessions else 12)
    off_track = Alert.objects.filter(engagement=engagement, kind=AlertKind.PROGRESS_OFF_TRACK)
    assert off_track.exists() is alerted
    if alerted:
        raised_by = off_track.get().check_in
        assert raised_by is not None
        assert raised_by.after_session == 6


# --- sharing and repetition -----------------------------------------------------------------


def test_scores_the_client_keeps_private_raise_no_alert_but_the_crisis_path_still_does(
    reference_data,
):
    engagement = _started(sharing=Sharing.NOTHING)
    _attend(engagement)
    _answer_open(engagement, alliance_answers=alliance(1, 1, 1, 1, 1, 1))
    assert _kinds(engagement) == []
    _attend(engagement)
    check_in = CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)
    services.check_in_answer(
        check_in=check_in,
        answers={"alliance": alliance(1, 1, 1, 1, 1, 1), "progress": progress(3) | {"safety": 2}},
    )
    assert _kinds(engagement) == [AlertKind.CRISIS]


def test_score_alerts_are_hidden_when_the_client_stops_sharing(reference_data):
    engagement = _started()
    _attend(engagement)
    _answer_open(engagement, alliance_answers=alliance(1, 1, 1, 1, 1, 1))
    therapist = engagement.therapist
    assert [a.kind for a in selectors.therapist_open_alerts(therapist=therapist)] == [
        AlertKind.LOW_ALLIANCE
    ]
    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)
    assert list(selectors.therapist_open_alerts(therapist=therapist)) == []


def test_an_open_alert_is_not_raised_again_until_acknowledged(reference_data):
    engagement = _started()
    for _ in range(2):
        _attend(engagement)
        _answer_open(engagement, alliance_answers=alliance(1, 1, 1, 1, 1, 1))
    assert _kinds(engagement) == [AlertKind.LOW_ALLIANCE]
    alert = Alert.objects.get(engagement=engagement)
    therapist_user = engagement.therapist.user
    assert therapist_user is not None
    services.alert_acknowledge(alert=alert, by=therapist_user, note="Talked it through in session.")
    _attend(engagement)
    _answer_open(engagement, alliance_answers=alliance(1, 1, 1, 1, 1, 1))
    assert _kinds(engagement) == [AlertKind.LOW_ALLIANCE, AlertKind.LOW_ALLIANCE]


def test_the_crisis_alert_is_listed_before_newer_alerts(reference_data):
    engagement = _started(sharing=Sharing.SCORES_ONLY)
    _attend(engagement)
    _attend(engagement)
    check_in = CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)
    services.check_in_answer(
        check_in=check_in,
        answers={"alliance": GOOD_ALLIANCE, "progress": progress(12) | {"safety": 1}},
    )
    _attend(engagement)
    _answer_open(engagement, alliance_answers=alliance(1, 1, 1, 1, 1, 1))
    kinds = [a.kind for a in selectors.therapist_open_alerts(therapist=engagement.therapist)]
    assert kinds[0] == AlertKind.CRISIS
    assert AlertKind.LOW_ALLIANCE in kinds


def test_every_kind_has_a_title_and_a_suggestion():
    for kind in AlertKind:
        text = repair.repair_suggestion(kind=kind)
        assert len(text) > 60
    assert alert_rules.GOAL_NOWHERE_MAX == 2
    assert alert_rules.PROGRESS_REVIEW_SESSION == 6


def test_no_score_alert_once_the_engagement_has_graduated(reference_data):
    engagement = _started(baseline=12)
    _attend(engagement)
    _answer_open(engagement)
    services.graduation_propose(engagement=engagement, by="therapist")
    services.graduation_confirm(engagement=engagement, by="client")
    assert Engagement.objects.get(pk=engagement.pk).status == "graduated"
    # The last progress check stays answerable after graduating; a reliable deterioration in
    # it (12 -> 3) would be off track during the work, but there is nothing left to repair.
    _answer_open(engagement, progress_total=3)
    assert _kinds(engagement) == []


def test_a_hidden_score_alert_reaches_the_therapist_by_no_road(reference_data):
    from django.test import Client

    from rapport.care.privacy import care_export

    engagement = make_engagement(sharing=Sharing.SCORES_ONLY)
    _answer_open(engagement)
    _attend(engagement)
    _answer_open(engagement, alliance_answers=alliance(1, 1, 1, 1, 1, 1))
    alert = Alert.objects.get(engagement=engagement, kind=AlertKind.LOW_ALLIANCE)
    therapist_user = engagement.therapist.user
    assert therapist_user is not None
    browser = Client()
    browser.force_login(therapist_user)
    detail = f"/api/v1/engagements/{engagement.public_id}"
    acknowledge_page = f"/practice/alerts/{alert.public_id}/acknowledge/"
    assert [a["kind"] for a in browser.get(detail).json()["alerts"]] == ["low_alliance"]
    assert browser.get(acknowledge_page).status_code == 200

    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)

    assert browser.get(detail).json()["alerts"] == []
    assert browser.get(acknowledge_page).status_code == 404
    api_ack = browser.post(
        f"/api/v1/alerts/{alert.public_id}/acknowledge",
        data={"note": "Looked at it"},
        content_type="application/json",
    )
    assert api_ack.status_code == 404
    assert browser.get("/api/v1/alerts").json() == []
    (therapist_row,) = care_export(therapist_user)
    assert therapist_row["alerts"] == []
    # The client's own export keeps it: it is about them.
    (client_row,) = care_export(engagement.client)
    assert [a["kind"] for a in client_row["alerts"]] == ["low_alliance"]


def test_an_acknowledgement_is_audited_without_its_words(reference_data):
    from auditlog.models import LogEntry

    engagement = _started()
    _attend(engagement)
    _answer_open(engagement, alliance_answers=alliance(1, 1, 1, 1, 1, 1))
    alert = Alert.objects.get(engagement=engagement)
    therapist_user = engagement.therapist.user
    assert therapist_user is not None
    services.alert_acknowledge(
        alert=alert, by=therapist_user, note="Named the rupture; agreed to slow down."
    )
    (entry,) = LogEntry.objects.filter(
        object_pk=str(alert.pk),
        content_type__model="alert",
        action=LogEntry.Action.UPDATE,
    )
    changed = entry.changes_dict
    assert {"acknowledged_at", "acknowledgement"} <= set(changed)
    logged = json.dumps(changed) + entry.changes_text + json.dumps(entry.serialized_data or {})
    assert "rupture" not in logged
    # What the alert was about is masked in the log too, when it was written.
    (created,) = LogEntry.objects.filter(
        object_pk=str(alert.pk), content_type__model="alert", action=LogEntry.Action.CREATE
    )
    assert "low_alliance" not in json.dumps(created.changes_dict)
    assert "bond" not in json.dumps(created.changes_dict)
