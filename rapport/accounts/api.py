"""``/api/v1/me``: the signed-in person's own account and data export."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.reauthentication import is_reauthentication_required
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import SessionAuth

from rapport.accounts.models import User
from rapport.accounts.selectors import account_export_data
from rapport.accounts.signin import has_second_factor, requires_mfa
from rapport.core.problems import SIGNED_IN_FAILURES, problem_openapi_responses

router = Router(tags=["account"])


class SecondFactorRequired(Exception):
    """A therapist or staff account without a second factor called a private endpoint."""


class SessionWithSecondFactor(SessionAuth):
    """The session sign-in of the API's private endpoints (with CSRF checks on unsafe methods).

    Therapists and staff need their second factor here, as on every page where other people's
    data lives. The rule sits in the authentication of private endpoints rather than on a URL
    prefix, so public endpoints (search, profiles, booking) stay open to everyone, signed in or
    not, and a new private endpoint is covered without anyone remembering a list.
    """

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and requires_mfa(user) and not has_second_factor(user):
            raise SecondFactorRequired
        return user


class AccountOut(Schema):
    email: str
    name: str
    role: str
    mfa_enabled: bool
    deletion_due_at: str | None


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the API's session auth guarantees a user
    return request.user


@router.get(
    "",
    response=AccountOut,
    summary="Your account",
    openapi_extra=problem_openapi_responses(SIGNED_IN_FAILURES),
)
def me(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "mfa_enabled": is_mfa_enabled(user),
        "deletion_due_at": user.deletion_due_at.isoformat() if user.deletion_due_at else None,
    }


@router.get(
    "/export",
    summary="Everything Rapport holds about you",
    openapi_extra=problem_openapi_responses(
        {
            **SIGNED_IN_FAILURES,
            403: (
                "The password was not confirmed recently (at /accounts/reauthenticate/), or "
                "two-factor authentication is required for therapist and staff accounts first"
            ),
        }
    ),
)
def export(request: HttpRequest) -> dict[str, Any]:
    # As on the page: a recent password confirmation, so a stolen session cookie alone does not
    # hand over a person's whole record.
    if is_reauthentication_required(request, app=""):
        raise HttpError(
            403, "Confirm your password at /accounts/reauthenticate/ first, then try again."
        )
    return account_export_data(user=_user(request))
