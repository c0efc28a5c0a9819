"""The questionnaire's answers, kept in the session before sign-up, become the account's fit
profile when the person signs up, or signs in to an account that has none yet (an account that
has one keeps it: answers typed while signed out never overwrite a saved profile).

Connected by ``privacy.register()``. The receivers only hand the checked answers to
``services.fit_profile_save``.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.contrib.auth.signals import user_logged_in

from rapport.accounts.models import User
from rapport.matching import services
from rapport.matching.models import FitProfile
from rapport.matching.session import session_answers


def _save_session_answers(request: Any, user: Any) -> None:
    session = getattr(request, "session", None)
    if session is None or not isinstance(user, User):
        return
    answers = session_answers(session)
    if answers is None or answers.is_empty:
        return
    if FitProfile.objects.filter(owner=user).exists():
        return
    services.fit_profile_save(owner=user, answers=answers)


def _on_signed_up(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    _save_session_answers(request, user)


def _on_logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    _save_session_answers(request, user)


def connect() -> None:
    user_signed_up.connect(_on_signed_up, dispatch_uid="rapport.matching.answers_on_sign_up")
    user_logged_in.connect(_on_logged_in, dispatch_uid="rapport.matching.answers_on_sign_in")
