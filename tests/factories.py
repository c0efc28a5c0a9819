"""Small builders for test data: real rows through the ORM, with overridable defaults."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from rapport.accounts.models import User
from rapport.directory.models import (
    Designation,
    Licence,
    Office,
    Regulator,
    TherapistProfile,
    VerificationStatus,
)

_counter = itertools.count(1)


def load_reference_data() -> None:
    """Taxonomies and credentials, as `rapport seed` loads them."""
    call_command("loaddata", "taxonomies", "credentials", verbosity=0)


def make_therapist(**overrides: Any) -> TherapistProfile:
    """A verified, listed, accepting therapist in Toronto unless told otherwise.

    Needs the credentials fixture (call ``load_reference_data`` first).
    """
    number = next(_counter)
    now = timezone.now()
    fields: dict[str, Any] = {
        "display_name": f"Test Therapist {number:04d}",
        "practice_start_year": 2012,
        "designation": Designation.objects.get(code="RP"),
        "verification_status": VerificationStatus.VERIFIED,
        "verification_decided_at": now - dt.timedelta(days=90),
        "fee_minor": 15000,
        "currency": "CAD",
        "time_zone": "America/Toronto",
        "offers_video": True,
        "accepting_new_clients": True,
        "accepting_confirmed_at": now - dt.timedelta(days=2),
        "is_listed": True,
    }
    fields.update(overrides)
    therapist = TherapistProfile.objects.create(**fields)
    Licence.objects.create(
        therapist=therapist,
        jurisdiction_id="CA-ON",
        designation=therapist.designation,
        regulator=Regulator.objects.get(jurisdiction_id="CA-ON", abbreviation="CRPO"),
        number=f"{10000 + number}",
    )
    return therapist


def make_office(therapist: TherapistProfile, **overrides: Any) -> Office:
    fields: dict[str, Any] = {
        "therapist": therapist,
        "street_address": "100 Queen St W",
        "city": "Toronto",
        "jurisdiction_id": "CA-ON",
        "postal_code": "M5H 2N2",
        "latitude": 43.6534,
        "longitude": -79.3841,
        "time_zone": "America/Toronto",
    }
    fields.update(overrides)
    return Office.objects.create(**fields)


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
