"""Reads of matching's data."""

from __future__ import annotations

from dataclasses import replace

from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.care.models import EndedFor, Engagement
from rapport.care.selectors import client_engagements
from rapport.matching import terms
from rapport.matching.answers import FitAnswers, answers_from_json
from rapport.matching.misfits import misfit_settled
from rapport.matching.models import FitProfile


def fit_profile_answers(profile: FitProfile) -> FitAnswers:
    """The stored answers, with taxonomy terms retired since dropped, and of two opposite "what
    did not fit" answers stored before the rule held only the later (``misfits``)."""
    answers = answers_from_json(profile.answers, term_slugs=terms.active_slugs())
    settled = misfit_settled(answers.did_not_fit)
    return answers if settled == answers.did_not_fit else replace(answers, did_not_fit=settled)


def past_therapist_ids(*, user: User) -> frozenset[int]:
    """Therapists the person has had an engagement with (any status): a re-match leaves them
    out, and so does every list while the person has an engagement with them."""
    return frozenset(client_engagements(user=user).values_list("therapist_id", flat=True))


def misfit_engagements(*, user: User) -> QuerySet[Engagement]:
    """The person's engagements that ended as not the right fit, newest first."""
    return (
        Engagement.objects.filter(client=user, ended_for=EndedFor.NOT_THE_RIGHT_FIT)
        .select_related("therapist")
        .order_by("-ended_at", "-pk")
    )
