"""Check-ins through their services: the schedule, one open request, answering once, scores
stored encrypted, expiry, the crisis path, and versions that keep old answers' meaning."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.care import history, instruments, services
from rapport.care.errors import CheckInAlreadyAnswered, CheckInAnswersInvalid, CheckInClosed
from rapport.care.models import (
    Alert,
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    InstrumentVersion,
    Purpose,
    SessionStatus,
)
from rapport.core.housekeeping import housekeeping_run
from tests.care.factories import make_engagement
from tests.care.instrument_definitions import nine_item

pytestmark = pytest.mark.django_db

FIT = {"understood": 4, "open": 5, "focus": 3, "continue": 4}
PROGRESS_LOW_SAFE = {
    "energy": 1,
    "getting-things-done": 2,
    "enjoyment": 1,
    "connection": 1,
    "looking-after-myself": 2,
    "safety": 0,
}
ALLIANCE = {
    "bond-at-ease": 4,
    "bond-holding-back": 2,  # reversed on 1–5: counts as 4
    "goals-what-matters": 3,
    "goals-direction": 3,
    "tasks-makes-sense": 5,
    "tasks-take-away": 4,
}


def _open(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


def _purposes(check_in: CheckIn) -> list[str]:
    return list(check_in.parts.order_by("position").values_list("purpose", flat=True))


def _attend(engagement: Engagement, *, hours_ago: float = 2) -> None:
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=hours_ago),
        status=SessionStatus.ATTENDED,
        recorded_by=_therapist_user(engagement),
    )


def _therapist_user(engagement: Engagement) -> User:
    user = engagement.therapist.user
    assert user is not None
    return user


def _raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


# --- the schedule ---------------------------------------------------------------------------

# Written out by hand from the rule: alliance after 1, 2, 3 and every 4th; progress every 2nd.
SCHEDULE = {
    0: (),
    1: ("alliance",),
    2: ("alliance", "progress"),
    3: ("alliance",),
    4: ("alliance", "progress"),
    5: (),
    6: ("progress",),
    7: (),
    8: ("alliance", "progress"),
    9: (),
    10: ("progress",),
    11: (),
    12: ("alliance", "progress"),
}


@pytest.mark.parametrize(("attended", "expected"), SCHEDULE.items())
def test_what_each_attended_session_asks(attended, expected):
    assert tuple(str(p) for p in services.purposes_due_after(attended=attended)) == expected


def test_a_new_engagement_asks_the_fit_check_and_the_progress_baseline(reference_data):
    engagement = make_engagement(goals=["Sleep through the night"])
    check_in = _open(engagement)
    assert _purposes(check_in) == ["fit", "progress"]
    assert check_in.after_session == 0
    assert check_in.expires_at - check_in.requested_at == dt.timedelta(days=7)
    assert check_in.goal_ratings == ""  # goals are rated with the alliance check-in
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.FIT_CHECK


def test_the_request_email_carries_a_link_and_nothing_about_the_client(
    reference_data, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        engagement = make_engagement(goals=["Stop dreading Mondays"])
    (message,) = [m for m in mail.outbox if engagement.client.email in m.to]
    assert "check-in" in message.subject.lower()
    assert "/care/check-ins/link/" in message.body
    for private in ("Mondays", engagement.therapist.display_name):
        assert private not in f"{message.subject}\n{message.body}"


def test_each_session_asks_what_it_should_and_one_request_stays_open(reference_data):
    engagement = make_engagement(goals=["Sleep through the night"])
    first = _open(engagement)
    services.check_in_answer(check_in=first, answers={"fit": FIT, "progress": PROGRESS_LOW_SAFE})
    asked = []
    for _ in range(8):
        _attend(engagement)
        check_in = CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN).first()
        if check_in is None:
            continue
        asked.append((check_in.after_session, _purposes(check_in)))
        # Leave sessions 1 and 2's requests unanswered: each is replaced by the next, which
        # takes over what it still asked.
        if check_in.after_session >= 3:
            services.check_in_answer(
                check_in=check_in,
                answers={
                    purpose: (ALLIANCE if purpose == "alliance" else PROGRESS_LOW_SAFE)
                    for purpose in _purposes(check_in)
                },
            )
    assert asked == [
        (1, ["alliance"]),
        (2, ["alliance", "progress"]),
        (3, ["alliance", "progress"]),  # session 2's progress check carried over
        (4, ["alliance", "progress"]),
        (6, ["progress"]),
        (8, ["alliance", "progress"]),
    ]
    statuses = list(
        CheckIn.objects.filter(engagement=engagement)
        .order_by("requested_at", "id")
        .values_list("status", flat=True)
    )
    assert statuses.count(CheckInStatus.REPLACED) == 2  # sessions 1 and 2's requests
    assert CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN).count() <= 1


def test_the_database_refuses_a_second_open_request(reference_data):
    engagement = make_engagement()
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckIn.objects.create(
            engagement=engagement,
            after_session=0,
            requested_at=now,
            expires_at=now + dt.timedelta(days=7),
        )


def test_an_open_request_is_replaced_by_one_that_asks_everything_still_unanswered(
    reference_data,
):
    engagement = make_engagement(goals=["Call my sister"])
    start = _open(engagement)
    _attend(engagement)
    start.refresh_from_db()
    assert (start.status, start.closed_at is not None) == (CheckInStatus.REPLACED, True)
    newer = _open(engagement)
    assert _purposes(newer) == ["fit", "alliance", "progress"]
    assert json.loads(newer.goal_ratings)["goals"] == [{"position": 1, "text": "Call my sister"}]


def test_a_session_recorded_long_after_it_took_place_asks_nothing(reference_data):
    engagement = make_engagement()
    services.check_in_answer(
        check_in=_open(engagement), answers={"fit": FIT, "progress": PROGRESS_LOW_SAFE}
    )
    _attend(engagement, hours_ago=24 * 10)
    assert not CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN).exists()


@pytest.mark.parametrize("change", ["pause", "end", "graduate"])
def test_pausing_or_ending_withdraws_the_open_request(reference_data, change):
    engagement = make_engagement()
    _attend(engagement)
    open_one = _open(engagement)
    if change == "pause":
        services.engagement_pause(engagement=engagement, by="client")
    elif change == "end":
        services.engagement_end(engagement=engagement, by="client", reason="Not the right fit")
    else:
        services.engagement_graduate(engagement=engagement, by="therapist")
    open_one.refresh_from_db()
    assert open_one.status == CheckInStatus.WITHDRAWN
    with pytest.raises(CheckInClosed):
        services.check_in_answer(check_in=open_one, answers={"alliance": ALLIANCE})


# --- answering ------------------------------------------------------------------------------


def test_answers_and_scores_are_stored_encrypted_and_scored_as_by_hand(reference_data):
    engagement = make_engagement(goals=["Sleep through the night", "Cook twice a week"])
    services.check_in_answer(
        check_in=_open(engagement), answers={"fit": FIT, "progress": PROGRESS_LOW_SAFE}
    )
    _attend(engagement)
    check_in = _open(engagement)
    result = services.check_in_answer(
        check_in=check_in,
        answers={"alliance": ALLIANCE},
        goal_ratings={"1": 3, "2": None},
    )
    assert result.crisis is False
    stored = CheckIn.objects.get(pk=check_in.pk)
    assert stored.status == CheckInStatus.COMPLETED
    assert stored.completed_at is not None
    part = stored.parts.get(purpose="alliance")
    # By hand: bond (4 + 4) / 2 = 4.0; goals (3 + 3) / 2 = 3.0; tasks (5 + 4) / 2 = 4.5;
    # total 23 / 6 = 3.83… -> 3.8 at one decimal, band "Working well" (3.5–5.0).
    scores = json.loads(part.scores)
    assert scores["total"]["value"] == 3.8
    assert scores["total"]["band"] == "Working well"
    assert {s["id"]: s["value"] for s in scores["subscales"]} == {
        "bond": 4.0,
        "goals": 3.0,
        "tasks": 4.5,
    }
    assert json.loads(part.answers) == ALLIANCE
    assert json.loads(stored.goal_ratings)["ratings"] == {"1": 3}
    for column in ("answers", "scores"):
        raw = _raw_column("care_checkinpart", column, part.pk)
        assert "bond" not in raw
        assert "3.8" not in raw
    assert "Sleep" not in _raw_column("care_checkin", "goal_ratings", stored.pk)
    (record,) = [r for r in history.for_client(engagement=engagement) if r.part("alliance")]
    assert [g.rating for g in record.goal_ratings] == [3, None]


def test_a_second_answer_is_refused_and_changes_nothing(reference_data):
    engagement = make_engagement()
    check_in = _open(engagement)
    services.check_in_answer(check_in=check_in, answers={"fit": FIT, "progress": PROGRESS_LOW_SAFE})
    before = list(CheckInPart.objects.filter(check_in=check_in).values_list("answers", "scores"))
    with pytest.raises(CheckInAlreadyAnswered):
        services.check_in_answer(
            check_in=check_in, answers={"fit": {**FIT, "focus": 1}, "progress": PROGRESS_LOW_SAFE}
        )
    after = list(CheckInPart.objects.filter(check_in=check_in).values_list("answers", "scores"))
    assert before == after


def test_an_expired_request_is_refused_and_housekeeping_closes_it(reference_data):
    engagement = make_engagement()
    check_in = _open(engagement)
    later = check_in.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(CheckInClosed):
        services.check_in_answer(
            check_in=check_in, answers={"fit": FIT, "progress": PROGRESS_LOW_SAFE}, now=later
        )
    counts, failed = housekeeping_run(now=later)
    assert failed == []
    assert counts["check-in requests expired"] == 1
    check_in.refresh_from_db()
    assert check_in.status == CheckInStatus.EXPIRED
    assert all(part.answers == "" for part in check_in.parts.all())


@pytest.mark.parametrize(
    ("answers", "goal_ratings", "path"),
    [
        ({"fit": {**FIT, "open": 9}, "progress": PROGRESS_LOW_SAFE}, None, "fit/open"),
        ({"fit": {**FIT, "made-up": 2}, "progress": PROGRESS_LOW_SAFE}, None, "fit/made-up"),
        ({"fit": {**FIT, "open": "5"}, "progress": PROGRESS_LOW_SAFE}, None, "fit/open"),
        ({"fit": {**FIT, "open": True}, "progress": PROGRESS_LOW_SAFE}, None, "fit/open"),
        # Two of four fit items missing: more than its prorating rule (1) allows.
        ({"fit": {"understood": 4, "open": 5}, "progress": PROGRESS_LOW_SAFE}, None, "fit"),
        ({"progress": PROGRESS_LOW_SAFE}, None, "fit"),
        ({"fit": FIT, "progress": PROGRESS_LOW_SAFE, "alliance": ALLIANCE}, None, "alliance"),
        ({"fit": FIT, "progress": PROGRESS_LOW_SAFE}, {"1": 5}, "goals"),
        ({"fit": FIT, "progress": "all fine"}, None, "progress"),
    ],
)
def test_bad_answers_are_refused_with_their_path_and_nothing_is_written(
    reference_data, answers, goal_ratings, path
):
    engagement = make_engagement()
    check_in = _open(engagement)
    with pytest.raises(CheckInAnswersInvalid) as caught:
        services.check_in_answer(check_in=check_in, answers=answers, goal_ratings=goal_ratings)
    assert any(where == path or where.startswith(path + "/") for where, _ in caught.value.problems)
    check_in.refresh_from_db()
    assert check_in.status == CheckInStatus.OPEN
    assert all(part.answers == "" for part in check_in.parts.all())
    assert not Alert.objects.exists()


@pytest.mark.parametrize("rating", [-1, 11, 2.5, "7"])
def test_a_goal_rating_outside_0_to_10_is_refused(reference_data, rating):
    engagement = make_engagement(goals=["Walk every day"])
    _attend(engagement)
    check_in = _open(engagement)
    answers = {p: ALLIANCE if p == "alliance" else FIT if p == "fit" else PROGRESS_LOW_SAFE
               for p in _purposes(check_in)}  # fmt: skip
    with pytest.raises(CheckInAnswersInvalid) as caught:
        services.check_in_answer(check_in=check_in, answers=answers, goal_ratings={"1": rating})
    assert [where for where, _ in caught.value.problems] == ["goals/1"]


# --- the crisis path ------------------------------------------------------------------------


def _critical_cases():
    for instrument in instruments.builtin_instruments():
        for rule in instrument.critical_items:
            item = instrument.items_by_id[rule.item_id]
            values = sorted(option.value for option in item.options)
            yield pytest.param(instrument.slug, rule.item_id, rule.threshold, values,
                               id=f"{instrument.slug}:{rule.item_id}")  # fmt: skip


CRITICAL_CASES = list(_critical_cases())


def test_the_built_ins_have_a_critical_item_to_test():
    assert CRITICAL_CASES


def _answers_with(instrument: instruments.Instrument, item_id: str, value: int) -> dict:
    # Everything else at the item's lowest option, which is never itself critical here.
    answers = {item.id: min(o.value for o in item.options) for item in instrument.items}
    answers[item_id] = value
    return answers


@pytest.mark.parametrize(("slug", "item_id", "threshold", "values"), CRITICAL_CASES)
def test_every_critical_item_alerts_the_therapist_at_its_threshold_and_above_only(
    reference_data, settings, django_capture_on_commit_callbacks, slug, item_id, threshold, values
):
    purpose = next(p for p, s in settings.CARE_INSTRUMENTS.items() if s == slug)
    for value in values:
        engagement = make_engagement(sharing="nothing")
        check_in = _open(engagement)
        answers = {}
        for part in check_in.parts.select_related("instrument"):
            instrument = services.instrument_for_purpose(part.purpose)
            if part.purpose == purpose:
                answers[part.purpose] = _answers_with(
                    instruments.load_definition(instrument.definition), item_id, value
                )
            else:
                answers[part.purpose] = FIT
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = services.check_in_answer(check_in=check_in, answers=answers)
        alerts = Alert.objects.filter(engagement=engagement)
        assert result.crisis is (value >= threshold), value
        assert alerts.count() == (1 if value >= threshold else 0), value
        therapist_mail = [m for m in mail.outbox if _therapist_user(engagement).email in m.to]
        assert len(therapist_mail) == (1 if value >= threshold else 0)
        for message in therapist_mail:
            # Whatever the sharing ("nothing" here), the alert goes out, saying nothing of it.
            assert message.subject == "[Rapport] A check-in needs your attention today"
            assert engagement.client.email not in message.body
            assert item_id not in message.body
            assert str(value) not in message.subject


def test_a_loaded_definitions_critical_item_alerts_too(reference_data, settings):
    row, created = services.instrument_load(text=json.dumps(nine_item(threshold=2)))
    assert created
    assert row.slug == "synthetic-nine"
    settings.CARE_INSTRUMENTS = {**settings.CARE_INSTRUMENTS, "progress": "synthetic-nine"}
    for value, alerted in ((0, False), (1, False), (2, True), (3, True)):
        engagement = make_engagement()
        check_in = _open(engagement)
        assert check_in.parts.get(purpose="progress").instrument == row
        answers = {f"q{n}": 0 for n in range(1, 9)} | {"q9": value}
        result = services.check_in_answer(
            check_in=check_in, answers={"fit": FIT, "progress": answers}
        )
        assert result.crisis is alerted
        assert Alert.objects.filter(engagement=engagement).exists() is alerted


def test_an_alert_is_acknowledged_with_what_was_done_never_silently(reference_data):
    engagement = make_engagement()
    services.check_in_answer(
        check_in=_open(engagement),
        answers={"fit": FIT, "progress": {**PROGRESS_LOW_SAFE, "safety": 3}},
    )
    alert = Alert.objects.get(engagement=engagement)
    for note in ("", "   "):
        with pytest.raises(ValidationError):
            services.alert_acknowledge(alert=alert, by=_therapist_user(engagement), note=note)
    done = services.alert_acknowledge(
        alert=alert, by=_therapist_user(engagement), note="Called the client; safety plan made."
    )
    assert done.acknowledged_at is not None
    assert "safety plan" not in _raw_column("care_alert", "acknowledgement", alert.pk)
    with pytest.raises(ValidationError):
        services.alert_acknowledge(alert=alert, by=_therapist_user(engagement), note="again")


# --- versions -------------------------------------------------------------------------------


def test_answers_keep_the_version_they_were_given_to(reference_data, settings):
    first, _ = services.instrument_load(text=json.dumps(nine_item()))
    settings.CARE_INSTRUMENTS = {**settings.CARE_INSTRUMENTS, "progress": "synthetic-nine"}
    engagement = make_engagement()
    answered = _open(engagement)
    services.check_in_answer(
        check_in=answered,
        answers={"fit": FIT, "progress": {f"q{n}": 1 for n in range(1, 10)}},
    )
    changed = nine_item()
    changed["version"] = "2"
    changed["items"][0]["text"] = "Line one, reworded."
    second, created = services.instrument_load(text=json.dumps(changed))
    assert created
    assert second.pk != first.pk
    # The same version with other content is refused.
    changed["items"][1]["text"] = "Reworded without a new version."
    with pytest.raises(instruments.DefinitionError):
        services.instrument_load(text=json.dumps(changed))
    assert answered.parts.get(purpose="progress").instrument == first
    later = make_engagement()
    assert _open(later).parts.get(purpose="progress").instrument == second
    assert InstrumentVersion.objects.filter(slug="synthetic-nine").count() == 2


def test_the_built_ins_are_installed_once(reference_data):
    before = InstrumentVersion.objects.filter(builtin=True).count()
    assert before == len(instruments.builtin_instruments())
    assert services.instrument_builtins_install() == 0
    assert InstrumentVersion.objects.filter(builtin=True).count() == before


def test_purposes_are_the_three_the_schedule_names():
    assert {str(p) for p in Purpose} == {"fit", "alliance", "progress"}
