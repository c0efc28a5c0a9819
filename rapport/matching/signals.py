"""The questionnaire's answers, kept in the session while signed out, become the account's fit
profile when the person signs up or signs in, and the session's copy is forgotten (a signed-in
person's answers live in their profile only).

An account that already has a profile keeps it exactly as it is (``services.fit_profile_adopt``):
Django's sign-in keeps the signed-out session's data, so on a shared computer the copy may be
another person's answers. The copy is forgotten unused, and a message says so, with a link to
the person's own answers, so nothing is discarded without a word.

Connected by ``privacy.register()``. The receivers only hand the checked answers to the service.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.urls import reverse
from django.utils.html import format_html

from rapport.accounts.models import User
from rapport.matching import services
from rapport.matching.session import session_answers, session_answers_forget

# Messages may travel in a cookie, so they never repeat an answer; nor do they say whose the
# unused answers might have been.
KEPT_PROFILE_SAID = (
    "We kept your saved fit profile as it was. The fit questionnaire answers given in this "
    "browser before you signed in were not used, and have been cleared."
)


def _save_session_answers(request: Any, user: Any) -> None:
    session = getattr(request, "session", None)
    if session is None or not isinstance(user, User):
        return
    adopted = services.fit_profile_adopt(owner=user, answers=session_answers(session))
    session_answers_forget(session)
    if adopted is services.Adopted.KEPT_PROFILE:
        text = format_html(
            '{} <a href="{}">Review your answers</a>.',
            KEPT_PROFILE_SAID,
            reverse("matching:profile"),
        )
        messages.add_message(request, messages.INFO, text, fail_silently=True)


def _on_signed_up(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    _save_session_answers(request, user)


def _on_logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    _save_session_answers(request, user)


def connect() -> None:
    user_signed_up.connect(_on_signed_up, dispatch_uid="rapport.matching.answers_on_sign_up")
    user_logged_in.connect(_on_logged_in, dispatch_uid="rapport.matching.answers_on_sign_in")
