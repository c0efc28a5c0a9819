"""Session bookkeeping around sign-in events.

These receivers keep sessions honest; they hold no business rules (those live in services.py).
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.usersessions.models import UserSession
from axes.utils import reset as reset_lockouts
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from rapport.accounts.middleware import start_session_clock
from rapport.accounts.models import User
from rapport.accounts.signin import lockout_username


@receiver(user_logged_in, dispatch_uid="rapport.accounts.start_session_clock")
def _start_session_clock(
    sender: Any, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    # Django has already given the session a new key (login() cycles it); the idle and
    # absolute limits count from here.
    if request is not None and hasattr(request, "session"):
        start_session_clock(request.session)


@receiver(password_changed, dispatch_uid="rapport.accounts.end_sessions_on_password_change")
@receiver(password_set, dispatch_uid="rapport.accounts.end_sessions_on_password_set")
def _end_other_sessions(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    """A new password ends every other session of the account on the server at once.

    Django would also refuse those sessions lazily (their password hash no longer matches),
    but only when each is next used; deleting them means a stolen session cookie is dead the
    moment the owner changes the password, and the session list shows the truth. The session
    that made the change is kept (ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False).
    """
    _end_sessions_except(request, user)


@receiver(password_reset, dispatch_uid="rapport.accounts.after_password_reset")
def _after_password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    # The request resetting the password is not signed in to the account, so this ends all
    # of its sessions.
    _end_sessions_except(request, user)
    # Whoever reset the password proved they hold the mailbox; a lockout left from the attack
    # that prompted the reset must not keep them out.
    reset_lockouts(username=lockout_username(None, {"email": user.email}))


def _end_sessions_except(request: HttpRequest, user: User) -> None:
    current = getattr(getattr(request, "session", None), "session_key", None)
    for session in UserSession.objects.filter(user_id=user.pk).exclude(session_key=current):
        session.end()
