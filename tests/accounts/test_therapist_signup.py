"""The therapist's way in: the same sign-up with "I am a therapist" ticked, e-mail verification,
then the second factor before any practice page, then their own profile to start."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from rapport.accounts.middleware import AFTER_SECOND_FACTOR
from rapport.accounts.models import User
from rapport.accounts.services import account_become_therapist
from rapport.accounts.signin import THERAPIST_LANDING_PATH
from tests.accounts.signin_helpers import (
    SIGNUP_URL,
    TOTP_ACTIVATE_URL,
    link_in_last_mail,
    reauthenticate,
    sign_in,
    totp_code,
)
from tests.accounts.test_signin import PASSPHRASE, signup_data
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_the_landing_path_is_the_directorys_profile_page():
    assert reverse("directory:practice_profile") == THERAPIST_LANDING_PATH


def test_the_sign_up_page_offers_the_therapist_choice(client):
    page = client.get(SIGNUP_URL).content.decode()
    assert 'name="is_therapist"' in page
    assert "I am a therapist and want to list my practice" in page


def test_a_therapist_signs_up_verifies_sets_a_second_factor_and_reaches_their_profile(client):
    response = client.post(SIGNUP_URL, signup_data(email="rae@example.org", is_therapist="on"))
    assert response.status_code == 302
    user = User.objects.get(email="rae@example.org")
    assert user.role == "therapist"
    assert not EmailAddress.objects.get(user=user).verified

    # Unverified: signing in only re-sends the link.
    confirm_path = link_in_last_mail()
    assert client.get(confirm_path).status_code == 200
    assert client.post(confirm_path).status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    signed_in = sign_in(client, "rae@example.org", PASSPHRASE)
    assert signed_in["Location"] == THERAPIST_LANDING_PATH

    # No second factor yet: every practice page sends them to set one up first.
    blocked = client.get(THERAPIST_LANDING_PATH)
    assert blocked["Location"] == TOTP_ACTIVATE_URL
    assert client.session[AFTER_SECOND_FACTOR] == THERAPIST_LANDING_PATH

    if client.get(TOTP_ACTIVATE_URL)["Location"].startswith("/accounts/reauthenticate/"):
        reauthenticate(client, PASSPHRASE)
    client.get(TOTP_ACTIVATE_URL)
    secret = client.session["mfa.totp.secret"]
    activated = client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})
    # The end of the set-up goes back to where they were going (the recovery codes are linked
    # from a message there: tests/accounts/test_create_staff.py).
    assert activated["Location"] == THERAPIST_LANDING_PATH

    # A therapist without a profile yet is asked to start one.
    assert client.get(THERAPIST_LANDING_PATH)["Location"] == reverse(
        "directory:practice_profile_start"
    )
    assert client.get(reverse("directory:practice_profile_start")).status_code == 200


def test_a_client_sign_up_stays_a_client_and_has_no_practice(client):
    client.post(SIGNUP_URL, signup_data(email="sam@example.org"))
    user = User.objects.get(email="sam@example.org")
    assert user.role == "client"
    client.post(link_in_last_mail())
    signed_in = sign_in(client, "sam@example.org", PASSPHRASE)
    assert signed_in["Location"] != THERAPIST_LANDING_PATH
    assert client.get(THERAPIST_LANDING_PATH).status_code == 404
    assert client.get(reverse("directory:practice_profile_start")).status_code == 404
    assert len(mail.outbox) == 1


def test_a_refused_therapist_sign_up_makes_no_account(client):
    response = client.post(
        SIGNUP_URL, signup_data(email="rae@example.org", is_therapist="on", consent="")
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="rae@example.org").exists()


def test_staff_accounts_cannot_be_turned_into_therapists():
    staff = make_user(role="staff", email="staff@example.org", is_staff=True)
    with pytest.raises(ValueError, match="Only a client account"):
        account_become_therapist(user=staff)
    staff.refresh_from_db()
    assert staff.role == "staff"
