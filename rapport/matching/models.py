"""Matching's data: fit profiles, the outcomes the ranking learns from, the learned model's
versions, and how often each therapist is shown.

The learned model (``learning``) is ``alliance ≈ mean + Σ coefficient × feature + therapist
effect``; ``MatchModel`` holds one trained version's parameters and its running sums,
``TherapistEffect`` each therapist's running sums under that version.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rapport.core.fields import EncryptedTextField
from rapport.directory.models import TherapistProfile


class FitProfile(models.Model):
    """A person's fit questionnaire answers (``answers.FitAnswers`` as encrypted JSON).

    One per account: the questionnaire edits it, booking may share it, deletion removes it.
    Before sign-up the answers live in the session only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fit_profile"
    )
    answers = EncryptedTextField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(updated_at__gte=F("created_at")),
                name="matching_fitprofile_updated_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"Fit profile {self.public_id}"


class MatchOutcome(models.Model):
    """One early-alliance answer (a fit check or an alliance check-in after sessions 1–3) as an
    outcome for a (client's fit profile, therapist) pair; or, with ``engagement`` instead of a
    check-in part, an engagement the client ended as not the right fit (once per engagement).

    ``features`` are the match features at the time (``learning.FEATURES``, zero for every
    preference the client did not choose to match on) and ``alliance`` the answer's total on a
    0–1 scale: both derived from what the client answered, so both encrypted. Deleted with the
    check-in part it came from (and so with the client's care data)."""

    check_in_part = models.OneToOneField(
        "care.CheckInPart",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="match_outcome",
    )
    engagement = models.OneToOneField(
        "care.Engagement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="misfit_outcome",
    )
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="match_outcomes"
    )
    features = EncryptedTextField()
    alliance = EncryptedTextField()
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(check_in_part__isnull=False, engagement__isnull=True)
                | Q(check_in_part__isnull=True, engagement__isnull=False),
                name="matching_outcome_from_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"Outcome {self.pk}"


class MatchModel(models.Model):
    """One version of the learned component. The newest row is the one ranking uses; a
    retrain writes a new row (``rapport retrain_matcher``) and each answer updates the newest
    row's sums (``learning.outcome_record``)."""

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField()
    # {"features": [...], "mean": float, "noise_variance": float, "effect_variance": float,
    #  "ridge": float, "xtx": [[...]], "xty": [...], "count": int, "sum_y": float}
    parameters = models.JSONField()
    trained_on = models.PositiveIntegerField(default=0)  # outcomes at the (re)train
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Matching model v{self.version}"


class TherapistEffect(models.Model):
    """A therapist's running sums under one model version: how many outcomes, and the sum of
    their residuals (answer minus what the shared part predicted)."""

    model = models.ForeignKey(MatchModel, on_delete=models.CASCADE, related_name="effects")
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="match_effects"
    )
    count = models.PositiveIntegerField(default=0)
    residual_sum = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "therapist"], name="matching_effect_one_per_therapist"
            ),
        ]

    def __str__(self) -> str:
        return f"Effect of {self.therapist_id} in v{self.model_id}"


class Exposure(models.Model):
    """How many people a therapist appeared to on the first page of a match list, per day; and
    (with ``therapist`` null) how many people were shown a first page that day. Each person
    counts once a day however often they reload or ask again (``ExposureSeen``). No person is
    recorded here."""

    day = models.DateField()
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_page_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "therapist"], name="matching_exposure_one_per_day"
            ),
            models.UniqueConstraint(
                fields=["day"],
                condition=Q(therapist__isnull=True),
                name="matching_exposure_one_total_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"Exposure {self.day} {self.therapist_id}"


class ExposureSeen(models.Model):
    """Who was already counted in a day's ``Exposure``, and for which therapists, so that a
    reload or a repeated request counts nobody twice. ``viewer`` is an HMAC, keyed with the
    site's secret, of the day and the person's key (their account, their session, or for an
    anonymous API call the answers themselves), and ``therapist_ids`` the therapists shown to
    them that day. That is pseudonymous, not anonymous: the key is not stored, and the same
    person gets another hash the next day, but whoever holds the secret can compute the hash
    of a known account and day again and read which therapists it was shown. So a row lives
    for its day only (past days are deleted by the daily housekeeping and as the first row of
    a new day is written), and an account's rows are deleted with the account or its fit
    profile (``services.exposure_seen_forget``)."""

    day = models.DateField()
    viewer = models.CharField(max_length=64)
    therapist_ids = models.JSONField(default=list)  # counted for this viewer on this day

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "viewer"], name="matching_exposure_seen_once")
        ]

    def __str__(self) -> str:
        return f"Exposure seen {self.day}"
