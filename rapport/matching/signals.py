"""The questionnaire's answers, kept in the session while signed out, become the account's fit
profile when the person signs up or signs in, and the session's copy is forgotten (a signed-in
person's answers live in their profile only).

An account that already has a profile keeps the newer answers (``services.fit_profile_adopt``):
the ones typed while signed out when they are newer than the profile's last change, else the
profile. Either way a message says which were kept, so nothing is discarded without a word.

Connected by ``privacy.register()``. The receivers only hand the checked answers to the service.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in

from rapport.accounts.models import User
from rapport.matching import services
from rapport.matching.session import (
    session_answers,
    session_answers_forget,
    session_answers_kept_at,
)

# Messages may travel in a cookie, so they never repeat an answer.
SAID = {
    services.Adopted.REPLACED: (
        messages.INFO,
        "The fit questionnaire answers you gave before signing in were newer than your saved "
        "fit profile, so they replaced it. Your fit profile page shows them.",
    ),
    services.Adopted.KEPT_PROFILE: (
        messages.INFO,
        "Your saved fit profile was changed more recently than the answers you gave before "
        "signing in, so we kept your saved profile and did not use those answers.",
    ),
}


def _save_session_answers(request: Any, user: Any) -> None:
    session = getattr(request, "session", None)
    if session is None or not isinstance(user, User):
        return
    adopted = services.fit_profile_adopt(
        owner=user, answers=session_answers(session), kept_at=session_answers_kept_at(session)
    )
    session_answers_forget(session)
    if adopted in SAID:
        level, text = SAID[adopted]
        messages.add_message(request, level, text, fail_silently=True)


def _on_signed_up(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    _save_session_answers(request, user)


def _on_logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    _save_session_answers(request, user)


def connect() -> None:
    user_signed_up.connect(_on_signed_up, dispatch_uid="rapport.matching.answers_on_sign_up")
    user_logged_in.connect(_on_logged_in, dispatch_uid="rapport.matching.answers_on_sign_in")
