"""Outcomes: each early answer (or an engagement ended as not the right fit) recorded once,
encrypted, and added to the newest model version's running sums; the backfill of earlier
answers; and a person's outcomes in their export and when they delete their fit profile."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from rapport.accounts.models import User
from rapport.care import history
from rapport.care import selectors as care_selectors
from rapport.care.instruments.model import Direction
from rapport.care.models import CheckIn, CheckInPart, CheckInStatus, EndedFor, Engagement, Purpose
from rapport.care.signals import EARLY_SESSIONS
from rapport.core.privacy import iso_or_none
from rapport.directory.search.engine import SearchIndex, current_index
from rapport.matching import features, terms
from rapport.matching.answers import FitAnswers, answers_from_json
from rapport.matching.features import FEATURES
from rapport.matching.learning import statements
from rapport.matching.learning.stored import outcome_features_json, outcome_record_values
from rapport.matching.learning.versions import LockedVersion, locked_newest_model, sums_of
from rapport.matching.models import MatchOutcome
from rapport.matching.preference import pair_preference

# An engagement the client ended as not the right fit: a poor early outcome for that pair,
# about where the fit check's "Not a fit yet" band sits on the 0–1 scale.
MISFIT_ALLIANCE = 0.2

# The parts that are outcomes: every fit check, and alliance check-ins after sessions 1–3 (what
# care's signals read as early, ``care.signals.EARLY_SESSIONS``).
EARLY_PARTS = Q(purpose=Purpose.FIT) | Q(
    purpose=Purpose.ALLIANCE, check_in__after_session__in=EARLY_SESSIONS
)


def is_early_part(part: CheckInPart) -> bool:
    return part.purpose == Purpose.FIT or (
        part.purpose == Purpose.ALLIANCE and part.check_in.after_session in EARLY_SESSIONS
    )


def part_alliance(part: CheckInPart) -> float | None:
    """An answered part's total on 0–1: rescaled by the lowest and highest totals its
    instrument can give, flipped when the instrument says higher is worse. None when it has no
    total (unanswered, or too many items missing to score)."""
    value, _band = history.total_of(part.scores)
    if value is None:
        return None
    instrument = care_selectors.instrument_of(part.instrument)
    low, high = instrument.total.minimum, instrument.total.maximum
    if high <= low:
        return None
    share = min(max((float(value) - low) / (high - low), 0.0), 1.0)
    if instrument.norms is not None and instrument.norms.direction == Direction.HIGHER_IS_WORSE:
        share = 1.0 - share
    return share


def pair_inputs(
    *, answers: FitAnswers, therapist_id: int, index: SearchIndex | None = None
) -> np.ndarray:
    """The model's inputs for one (fit profile, therapist) pair, from the therapist's row of
    the search index; all zeros when the therapist is not in it (no longer listed): the
    outcome then still teaches the mean and the therapist's effect, and no coefficient."""
    index = index or current_index()
    rows, _found = index.locate(np.array([therapist_id], dtype=np.int64))
    if rows.size == 0:
        return np.zeros(len(FEATURES))
    return np.asarray(features.model_inputs(features.degrees(answers, index, rows))[0])


@dataclass(frozen=True)
class PairValues:
    """What an outcome records of its pair besides the answer."""

    inputs: np.ndarray
    preference: float | None  # the pair's preference score now; None when no longer listed


def _pair_values_of(engagement: Engagement, now: dt.datetime) -> PairValues | None:
    """The model's inputs and the preference score for the engagement's pair, from the
    client's fit profile as it is now; None when they have none (read first: the search index
    is only needed after it)."""
    stored = statements.fit_profile_answers(engagement.client_id)
    if stored is None:
        return None
    index = current_index()
    answers = answers_from_json(stored, term_slugs=terms.active_slugs(index))
    return PairValues(
        inputs=pair_inputs(answers=answers, therapist_id=engagement.therapist_id, index=index),
        preference=pair_preference(
            answers=answers, therapist_id=engagement.therapist_id, index=index, now=now
        ),
    )


def _record(
    *,
    pair: PairValues,
    alliance: float,
    therapist_id: int,
    now: dt.datetime,
    part: CheckInPart | None = None,
    engagement: Engagement | None = None,
) -> MatchOutcome:
    """Write one outcome and add it to the newest model's sums and the therapist's row, in
    one transaction with the model's row locked (so concurrent answers add up). A part or an
    engagement that already has its outcome (the one-to-one refuses a second) keeps it and
    nothing changes."""
    source = Q(check_in_part=part) if part is not None else Q(engagement=engagement)
    outcome = MatchOutcome(
        check_in_part=part,
        engagement=engagement,
        therapist_id=therapist_id,
        features=outcome_features_json(pair.inputs, pair.preference),
        alliance=json.dumps(alliance),
        recorded_at=now,
    )
    try:
        with transaction.atomic():
            model = locked_newest_model(now)
            batch = statements.Batch()
            statements.outcome_insert(batch, outcome, pk=model.next_outcome_id)
            _add_to_model(
                batch,
                model=model,
                inputs=pair.inputs,
                alliance=alliance,
                therapist_id=therapist_id,
            )
            batch.run()
    except IntegrityError:
        existing = MatchOutcome.objects.filter(source).first()
        if existing is None:
            raise
        return existing
    return outcome


def _add_to_model(
    batch: statements.Batch,
    *,
    model: LockedVersion,
    inputs: np.ndarray,
    alliance: float,
    therapist_id: int,
) -> None:
    """One outcome into the locked model's running sums and the therapist's row (written
    with ``batch``): the residual is taken against the shared part before this outcome
    joins it."""
    sums = sums_of(model)
    residual = sums.shared.add(inputs=inputs, alliance=alliance)
    # The wall clock, not ``now``: each process re-reads its cached state when it moves.
    statements.model_sums_save(
        batch,
        model_id=model.pk,
        parameters=sums.parameters(),
        updated_at=max(timezone.now(), model.created_at),
    )
    statements.effect_add(batch, model_id=model.pk, therapist_id=therapist_id, residual=residual)


def outcome_record(*, part: CheckInPart, now: dt.datetime) -> MatchOutcome | None:
    """An answered fit check or early alliance part becomes an outcome for its (client's fit
    profile, therapist) pair, once.

    Nothing is recorded (None) for another kind of part, an unscored one, or a client without
    a fit profile: without one there are no preferences, so nothing to learn about matching
    them (the therapist's effect could still learn, but the person never asked to be
    matched). Side effects: a ``MatchOutcome`` (features and alliance encrypted), the newest
    ``MatchModel``'s sums (version 1 from the priors when there is none) and the therapist's
    ``TherapistEffect`` row, in one transaction. Returns the part's outcome if it has one."""
    if not is_early_part(part):
        return None
    alliance = part_alliance(part)
    if alliance is None:
        return None
    # Whether the part already has its outcome is checked once, under the model's lock.
    engagement = part.check_in.engagement
    pair = _pair_values_of(engagement, now)
    if pair is None:
        return None
    return _record(
        pair=pair,
        alliance=alliance,
        therapist_id=engagement.therapist_id,
        now=now,
        part=part,
    )


def misfit_record(*, engagement: Engagement, now: dt.datetime) -> MatchOutcome | None:
    """An engagement the client ended as not the right fit, as an outcome of
    ``MISFIT_ALLIANCE`` (a poor early outcome) for the pair, once per engagement: a second call
    returns the first outcome and changes nothing. None when the engagement did not end that
    way or the client has no fit profile. Side effects as ``outcome_record``; runs inside the
    caller's transaction when there is one (``services.misfit_feedback_record``)."""
    if engagement.ended_for != EndedFor.NOT_THE_RIGHT_FIT:
        return None
    existing = MatchOutcome.objects.filter(engagement=engagement).first()
    if existing is not None:
        return existing
    pair = _pair_values_of(engagement, now)
    if pair is None:
        return None
    return _record(
        pair=pair,
        alliance=MISFIT_ALLIANCE,
        therapist_id=engagement.therapist_id,
        now=now,
        engagement=engagement,
    )


def check_in_answered(check_in: CheckIn, now: dt.datetime) -> None:
    """care's hook, after the answers are committed: each early part becomes an outcome."""
    parts = CheckInPart.objects.filter(EARLY_PARTS, check_in_id=check_in.pk).select_related(
        "check_in__engagement", "instrument"
    )
    for part in parts:
        outcome_record(part=part, now=now)


def outcomes_backfill(*, now: dt.datetime) -> int:
    """Record the outcomes missing so far (answers given before the client had a fit profile,
    or before matching existed: the demo's histories): every answered early part without one,
    and every engagement ended as not the right fit without one, of clients who have a fit
    profile now. Returns how many were recorded."""
    parts = (
        CheckInPart.objects.filter(
            EARLY_PARTS,
            check_in__status=CheckInStatus.COMPLETED,
            match_outcome__isnull=True,
            check_in__engagement__client__fit_profile__isnull=False,
        )
        .select_related("check_in__engagement", "instrument")
        .order_by("check_in__completed_at", "pk")
    )
    recorded = sum(1 for part in parts.iterator() if outcome_record(part=part, now=now))
    engagements = Engagement.objects.filter(
        ended_for=EndedFor.NOT_THE_RIGHT_FIT,
        misfit_outcome__isnull=True,
        client__fit_profile__isnull=False,
    ).order_by("ended_at", "pk")
    recorded += sum(
        1 for engagement in engagements.iterator() if misfit_record(engagement=engagement, now=now)
    )
    return recorded


def outcomes_of(*, user: User | None) -> QuerySet[MatchOutcome]:
    """The person's outcomes as a client: from their check-ins and ended engagements."""
    if user is None or user.pk is None:
        # "client is NULL" would match every outcome of the other source through the join.
        return MatchOutcome.objects.none()
    return MatchOutcome.objects.filter(
        Q(check_in_part__check_in__engagement__client=user) | Q(engagement__client=user)
    )


def outcomes_export(user: Any) -> list[dict[str, Any]]:
    """What the matcher learned from the person's answers, for their data export."""
    rows = []
    for outcome in (
        outcomes_of(user=user)
        .select_related("therapist", "check_in_part__check_in")
        .order_by("recorded_at", "pk")
    ):
        inputs, alliance, preference = outcome_record_values(outcome)
        if outcome.check_in_part is None:
            source = "engagement ended as not the right fit"
        elif outcome.check_in_part.purpose == Purpose.FIT:
            source = "fit check"
        else:
            source = (
                f"alliance check-in after session {outcome.check_in_part.check_in.after_session}"
            )
        rows.append(
            {
                "recorded_at": iso_or_none(outcome.recorded_at),
                "therapist": outcome.therapist.display_name,
                "source": source,
                "alliance_0_to_1": round(alliance, 4),
                "match_features": {
                    name: round(float(value), 4)
                    for name, value in zip(FEATURES, inputs, strict=True)
                },
                "preference_score_0_to_1": (
                    None if math.isnan(preference) else round(preference, 4)
                ),
            }
        )
    return rows


def outcomes_forget(*, user: User) -> int:
    """Delete the person's outcomes (for when they delete their fit profile, from which the
    features came). The model's sums keep their contribution, with no identity, until the
    next retrain. Returns how many went."""
    deleted, _ = outcomes_of(user=user).delete()
    return deleted
