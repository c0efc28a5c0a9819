"""Tampered or expired links and cookies: a clear answer, nothing leaked, nothing written."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client

from rapport.accounts.models import User
from tests.accounts.signin_helpers import RESET_URL, SIGNUP_URL, sign_in
from tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a completely different long passphrase"


def _reset_link(client: Client, email: str) -> str:
    client.post(RESET_URL, {"email": email})
    match = re.search(
        r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", str(mail.outbox[-1].body)
    )
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_a_tampered_password_reset_link_is_refused_and_changes_nothing():
    user = make_user(email="reset.me@example.org")
    client = Client()
    link = _reset_link(client, user.email)
    tampered = link[:-6] + ("x" if link[-6] != "x" else "y") + link[-5:]

    response = client.get(tampered, follow=True)
    page = response.content.decode()

    assert "The password reset link was invalid" in page
    assert 'name="password1"' not in page
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_a_reset_link_works_once_only():
    user = make_user(email="once@example.org")
    client = Client()
    link = _reset_link(client, user.email)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    again = Client().get(link, follow=True)
    assert "The password reset link was invalid" in again.content.decode()


def test_a_tampered_email_confirmation_key_confirms_nothing():
    client = Client()
    client.post(
        SIGNUP_URL,
        {
            "email": "confirm.me@example.org",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "consent": "on",
            **_shown_versions(),
        },
    )
    match = re.search(r"(/accounts/confirm-email/[^/\s]+/)", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    tampered = match.group(1)[:-3] + "zz/"

    opened = client.get(tampered)
    assert "This email confirmation link expired or is invalid" in opened.content.decode()
    assert client.post(tampered).status_code == 404
    assert not EmailAddress.objects.get(email="confirm.me@example.org").verified
    # Still unconfirmed, so signing in is not possible yet.
    fresh = Client()
    sign_in(fresh, "confirm.me@example.org", NEW_PASSWORD)
    assert "_auth_user_id" not in fresh.session


def test_a_forged_session_cookie_is_anonymous():
    user = make_user()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "forged" + "a" * 26
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert User.objects.get(pk=user.pk).last_login is None


def _shown_versions() -> dict[str, str]:
    # The sign-up form carries the document versions the person was shown.
    return {
        f"{kind}_version": version
        for kind, version in settings.CONSENT_VERSIONS.items()
        if kind in ("terms", "privacy")
    }
