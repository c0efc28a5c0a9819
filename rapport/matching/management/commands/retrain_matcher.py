"""`rapport retrain_matcher`: record the outcomes still missing, then train a new model version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from rapport.matching import learning


class Command(BaseCommand):
    help = (
        "Record the early answers that are not outcomes yet (answered before the client had a "
        "fit profile, such as the demo's histories), then train a new version of the matcher's "
        "learned component from every stored outcome."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        added = learning.outcomes_backfill(now=now)
        model = learning.model_retrain(now=now)
        parameters = model.parameters
        calibration = parameters["calibration"]
        self.stdout.write(
            f"Matching model v{model.version}: trained on {model.trained_on} outcomes "
            f"({added} newly recorded); noise variance σ² = {parameters['noise_variance']:.4f}, "
            f"therapist effect variance τ² = {parameters['effect_variance']:.4f}; the learned "
            f"part weighs {calibration['weight']:.2f} × the preference score (estimated from "
            f"{calibration['outcomes']} outcomes with a preference score)."
        )
