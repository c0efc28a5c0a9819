"""Reads of accounts and privacy data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from rapport.accounts.models import Consent, User
from rapport.core.privacy import export_sections, iso_or_none

EXPORT_FORMAT_VERSION = 1


def consent_is_current(*, user: User, kind: str) -> bool:
    """Whether the person has a live consent to the current version of ``kind``."""
    return Consent.objects.filter(
        user=user,
        kind=kind,
        version=settings.CONSENT_VERSIONS[kind],
        withdrawn_at__isnull=True,
    ).exists()


def consents_of(*, user: User) -> QuerySet[Consent]:
    return Consent.objects.filter(user=user).order_by("-given_at")


def account_export_data(*, user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything Rapport holds about ``user``, as JSON-ready data.

    Each app adds its own section (see rapport.core.privacy); accounts adds the account itself,
    e-mail addresses, sign-in methods (never their secrets) and consents.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.models import UserSession

    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": (now or timezone.now()).isoformat(),
        "account": {
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "joined_at": iso_or_none(user.date_joined),
            "last_sign_in_at": iso_or_none(user.last_login),
            "deletion_requested_at": iso_or_none(user.deletion_requested_at),
            "deletion_due_at": iso_or_none(user.deletion_due_at),
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "sign_in_methods": [
            {
                "type": authenticator.type,
                "created_at": iso_or_none(authenticator.created_at),
                "last_used_at": iso_or_none(authenticator.last_used_at),
            }
            for authenticator in Authenticator.objects.filter(user=user).order_by("created_at")
        ],
        "signed_in_devices": [
            {
                "ip_address": session.ip,
                "browser": session.user_agent,
                "signed_in_at": iso_or_none(session.created_at),
                "last_seen_at": iso_or_none(session.last_seen_at),
            }
            for session in UserSession.objects.filter(user=user).order_by("created_at")
        ],
        "consents": [
            {
                "kind": consent.kind,
                "version": consent.version,
                "given_at": iso_or_none(consent.given_at),
                "withdrawn_at": iso_or_none(consent.withdrawn_at),
            }
            for consent in consents_of(user=user)
        ],
    }
    for name, section in export_sections().items():
        data[name] = section(user)
    return data


def verified_addresses_of(*, user: User) -> list[str]:
    """The e-mail addresses ``user`` has proved they own, lower-case: what links records made
    before they had an account (a consultation booked with the address) to them."""
    return sorted(
        {
            address.lower()
            for address in EmailAddress.objects.filter(user=user, verified=True).values_list(
                "email", flat=True
            )
        }
    )


def user_has_verified_primary_address(*, user: User, address: str) -> bool:
    """Whether ``address`` (any case) is the user's own confirmed primary e-mail address."""
    return EmailAddress.objects.filter(
        user=user, primary=True, verified=True, email__iexact=address.strip()
    ).exists()
