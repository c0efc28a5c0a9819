"""The care demo (`rapport seed_care`): seven engagements whose stored, decrypted check-ins,
alerts and endings show each state of the loop, demo sign-ins that work, a second run that adds
nothing, and the same rows for the same seed.

Bands, thresholds, norms and the critical item are read from the built-in definition files
themselves (plain JSON), not from the engine under test.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import zoneinfo
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings

from rapport.accounts.models import User
from rapport.care import selectors
from rapport.care.instruments import ChangeCategory, load_builtin, reliable_change
from rapport.care.models import (
    Alert,
    AlertKind,
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    Goal,
    Session,
    SessionStatus,
)
from rapport.care.seeding import (
    DEMO_PASSWORD,
    STORIES,
    THERAPIST_EMAIL,
    CareSeedError,
    seed_care,
)
from rapport.directory.models import TherapistProfile
from tests.accounts.factories import make_therapist_user
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 15, 30, tzinfo=dt.UTC)
BUILTIN = Path(__file__).resolve().parents[2] / "rapport" / "care" / "instruments" / "builtin"
KEYS = (
    "on-track",
    "low-alliance",
    "crisis",
    "just-started",
    "repaired",
    "not-right-fit",
    "graduated",
)
# The stories with sessions (weekly on the therapist's clock).
WITH_SESSIONS = tuple(key for key in KEYS if key != "just-started")


def _definition(slug: str) -> dict[str, Any]:
    return json.loads((BUILTIN / f"{slug}.json").read_text(encoding="utf-8"))


def _bands(slug: str) -> list[dict[str, Any]]:
    return sorted(_definition(slug)["scoring"]["bands"], key=lambda band: band["from"])


@pytest.fixture
def generated(reference_data) -> list[TherapistProfile]:
    """Three generated therapists (as `rapport seed` makes), a hand-made one, and a generated
    one that already has someone's account: only the first three may become the demo's."""
    make_therapist()
    make_therapist(seed_key="demo-taken", user=make_therapist_user())
    return [make_therapist(seed_key=f"demo-{number}") for number in range(3)]


def _engagement(key: str) -> Engagement:
    return Engagement.objects.get(client__email=f"care.{key}@example.org")


def _parts(engagement: Engagement, purpose: str) -> list[CheckInPart]:
    """The engagement's answered parts of ``purpose``, oldest first."""
    return list(
        CheckInPart.objects.filter(
            check_in__engagement=engagement,
            check_in__status=CheckInStatus.COMPLETED,
            purpose=purpose,
        ).order_by("check_in__completed_at")
    )


def _totals(engagement: Engagement, purpose: str) -> list[float]:
    return [json.loads(part.scores)["total"]["value"] for part in _parts(engagement, purpose)]


def _ratings(engagement: Engagement) -> list[dict[str, int]]:
    return [
        json.loads(check_in.goal_ratings)["ratings"]
        for check_in in CheckIn.objects.filter(
            engagement=engagement, status=CheckInStatus.COMPLETED
        ).order_by("completed_at")
        if check_in.goal_ratings
    ]


def _reliable_change_line(slug: str) -> float:
    """Jacobson–Truax by hand from the definition's own norms: 1.96 × SD × √2 × √(1 − r)."""
    norms = _definition(slug)["norms"]
    return 1.96 * norms["clinical"]["sd"] * math.sqrt(2) * math.sqrt(1 - norms["reliability"])


@pytest.mark.parametrize("seed", [1, 7])
def test_the_first_four_engagements_show_each_state_for_any_seed(generated, seed):
    result = seed_care(seed=seed, now=NOW)

    assert result.created == KEYS
    assert result.already_present == ()
    therapist = TherapistProfile.objects.get(user__email=THERAPIST_EMAIL)
    assert therapist in generated
    assert set(Engagement.objects.values_list("therapist", flat=True)) == {therapist.pk}
    alliance_bands = _bands("alliance-check-in")

    # On track: eight sessions, agreed goals, the alliance rising into the top band, progress
    # improving by more than noise (Jacobson–Truax on the built-in's own norms).
    on_track = _engagement("on-track")
    assert on_track.sessions.filter(status=SessionStatus.ATTENDED).count() == 8
    goals = list(Goal.objects.filter(engagement=on_track))
    assert goals
    assert all(goal.is_agreed for goal in goals)
    alliance = _totals(on_track, "alliance")
    assert len(alliance) == 5  # after sessions 1, 2, 3, 4 and 8
    assert alliance == sorted(alliance)
    assert alliance[0] < alliance[-1]
    top = alliance_bands[-1]
    assert top["from"] <= alliance[-1] <= top["to"]
    progress = _totals(on_track, "progress")
    assert len(progress) == 5  # at the start, then after sessions 2, 4, 6 and 8
    change = reliable_change(load_builtin("progress-check"), progress[0], progress[-1])
    assert change.reliable
    assert change.category is ChangeCategory.IMPROVED
    assert len(_ratings(on_track)) == 5

    # Low alliance: four sessions, falling into the lowest band, goals rated low twice.
    low = _engagement("low-alliance")
    assert low.sessions.filter(status=SessionStatus.ATTENDED).count() == 4
    alliance = _totals(low, "alliance")
    assert len(alliance) == 4
    assert alliance == sorted(alliance, reverse=True)
    lowest = alliance_bands[0]
    assert lowest["from"] <= alliance[-1] <= lowest["to"]
    assert not lowest["from"] <= alliance[0] <= lowest["to"]
    low_ratings = [ratings for ratings in _ratings(low) if max(ratings.values()) <= 2]
    assert len(low_ratings) >= 2

    # Crisis: the latest progress check has the critical item at or above its threshold, and
    # the therapist has an alert nobody has acknowledged.
    crisis = _engagement("crisis")
    (rule,) = _definition("progress-check")["critical_items"]
    latest = _parts(crisis, "progress")[-1]
    assert json.loads(latest.answers)[rule["item"]] >= rule["threshold"]
    alert = Alert.objects.get(engagement=crisis)
    assert alert.kind == AlertKind.CRISIS
    assert alert.acknowledged_at is None
    assert alert.check_in_id == latest.check_in_id
    # The crisis comes first; the low-alliance story's scores raised alerts of their own (its
    # client shares scores), and the on-track story raised none.
    open_alerts = list(selectors.therapist_open_alerts(therapist=therapist))
    assert open_alerts[0] == alert
    # (The repaired and not-right-fit stories' alerts were acknowledged; see the test below.)
    assert {(a.engagement_id, a.kind) for a in open_alerts[1:]} == {
        (low.pk, AlertKind.LOW_ALLIANCE),
        (low.pk, AlertKind.GOAL_STUCK),
    }
    assert not Alert.objects.filter(engagement=on_track).exists()
    earlier = _parts(crisis, "progress")[:-1]
    assert all(json.loads(part.answers)[rule["item"]] < rule["threshold"] for part in earlier)

    # Just started: its fit check and baseline wait for the client, the only open request
    # (the graduated story's last progress check was answered; the ended one's withdrawn).
    started = _engagement("just-started")
    (open_request,) = CheckIn.objects.filter(status=CheckInStatus.OPEN)
    assert open_request.engagement == started
    assert sorted(open_request.parts.values_list("purpose", flat=True)) == ["fit", "progress"]
    assert list(selectors.client_check_ins_due(user=started.client, now=NOW)) == [open_request]
    assert not started.sessions.exists()

    # Each sharing choice, for the therapist's view.
    assert (on_track.sharing, low.sharing, crisis.sharing) == (
        "item_answers",
        "scores_only",
        "nothing",
    )
    # One crisis alert in all; the just-started story raised nothing.
    assert Alert.objects.filter(kind=AlertKind.CRISIS).count() == 1
    assert not Alert.objects.filter(engagement=started).exists()


@pytest.mark.parametrize("seed", [1, 7])
def test_the_repaired_ended_and_graduated_engagements_show_their_state(generated, seed):
    seed_care(seed=seed, now=NOW)

    therapist = TherapistProfile.objects.get(user__email=THERAPIST_EMAIL)
    cutoff = _definition("alliance-check-in")["norms"]["cutoff"]
    top = _bands("alliance-check-in")[-1]

    # Repaired: one low check-in raised a low-alliance alert (scores shared), the therapist
    # acknowledged it with a note before the next session, and the check-ins after it recovered.
    repaired = _engagement("repaired")
    assert repaired.status == EngagementStatus.ONGOING
    assert repaired.sharing == "scores_only"
    (alert,) = Alert.objects.filter(engagement=repaired)
    assert alert.kind == AlertKind.LOW_ALLIANCE
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_by == therapist.user
    assert alert.acknowledgement.strip()
    assert alert.check_in is not None
    assert alert.check_in.after_session == 2
    assert alert.created_at < alert.acknowledged_at
    next_session = repaired.sessions.order_by("starts_at")[2]
    assert alert.acknowledged_at < next_session.starts_at
    alliance = _totals(repaired, "alliance")
    assert len(alliance) == 4  # after sessions 1, 2, 3 and 4
    assert alliance[1] <= cutoff < alliance[0]
    assert all(value > cutoff for value in alliance[2:])
    assert alliance[2] < alliance[3]
    assert top["from"] <= alliance[-1] <= top["to"]
    # The drop into the low band was within noise: the alert is the low score, not a drop.
    assert alliance[0] - alliance[1] < _reliable_change_line("alliance-check-in")

    # Not the right fit: the client ended it the day after a low check-in, with the one click.
    ended = _engagement("not-right-fit")
    assert ended.status == EngagementStatus.ENDED
    assert ended.ended_for == "not_right_fit"
    assert ended.ended_by == "client"
    assert ended.end_reason == "It isn't the right fit"
    alliance = _totals(ended, "alliance")
    assert alliance[-1] <= cutoff
    last_answered = (
        CheckIn.objects.filter(engagement=ended, status=CheckInStatus.COMPLETED)
        .latest("completed_at")
        .completed_at
    )
    assert last_answered is not None
    assert ended.ended_at is not None
    assert last_answered < ended.ended_at <= last_answered + dt.timedelta(days=1)
    assert not CheckIn.objects.filter(engagement=ended, status=CheckInStatus.OPEN).exists()
    (alert,) = Alert.objects.filter(engagement=ended)
    assert alert.kind == AlertKind.LOW_ALLIANCE
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_at > ended.ended_at
    assert alert.acknowledgement.strip()

    # Graduated: agreed goals, progress reliably better, proposed by one side, every goal
    # reviewed by both (met or partly), confirmed by the other, the last check answered.
    graduated = _engagement("graduated")
    assert graduated.status == EngagementStatus.GRADUATED
    assert graduated.sessions.filter(status=SessionStatus.ATTENDED).count() == 10
    assert graduated.graduation_proposed_by == "therapist"
    assert graduated.ended_by == "therapist"  # ended by the proposer, confirmed by the client
    assert graduated.graduation_proposed_at is not None
    assert graduated.ended_at is not None
    assert graduated.graduation_proposed_at < graduated.ended_at
    goals = list(graduated.goals.order_by("position"))
    assert len(goals) == 2
    for goal in goals:
        assert goal.is_agreed
        assert goal.client_review in {"met", "partly"}
        assert goal.therapist_review in {"met", "partly"}
    progress = _parts(graduated, "progress")
    final = progress[-1]
    assert final.check_in.requested_at >= graduated.graduation_proposed_at
    assert final.check_in.after_session == 10
    totals = _totals(graduated, "progress")
    assert len(totals) == 7  # the start, after sessions 2, 4, 6, 8 and 10, and the last check
    assert totals[-1] - totals[0] > _reliable_change_line("progress-check")
    # Reliably better by the 6th session already, so no "off track" alert; no alert at all.
    assert totals[3] - totals[0] > _reliable_change_line("progress-check")
    assert not Alert.objects.filter(engagement=graduated).exists()
    assert not CheckIn.objects.filter(engagement=graduated, status=CheckInStatus.OPEN).exists()


# The second: eight weeks back from it cross the November clock change.
@pytest.mark.parametrize("now", [NOW, dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)])
def test_the_history_lies_in_the_past_and_weekly(generated, now):
    seed_care(seed=2, now=now)

    assert not Session.objects.filter(starts_at__gte=now).exists()
    assert not CheckIn.objects.filter(requested_at__gt=now).exists()
    assert not CheckIn.objects.filter(completed_at__gt=now).exists()
    assert not Alert.objects.filter(created_at__gt=now).exists()
    assert not Engagement.objects.filter(ended_at__gt=now).exists()
    assert not Engagement.objects.filter(graduation_proposed_at__gt=now).exists()
    assert not Alert.objects.filter(acknowledged_at__gt=now).exists()
    for key in WITH_SESSIONS:
        engagement = _engagement(key)
        # Weekly on the therapist's own clock (a week across a clock change is 167 or 169 h).
        zone = zoneinfo.ZoneInfo(engagement.therapist.time_zone)
        local = [
            moment.astimezone(zone)
            for moment in engagement.sessions.values_list("starts_at", flat=True)
        ]
        assert {(later.date() - earlier.date()).days for earlier, later in pairwise(local)} == {7}
        assert len({moment.time() for moment in local}) == 1
    # Every answered request was answered while it was open.
    for check_in in CheckIn.objects.filter(status=CheckInStatus.COMPLETED):
        assert check_in.completed_at is not None
        assert check_in.requested_at < check_in.completed_at < check_in.expires_at


def test_answers_and_scores_are_stored_encrypted(generated):
    seed_care(seed=2, now=NOW)

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT answers, scores FROM {CheckInPart._meta.db_table} WHERE scores <> ''"  # noqa: S608
        )
        rows = cursor.fetchall()
        cursor.execute(f"SELECT text FROM {Goal._meta.db_table}")  # noqa: S608
        goal_texts = [row[0] for row in cursor.fetchall()]
    assert rows
    for answers, scores in rows:
        assert '"total"' not in scores
        assert "safety" not in answers
    decrypted = {goal.text for goal in Goal.objects.all()}
    assert decrypted
    assert not decrypted & set(goal_texts)


def test_the_demo_sign_ins_work(generated):
    seed_care(seed=2, now=NOW)

    for email in [THERAPIST_EMAIL, *(story.email for story in STORIES)]:
        user = User.objects.get(email=email)
        assert EmailAddress.objects.filter(user=user, email=email, verified=True).exists()
    assert User.objects.get(email=THERAPIST_EMAIL).role == "therapist"
    # A password the site itself would accept.
    validate_password(DEMO_PASSWORD, User(email="care.crisis@example.org"))

    client = Client()
    signed_in = client.post(
        "/accounts/login/", {"login": "care.on-track@example.org", "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302
    home = client.get("/care/")
    assert home.status_code == 200
    therapist = TherapistProfile.objects.get(user__email=THERAPIST_EMAIL)
    assert therapist.display_name in home.content.decode()

    # The therapist signs in too, and is asked for a second factor before the practice pages.
    client = Client()
    signed_in = client.post(
        "/accounts/login/", {"login": THERAPIST_EMAIL, "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302
    practice = client.get("/practice/clients/")
    assert practice.status_code == 302
    assert practice["Location"].startswith("/accounts/2fa/totp/activate/")


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Engagement, Session, Goal, CheckIn, CheckInPart, Alert)
    }


def test_a_second_run_adds_nothing(generated):
    seed_care(seed=2, now=NOW)
    before = _counts()

    again = seed_care(seed=2, now=NOW + dt.timedelta(days=3))

    assert again.created == ()
    assert again.already_present == KEYS
    assert _counts() == before


def test_a_missing_story_is_made_again_and_the_others_left_alone(generated):
    seed_care(seed=2, now=NOW)
    kept = {key: _engagement(key).pk for key in KEYS if key != "crisis"}
    name = User.objects.get(email="care.crisis@example.org").name
    User.objects.filter(email="care.crisis@example.org").delete()

    again = seed_care(seed=2, now=NOW)

    assert again.created == ("crisis",)
    assert User.objects.get(email="care.crisis@example.org").name == name
    assert {key: _engagement(key).pk for key in kept} == kept
    assert Alert.objects.filter(engagement=_engagement("crisis"), acknowledged_at=None).exists()


def _snapshot() -> dict[str, Any]:
    """What the seed decides, by stable values (no ids, no secrets)."""
    engagements = Engagement.objects.select_related("client", "therapist").order_by("client__email")
    return {
        engagement.client.email: {
            "name": engagement.client.name,
            "therapist": engagement.therapist.seed_key,
            "started": engagement.started_at,
            "sharing": engagement.sharing,
            "ended": (engagement.status, engagement.ended_at, engagement.ended_for),
            "reviews": [
                (goal.client_review, goal.therapist_review)
                for goal in engagement.goals.order_by("position")
            ],
            "alerts": list(
                engagement.alerts.order_by("created_at", "kind").values_list(
                    "kind", "created_at", "acknowledged_at"
                )
            ),
            "goals": [goal.text for goal in engagement.goals.order_by("position")],
            "sessions": list(engagement.sessions.values_list("starts_at", flat=True)),
            "check-ins": [
                (
                    check_in.after_session,
                    check_in.status,
                    check_in.requested_at,
                    check_in.completed_at,
                    check_in.goal_ratings,
                    [(part.purpose, part.answers) for part in check_in.parts.order_by("position")],
                )
                for check_in in engagement.check_ins.order_by("requested_at")
            ],
        }
        for engagement in engagements
    }


def test_the_same_seed_gives_the_same_demo(generated):
    seed_care(seed=5, now=NOW)
    first = _snapshot()
    User.objects.filter(email__startswith="care.").delete()

    seed_care(seed=5, now=NOW)

    assert _snapshot() == first
    assert len(first) == len(KEYS)
    # The therapist's list tells the seven apart.
    names = [story["name"] for story in first.values()]
    assert len({name.split()[0] for name in names}) == len(KEYS)
    assert len({name.split()[-1] for name in names}) == len(KEYS)


def test_without_a_generated_therapist_nothing_is_written(reference_data):
    make_therapist()  # hand-made: never taken for the demo

    with pytest.raises(CareSeedError, match="rapport seed"):
        seed_care(seed=1, now=NOW)

    assert not User.objects.filter(email__startswith="care.").exists()
    assert not Engagement.objects.exists()


def test_the_command_seeds_and_names_the_sign_ins(generated):
    output = io.StringIO()

    call_command("seed_care", "--seed", "3", stdout=output)

    text = output.getvalue()
    assert "on-track, low-alliance, crisis, just-started" in text
    assert THERAPIST_EMAIL in text
    assert DEMO_PASSWORD in text
    assert Engagement.objects.count() == len(KEYS)


def test_the_command_refuses_production_and_a_missing_directory(reference_data):
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="production"):
        call_command("seed_care", "--seed", "1", stdout=io.StringIO())
    with pytest.raises(CommandError, match="rapport seed"):
        call_command("seed_care", "--seed", "1", stdout=io.StringIO())
    with pytest.raises(CommandError, match="whole number"):
        call_command("seed_care", "--seed", "many", stdout=io.StringIO())
    assert not Engagement.objects.exists()


def test_the_readme_names_the_demo_sign_ins():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    demo = readme.split("## Demo data", 1)[1].split("\n## ", 1)[0]

    listed = set(re.findall(r"^\| `([^`]+@example\.org)` \|", demo, flags=re.MULTILINE))
    assert listed == {THERAPIST_EMAIL, *(story.email for story in STORIES)}
    assert f"`{DEMO_PASSWORD}`" in demo
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    assert "rapport seed_care --seed $(DEMO_SEED)" in makefile


def test_the_new_states_open_on_the_client_pages(generated):
    """A newcomer signed in as each new demo client sees their engagement's pages (not an
    error): the repaired one's progress, the ended one, the graduated one's closing summary."""
    seed_care(seed=4, now=NOW)

    pages = {
        "repaired": ("", "progress/"),
        "not-right-fit": ("",),
        "graduated": ("", "graduation/", "summary/"),
    }
    for key, suffixes in pages.items():
        engagement = _engagement(key)
        client = Client()
        client.force_login(engagement.client)
        assert client.get("/care/").status_code == 200
        for suffix in suffixes:
            response = client.get(f"/care/{engagement.public_id}/{suffix}")
            assert response.status_code == 200, (key, suffix)

    # And the therapist (with an authenticator, as the practice pages ask) sees each of them.
    therapist = User.objects.get(email=THERAPIST_EMAIL)
    TOTP.activate(therapist, generate_totp_secret())
    client = Client()
    client.force_login(therapist)
    assert client.get("/practice/clients/").status_code == 200
    for key in pages:
        response = client.get(f"/practice/clients/{_engagement(key).public_id}/")
        assert response.status_code == 200, key
