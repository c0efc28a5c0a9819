"""Reads of matching's data."""

from __future__ import annotations

from rapport.matching import terms
from rapport.matching.answers import FitAnswers, answers_from_json
from rapport.matching.models import FitProfile


def fit_profile_answers(profile: FitProfile) -> FitAnswers:
    """The stored answers, with taxonomy terms retired since dropped."""
    return answers_from_json(profile.answers, term_slugs=terms.active_slugs())
