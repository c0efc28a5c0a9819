"""Accounts for tests: clients, therapists and staff, with a verified address and, when asked, an
activated authenticator app."""

from __future__ import annotations

import functools
import itertools
from typing import Any

from rapport.accounts.models import User

_user_counter = itertools.count(1)
TEST_PASSWORD = "a long test passphrase for rapport"


def _test_password_hash() -> str:
    from django.conf import settings

    # Per hasher: a test may switch to another (tests/accounts/test_lockout.py does).
    return _password_hash_by(settings.PASSWORD_HASHERS[0])


@functools.cache
def _password_hash_by(hasher_path: str) -> str:
    from django.contrib.auth.hashers import get_hashers_by_algorithm, make_password

    algorithm = next(
        name for name, hasher in get_hashers_by_algorithm().items()
        if f"{type(hasher).__module__}.{type(hasher).__name__}" == hasher_path
    )  # fmt: skip
    return make_password(TEST_PASSWORD, hasher=algorithm)


def make_user(
    *,
    role: str = "client",
    email: str | None = None,
    mfa: bool = False,
    permissions: tuple[str, ...] = (),
    verified_email: bool = True,
    **extra: Any,
) -> Any:  # a User, plus ``totp_secret`` when ``mfa=True``
    """An active account with TEST_PASSWORD; ``mfa=True`` activates a TOTP authenticator (the
    secret is kept on ``user.totp_secret`` for tests that need to compute codes)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.models import Permission

    number = next(_user_counter)
    address = email or f"{role}{number}@example.org"
    if role == "staff":
        extra.setdefault("is_staff", True)
    user = User.objects.create_user(address, None, role=role, **extra)
    # The real hasher (Argon2), run once per test session rather than once per account: it
    # takes a sixth of a second by design, and the suite makes thousands of accounts.
    user.password = _test_password_hash()
    User.objects.filter(pk=user.pk).update(password=user.password)
    if verified_email:
        EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    for label in permissions:
        app_label, codename = label.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    if mfa:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        user.totp_secret = secret  # type: ignore[attr-defined]
    # Permissions are cached per instance; hand back a fresh one.
    fresh: Any = User.objects.get(pk=user.pk)
    if mfa:
        fresh.totp_secret = user.totp_secret  # type: ignore[attr-defined]
    return fresh


def make_therapist_user(*, email: str | None = None, mfa: bool = False, **extra: Any) -> Any:
    """A therapist's account (no profile yet: see tests.directory.factories). Practice pages
    need ``mfa=True``: the second factor is required before they open."""
    return make_user(role="therapist", email=email, mfa=mfa, **extra)
