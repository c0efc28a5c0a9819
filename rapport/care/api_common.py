"""What care's API routers share: strict input bodies, the signed-in user, ids from the path."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest
from ninja import Schema
from pydantic import ConfigDict

from rapport.accounts.models import User


class StrictIn(Schema):
    # An unknown field is a mistake in the caller (a misspelt "goals"), never something to drop.
    model_config = ConfigDict(extra="forbid")


def request_user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the API's session auth guarantees a user
    return request.user


def public_id(raw: str, what: str) -> uuid.UUID:
    """The id in the path; a malformed one is as unknown as someone else's: the same 404."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise Http404(f"No such {what}.") from None
