"""Input of the graduation pages: which step, and one side's review of each goal. The forms
check the shape; ``services.graduation`` decides whether the step is possible now."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from rapport.care.models import Goal, GoalReview
from rapport.core.forms import AccessibleForm

ACTIONS = ("propose", "confirm", "withdraw")


class GraduationStepForm(AccessibleForm):
    """Propose, confirm or withdraw: the button pressed says which (a hidden field)."""

    action = forms.ChoiceField(
        choices=[(action, action) for action in ACTIONS], widget=forms.HiddenInput
    )


class GoalReviewForm(AccessibleForm):
    """One radio question per goal the client wrote: how far did it come?"""

    def __init__(self, *args: Any, goals: Sequence[Goal], side: str, **kwargs: Any) -> None:
        self.goals = list(goals)
        super().__init__(*args, **kwargs)
        for goal in self.goals:
            given = goal.client_review if side == "client" else goal.therapist_review
            self.fields[f"goal_{goal.position}"] = forms.ChoiceField(
                label=f"Goal {goal.position}: {goal.text}",
                choices=GoalReview.choices,
                widget=forms.RadioSelect,
                initial=given or None,
                error_messages={"required": "Choose met, partly met or not yet."},
            )
        self.describe_fields()

    def reviews(self) -> dict[str, str]:
        return {
            str(goal.position): self.cleaned_data[f"goal_{goal.position}"] for goal in self.goals
        }
