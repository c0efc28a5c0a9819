"""The onboarding steps in order, and which of them a profile has done.

A step is done when the profile holds what it asks for (``completeness.ITEMS`` of that step),
and, for the steps whose fields have defaults or whose work is on another page, when the
therapist saved it. A therapist coming back lands on the first step not done.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapport.directory.completeness import (
    ITEMS,
    Completeness,
    is_draft,
    profile_completeness,
    step_saved,
)
from rapport.directory.models import TherapistProfile


@dataclass(frozen=True)
class Step:
    slug: str
    title: str

    @property
    def url_name(self) -> str:
        return f"directory:practice_profile_{self.slug}"


STEPS: tuple[Step, ...] = (
    Step("about", "About you"),
    Step("licence", "Licence"),
    Step("topics", "What you work with"),
    Step("style", "How you work"),
    Step("fees", "Fees"),
    Step("where", "Where you meet clients"),
    Step("contact", "Contact between sessions"),
    Step("availability", "Availability"),
    Step("videos", "Video answers"),
    Step("preview", "Preview"),
    Step("submit", "Send for review"),
)
STEPS_BY_SLUG = {step.slug: step for step in STEPS}
# Steps that need the therapist to say "done" (their fields have defaults, or the work is on
# another page); the others are done when the data is there.
_SAVED_STEPS = {"style", "where", "contact", "availability", "videos", "preview"}


def step_done(
    therapist: TherapistProfile, slug: str, *, completeness: Completeness | None = None
) -> bool:
    """``completeness`` (of the same profile, if already worked out) saves the queries."""
    if slug == "submit":
        return not is_draft(therapist)
    if slug in _SAVED_STEPS and not step_saved(therapist, slug):
        return False
    if completeness is not None:
        return not any(item.step == slug for item in completeness.missing_required)
    return all(item.done(therapist) for item in ITEMS if item.step == slug and item.required)


@dataclass(frozen=True)
class StepRow:
    step: Step
    number: int
    done: bool
    current: bool


def step_rows(
    therapist: TherapistProfile, *, current: str = "", completeness: Completeness | None = None
) -> list[StepRow]:
    completeness = completeness or profile_completeness(therapist=therapist)
    return [
        StepRow(
            step=step,
            number=number,
            done=step_done(therapist, step.slug, completeness=completeness),
            current=step.slug == current,
        )
        for number, step in enumerate(STEPS, start=1)
    ]


def first_incomplete(therapist: TherapistProfile) -> Step | None:
    for step in STEPS:
        if not step_done(therapist, step.slug):
            return step
    return None


def next_step(slug: str) -> Step | None:
    index = [step.slug for step in STEPS].index(slug)
    return STEPS[index + 1] if index + 1 < len(STEPS) else None
