"""Fit answers and fit profiles for tests.

``fit_answers`` builds a FitAnswers through the one validator (``answers_from_data``), so a
test cannot start from answers the pages or the API would refuse; ``fit_profile`` stores them
for an account through the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rapport.matching import services, terms
from rapport.matching.answers import FitAnswers, Preference, Weight, answers_from_data
from rapport.matching.models import FitProfile
from tests.accounts.factories import make_user

DEFAULT_STORY = "I have felt on edge for months and I am not sleeping well."


def _document(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults plus overrides as an answers document. Overrides may be written as the
    document has them (lists, {"weight": 2, "values": [...]}) or as FitAnswers values
    (tuples, Preference, Weight)."""
    document: dict[str, Any] = {"story": DEFAULT_STORY, "concerns": ["anxiety"]}
    for name, value in overrides.items():
        if name == "preferences":
            value = {
                key: (
                    {"weight": int(raw.weight), "values": list(raw.values)}
                    if isinstance(raw, Preference)
                    else dict(raw)
                )
                for key, raw in value.items()
            }
        elif name == "style_weight" and isinstance(value, Weight):
            value = int(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        document[name] = value
    return document


def fit_answers(**overrides: Any) -> FitAnswers:
    """Valid answers: a short story and the "anxiety" concern, and no hard constraint (no
    place, budget, required language or way of meeting) unless overridden. Raises
    FitAnswersError for overrides the validator refuses. Needs the reference data."""
    return answers_from_data(_document(overrides), term_slugs=terms.active_slugs())


def fit_profile(*, owner: Any = None, **answers: Any) -> FitProfile:
    """A stored fit profile (``services.fit_profile_save``) for ``owner`` (a new client
    account when not given), with ``fit_answers(**answers)``."""
    return services.fit_profile_save(
        owner=owner or make_user(role="client"), answers=fit_answers(**answers)
    )
