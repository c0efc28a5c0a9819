"""Session lifetime: new ids at sign-in, server-side logout, idle and absolute limits, and
ending other sessions when the password changes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import Client

from rapport.accounts.middleware import LAST_SEEN_AT, SIGNED_IN_AT
from tests.accounts.signin_helpers import (
    CHANGE_PASSWORD_URL,
    LOGOUT_URL,
    PRIVATE_PAGE,
    RESET_URL,
    clock_at,
    link_in_last_mail,
    session_key,
    session_user_id,
    sign_in,
)
from tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

IDLE_MESSAGE = "You were signed out after 30 minutes without activity. Please sign in again."
LIFETIME_MESSAGE = (
    "You were signed out because you signed in more than 12 hours ago. Please sign in again."
)
NEW_PASSPHRASE = "a new passphrase nobody else knows"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth keeps rate-limit counters (and used-code markers) in the cache, which outlives
    # a test.
    cache.clear()


@pytest.fixture
def signed_in(client):
    """A client signed in through the real sign-in form, and the moment it signed in."""
    make_user(email="ann@example.org")
    sign_in(client, "ann@example.org", TEST_PASSWORD)
    started = SessionStore(session_key=session_key(client)).load()[SIGNED_IN_AT]
    return client, dt.datetime.fromtimestamp(started, tz=dt.UTC)


def stored(client: Client) -> dict:
    return SessionStore(session_key=session_key(client)).load()


def test_the_defaults_are_30_minutes_idle_and_12_hours_in_all():
    assert settings.SESSION_IDLE_TIMEOUT_SECONDS == 30 * 60
    assert settings.SESSION_ABSOLUTE_LIFETIME_SECONDS == 12 * 60 * 60
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_LIFETIME_SECONDS


def test_signing_in_gives_the_session_a_new_id_and_deletes_the_old_one(client):
    make_user(email="ann@example.org")
    anonymous = client.session
    anonymous["seen_the_home_page"] = True
    anonymous.save()
    before = session_key(client)

    sign_in(client, "ann@example.org", TEST_PASSWORD)

    after = session_key(client)
    assert after != before
    assert SessionStore().exists(before) is False
    assert SessionStore().exists(after) is True


def test_the_session_cookie_is_http_only_same_site_lax_and_ends_with_the_browser(signed_in):
    client, _ = signed_in
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]

    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert (cookie["max-age"], cookie["expires"]) == ("", "")


def test_signing_out_deletes_the_session_on_the_server_and_the_old_cookie_is_worthless(signed_in):
    client, _ = signed_in
    old_key = session_key(client)

    response = client.post(LOGOUT_URL)

    assert response.status_code == 302
    assert SessionStore().exists(old_key) is False
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = replay.get(PRIVATE_PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PRIVATE_PAGE}"


def test_a_session_idle_for_30_minutes_is_ended_with_a_message(signed_in):
    client, started = signed_in
    key = session_key(client)

    with clock_at(started + dt.timedelta(minutes=30)):
        response = client.get(PRIVATE_PAGE)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={PRIVATE_PAGE}"
        assert SessionStore().exists(key) is False
        login_page = client.get(response["Location"])

    assert [str(message) for message in login_page.context["messages"]] == [IDLE_MESSAGE]
    assert IDLE_MESSAGE in login_page.content.decode()
    assert session_user_id(client) is None


def test_activity_keeps_a_session_alive_past_30_minutes(signed_in):
    client, started = signed_in

    for minutes in (20, 40, 65):
        with clock_at(started + dt.timedelta(minutes=minutes)):
            assert client.get(PRIVATE_PAGE).status_code == 200

    with clock_at(started + dt.timedelta(minutes=95)):
        assert client.get(PRIVATE_PAGE).status_code == 302


def test_last_seen_is_written_at_most_once_a_minute_at_the_default_timeout(signed_in):
    client, started = signed_in
    signed_in_at = int(started.timestamp())

    with clock_at(started + dt.timedelta(seconds=59)):
        client.get(PRIVATE_PAGE)
    assert stored(client)[LAST_SEEN_AT] == signed_in_at

    with clock_at(started + dt.timedelta(seconds=60)):
        client.get(PRIVATE_PAGE)
    assert stored(client)[LAST_SEEN_AT] == signed_in_at + 60
    assert stored(client)[SIGNED_IN_AT] == signed_in_at


def test_at_the_shortest_idle_timeout_a_person_active_every_40_seconds_stays_signed_in(
    signed_in, settings
):
    # One minute is the lowest SESSION_IDLE_TIMEOUT_SECONDS allowed; a last-seen time written
    # only once a minute would sign this person out at 80 seconds.
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 60
    client, started = signed_in

    for seconds in range(40, 10 * 60, 40):
        with clock_at(started + dt.timedelta(seconds=seconds)):
            assert client.get(PRIVATE_PAGE).status_code == 200, seconds

    with clock_at(started + dt.timedelta(seconds=560 + 60)):
        assert client.get(PRIVATE_PAGE).status_code == 302


def test_the_idle_sign_out_redirect_carries_the_security_headers(signed_in):
    client, started = signed_in

    with clock_at(started + dt.timedelta(minutes=31)):
        response = client.get(PRIVATE_PAGE)

    assert response.status_code == 302
    assert "default-src" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cache-Control"] == "no-store, private"


def test_a_session_ends_12_hours_after_sign_in_however_active(signed_in):
    client, started = signed_in
    key = session_key(client)

    for minutes in range(25, 12 * 60, 25):
        with clock_at(started + dt.timedelta(minutes=minutes)):
            assert client.get(PRIVATE_PAGE).status_code == 200, minutes

    with clock_at(started + dt.timedelta(hours=12)):
        response = client.get(PRIVATE_PAGE)
        assert response.status_code == 302
        assert SessionStore().exists(key) is False
        login_page = client.get(response["Location"])

    assert [str(message) for message in login_page.context["messages"]] == [LIFETIME_MESSAGE]


def test_an_expired_session_gets_401_problem_json_from_the_api(signed_in):
    client, started = signed_in

    with clock_at(started + dt.timedelta(minutes=31)):
        response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content) == {
        "type": "about:blank",
        "title": "Signed out",
        "status": 401,
        "detail": IDLE_MESSAGE,
    }
    assert session_user_id(client) is None


def test_an_expired_session_sends_htmx_to_the_login_page_as_a_whole_page(signed_in):
    client, started = signed_in

    with clock_at(started + dt.timedelta(minutes=31)):
        response = client.get(PRIVATE_PAGE, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/"


def test_a_password_change_ends_every_other_session_and_keeps_this_one():
    make_user(email="ann@example.org")
    laptop, phone = Client(), Client()
    sign_in(laptop, "ann@example.org", TEST_PASSWORD)
    sign_in(phone, "ann@example.org", TEST_PASSWORD)
    phone_key = session_key(phone)

    response = laptop.post(
        CHANGE_PASSWORD_URL,
        {"oldpassword": TEST_PASSWORD, "password1": NEW_PASSPHRASE, "password2": NEW_PASSPHRASE},
    )

    assert response.status_code == 302
    assert SessionStore().exists(phone_key) is False
    assert phone.get(PRIVATE_PAGE).status_code == 302
    assert SessionStore().exists(session_key(laptop)) is True
    assert laptop.get(PRIVATE_PAGE).status_code == 200


def test_a_password_reset_ends_every_session_of_the_account():
    make_user(email="ann@example.org")
    stolen = Client()
    sign_in(stolen, "ann@example.org", TEST_PASSWORD)
    stolen_key = session_key(stolen)

    owner = Client()
    owner.post(RESET_URL, {"email": "ann@example.org"})
    form_url = owner.get(link_in_last_mail())["Location"]
    response = owner.post(form_url, {"password1": NEW_PASSPHRASE, "password2": NEW_PASSPHRASE})

    assert response.status_code == 302
    assert SessionStore().exists(stolen_key) is False
    assert stolen.get(PRIVATE_PAGE).status_code == 302


# --- configuration ----------------------------------------------------------------------------


def _start(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "rapport.settings",
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"SESSION_IDLE_TIMEOUT_SECONDS": "30"},
            "SESSION_IDLE_TIMEOUT_SECONDS must be at least 60, got 30.",
        ),
        (
            {"SESSION_ABSOLUTE_LIFETIME_SECONDS": "999999999"},
            "SESSION_ABSOLUTE_LIFETIME_SECONDS must be at most 604800, got 999999999.",
        ),
        (
            {"SESSION_IDLE_TIMEOUT_SECONDS": "7200", "SESSION_ABSOLUTE_LIFETIME_SECONDS": "3600"},
            "SESSION_IDLE_TIMEOUT_SECONDS must not exceed SESSION_ABSOLUTE_LIFETIME_SECONDS.",
        ),
    ],
    ids=["idle too short", "lifetime too long", "idle longer than lifetime"],
)
def test_start_up_refuses_session_limits_out_of_bounds(tmp_path, variables, message):
    result = _start(tmp_path, **variables)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"django.core.exceptions.ImproperlyConfigured: {message}"
    )
