"""The check-in link in a request e-mail: it opens that one check-in without signing in.

Bound to one check-in and one purpose (the signing salt), carrying nothing but the check-in's
public id; it works while the check-in is open (at most ``settings.CARE_CHECK_IN_DAYS`` days).
A link forwarded or found in a browser's history can answer that check-in and nothing else:
it never shows earlier answers, goals, scores or the therapist's notes.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing

from rapport.care.models import CheckIn

_SALT = "rapport.care.check-in-link"


class BadCheckInToken(Exception):
    pass


def check_in_token_make(*, check_in: CheckIn) -> str:
    return signing.dumps({"c": check_in.public_id.hex}, salt=_SALT, compress=False)


def check_in_token_read(*, token: str) -> uuid.UUID:
    """The check-in's public id; BadCheckInToken when tampered with or older than a request
    can stay open."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=settings.CARE_CHECK_IN_DAYS * 24 * 3600)
        return uuid.UUID(hex=payload["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadCheckInToken("This link is not valid or has expired.") from error
