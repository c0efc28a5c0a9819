"""``/api/v1/me``: the signed-in person's own account and data export."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.reauthentication import is_reauthentication_required
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from rapport.accounts.models import User
from rapport.accounts.selectors import account_export_data

router = Router(tags=["account"])


class AccountOut(Schema):
    email: str
    name: str
    role: str
    mfa_enabled: bool
    deletion_due_at: str | None


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the API's session auth guarantees a user
    return request.user


@router.get("", response=AccountOut, summary="Your account")
def me(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "mfa_enabled": is_mfa_enabled(user),
        "deletion_due_at": user.deletion_due_at.isoformat() if user.deletion_due_at else None,
    }


@router.get("/export", summary="Everything Rapport holds about you")
def export(request: HttpRequest) -> dict[str, Any]:
    # As on the page: a recent password confirmation, so a stolen session cookie alone does not
    # hand over a person's whole record.
    if is_reauthentication_required(request, app=""):
        raise HttpError(
            403, "Confirm your password at /accounts/reauthenticate/ first, then try again."
        )
    return account_export_data(user=_user(request))
