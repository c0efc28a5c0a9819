"""Helpers shared by the sign-in, session, MFA and lockout tests."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING
from unittest import mock

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import Client
from django.utils import timezone

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

LOGIN_URL = "/accounts/login/"
SIGNUP_URL = "/accounts/signup/"
LOGOUT_URL = "/accounts/logout/"
RESET_URL = "/accounts/password/reset/"
CHANGE_PASSWORD_URL = "/accounts/password/change/"
MFA_AUTHENTICATE_URL = "/accounts/2fa/authenticate/"
TOTP_ACTIVATE_URL = "/accounts/2fa/totp/activate/"
REAUTHENTICATE_URL = "/accounts/reauthenticate/"
# A page only a signed-in person can open (allauth's e-mail settings).
PRIVATE_PAGE = "/accounts/email/"

WRONG_CREDENTIALS = "The email address and/or password you specified are not correct."

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
_NONCE = re.compile(r'nonce="[^"]*"')


def sign_in(
    client: Client, email: str, password: str, *, headers: dict[str, str] | None = None
) -> _MonkeyPatchedWSGIResponse:
    return client.post(LOGIN_URL, {"login": email, "password": password}, headers=headers)


def reauthenticate(client: Client, password: str) -> None:
    """Confirm the password again, as allauth asks before security settings change."""
    response = client.post(REAUTHENTICATE_URL, {"password": password})
    assert response.status_code == 302, response.content[:300]


def session_user_id(client: Client) -> str | None:
    """Who the client's session is signed in as, read from the server-side store."""
    key = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if key is None or not key.value:
        return None
    return SessionStore(session_key=key.value).load().get("_auth_user_id")


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The code an authenticator app shows now, computed with allauth's own HOTP helper."""
    counter = int(time.time() if at is None else at) // 30
    return format_hotp_value(hotp_value(secret, counter))


def comparable(html: bytes) -> str:
    """A page with its per-response CSRF token and CSP nonce blanked, so two responses can be
    compared."""
    page = _CSRF_INPUT.sub('name="csrfmiddlewaretoken" value=""', html.decode())
    return _NONCE.sub('nonce=""', page)


def link_in_last_mail() -> str:
    body = str(mail.outbox[-1].body)
    match = re.search(r"https?://testserver(/\S+)", body)
    assert match, body
    return match.group(1)


@contextlib.contextmanager
def clock_at(moment: dt.datetime) -> Iterator[None]:
    """Every clock the sign-in code reads (Django's, axes' and allauth's) shows ``moment``."""
    with (
        mock.patch("django.utils.timezone.now", return_value=moment),
        mock.patch("axes.handlers.proxy.now", return_value=moment),
        mock.patch("time.time", return_value=moment.timestamp()),
    ):
        yield


def now() -> dt.datetime:
    return timezone.now()
