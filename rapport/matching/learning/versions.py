"""The learned model's stored versions: the newest one locked for an update, a retrain into a
new version (by hand or once a day by housekeeping), and the state ranking reads, cached per
process (``current_model``)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.matching.features import FEATURES
from rapport.matching.learning import statements
from rapport.matching.learning.model import ModelState, ModelSums, fit, prior_state
from rapport.matching.learning.stored import outcome_record_values
from rapport.matching.models import MatchModel, MatchOutcome, TherapistEffect

_cache_lock = threading.Lock()
# (the newest model's (version, updated_at), or None without one; its state)
_cached: tuple[tuple[int, dt.datetime] | None, ModelState, float] | None = None
# Answers move the newest version's sums all the time; re-reading every therapist's effect after
# each one would make some ranking request pay for it every time. A new version (a retrain) is
# read at once; newer sums of the same version at most this often per process.
MODEL_MAX_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class LockedVersion:
    """What an update needs of the newest version, its row locked: id, creation time, sums."""

    pk: int
    created_at: dt.datetime
    parameters: dict[str, Any]
    # The next outcome's id, drawn with the lock where that saves a round trip (PostgreSQL).
    next_outcome_id: int | None = None


def locked_newest_model(now: dt.datetime) -> LockedVersion:
    """The newest version, its row locked until the transaction ends (concurrent updates
    wait, so none is lost); version 1 from the priors when there is none yet."""
    row = statements.newest_model_locked()
    if row is not None:
        return LockedVersion(*row)
    try:
        with transaction.atomic():
            model = MatchModel.objects.create(
                version=1,
                parameters=ModelSums().parameters(),
                trained_on=0,
                created_at=now,
                updated_at=max(now, timezone.now()),
            )
    except IntegrityError:  # another process made it first
        model = MatchModel.objects.select_for_update().get(version=1)
    return LockedVersion(pk=model.pk, created_at=model.created_at, parameters=model.parameters)


def sums_of(model: MatchModel | LockedVersion) -> ModelSums:
    """A stored version's running sums (its therapists' rows are read separately), with its
    features put in today's order (``ModelSums.from_parameters``)."""
    return ModelSums.from_parameters(model.parameters)


def model_retrain(*, now: dt.datetime) -> MatchModel:
    """A new model version from every stored outcome (``fit``): the ridge, σ² and τ² by the
    method of moments, fresh ``TherapistEffect`` rows against the new shared part, and the
    learned part's weight from the outcomes that recorded their preference score.

    Outcomes deleted since the last version (a person's erasure) are gone from the new one:
    the running sums of older versions may still hold their contribution, as aggregates with
    no identity, until this runs. The newest model's row stays locked meanwhile, so no answer
    is added to a version about to be replaced. Older versions keep their parameters; only
    the newest two keep their therapists' rows."""
    with transaction.atomic():
        newest = MatchModel.objects.select_for_update().order_by("-version").first()
        outcomes = list(MatchOutcome.objects.only("therapist_id", "features", "alliance"))
        inputs = np.zeros((len(outcomes), len(FEATURES)))
        alliances = np.zeros(len(outcomes))
        preferences = np.zeros(len(outcomes))
        therapist_ids = np.zeros(len(outcomes), dtype=np.int64)
        for position, outcome in enumerate(outcomes):
            inputs[position], alliances[position], preferences[position] = outcome_record_values(
                outcome
            )
            therapist_ids[position] = outcome.therapist_id
        sums = fit(inputs, alliances, therapist_ids, preferences=preferences)
        model = MatchModel.objects.create(
            version=newest.version + 1 if newest else 1,
            parameters=sums.parameters(),
            trained_on=len(outcomes),
            created_at=now,
            updated_at=max(now, timezone.now()),
        )
        TherapistEffect.objects.bulk_create(
            (
                TherapistEffect(model=model, therapist_id=therapist_id, count=n, residual_sum=s)
                for therapist_id, (n, s) in sorted(sums.effects.items())
            ),
            batch_size=1000,
        )
        if newest is not None:
            TherapistEffect.objects.filter(model__version__lt=newest.version).delete()
    return model


RETRAIN_EVERY = dt.timedelta(hours=24)


def model_retrain_if_due(*, now: dt.datetime) -> int:
    """The housekeeping step: retrain once a day when answers were added since the last
    retrain (a refit learns faster than the per-answer sums, which keep the prior variances:
    docs/matching.md). Safe from several machines at once: the newest version stays locked while
    deciding, so a second machine finds the fresh version and does nothing. Returns 1 when it
    retrained, else 0."""
    with transaction.atomic():
        newest = MatchModel.objects.select_for_update().order_by("-version").first()
        if newest is None or now - newest.created_at < RETRAIN_EVERY:
            return 0
        if int(newest.parameters.get("count", 0)) <= newest.trained_on:
            return 0  # nothing answered since
        model_retrain(now=now)
    return 1


def current_model() -> ModelState:
    """The newest model version as ranking reads it, cached in this process: one query (the
    newest row's version and update time) decides whether to read it again. A new version is
    read at once; answers recorded under the same version are followed within
    ``MODEL_MAX_AGE_SECONDS``. With no version yet: the priors (version 0)."""
    global _cached
    stamp = MatchModel.objects.order_by("-version").values_list("version", "updated_at").first()
    key = (stamp[0], stamp[1]) if stamp is not None else None

    def fresh(cached: tuple[tuple[int, dt.datetime] | None, ModelState, float] | None) -> bool:
        if cached is None:
            return False
        if cached[0] == key:
            return True
        same_version = cached[0] is not None and key is not None and cached[0][0] == key[0]
        return same_version and time.monotonic() - cached[2] < MODEL_MAX_AGE_SECONDS

    cached = _cached
    if cached is not None and fresh(cached):
        return cached[1]
    with _cache_lock:
        cached = _cached
        if cached is not None and fresh(cached):
            return cached[1]
        state = prior_state() if stamp is None else _state_of_version(stamp[0])
        _cached = (key, state, time.monotonic())
    return state


def model_cache_clear() -> None:
    """Forget this process's cached state (tests that rewrite rows in place)."""
    global _cached
    with _cache_lock:
        _cached = None


def _state_of_version(version: int) -> ModelState:
    model = MatchModel.objects.filter(version=version).first()
    if model is None:  # replaced meanwhile: the newest then
        model = MatchModel.objects.order_by("-version").first()
    if model is None:
        return prior_state()
    sums = sums_of(model)
    rows = np.array(
        TherapistEffect.objects.filter(model=model)
        .order_by("therapist_id")
        .values_list("therapist_id", "count", "residual_sum"),
        dtype=np.float64,
    ).reshape(-1, 3)
    return sums.state_with(
        version=model.version,
        effect_ids=rows[:, 0].astype(np.int64),
        effect_counts=rows[:, 1].astype(np.int64),
        effect_sums=rows[:, 2].copy(),
    )
