"""Matching's part of a person's data export and of account deletion, and keeping the
questionnaire's answers when the person signs up or signs in (``signals``).

The export gives the fit profile as stored (the answers document, ``FitAnswers.to_data()``),
including taxonomy terms retired since: it is what Rapport holds, not what the pages still use.
"What did not fit" with past therapists is also given in words, as the profile page shows it.
"""

from __future__ import annotations

import json
from typing import Any

from rapport.core.housekeeping import register_housekeeping_step
from rapport.core.privacy import iso_or_none, register_erasure_step, register_export_section
from rapport.matching import services
from rapport.matching.answers import MISFIT_LABELS
from rapport.matching.models import FitProfile


def fit_profile_export(user: Any) -> dict[str, Any] | None:
    """The person's fit profile, or null when they have none."""
    profile = FitProfile.objects.filter(owner_id=user.pk).first()
    if profile is None:
        return None
    answers = json.loads(profile.answers) if profile.answers else {}
    known = {str(reason): label for reason, label in MISFIT_LABELS.items()}
    return {
        "id": str(profile.public_id),
        "answers": answers,
        "did_not_fit_in_words": [
            known.get(reason, reason) for reason in answers.get("did_not_fit", [])
        ],
        "created_at": iso_or_none(profile.created_at),
        "updated_at": iso_or_none(profile.updated_at),
    }


def fit_profile_erase(user: Any) -> None:
    """Delete the fit profile, and the record of which therapists the account was shown on a
    match list's first page today (``ExposureSeen``: a keyed hash of the day and the account,
    which whoever holds the site's secret can compute again, with those therapists' ids; kept
    until the day is over). The day's exposure counts name no one and stay; outcomes go with
    the care data they came from."""
    profile = FitProfile.objects.filter(owner_id=user.pk).first()
    if profile is not None:
        services.fit_profile_delete(profile=profile)  # forgets the exposure record too
    else:
        services.exposure_seen_forget(user_id=user.pk)


def register() -> None:
    """The export section, the erasure step, the daily purge of who was counted on past days'
    exposure, and the sign-up and sign-in receivers."""
    from rapport.matching import signals

    register_export_section("fit_profile", fit_profile_export)
    register_erasure_step("fit_profile", fit_profile_erase)
    register_housekeeping_step(
        "exposure records of past days deleted",
        lambda now: services.exposure_seen_purge(now=now),
    )
    signals.connect()
