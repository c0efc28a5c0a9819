"""Rapport's sign-in rules, plugged into django-allauth and django-axes where they ask for them.

- Who must use a second factor (``requires_mfa``), and the allauth MFA adapter that stops those
  people from switching their last one off.
- One rule for "which address is the client" (``client_ip_address``), shared by allauth's rate
  limits, its session list, axes and the audit log, so that no part can be fooled by a header
  another part ignores.
- What axes counts as "the same account" (``lockout_username``) and the page it shows
  (``lockout_response``).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from rapport.accounts.models import Role
from rapport.core import crypto
from rapport.core.audit import request_client_address

# Kinds of authenticator that are a second factor by themselves (recovery codes only back one
# up, and allauth deletes them when the last real one goes).
SECOND_FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

# axes keeps the username in a 255-character column; a longer value cannot be an address.
_LOCKOUT_USERNAME_MAX_LENGTH = 254


def requires_mfa(user: object) -> bool:
    """Therapists and staff see other people's health data, so a password alone is not enough
    for them. What an account can do counts, not only its role: is_staff/is_superuser, any
    permission at all (a client-role account given the licence-review permission in the admin
    reviews licences like staff, so it needs the same second factor), and owning a therapist
    profile."""
    if not getattr(user, "is_authenticated", False):
        return False
    if (
        getattr(user, "role", None) in (Role.THERAPIST, Role.STAFF)
        or getattr(user, "is_staff", False)
        or getattr(user, "is_superuser", False)
    ):
        return True
    get_all_permissions = getattr(user, "get_all_permissions", None)
    if get_all_permissions and get_all_permissions():
        return True
    # Roles follow data: whoever owns a therapist profile sees their clients' data, however the
    # link was made (staff can link a profile to a client-role account in the admin). The
    # reverse relation is read by name, so accounts need not import the directory.
    return hasattr(user, "therapist_profile")


def has_second_factor(user: AbstractBaseUser) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTOR_TYPES).exists()


# Where a therapist lands after signing in: their own profile, which starts a listing for a new
# account and resumes the first unfinished onboarding step of a draft. A path, not a URL name:
# accounts sit below the directory that serves it (tests check the two agree).
THERAPIST_LANDING_PATH = "/practice/profile/"


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # A ?next= the person followed still wins (allauth checks it before asking here).
        if getattr(request.user, "role", None) == Role.THERAPIST:
            return THERAPIST_LANDING_PATH
        return str(super().get_login_redirect_url(request))

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's own reading of X-Forwarded-For fails with a server error when a request
        # carries fewer entries than declared proxies; the site-wide rule falls back to
        # REMOTE_ADDR instead, and is the one axes and the audit log use.
        address = request_client_address(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address.")
        return address


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": (
            "Therapist and staff accounts must keep two-factor authentication switched on."
        ),
    }

    # Authenticator secrets (the TOTP key, the recovery-code seed) are sealed with the same
    # rotatable keys as health data: a copy of the database alone must not let anyone mint
    # second-factor codes for staff. `rapport rotate_encryption_keys` moves them too
    # (AuthenticatorSecrets below).
    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Someone who must use a second factor cannot remove their last one (the page says
        so); moving to a new phone means scanning the same secret again, or staff resetting it."""
        if authenticator.type not in SECOND_FACTOR_TYPES:
            return True
        if not requires_mfa(authenticator.user):
            return True
        others = (
            Authenticator.objects.filter(
                user_id=authenticator.user_id, type__in=SECOND_FACTOR_TYPES
            )
            .exclude(pk=authenticator.pk)
            .exists()
        )
        return others


# --- django-axes ----------------------------------------------------------------------------


def client_ip_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the same client address allauth's rate limits use."""
    return request_client_address(request)


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the address being signed in to, in one canonical form.

    allauth calls ``authenticate(email=...)``, Django's admin posts ``username``, axes itself
    passes ``{"login": user.email}`` after a success, and before authentication only the
    posted ``login`` field is known; all of them must land on the same lockout record, so the
    value is NFKC-normalised, trimmed and lower-cased the way the sign-in form does it.
    """
    value: object = None
    if credentials:
        value = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if not value and request is not None:
        data = getattr(request, "POST", {})
        value = data.get("login") or data.get("username")
    if not isinstance(value, str) or not value.strip():
        return None
    canonical = unicodedata.normalize("NFKC", value[: _LOCKOUT_USERNAME_MAX_LENGTH * 4])
    return canonical.strip().lower()[:_LOCKOUT_USERNAME_MAX_LENGTH]


def lockout_ends_at(request: HttpRequest, credentials: dict[str, Any] | None) -> dt.datetime:
    """When the pause for this address-and-client pair ends: the cool-off counted from the
    last failure (attempts while locked out are not recorded, so they do not extend it)."""
    cool_off = get_cool_off(request) or dt.timedelta(minutes=settings.LOCKOUT_COOL_OFF_MINUTES)
    latest = AccessAttempt.objects.filter(
        username=lockout_username(request, credentials),
        ip_address=client_ip_address(request),
    ).aggregate(latest=Max("attempt_time"))["latest"]
    return (latest or timezone.now()) + cool_off


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a 429 page (or problem+json) that says when to try again.

    It never says whether the address has an account: unknown addresses lock the same way.
    """
    seconds_left = max(0, (lockout_ends_at(request, credentials) - timezone.now()).total_seconds())
    minutes_left = max(1, math.ceil(seconds_left / 60))
    detail = (
        "Too many failed sign-in attempts. For your security, signing in to this account from "
        f"here is paused. Please try again in {minutes_left} "
        f"minute{'s' if minutes_left != 1 else ''}."
    )
    status = settings.AXES_HTTP_RESPONSE_CODE
    response: HttpResponse
    if request.path.startswith("/api/") or request.headers.get("Accept") == "application/json":
        response = JsonResponse(
            {
                "type": "about:blank",
                "title": "Too many requests",
                "status": status,
                "detail": detail,
            },
            status=status,
            content_type="application/problem+json",
        )
    else:
        response = render(
            request,
            settings.AXES_LOCKOUT_TEMPLATE,
            {
                "detail": detail,
                "minutes_left": minutes_left,
                "cool_off_minutes": settings.LOCKOUT_COOL_OFF_MINUTES,
            },
            status=status,
        )
    response["Retry-After"] = str(math.ceil(seconds_left) or 1)
    response["Cache-Control"] = "no-store"
    return response


# --- authenticator secrets under key rotation ------------------------------------------------

_SEALED_KEYS = ("secret", "seed")  # what allauth's TOTP and recovery codes keep encrypted


class AuthenticatorSecrets(crypto.ExtraSecrets):
    label = "mfa.Authenticator secrets"

    def count(self) -> tuple[int, int, int]:
        tally = crypto.KeyTally()
        for data in Authenticator.objects.values_list("data", flat=True).iterator():
            for key in _SEALED_KEYS:
                token = (data or {}).get(key)
                if isinstance(token, str):
                    tally.add(token)
        return tally.as_tuple()

    def rotate(self) -> int:
        from django.db import transaction

        rewritten = 0
        with transaction.atomic():
            for authenticator in Authenticator.objects.select_for_update().order_by("pk"):
                data = dict(authenticator.data or {})
                changed = False
                for key in _SEALED_KEYS:
                    token = data.get(key)
                    if isinstance(token, str) and not crypto.is_under_newest_key(token):
                        data[key] = crypto.rotate(token)
                        changed = True
                        rewritten += 1
                if changed:
                    authenticator.data = data
                    authenticator.save(update_fields=["data"])
        return rewritten
