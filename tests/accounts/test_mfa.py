"""Two-factor authentication: the TOTP flow end to end, recovery codes, throttling of wrong codes,
and the requirement for therapists and staff."""

from __future__ import annotations

import json

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from rapport.accounts.signin import MFAAdapter
from tests.accounts.signin_helpers import (
    LOGOUT_URL,
    MFA_AUTHENTICATE_URL,
    PRIVATE_PAGE,
    TOTP_ACTIVATE_URL,
    clock_at,
    now,
    reauthenticate,
    session_user_id,
    sign_in,
    totp_code,
)
from tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

MFA_NEEDED_MESSAGE = (
    "Therapist and staff accounts need two-factor authentication before they can see anyone's "
    "information. Set up an authenticator app to continue."
)
TOO_MANY_ATTEMPTS = "Too many failed login attempts. Try again later."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth keeps rate-limit counters (and used-code markers) in the cache, which outlives
    # a test.
    cache.clear()


def code_errors(response) -> list[str]:
    return list(response.context["form"].errors.get("code", []))


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def sign_in_with_code(client: Client, email: str, code: str):
    response = sign_in(client, email, TEST_PASSWORD)
    assert response["Location"] == MFA_AUTHENTICATE_URL
    return client.post(MFA_AUTHENTICATE_URL, {"code": code})


def test_the_whole_totp_flow_from_activation_to_signing_in_with_a_code(client):
    user = make_user(role="therapist", email="thera@example.org")
    sign_in(client, "thera@example.org", TEST_PASSWORD)
    # allauth asks for the password again before security settings change.
    assert client.get(TOTP_ACTIVATE_URL)["Location"].startswith("/accounts/reauthenticate/")
    reauthenticate(client, TEST_PASSWORD)

    # Activate: the page holds the secret in the session; the app would scan it as a QR code.
    page = client.get(TOTP_ACTIVATE_URL)
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    assert secret in page.content.decode()
    response = client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/recovery-codes/"
    assert sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True)) == [
        "recovery_codes",
        "totp",
    ]

    client.post(LOGOUT_URL)
    assert session_user_id(client) is None

    # A password alone no longer signs in: the code is asked for.
    response = sign_in(client, "thera@example.org", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == MFA_AUTHENTICATE_URL
    assert session_user_id(client) is None

    right = totp_code(secret)
    response = client.post(MFA_AUTHENTICATE_URL, {"code": another_code(right)})
    assert response.status_code == 200
    assert code_errors(response) == ["Incorrect code."]
    assert session_user_id(client) is None

    response = client.post(MFA_AUTHENTICATE_URL, {"code": right})
    assert response.status_code == 302
    # A therapist lands on their own profile (rapport.accounts.signin.THERAPIST_LANDING_PATH).
    assert response["Location"] == "/practice/profile/"
    assert session_user_id(client) == str(user.pk)


def test_activation_refuses_a_wrong_code(client):
    user = make_user(role="therapist", email="thera@example.org")
    sign_in(client, "thera@example.org", TEST_PASSWORD)
    reauthenticate(client, TEST_PASSWORD)
    client.get(TOTP_ACTIVATE_URL)
    secret = client.session["mfa.totp.secret"]

    response = client.post(TOTP_ACTIVATE_URL, {"code": another_code(totp_code(secret))})

    assert response.status_code == 200
    assert code_errors(response) == ["Incorrect code."]
    assert not Authenticator.objects.filter(user=user).exists()


def test_a_recovery_code_signs_in_once():
    user = make_user(role="therapist", email="thera@example.org", mfa=True)
    # Recovery codes are made when an app is activated through the pages; here, directly.
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(user).get_unused_codes()

    first = Client()
    response = sign_in_with_code(first, "thera@example.org", codes[0])
    assert response.status_code == 302
    assert session_user_id(first) == str(user.pk)

    second = Client()
    response = sign_in_with_code(second, "thera@example.org", codes[0])
    assert response.status_code == 200
    assert code_errors(response) == ["Incorrect code."]
    assert session_user_id(second) is None

    response = second.post(MFA_AUTHENTICATE_URL, {"code": codes[1]})
    assert response.status_code == 302
    assert session_user_id(second) == str(user.pk)


def test_wrong_codes_are_throttled_after_five_even_for_the_right_code_next(client):
    user = make_user(role="therapist", email="thera@example.org", mfa=True)
    sign_in(client, "thera@example.org", TEST_PASSWORD)
    right = totp_code(user.totp_secret)

    for _ in range(5):
        response = client.post(MFA_AUTHENTICATE_URL, {"code": another_code(right)})
        assert code_errors(response) == ["Incorrect code."]

    response = client.post(MFA_AUTHENTICATE_URL, {"code": right})

    assert response.status_code == 200
    assert code_errors(response) == [TOO_MANY_ATTEMPTS]
    assert session_user_id(client) is None


def test_a_used_code_cannot_be_replayed(client):
    user = make_user(role="therapist", email="thera@example.org", mfa=True)
    code = totp_code(user.totp_secret)
    assert sign_in_with_code(Client(), "thera@example.org", code).status_code == 302

    response = sign_in_with_code(client, "thera@example.org", code)

    assert code_errors(response) == ["Incorrect code."]
    assert session_user_id(client) is None


def test_the_authenticator_app_is_labelled_rapport():
    user = make_user(email="ann@example.org")

    url = MFAAdapter().build_totp_url(user, "JBSWY3DPEHPK3PXP")

    assert url == "otpauth://totp/ann%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Rapport"
    assert settings.MFA_SUPPORTED_TYPES == ["totp", "recovery_codes"]


# --- required for therapists and staff ------------------------------------------------------

PROTECTED_PAGES = ["/admin/", "/staff/verification/", "/therapist/"]


@pytest.mark.parametrize(
    "account",
    [{"role": "therapist"}, {"role": "staff"}, {"role": "client", "is_staff": True}],
    ids=["therapist", "staff", "is_staff client"],
)
@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_an_account_that_needs_a_second_factor_is_sent_to_set_one_up(client, account, path):
    client.force_login(make_user(**account))

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == TOTP_ACTIVATE_URL
    assert [str(message) for message in response.wsgi_request._messages] == [MFA_NEEDED_MESSAGE]


def test_the_setup_page_explains_why(client):
    make_user(role="therapist", email="thera@example.org")
    sign_in(client, "thera@example.org", TEST_PASSWORD)
    reauthenticate(client, TEST_PASSWORD)

    page = client.get("/staff/verification/", follow=True)

    assert page.redirect_chain == [(TOTP_ACTIVATE_URL, 302)]
    assert MFA_NEEDED_MESSAGE.replace("'", "&#x27;") in page.content.decode()


def test_the_api_answers_403_problem_json_without_a_second_factor(client):
    client.force_login(make_user(role="staff"))

    response = client.get("/api/v1/staff/verification/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content) == {
        "type": "about:blank",
        "title": "Two-factor authentication required",
        "status": 403,
        "detail": (
            "Therapist and staff accounts must set up two-factor authentication (an authenticator "
            f"app) before using this endpoint. Set it up at {TOTP_ACTIVATE_URL}."
        ),
    }


@pytest.mark.parametrize("role", ["therapist", "staff"])
def test_public_api_endpoints_stay_public_for_a_therapist_or_staff_without_a_second_factor(
    client, reference_data, role
):
    from tests.factories import make_therapist

    listed = make_therapist(display_name="Open Listing")
    client.force_login(make_user(role=role))

    search = client.get("/api/v1/therapists")
    profile = client.get(f"/api/v1/therapists/{listed.public_id}")
    schema = client.get("/api/v1/openapi.json")
    private = client.get("/api/v1/me")

    assert search.status_code == 200
    assert [hit["name"] for hit in json.loads(search.content)["results"]] == ["Open Listing"]
    assert json.loads(profile.content)["name"] == "Open Listing"
    assert schema.status_code == 200
    assert private.status_code == 403
    assert json.loads(private.content)["title"] == "Two-factor authentication required"


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
@pytest.mark.parametrize(
    "path",
    ["/", "/therapists/", "/healthz", PRIVATE_PAGE, "/accounts/2fa/", "/static/core/rapport.css"],
)
def test_public_pages_account_pages_and_static_files_stay_open_without_a_second_factor(path):
    client = Client()
    client.force_login(make_user(role="therapist"))

    response = client.get(path)

    assert response.status_code == 200


def test_staff_with_a_second_factor_reach_the_admin(client):
    client.force_login(make_user(role="staff", mfa=True, is_superuser=True))

    assert client.get("/admin/").status_code == 200


def test_a_client_is_not_asked_for_a_second_factor(client):
    client.force_login(make_user(role="client"))

    response = client.get("/admin/")

    # Django's admin turns a non-staff account away to its login (and on to allauth's).
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_the_admin_login_page_hands_over_to_the_sign_in_page_with_its_second_factor(client):
    make_user(role="staff", email="staff@example.org", mfa=True, is_superuser=True)

    page = client.get("/admin/login/?next=/admin/directory/")
    posted = client.post(
        "/admin/login/", {"username": "staff@example.org", "password": TEST_PASSWORD}
    )

    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/admin/directory/"
    assert posted.status_code == 302
    assert posted["Location"] == "/accounts/login/?next=/admin/"
    assert session_user_id(client) is None


def test_a_therapist_cannot_switch_off_their_only_second_factor(client):
    user = make_user(role="therapist", email="thera@example.org", mfa=True)
    sign_in_with_code(client, "thera@example.org", totp_code(user.totp_secret))
    reauthenticate(client, TEST_PASSWORD)

    response = client.post("/accounts/2fa/totp/deactivate/")

    assert response.status_code == 200
    assert list(response.context["form"].non_field_errors()) == [
        "Therapist and staff accounts must keep two-factor authentication switched on."
    ]
    assert Authenticator.objects.filter(user=user, type="totp").exists()


def test_a_client_can_switch_their_second_factor_off(client):
    user = make_user(role="client", email="ann@example.org", mfa=True)
    sign_in_with_code(client, "ann@example.org", totp_code(user.totp_secret))
    reauthenticate(client, TEST_PASSWORD)

    response = client.post("/accounts/2fa/totp/deactivate/")

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user).exists()


# --- authenticator secrets are sealed and rotate with the other keys -----------------------


def test_authenticator_secrets_are_encrypted_and_move_to_a_new_key():
    import io

    from allauth.mfa.models import Authenticator
    from cryptography.fernet import Fernet
    from django.core.management import call_command
    from django.test import override_settings

    from rapport.core import crypto
    from tests.factories import make_user

    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):
        user = make_user(role="therapist", mfa=True)
        stored = Authenticator.objects.get(user=user, type="totp").data["secret"]
        assert user.totp_secret not in stored
        assert crypto.decrypt(stored) == user.totp_secret

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        output = io.StringIO()
        call_command("rotate_encryption_keys", stdout=output)
        assert "mfa.Authenticator secrets: 1 value re-encrypted" in output.getvalue()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        rotated = Authenticator.objects.get(user=user, type="totp").data["secret"]
        assert rotated != stored
        assert crypto.decrypt(rotated) == user.totp_secret
        check = io.StringIO()
        call_command("rotate_encryption_keys", "--check", stdout=check)
        assert "mfa.Authenticator secrets: 1 value under the newest key, 0 stale" in (
            check.getvalue()
        )


def test_a_client_role_account_that_owns_a_therapist_profile_needs_a_second_factor(
    client, reference_data
):
    """Roles follow data: staff linked a profile to an account whose role stayed "client"."""
    from rapport.accounts.signin import requires_mfa
    from tests.factories import make_therapist

    owner = make_user(role="client")
    make_therapist(user=owner)
    client.force_login(owner)

    practice = client.get("/practice/")
    api = client.get("/api/v1/me")

    assert requires_mfa(owner)
    assert practice.status_code == 302
    assert practice["Location"] == TOTP_ACTIVATE_URL
    assert api.status_code == 403
    assert json.loads(api.content)["title"] == "Two-factor authentication required"
    assert not requires_mfa(make_user(role="client"))


def test_a_code_from_the_step_before_is_accepted_but_not_three_steps_before(client):
    user = make_user(role="client", email="kim@example.org", mfa=True)
    late, stale = Client(), Client()

    # Typed in the last seconds of its 30-second step, arriving in the next one. The clock
    # stands still, so the server's step cannot move on between making a code and checking it.
    moment = now()
    with clock_at(moment):
        sent = moment.timestamp()
        sign_in_with_code(late, "kim@example.org", totp_code(user.totp_secret, at=sent - 30))
        sign_in_with_code(stale, "kim@example.org", totp_code(user.totp_secret, at=sent - 90))

    assert late.session.get("_auth_user_id") == str(user.pk)
    assert "_auth_user_id" not in stale.session
