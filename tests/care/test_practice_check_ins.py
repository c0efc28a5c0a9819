"""The therapist's side of check-ins: what they see of a client's check-ins as the client shares
them (item answers, scores only, nothing), crisis alerts whatever the sharing (the client page,
the dashboard, the e-mail, each without content where it must be), acknowledging an alert,
and the client list's trend column, read in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.care import history as history_module
from rapport.care import repair, selectors, services, trends
from rapport.care.models import (
    Alert,
    AlertKind,
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    Sharing,
)
from rapport.core.timezones import moment_label
from tests.care.factories import make_engagement
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db

ALLIANCE_ITEMS = (
    "bond-at-ease",
    "bond-holding-back",
    "goals-what-matters",
    "goals-direction",
    "tasks-makes-sense",
    "tasks-take-away",
)
PROGRESS_ITEMS = (
    "energy",
    "getting-things-done",
    "enjoyment",
    "connection",
    "looking-after-myself",
)


def alliance_answers(mean: int) -> dict[str, int]:
    """Answers whose mean is ``mean`` (the holding-back item is reverse-scored: 6 - answer)."""
    return {item: (6 - mean if item == "bond-holding-back" else mean) for item in ALLIANCE_ITEMS}


def progress_answers(total: int, *, safety: int = 0) -> dict[str, int]:
    """Answers whose sum is ``total`` (0-20 over five 0-4 items; safety counts in no score)."""
    base, extra = divmod(total, len(PROGRESS_ITEMS))
    answers = {item: base + (1 if n < extra else 0) for n, item in enumerate(PROGRESS_ITEMS)}
    return {**answers, "safety": safety}


def attend(engagement: Engagement) -> None:
    """An attended session an hour ago: it asks the next check-in."""
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=1),
        status="attended",
        recorded_by=engagement.therapist.user,
    )


def answer(
    engagement: Engagement,
    *,
    alliance: int = 4,
    progress: int = 12,
    safety: int = 0,
    goals: dict[str, int] | None = None,
) -> CheckIn:
    """The client answers the engagement's open check-in (whatever parts it asks)."""
    check_in = CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)
    purposes = set(check_in.parts.values_list("purpose", flat=True))
    answers: dict[str, dict[str, int]] = {}
    if "fit" in purposes:
        answers["fit"] = {"understood": 4, "open": 4, "focus": 4, "continue": 4}
    if "alliance" in purposes:
        answers["alliance"] = alliance_answers(alliance)
    if "progress" in purposes:
        answers["progress"] = progress_answers(progress, safety=safety)
    result = services.check_in_answer(check_in=check_in, answers=answers, goal_ratings=goals)
    return result.check_in


def history(engagement: Engagement) -> None:
    """start: progress 8; session 1: alliance 3; session 2: alliance 4, progress 14;
    session 3: alliance 2."""
    answer(engagement, progress=8)
    attend(engagement)
    answer(engagement, alliance=3)
    attend(engagement)
    answer(engagement, alliance=4, progress=14)
    attend(engagement)
    answer(engagement, alliance=2)


# --- trends -----------------------------------------------------------------------------------


def test_trend_values_for_a_hand_computed_history(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    history(engagement)
    trend = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert trend.shared
    assert not trend.crisis
    assert trend.alliance is not None
    assert trend.progress is not None
    # Alliance: the last two are 4 then 2 (means of 1-5 answers).
    assert trend.alliance.latest == 2.0
    assert trend.alliance.earlier == 4.0
    assert trend.alliance.band == "Worth talking about together"
    assert trend.alliance.words == "lower than the one before (4)"
    # Progress: first 8, latest 14; S_diff = sqrt(2) * 4 * sqrt(1 - .8) = 2.53, so a reliable
    # difference is more than 1.96 * 2.53 = 4.96: 6 is one, in the better direction.
    assert trend.progress.latest == 14
    assert trend.progress.earlier == 8
    assert trend.progress.band == "Getting by"
    assert trend.progress.words == "reliably better since the first (8)"
    # Read: the check-ins of the last two alliance parts and of the first and latest progress
    # (the start's, and sessions 2 and 3: session 2 asked both), never session 1's.
    start, _first, second, third = CheckIn.objects.filter(
        engagement=engagement, status=CheckInStatus.COMPLETED
    ).order_by("completed_at")
    assert set(trend.check_ins_read) == {start.pk, second.pk, third.pk}


def test_trend_words_for_a_rise_a_first_check_in_and_no_reliable_change(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    answer(engagement, progress=8)
    attend(engagement)
    answer(engagement, alliance=3)
    only_firsts = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert only_firsts.alliance is not None
    assert only_firsts.progress is not None
    assert (only_firsts.alliance.latest, only_firsts.alliance.band) == (3.0, "Mixed")
    assert only_firsts.alliance.words == "first alliance check-in"
    assert (only_firsts.progress.latest, only_firsts.progress.band) == (8, "Having a hard time")
    assert only_firsts.progress.words == "first progress check"

    attend(engagement)
    answer(engagement, alliance=5, progress=11)  # +3: within 4.96, no reliable change
    trend = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert trend.alliance is not None
    assert trend.progress is not None
    assert trend.alliance.words == "higher than the one before (3)"
    assert (trend.alliance.latest_label, trend.alliance.band) == ("5", "Working well")
    assert trend.progress.words == "no reliable change since the first (8)"


def test_a_client_who_shares_nothing_has_no_trend_values_but_an_alert_still_shows(
    reference_data,
):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    answer(engagement, progress=8, safety=2)  # the safety item at its threshold: an alert
    services.sharing_set(engagement=engagement, sharing=Sharing.NOTHING)
    engagement.refresh_from_db()
    trend = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert trend.alert
    assert not trend.shared
    assert trend.alliance is None
    assert trend.progress is None
    assert trend.check_ins_read == ()


# --- helpers for the pages ----------------------------------------------------------------------


def as_user(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def text(response) -> str:
    """The page's visible text, tags dropped and whitespace collapsed (an independent reading
    of the markup: no template code)."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def check_ins_url(engagement: Engagement) -> str:
    return f"/practice/clients/{engagement.public_id}/check-ins/"


def acknowledge_url(alert: Alert) -> str:
    return f"/practice/alerts/{alert.public_id}/acknowledge/"


def item_texts(purpose: str) -> list[str]:
    instrument = selectors.instrument_of(services.instrument_for_purpose(purpose))
    return [item.text for item in instrument.items]


# Labels of answers the history below gives (alliance answers 4 -> "Mostly" and 2 -> "A
# little"; progress answers 1-3 -> "Once or twice", "Some days", "Most days"). The safety answer
# 2 is "Some days" too.
ANSWER_LABELS = ("Mostly", "A little", "Once or twice", "Some days", "Most days")


@pytest.fixture
def alerted(reference_data) -> Engagement:
    """An ongoing engagement with a client named Cleo: progress 8 with the safety item at 2 (a
    crisis alert), then alliance 4 after session 1; goals to rate."""
    client = make_user(role="client", name="Cleo Client")
    engagement = make_engagement(
        client=client, status=EngagementStatus.ONGOING, goals=["Sleep through the night"]
    )
    answer(engagement, progress=8, safety=2)
    attend(engagement)
    answer(engagement, alliance=4, goals={"1": 6})
    engagement.refresh_from_db()
    return engagement


def set_sharing(engagement: Engagement, sharing: str) -> None:
    services.sharing_set(engagement=engagement, sharing=sharing)
    engagement.refresh_from_db()


# --- the check-ins page, by sharing ----------------------------------------------------------


def test_with_item_answers_the_therapist_sees_answers_and_scores(alerted):
    set_sharing(alerted, Sharing.ITEM_ANSWERS)
    response = as_user(alerted.therapist.user).get(check_ins_url(alerted))
    assert response.status_code == 200
    page = text(response)
    assert "Mostly" in page
    assert "Some days" in page
    for item in item_texts("alliance") + item_texts("progress"):
        assert item in page
    assert "4 — Working well" in page  # alliance mean 4.0
    assert "8 — Having a hard time" in page  # progress sum 8
    assert "Goal 1 (Sleep through the night): 6/10" in page
    assert "A check-in needs your attention" in page  # the alert, at the top
    assert "care-chart" in response.content.decode()  # the charts


def test_with_scores_only_the_therapist_sees_scores_but_no_answer(alerted):
    set_sharing(alerted, Sharing.SCORES_ONLY)
    page = text(as_user(alerted.therapist.user).get(check_ins_url(alerted)))
    assert "4 — Working well" in page
    assert "8 — Having a hard time" in page
    assert "Bond 4, Goals 4, Tasks 4" in page
    assert "Goal 1 (Sleep through the night): 6/10" in page
    for label in ANSWER_LABELS:
        assert label not in page
    for item in item_texts("alliance") + item_texts("progress"):
        assert item not in page
    assert "A check-in needs your attention" in page


def test_with_nothing_shared_the_therapist_sees_neither_but_still_the_alert(alerted):
    set_sharing(alerted, Sharing.NOTHING)
    response = as_user(alerted.therapist.user).get(check_ins_url(alerted))
    page = text(response)
    assert "Cleo Client keeps their check-ins private" in page
    assert "A check-in needs your attention" in page
    for shown in (*ANSWER_LABELS, "Working well", "Having a hard time", "6/10", "Bond"):
        assert shown not in page
    assert "care-chart" not in response.content.decode()
    # Only the alert was read: no check-in is recorded as shown.
    reasons = list(
        LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS, actor=alerted.therapist.user
        ).values_list("additional_data", flat=True)
    )
    assert reasons == [{"reason": "open alerts"}]


def test_reads_of_the_check_ins_page_are_audited(alerted):
    as_user(alerted.therapist.user).get(check_ins_url(alerted))
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=alerted.therapist.user)
    shown = {
        (entry.content_type.model, entry.object_pk)
        for entry in entries
        if entry.additional_data == {"reason": "shared check-ins"}
    }
    answered = CheckIn.objects.filter(engagement=alerted, status=CheckInStatus.COMPLETED)
    # Each check-in (goal ratings) and each of its parts (the scores and answers shown).
    parts = CheckInPart.objects.filter(check_in__in=answered)
    assert shown == {("checkin", str(pk)) for pk in answered.values_list("pk", flat=True)} | {
        ("checkinpart", str(pk)) for pk in parts.values_list("pk", flat=True)
    }
    assert entries.filter(additional_data={"reason": "open alerts"}).count() == 1


def test_another_therapists_client_is_a_404_on_both_views(alerted):
    other = make_therapist(user=make_therapist_user(mfa=True))
    browser = as_user(other.user)
    alert = Alert.objects.get(engagement=alerted)
    assert browser.get(check_ins_url(alerted)).status_code == 404
    assert browser.get(acknowledge_url(alert)).status_code == 404
    posted = browser.post(acknowledge_url(alert), {f"alert-{alert.public_id.hex}-note": "Hi"})
    assert posted.status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    # And the client themself is no therapist: the same 404.
    assert as_user(alerted.client).get(check_ins_url(alerted)).status_code == 404


# --- acknowledging ------------------------------------------------------------------------------


def test_acknowledging_needs_a_note_and_writes_nothing_without_one(alerted):
    alert = Alert.objects.get(engagement=alerted)
    field = f"alert-{alert.public_id.hex}-note"
    response = as_user(alerted.therapist.user).post(acknowledge_url(alert), {field: "   "})
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="id_{field}-error"' in body
    assert "Say briefly what you did" in text(response)
    assert 'aria-invalid="true"' in body
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert alert.acknowledgement == ""


def test_an_acknowledgement_is_stored_encrypted_and_closes_the_alert_once(alerted):
    alert = Alert.objects.get(engagement=alerted)
    field = f"alert-{alert.public_id.hex}-note"
    browser = as_user(alerted.therapist.user)
    assert "a check-in needs your attention — received" in text(browser.get("/practice/"))
    client_page = text(browser.get(f"/practice/clients/{alerted.public_id}/"))
    assert "Acknowledge the alert" in client_page

    note = "Called Cleo; she is safe and we meet on Thursday."
    response = browser.post(acknowledge_url(alert), {field: note})
    assert response.status_code == 302
    assert response["Location"] == f"/practice/clients/{alerted.public_id}/"
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_by == alerted.therapist.user
    assert alert.acknowledgement == note
    with connection.cursor() as cursor:
        cursor.execute("SELECT acknowledgement FROM care_alert WHERE id = %s", [alert.pk])
        (stored,) = cursor.fetchone()
    assert stored
    assert note not in stored
    assert "Cleo" not in stored

    # Gone from every open list.
    assert not selectors.therapist_open_alerts(therapist=alerted.therapist).exists()
    assert "Acknowledge the alert" not in text(
        browser.get(f"/practice/clients/{alerted.public_id}/")
    )
    assert "Nothing needs your attention right now." in text(browser.get("/practice/"))
    assert not trends.client_trends(engagements=[alerted])[alerted.pk].alert

    # A second acknowledgement is refused and changes nothing.
    again = browser.post(acknowledge_url(alert), {field: "Something else"})
    assert again.status_code == 409
    assert "already acknowledged" in text(again)
    alert.refresh_from_db()
    assert alert.acknowledgement == note


# --- the dashboard and the e-mail carry no content -------------------------------------------


def test_the_dashboard_lists_the_alert_without_content(alerted):
    set_sharing(alerted, Sharing.ITEM_ANSWERS)
    page = text(as_user(alerted.therapist.user).get("/practice/"))
    attention = page[page.index("Needs your attention") :]
    attention = attention[: attention.index("Your listing")]
    assert "Cleo Client: a check-in needs your attention — received" in attention
    for shown in (*ANSWER_LABELS, "Working well", "Having a hard time", "Sleep through"):
        assert shown not in attention
    for item in item_texts("progress") + item_texts("alliance"):
        assert item not in attention
    # No score anywhere; the time the alert came in ("received 8 Dec, 8:02 p.m.") is left out
    # of the search, since its numbers are no score.
    (alert,) = selectors.therapist_open_alerts(therapist=alerted.therapist)
    received = moment_label(alert.created_at, ZoneInfo(alerted.therapist.time_zone))
    assert received in attention
    without_times = attention.replace(received, "")
    assert not re.search(r"\b(8|4\.0|6/10)\b", without_times)


def test_the_crisis_email_has_no_content(reference_data, django_capture_on_commit_callbacks):
    client = make_user(role="client", name="Cleo Client")
    engagement = make_engagement(client=client, status=EngagementStatus.ONGOING)
    set_sharing(engagement, Sharing.ITEM_ANSWERS)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer(engagement, progress=13, safety=3)
    therapist_user = engagement.therapist.user
    assert therapist_user is not None
    (message,) = [m for m in mail.outbox if therapist_user.email in m.to]
    whole = f"{message.subject}\n{message.body}"
    assert "needs your attention" in message.subject
    for item in item_texts("progress"):
        assert item not in whole
    for shown in ("Cleo", client.email, "Getting by", "Most days", "Every day", "safety"):
        assert shown not in whole
    assert not re.search(r"\b13\b", whole)


# --- the client list --------------------------------------------------------------------------


def test_the_client_list_shows_each_trend_and_the_alert_marker(alerted, reference_data):
    therapist = alerted.therapist
    rising = make_engagement(
        client=make_user(role="client", name="Rita Rising"),
        therapist=therapist,
        status=EngagementStatus.ONGOING,
    )
    history(rising)
    make_engagement(
        client=make_user(role="client", name="Nell New"),
        therapist=therapist,
        status=EngagementStatus.ONGOING,
    )
    private = make_engagement(
        client=make_user(role="client", name="Pia Private"),
        therapist=therapist,
        status=EngagementStatus.ONGOING,
    )
    answer(private, progress=5)
    set_sharing(private, Sharing.NOTHING)

    page = text(as_user(therapist.user).get("/practice/clients/"))
    rows = {name: page[page.index(name) :][:400] for name in ("Rita", "Pia", "Cleo", "Nell")}
    assert "2 — Worth talking about together Lower than the one before (4)" in rows["Rita"]
    assert "14 — Getting by Reliably better since the first (8)" in rows["Rita"]
    assert "Nothing open No alliance check-in yet No progress check yet" in rows["Nell"]
    assert "Not shared" in rows["Pia"]
    assert "5" not in rows["Pia"].split("Not shared")[1][:60]
    assert "Alert: a check-in needs your attention" in rows["Cleo"]
    assert "4 — Working well First alliance check-in" in rows["Cleo"]
    reads = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS,
        additional_data={"reason": "check-in scores on the client list"},
    )
    # One per client whose scores are shown: Rita and Cleo, not Pia.
    assert {entry.object_pk for entry in reads} == {str(rising.pk), str(alerted.pk)}


def _clients(therapist, count: int) -> None:
    for n in range(count):
        engagement = make_engagement(
            client=make_user(role="client", name=f"Client {n}"),
            therapist=therapist,
            status=EngagementStatus.ONGOING,
        )
        answer(engagement, progress=8 + n % 5, safety=1 if n % 7 == 0 else 0)
        attend(engagement)
        answer(engagement, alliance=3 + n % 3)
        if n % 4 == 0:
            set_sharing(engagement, Sharing.NOTHING)


def test_the_client_lists_queries_do_not_grow_with_the_number_of_clients(reference_data):
    few = make_therapist(user=make_therapist_user(mfa=True))
    many = make_therapist(user=make_therapist_user(mfa=True))
    _clients(few, 3)
    _clients(many, 30)
    counts = []
    for therapist in (few, many):
        browser = as_user(therapist.user)
        browser.get("/practice/clients/")  # warm: sessions, instrument parsing
        with CaptureQueriesContext(connection) as queries:
            response = browser.get("/practice/clients/")
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_the_quick_read_of_a_total_agrees_with_a_full_parse(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    history(engagement)
    parts = CheckInPart.objects.filter(check_in__engagement=engagement)
    read = 0
    for part in parts:
        if not part.scores:
            continue
        full = json.loads(part.scores)["total"]
        assert history_module.total_of(part.scores) == (full["value"], full["band"])
        read += 1
    assert read == 6  # fit and progress at the start, three alliance, progress after session 2


def test_an_alert_from_scores_is_marked_only_while_the_client_shares_scores(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    check_in = answer(engagement, progress=12)
    Alert.objects.create(
        engagement=engagement,
        check_in=check_in,
        kind=AlertKind.LOW_ALLIANCE,
        created_at=timezone.now(),
    )
    shared = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert shared.alert
    assert not shared.crisis
    page = text(as_user(engagement.therapist.user).get("/practice/clients/"))
    assert "Alert: a check-in's scores need your attention" in page

    set_sharing(engagement, Sharing.NOTHING)
    private = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert not private.alert
    page = text(as_user(engagement.therapist.user).get("/practice/clients/"))
    assert "Alert:" not in page


def test_an_alert_on_the_client_page_says_what_it_is_and_what_to_try(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    check_in = answer(engagement, progress=12)
    Alert.objects.create(
        engagement=engagement,
        check_in=check_in,
        kind=AlertKind.LOW_ALLIANCE,
        subscale="bond",
        created_at=timezone.now(),
    )
    page = text(
        as_user(engagement.therapist.user).get(f"/practice/clients/{engagement.public_id}/")
    )
    alerts = page[page.index("Alerts (1)") :]
    assert alerts.startswith("Alerts (1)")
    assert "The alliance is low — received" in alerts
    assert repair.repair_suggestion(kind=AlertKind.LOW_ALLIANCE, subscale="bond") in alerts


def test_the_list_reads_each_clients_summary_and_it_follows_every_answer(reference_data):
    engagement = make_engagement(status=EngagementStatus.ONGOING)
    history(engagement)
    engagement.refresh_from_db()
    summarised = trends.client_trends(engagements=[engagement])[engagement.pk]
    # The same trend as the database would pick without a summary (older engagements).
    Engagement.objects.filter(pk=engagement.pk).update(trend_summary="")
    engagement.refresh_from_db()
    assert engagement.trend_summary == ""
    picked = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert summarised == picked
    assert summarised.alliance is not None
    assert summarised.progress is not None
    # Stored encrypted: the raw column holds no score.
    with connection.cursor() as cursor:
        cursor.execute("SELECT trend_summary FROM care_engagement WHERE id = %s", [engagement.pk])
        (raw,) = cursor.fetchone()
    assert raw == ""
    attend(engagement)  # session 4 asks the alliance and progress checks
    answer(engagement, progress=3)
    engagement.refresh_from_db()
    assert engagement.trend_summary
    with connection.cursor() as cursor:
        cursor.execute("SELECT trend_summary FROM care_engagement WHERE id = %s", [engagement.pk])
        (raw,) = cursor.fetchone()
    assert "alliance" not in raw
    assert "progress" not in raw
    latest = trends.client_trends(engagements=[engagement])[engagement.pk]
    assert latest.progress is not None
    assert latest.progress.latest == 3
