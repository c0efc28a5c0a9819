"""The check-in page's form: built from the check-in's parts, one fieldset per question.

The form only reads what was posted; whether the answers can be used (a value the question
offers, a question the check-in asks, enough answers to score) is the service's decision
(``services.check_in_answer``), and its problems come back onto the fields here
(``add_problems``), so the page and the API refuse the same answers with the same words.

Field names: ``<purpose>-<item id>`` for a question ("alliance-bond-at-ease"), ``goal-<position>``
for a goal rating. No question has a default: a blank one is a question left out. The goals are
the ones the check-in asked about, worded as they were then (``history.goal_ratings_of``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.forms import BoundField

from rapport.care import history, instruments
from rapport.care.services import GOAL_RATING_MAX, GOAL_RATING_MIN
from rapport.core.forms import AccessibleForm

GOALS = "goals"
GOAL_PREFIX = "goal-"
SKIP = "skip"


@dataclass(frozen=True)
class AskedPart:
    """One questionnaire the check-in asks, in the order it asks them."""

    purpose: str
    instrument: instruments.Instrument


def _answer_value(value: str) -> int | None:
    return int(value)


def _rating_value(value: str) -> int | None:
    return None if value == SKIP else int(value)


class _AnswerField(forms.TypedChoiceField):
    """A radio question that accepts any whole number: which values the question offers is
    checked by the service, which names the problem in the same words as the API."""

    def valid_value(self, value: Any) -> bool:
        return True


@dataclass
class Section:
    """What the template draws for one part (or for the goal ratings)."""

    key: str  # the part's purpose, or "goals"
    title: str
    instructions: str
    fields: list[BoundField]
    errors: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"part-{self.key}"


class CheckInForm(AccessibleForm):
    """Every question of a check-in as radio buttons, and a 0–10 rating per goal (see the
    module's note). Errors the service reports are put back with ``add_problems``."""

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        parts: Sequence[AskedPart],
        goals: Sequence[history.GoalRating],
    ) -> None:
        self.parts = list(parts)
        self.goals = list(goals)
        # Problems that belong to a whole part ("too few answered") rather than to a question.
        self.part_errors: dict[str, list[str]] = {}
        super().__init__(data)
        for part in self.parts:
            for item in part.instrument.items:
                self.fields[self.item_field(part.purpose, item.id)] = _AnswerField(
                    label=item.text,
                    choices=[(str(option.value), option.label) for option in item.options],
                    coerce=_answer_value,
                    empty_value=None,
                    required=False,
                    widget=forms.RadioSelect,
                    help_text="You may leave this question out." if item.optional else "",
                    error_messages={"invalid_choice": "Choose one of the answers."},
                )
        for goal in self.goals:
            self.fields[self.goal_field(goal.position)] = _AnswerField(
                label=goal.text,
                choices=[
                    *(
                        (str(n), _rating_label(n))
                        for n in range(GOAL_RATING_MIN, GOAL_RATING_MAX + 1)
                    ),
                    (SKIP, "I'd rather not rate this goal now"),
                ],
                coerce=_rating_value,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": "Choose a number from 0 to 10, or skip."},
            )
        self.describe_fields()

    @staticmethod
    def item_field(purpose: str, item_id: str) -> str:
        return f"{purpose}-{item_id}"

    @staticmethod
    def goal_field(position: int | str) -> str:
        return f"{GOAL_PREFIX}{position}"

    # --- what the service receives --------------------------------------------------------

    def answers(self) -> dict[str, dict[str, Any]]:
        """{purpose: {item id: value or None}} for ``services.check_in_answer``. A posted
        answer to a question the form does not show is passed on too, so the service refuses
        it (someone editing the page must not have an answer silently dropped)."""
        answers: dict[str, dict[str, Any]] = {}
        for part in self.parts:
            given: dict[str, Any] = {}
            for item in part.instrument.items:
                given[item.id] = self.cleaned_data.get(self.item_field(part.purpose, item.id))
            prefix = f"{part.purpose}-"
            for key in self.data:
                if key.startswith(prefix) and key not in self.fields:
                    given[key[len(prefix) :]] = _number_or_text(self.data.get(key))
            answers[part.purpose] = given
        return answers

    def goal_ratings(self) -> dict[str, Any]:
        """{position: 0–10 or None (skipped or left blank)} for the service; unknown goals
        posted are passed on to be refused, as with answers."""
        ratings: dict[str, Any] = {
            str(goal.position): self.cleaned_data.get(self.goal_field(goal.position))
            for goal in self.goals
        }
        for key in self.data:
            if key.startswith(GOAL_PREFIX) and key not in self.fields:
                ratings[key[len(GOAL_PREFIX) :]] = _number_or_text(self.data.get(key))
        return ratings

    # --- the service's refusal, back onto the page ----------------------------------------

    def add_problems(self, problems: Sequence[tuple[str, str]]) -> None:
        """Put each (path, message) of CheckInAnswersInvalid beside what it names: a question
        ("alliance/bond-at-ease"), a goal ("goals/2"), a whole part ("progress"), or, for
        anything else, above the form."""
        known_parts = {part.purpose for part in self.parts}
        for path, message in problems:
            head, _, rest = path.partition("/")
            text = _sentence(message)
            if head == GOALS and rest:
                name = self.goal_field(rest)
                if name in self.fields:
                    self.add_error(name, text)
                else:
                    self._part_error(GOALS, f"Goal {rest} {message}.")
            elif head == GOALS:
                self._part_error(GOALS, text)
            elif head in known_parts and rest:
                name = self.item_field(head, rest)
                if name in self.fields:
                    self.add_error(name, text)
                else:
                    self._part_error(head, f"An answer was sent for “{rest}”, which {message}.")
            elif head in known_parts:
                self._part_error(head, text)
            else:
                self.add_error(None, text)
        self.describe_fields()

    def _part_error(self, key: str, message: str) -> None:
        self.part_errors.setdefault(key, []).append(message)

    @property
    def has_problems(self) -> bool:
        return bool(self.errors) or bool(self.part_errors)

    # --- what the template draws ----------------------------------------------------------

    def sections(self) -> list[Section]:
        sections = [
            Section(
                key=part.purpose,
                title=part.instrument.title,
                instructions=part.instrument.instructions,
                fields=[
                    self[self.item_field(part.purpose, item.id)] for item in part.instrument.items
                ],
                errors=self.part_errors.get(part.purpose, []),
            )
            for part in self.parts
        ]
        if self.goals:
            sections.append(
                Section(
                    key=GOALS,
                    title="Your goals",
                    instructions=(
                        "How far have you come with each of your goals? 0 means no progress "
                        "yet, 10 means you have reached it."
                    ),
                    fields=[self[self.goal_field(goal.position)] for goal in self.goals],
                    errors=self.part_errors.get(GOALS, []),
                )
            )
        return sections

    def error_summary(self) -> list[dict[str, str]]:
        """Every problem on the page, in page order, each linking to where it is shown."""
        if not self.has_problems:
            return []
        summary = [{"href": "", "text": str(error)} for error in self.non_field_errors()]
        for section in self.sections():
            summary.extend(
                {"href": f"#{section.anchor}-errors", "text": f"{section.title}: {error}"}
                for error in section.errors
            )
            for number, bound in enumerate(section.fields, start=1):
                what = f"goal {number}" if section.key == GOALS else f"question {number}"
                summary.extend(
                    {
                        # The first radio button: following the link puts focus in the group.
                        "href": f"#{bound.auto_id}_0",
                        "text": f"{section.title}, {what}: {error}",
                    }
                    for error in bound.errors
                )
        return summary


def _rating_label(value: int) -> str:
    if value == GOAL_RATING_MIN:
        return f"{value}: no progress yet"
    if value == GOAL_RATING_MAX:
        return f"{value}: reached"
    return str(value)


def _number_or_text(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _sentence(message: str) -> str:
    text = message[:1].upper() + message[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


__all__ = ["AskedPart", "CheckInForm", "Section"]
