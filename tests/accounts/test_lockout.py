"""Lockout after failed passwords (django-axes), the client address it counts by, and allauth's
throttling of password-reset requests."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from tests.accounts.signin_helpers import (
    RESET_URL,
    WRONG_CREDENTIALS,
    clock_at,
    comparable,
    link_in_last_mail,
    now,
    session_user_id,
    sign_in,
)
from tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOCKED_15 = (
    "Too many failed sign-in attempts. For your security, signing in to this account from here "
    "is paused. Please try again in 15 minutes."
)
WRONG = "not the password at all"
TOO_MANY_ATTEMPTS = "Too many failed login attempts. Try again later."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth keeps rate-limit counters (and used-code markers) in the cache, which outlives
    # a test.
    cache.clear()


@pytest.fixture
def ann(db):
    return make_user(email="ann@example.org")


def fail(
    client: Client,
    times: int,
    email: str = "ann@example.org",
    *,
    headers: dict[str, str] | None = None,
) -> list[int]:
    return [sign_in(client, email, WRONG, headers=headers).status_code for _ in range(times)]


def form_errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_five_wrong_passwords_lock_out_even_the_right_password(client, ann):
    for _ in range(4):
        response = sign_in(client, "ann@example.org", WRONG)
        assert response.status_code == 200
        assert form_errors(response) == [WRONG_CREDENTIALS]

    fifth = sign_in(client, "ann@example.org", WRONG)
    sixth = sign_in(client, "ann@example.org", TEST_PASSWORD)

    for response in (fifth, sixth):
        assert response.status_code == 429
        assert LOCKED_15 in response.content.decode()
        # The seconds left of the 15 minutes, counted from the fifth attempt (a busy machine
        # may take a second or two to answer the fifth and the sixth).
        assert 895 <= int(response["Retry-After"]) <= 900
        assert "no-store" in response["Cache-Control"]
    assert session_user_id(client) is None


def test_the_lockout_page_is_the_same_for_an_address_without_an_account(ann):
    known, unknown = Client(), Client()
    fail(known, 5, "ann@example.org")
    fail(unknown, 5, "nobody@example.org")

    known_page = sign_in(known, "ann@example.org", TEST_PASSWORD)
    unknown_page = sign_in(unknown, "nobody@example.org", TEST_PASSWORD)

    assert (known_page.status_code, unknown_page.status_code) == (429, 429)
    assert comparable(known_page.content) == comparable(unknown_page.content)


def test_the_lockout_is_counted_by_the_normalised_address(client, ann):
    for spelling in [
        "Ann@Example.org",
        "ann@example.org",
        " ANN@EXAMPLE.ORG",
        "ａｎｎ@example.org",
    ]:
        sign_in(client, spelling, WRONG)

    assert sign_in(client, "ann@example.org", WRONG).status_code == 429
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["ann@example.org"]


def test_the_lockout_counts_the_address_and_client_together(ann):
    make_user(email="bob@example.org")
    attacker, elsewhere = Client(), Client(REMOTE_ADDR="192.0.2.44")
    started = now()
    with clock_at(started):
        fail(attacker, 5, "ann@example.org")
        # Another account from the same client address is not locked.
        assert sign_in(Client(), "bob@example.org", TEST_PASSWORD).status_code == 302
        # allauth's own throttle (5 failures per address in 5 minutes, from anywhere) holds the
        # address everywhere for those 5 minutes...
        response = sign_in(elsewhere, "ann@example.org", TEST_PASSWORD)
        assert response.status_code == 200
        assert form_errors(response) == [TOO_MANY_ATTEMPTS]

    # ...after which the owner signs in from elsewhere, while the attacking client stays
    # locked out for the full 15 minutes.
    with clock_at(started + dt.timedelta(minutes=6)):
        assert sign_in(attacker, "ann@example.org", TEST_PASSWORD).status_code == 429
        assert sign_in(elsewhere, "ann@example.org", TEST_PASSWORD).status_code == 302
        assert session_user_id(elsewhere) == str(ann.pk)


def test_a_forged_x_forwarded_for_header_does_not_dodge_the_lockout(client, ann):
    statuses = [
        sign_in(
            client, "ann@example.org", WRONG, headers={"X-Forwarded-For": f"203.0.113.{number}"}
        ).status_code
        for number in range(1, 6)
    ]
    sixth = sign_in(
        client, "ann@example.org", TEST_PASSWORD, headers={"X-Forwarded-For": "203.0.113.99"}
    )

    assert statuses == [200, 200, 200, 200, 429]
    assert sixth.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [
        ("127.0.0.1", 5)
    ]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_declared_proxy_the_address_it_adds_is_the_client(client, ann):
    # The proxy appends the address it saw; anything further left is the client's invention.
    attacker = {"X-Forwarded-For": "10.9.9.9, 198.51.100.7"}
    neighbour = {"X-Forwarded-For": "198.51.100.8"}
    started = now()
    with clock_at(started):
        assert fail(client, 5, headers=attacker) == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"

    # Once allauth's 5-minute per-address throttle has passed, only the attacker is locked.
    with clock_at(started + dt.timedelta(minutes=6)):
        assert (
            sign_in(client, "ann@example.org", TEST_PASSWORD, headers=attacker).status_code == 429
        )
        response = sign_in(Client(), "ann@example.org", TEST_PASSWORD, headers=neighbour)
        assert response.status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, ann):
    fail(client, 4)

    assert sign_in(client, "ann@example.org", TEST_PASSWORD).status_code == 302
    assert AccessAttempt.objects.count() == 0
    client.post("/accounts/logout/")
    assert fail(client, 4) == [200, 200, 200, 200]


def test_the_lockout_ends_15_minutes_after_the_last_failure(client, ann):
    locked_at = now()
    with clock_at(locked_at):
        fail(client, 5)

    with clock_at(locked_at + dt.timedelta(minutes=14)):
        response = sign_in(client, "ann@example.org", TEST_PASSWORD)
        assert response.status_code == 429
        assert "Please try again in 1 minute." in response.content.decode()

    with clock_at(locked_at + dt.timedelta(minutes=15, seconds=1)):
        assert sign_in(client, "ann@example.org", TEST_PASSWORD).status_code == 302
        assert session_user_id(client) == str(ann.pk)


def test_resetting_the_password_lifts_the_lockout(client, ann):
    fail(client, 5)
    client.post(RESET_URL, {"email": "ann@example.org"})
    form_url = client.get(link_in_last_mail())["Location"]
    new = "a fresh passphrase after the attack"
    client.post(form_url, {"password1": new, "password2": new})

    assert sign_in(client, "ann@example.org", new).status_code == 302
    assert session_user_id(client) == str(ann.pk)


def test_a_lockout_on_the_api_path_is_problem_json(rf, ann):
    from rapport.accounts.signin import lockout_response

    request = rf.post("/api/v1/session", {"login": "ann@example.org"})

    response = lockout_response(request, None, {"email": "ann@example.org"})

    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content) == {
        "type": "about:blank",
        "title": "Too many requests",
        "status": 429,
        "detail": LOCKED_15,
    }


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [(0, "192.0.2.1"), (1, "198.51.100.7"), (2, "10.9.9.9"), (3, "192.0.2.1")],
    ids=["no proxy", "one proxy", "two proxies", "fewer entries than proxies"],
)
def test_allauth_axes_and_the_audit_log_read_the_client_address_by_one_rule(
    rf, settings, proxies, expected
):
    from allauth.account.adapter import get_adapter

    from rapport.accounts.signin import client_ip_address
    from rapport.core.audit import request_client_address

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get(
        "/", REMOTE_ADDR="192.0.2.1", headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.7"}
    )

    assert get_adapter(request).get_client_ip(request) == expected
    assert client_ip_address(request) == expected
    assert request_client_address(request) == expected


# --- allauth's throttles --------------------------------------------------------------------


def test_the_sixth_reset_request_for_one_address_within_a_minute_is_refused(client, ann):
    statuses = [client.post(RESET_URL, {"email": "ann@example.org"}).status_code for _ in range(5)]

    sixth = client.post(RESET_URL, {"email": "ann@example.org"})

    assert statuses == [302] * 5
    assert sixth.status_code == 429
    assert "There have been too many requests like this one" in sixth.content.decode()
    assert len(mail.outbox) == 5


def test_reset_requests_are_throttled_for_unknown_addresses_too(client):
    statuses = [
        client.post(RESET_URL, {"email": "nobody@example.org"}).status_code for _ in range(6)
    ]

    assert statuses == [302] * 5 + [429]


# --- configuration ----------------------------------------------------------------------------


def test_start_up_refuses_a_negative_proxy_count(tmp_path):
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "rapport.settings",
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        "TRUSTED_PROXY_COUNT": "-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: TRUSTED_PROXY_COUNT must be at least 0, "
        "got -1."
    )
