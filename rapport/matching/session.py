"""The questionnaire's answers of someone not signed in (or without a fit profile yet), kept in
their session until they sign up or sign in.

Only for someone signed out: a signed-in person's answers are their fit profile and nothing
else (a copy here could outlive a deleted profile and bring it back). Signing up or signing in
turns the copy into the profile and forgets it (``signals``); an account that already has a
profile keeps it, and the copy is forgotten unused (on a shared computer it may be someone
else's).

Sessions are rows in the database (Django's database backend), and these answers are health
data: the session holds them encrypted with the field-encryption keys (``core.crypto``), never
as readable JSON, and they are read back through the one validator."""

from __future__ import annotations

from typing import Any

from rapport.core import crypto
from rapport.matching import terms
from rapport.matching.answers import FitAnswers, FitAnswersError, answers_from_json

SESSION_KEY = "matching_answers"
# When the copy was last kept, written by earlier versions: nothing reads it now, and forgetting
# the copy removes it too.
_SESSION_KEPT_AT_KEY = "matching_answers_kept_at"


def session_answers_keep(session: Any, answers: FitAnswers) -> None:
    session[SESSION_KEY] = crypto.encrypt(answers.to_json())


def session_answers_forget(session: Any) -> None:
    session.pop(SESSION_KEY, None)
    session.pop(_SESSION_KEPT_AT_KEY, None)


def has_session_answers(session: Any) -> bool:
    answers = session_answers(session) if session is not None else None
    return answers is not None and not answers.is_empty


def session_answers(session: Any) -> FitAnswers | None:
    """The session's copy, or None. A copy naming a term retired since drops it (as a stored
    profile does); a copy that cannot be read (another key, tampered, not a fit profile) is
    ignored."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    try:
        return answers_from_json(crypto.decrypt(token), term_slugs=terms.active_slugs())
    except (
        crypto.UndecryptableValue,
        FitAnswersError,
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
    ):
        return None
