"""The fit questionnaire's steps: one form per screen, and how each screen's fields become part
of the answers document (``FitAnswers.to_data()``).

These forms only collect what was posted. Whether it is usable is decided in one place,
``answers.answers_from_data``: a step's form writes its fields into the whole document, the
view checks the whole document, and an error comes back naming the answer's field, which the
step maps to its own form field (``field_for``). So a slug that is not a concern, a budget of
"abc" or a radius past the maximum are refused by the same rules on the pages and in the API.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms

from rapport.core.forms import AccessibleForm
from rapport.directory.models import (
    STYLE_DIMENSIONS,
)
from rapport.directory.search.contract import (
    DEFAULT_RADIUS_KM,
    MAX_RADIUS_KM,
)
from rapport.matching import ranking
from rapport.matching.answers import (
    AVAILABILITY_LABELS,
    MAX_BUDGET,
    MAX_HOPES_LENGTH,
    MAX_PLACE_LENGTH,
    MAX_SESSIONS,
    MAX_STORY_LENGTH,
    FitAnswers,
    FitAnswersError,
    MisfitReason,
    PreferenceKey,
    Weight,
)
from rapport.matching.words import (
    DELIVERY_LABELS,
    GENDER_CHOICES,
    TAXONOMY_MODELS,
    style_choices,
)

Document = dict[str, Any]

WEIGHT_CHOICES = [(str(int(weight)), weight.label) for weight in Weight]


def _number_or_raw(value: str) -> int | str:
    """A short decimal as a number; anything else as posted, for the validator to refuse."""
    value = value.strip()
    return int(value) if value.isdecimal() and len(value) <= 6 else value


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


class OpenChoiceField(forms.ChoiceField):
    """Offers choices without checking them: ``answers_from_data`` does, with its own words."""

    def valid_value(self, value: Any) -> bool:
        return True


class OpenMultipleChoiceField(forms.MultipleChoiceField):
    """Checkboxes whose values ``answers_from_data`` checks."""

    def valid_value(self, value: Any) -> bool:
        return True


def _radios(label: str, choices: list[tuple[str, str]], help_text: str = "") -> OpenChoiceField:
    return OpenChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=help_text,
    )


def _checkboxes(
    label: str, choices: list[tuple[str, str]], help_text: str = ""
) -> OpenMultipleChoiceField:
    return OpenMultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
    )


def _text(label: str, help_text: str = "", **attrs: str) -> forms.CharField:
    # No max_length here: the length rule is the validator's, so its message is the one shown.
    return forms.CharField(
        label=label, required=False, help_text=help_text, widget=forms.TextInput(attrs=attrs)
    )


def term_choices(taxonomy: str, slugs: frozenset[str]) -> list[tuple[str, str]]:
    """Active terms of one taxonomy that the search knows, in their display order."""
    model = TAXONOMY_MODELS[taxonomy]
    return list(
        model.objects.filter(is_active=True, slug__in=slugs)
        .order_by("sort_order", "name")
        .values_list("slug", "name")
    )


class StepForm(AccessibleForm):
    """One screen of the questionnaire."""

    # Answer fields (as FitAnswersError names them) -> this form's field, where they differ.
    answer_fields: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, term_slugs: Mapping[str, frozenset[str]], **kwargs: Any):
        self.term_slugs = term_slugs
        super().__init__(*args, **kwargs)
        self.add_choices()
        self.describe_fields()

    def add_choices(self) -> None:
        """Choices that come from the database (taxonomies)."""

    @classmethod
    def initial_from(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        """The form's fields from the answers so far."""
        return {name: document.get(name) for name in cls.base_fields}

    def apply(self, document: Mapping[str, Any]) -> Document:
        """The answers document with this screen's fields replaced by what was posted."""
        updated = copy.deepcopy(dict(document))
        for name in self.base_fields:
            updated[name] = self.cleaned_data.get(name)
        return updated

    def field_for(self, answer_field: str) -> str | None:
        """This form's field an answers error belongs to (None: above the form)."""
        if answer_field in self.fields:
            return answer_field
        return self.answer_fields.get(answer_field)

    def add_answers_error(self, error: FitAnswersError) -> None:
        self.add_error(self.field_for(error.field), error.message)
        self.describe_fields()


class StoryForm(StepForm):
    story = forms.CharField(
        label="In your own words, what brings you here?",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"As much or as little as you like, up to {MAX_STORY_LENGTH:,} characters. "
        "Only you, and a therapist you choose to share it with, will read it.",
    )
    concerns = _checkboxes(
        "Is any of these part of it?",
        [],
        "Choose any that fit; we look for therapists who help with them.",
    )

    def add_choices(self) -> None:
        field = self.fields["concerns"]
        assert isinstance(field, OpenMultipleChoiceField)
        field.choices = term_choices("concern", self.term_slugs["concern"])

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = super().apply(document)
        updated["concerns"] = list(self.cleaned_data.get("concerns") or [])
        return updated


class HopesForm(StepForm):
    hopes = forms.CharField(
        label="What do you hope will change?",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"For example: sleeping better, arguing less, feeling like yourself again. "
        f"Up to {MAX_HOPES_LENGTH:,} characters.",
    )


class PreferenceForm(StepForm):
    """Which values a preference should have, and how much it matters."""

    key: ClassVar[PreferenceKey]
    values_label: ClassVar[str] = ""
    values_help: ClassVar[str] = "Any one of the ones you choose."

    values = _checkboxes("", [])
    weight = _radios(
        "How much does this matter to you?",
        WEIGHT_CHOICES,
        "If you choose options but not how much they matter, we count them as important.",
    )

    def add_choices(self) -> None:
        field = self.fields["values"]
        assert isinstance(field, OpenMultipleChoiceField)
        field.label = self.values_label
        field.help_text = self.values_help
        field.choices = self.value_choices()

    def value_choices(self) -> list[tuple[str, str]]:
        return term_choices(self.key.value, self.term_slugs[self.key.value])

    @classmethod
    def initial_from(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        raw = (document.get("preferences") or {}).get(cls.key.value) or {}
        return {
            "values": list(raw.get("values") or []),
            "weight": str(raw["weight"]) if "weight" in raw else "",
        }

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = copy.deepcopy(dict(document))
        preferences = dict(updated.get("preferences") or {})
        values = list(self.cleaned_data.get("values") or [])
        weight = self.cleaned_data.get("weight") or ""
        if not values and not weight:
            preferences.pop(self.key.value, None)
        else:
            raw: dict[str, Any] = {"values": values}
            # Left out, the validator's default applies ("important").
            if weight:
                raw["weight"] = _number_or_raw(weight)
            preferences[self.key.value] = raw
        updated["preferences"] = preferences
        return updated

    def field_for(self, answer_field: str) -> str | None:
        prefix = f"preferences.{self.key.value}"
        if answer_field == f"{prefix}.weight":
            return "weight"
        if answer_field in (prefix, f"{prefix}.values"):
            return "values"
        return super().field_for(answer_field)


class GenderForm(PreferenceForm):
    key = PreferenceKey.GENDER
    values_label = "Would you prefer a therapist who is…"
    values_help = "Any one of the ones you choose. Therapists describe themselves."

    def value_choices(self) -> list[tuple[str, str]]:
        return list(GENDER_CHOICES)


class LivedExperienceForm(PreferenceForm):
    key = PreferenceKey.LIVED_EXPERIENCE
    values_label = "Would you like a therapist who shares some of your identity or experience?"
    values_help = "Therapists choose what to say about themselves; we match on what they say."


class LanguageForm(PreferenceForm):
    key = PreferenceKey.LANGUAGE
    values_label = "Which languages would you like sessions in?"
    required = forms.BooleanField(
        label="Only show therapists who speak one of these",
        required=False,
        help_text="Leave this unticked to prefer these languages without hiding anyone.",
    )
    answer_fields = {"language_required": "required"}

    @classmethod
    def initial_from(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        initial = super().initial_from(document)
        initial["required"] = bool(document.get("language_required"))
        return initial

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = super().apply(document)
        updated["language_required"] = bool(self.cleaned_data.get("required"))
        return updated


class FaithForm(PreferenceForm):
    key = PreferenceKey.FAITH
    values_label = "Would you like a therapist who shares a faith or spiritual tradition?"
    values_help = "Any one of the ones you choose. Many therapists do not say, and that is fine."


class PopulationForm(PreferenceForm):
    key = PreferenceKey.POPULATION
    values_label = "Who is the therapy for?"
    values_help = "We look for therapists who work with this age range or group."


class AffirmingForm(PreferenceForm):
    key = PreferenceKey.LGBTQ2S_AFFIRMING
    values = None  # type: ignore[assignment]  # this preference takes no values
    weight = _radios("How much does an LGBTQ2S+ affirming therapist matter to you?", WEIGHT_CHOICES)

    def add_choices(self) -> None:
        pass

    @classmethod
    def initial_from(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        raw = (document.get("preferences") or {}).get(cls.key.value) or {}
        return {"weight": str(raw["weight"]) if "weight" in raw else ""}


class StyleForm(StepForm):
    style_weight = _radios("How much does the way they work matter to you?", WEIGHT_CHOICES)

    @classmethod
    def initial_from(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        style = document.get("style") or {}
        initial = {name: str(style.get(name, "")) for name, _, _ in STYLE_DIMENSIONS}
        weight = document.get("style_weight")
        initial["style_weight"] = "" if weight is None else str(weight)
        return initial

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = copy.deepcopy(dict(document))
        style: dict[str, Any] = {}
        for name, _, _ in STYLE_DIMENSIONS:
            placed = self.cleaned_data.get(name) or ""
            if placed:
                style[name] = _number_or_raw(placed)
        updated["style"] = style
        weight = self.cleaned_data.get("style_weight") or ""
        if weight:
            updated["style_weight"] = _number_or_raw(weight)
        else:
            updated.pop("style_weight", None)
        return updated

    def field_for(self, answer_field: str) -> str | None:
        dimension = answer_field.removeprefix("style.")
        if dimension in STYLE_FORM_FIELDS:
            return dimension
        return super().field_for(answer_field)


# One radio group per style dimension, in the directory's order and words.
for _name, _low, _high in STYLE_DIMENSIONS:
    StyleForm.base_fields[_name] = _radios(f"{_low} … {_high}", style_choices(_low, _high))
StyleForm.base_fields["style_weight"] = StyleForm.base_fields.pop("style_weight")
STYLE_FORM_FIELDS = tuple(name for name, _, _ in STYLE_DIMENSIONS)


class BudgetForm(StepForm):
    budget_per_session = _text(
        "Most you can pay per session",
        f"In whole dollars (or your currency), from 0 to {MAX_BUDGET:,}. Therapists whose "
        "fee or sliding scale reaches it are shown. Leave empty for any fee.",
        inputmode="numeric",
        autocomplete="off",
    )
    sessions_affordable = _text(
        "How many sessions can you afford?",
        f"A whole number from 1 to {MAX_SESSIONS}. Leave empty if you are not sure.",
        inputmode="numeric",
        autocomplete="off",
    )

    @classmethod
    def initial_from(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: "" if document.get(name) is None else str(document[name])
            for name in cls.base_fields
        }

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = copy.deepcopy(dict(document))
        for name in self.base_fields:
            value = (self.cleaned_data.get(name) or "").strip()
            updated[name] = value or None
        return updated


class AvailabilityForm(StepForm):
    availability = _checkboxes(
        "When can you meet?",
        [(str(value), label) for value, label in AVAILABILITY_LABELS.items()],
        "In your own time zone. Choose all that work.",
    )

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = copy.deepcopy(dict(document))
        updated["availability"] = list(self.cleaned_data.get("availability") or [])
        return updated


class DeliveryForm(StepForm):
    delivery = _checkboxes(
        "How would you like to meet?",
        list(DELIVERY_LABELS.items()),
        "Choose all that work. Leave all unticked for any of them.",
    )

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = copy.deepcopy(dict(document))
        updated["delivery"] = list(self.cleaned_data.get("delivery") or [])
        return updated


class PlaceForm(StepForm):
    place = _text(
        "Where are you? (city, province or state)",
        "For example “Toronto, ON”, or a postal or ZIP code (“M5V 2T6”, “98101”). Video and "
        "phone therapists must be licensed where you are; "
        "in-person ones need an office near you.",
        autocomplete="address-level2",
        maxlength=str(MAX_PLACE_LENGTH),
    )
    radius_km = _text(
        "How far could you travel to an office, in kilometres?",
        f"A whole number from 1 to {MAX_RADIUS_KM:,.0f}. Leave empty for "
        f"{DEFAULT_RADIUS_KM:,.0f} km.",
        inputmode="numeric",
        autocomplete="off",
    )

    @classmethod
    def initial_from(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        radius = document.get("radius_km")
        return {"place": document.get("place") or "", "radius_km": "" if radius is None else radius}

    def apply(self, document: Mapping[str, Any]) -> Document:
        updated = copy.deepcopy(dict(document))
        updated["place"] = self.cleaned_data.get("place") or ""
        radius = (self.cleaned_data.get("radius_km") or "").strip()
        updated["radius_km"] = radius or None
        return updated


@dataclass(frozen=True)
class Step:
    slug: str
    title: str  # the page's heading and title
    form_class: type[StepForm]
    intro: str = ""


STEPS: tuple[Step, ...] = (
    Step("story", "What brings you here?", StoryForm),
    Step("hopes", "What would you like to change?", HopesForm),
    Step("gender", "Your therapist's gender", GenderForm),
    Step(
        "identity",
        "Shared identity or lived experience",
        LivedExperienceForm,
        "Some people feel understood faster by someone who has lived something similar.",
    ),
    Step("language", "Language", LanguageForm),
    Step("faith", "Faith", FaithForm),
    Step("population", "Who the therapy is for", PopulationForm),
    Step("affirming", "LGBTQ2S+ affirming", AffirmingForm),
    Step(
        "style",
        "How you would like them to work",
        StyleForm,
        "Therapists place themselves on these same scales. Choose a point on each, or no "
        "preference.",
    ),
    Step("budget", "Budget", BudgetForm),
    Step("availability", "When you can meet", AvailabilityForm),
    Step("delivery", "How you would like to meet", DeliveryForm),
    Step("place", "Where you are", PlaceForm),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}
STEP_NUMBER = {step.slug: number for number, step in enumerate(STEPS, start=1)}


def step_of(answer_field: str) -> Step | None:
    """The question that asks for an answer field (as FitAnswersError names it)."""
    for step in STEPS:
        form_class = step.form_class
        if answer_field in form_class.base_fields or answer_field in form_class.answer_fields:
            return step
        if issubclass(form_class, PreferenceForm) and answer_field.startswith(
            f"preferences.{form_class.key.value}"
        ):
            return step
        if form_class is StyleForm and answer_field.startswith("style"):
            return step
    return None


# --- "nobody meets everything": one hard constraint loosened --------------------------------


class RelaxForm(forms.Form):
    """Which hard constraint to loosen (a button on the results page)."""

    constraint = forms.ChoiceField(
        choices=[
            ("radius", "Look further away"),
            ("budget", "Look beyond the budget"),
            ("language", "Make language a preference"),
            ("delivery", "Include every way of meeting"),
        ]
    )

    def apply(self, answers: FitAnswers) -> FitAnswers:
        return ranking.relaxed(answers, self.cleaned_data["constraint"])


# --- the profile page: taking back one "what did not fit" answer ------------------------------


class MisfitRemoveForm(forms.Form):
    """Which "what did not fit" answer to remove (a button beside each on the profile page)."""

    reason = forms.ChoiceField(choices=[(reason.value, reason.value) for reason in MisfitReason])
