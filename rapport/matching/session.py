"""The questionnaire's answers of someone not signed in (or without a fit profile yet): kept in
their session as the ``FitAnswers.to_data()`` document, read back through the validator."""

from __future__ import annotations

import json
from typing import Any

from rapport.matching import terms
from rapport.matching.answers import FitAnswers, FitAnswersError, answers_from_json

SESSION_KEY = "matching_answers"


def session_answers(session: Any) -> FitAnswers | None:
    """The session's copy, or None. A copy naming a term retired since drops it (as a stored
    profile does); a copy that is not a fit profile at all is ignored."""
    document = session.get(SESSION_KEY)
    if not isinstance(document, dict):
        return None
    try:
        return answers_from_json(json.dumps(document), term_slugs=terms.active_slugs())
    except (FitAnswersError, TypeError, ValueError, KeyError, AttributeError):
        return None
