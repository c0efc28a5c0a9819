"""A fit profile's answers: what they are, how they are checked, how they are stored.

One vocabulary for the questionnaire pages, the API and the ranking. Everything a person
answers is kept as one JSON document in an encrypted column (``FitProfile.answers``): their own
words, and also the concern tags and preferences, which say as much about their health.

``answers_from_data`` is the single place that checks a document (a page's accumulated steps,
an API body, a stored profile): unknown keys, unknown taxonomy values and out-of-range numbers
raise ``FitAnswersError`` naming the field, so nothing half-valid is ever stored.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rapport.directory.models import STYLE_DIMENSIONS, STYLE_MAX, STYLE_MIN, GenderCategory
from rapport.directory.search.contract import DELIVERY_MODES, MAX_RADIUS_KM

MAX_STORY_LENGTH = 2000
MAX_HOPES_LENGTH = 1000
MAX_PLACE_LENGTH = 120
MAX_BUDGET = 10_000  # whole currency units per session, as the search's max_fee
MAX_SESSIONS = 200
MAX_VALUES = 40  # per list: more than any taxonomy offers, so a flood is refused
STYLE_FIELDS = tuple(name for name, _, _ in STYLE_DIMENSIONS)


class Weight(enum.IntEnum):
    """How much a preference matters. Preferences score; they never hide anyone (a required
    language is the one preference that filters, as the search's language filter does)."""

    NOT_IMPORTANT = 0
    NICE_TO_HAVE = 1
    IMPORTANT = 2
    VERY_IMPORTANT = 3

    @property
    def label(self) -> str:
        return WEIGHT_LABELS[self]


WEIGHT_LABELS = {
    Weight.NOT_IMPORTANT: "Doesn't matter to me",
    Weight.NICE_TO_HAVE: "Nice to have",
    Weight.IMPORTANT: "Important",
    Weight.VERY_IMPORTANT: "Very important",
}


class PreferenceKey(enum.StrEnum):
    """Preferences a person may weigh. Each names the therapist attribute it compares with."""

    GENDER = "gender"  # values: GenderCategory values
    LIVED_EXPERIENCE = "lived_experience"  # values: LivedExperience slugs (shared identity)
    LANGUAGE = "language"  # values: Language slugs
    FAITH = "faith"  # values: Faith slugs
    POPULATION = "population"  # values: Population slugs (the age range or group they see)
    LGBTQ2S_AFFIRMING = "lgbtq2s_affirming"  # no values


# Taxonomy each preference's values come from (None: fixed choices or no values).
PREFERENCE_TAXONOMY = {
    PreferenceKey.LIVED_EXPERIENCE: "lived_experience",
    PreferenceKey.LANGUAGE: "language",
    PreferenceKey.FAITH: "faith",
    PreferenceKey.POPULATION: "population",
}


class Availability(enum.StrEnum):
    """When a person can meet, in their own time zone."""

    WEEKDAY_MORNING = "weekday_morning"  # Monday-Friday, before noon
    WEEKDAY_AFTERNOON = "weekday_afternoon"  # Monday-Friday, noon to 5 pm
    WEEKDAY_EVENING = "weekday_evening"  # Monday-Friday, from 5 pm
    WEEKEND = "weekend"  # Saturday or Sunday, any time


AVAILABILITY_LABELS = {
    Availability.WEEKDAY_MORNING: "Weekday mornings",
    Availability.WEEKDAY_AFTERNOON: "Weekday afternoons",
    Availability.WEEKDAY_EVENING: "Weekday evenings",
    Availability.WEEKEND: "Weekends",
}


class MisfitReason(enum.StrEnum):
    """What did not fit with a past therapist. Each leans the next list away from it; none is
    ever shown to a therapist."""

    FELT_JUDGED = "felt_judged"
    TOO_DIRECTIVE = "too_directive"
    NOT_DIRECTIVE_ENOUGH = "not_directive_enough"
    TOO_STRUCTURED = "too_structured"
    NOT_STRUCTURED_ENOUGH = "not_structured_enough"
    TOO_CHALLENGING = "too_challenging"
    NOT_CHALLENGING_ENOUGH = "not_challenging_enough"
    TOO_EXPENSIVE = "too_expensive"
    GOALS_DISAGREED = "goals_disagreed"
    HARD_TO_SCHEDULE = "hard_to_schedule"
    DID_NOT_UNDERSTAND_ME = "did_not_understand_me"


MISFIT_LABELS = {
    MisfitReason.FELT_JUDGED: "I felt judged",
    MisfitReason.TOO_DIRECTIVE: "Too directive: told me what to do",
    MisfitReason.NOT_DIRECTIVE_ENOUGH: "Not directive enough: I wanted more guidance",
    MisfitReason.TOO_STRUCTURED: "Too structured",
    MisfitReason.NOT_STRUCTURED_ENOUGH: "Not structured enough",
    MisfitReason.TOO_CHALLENGING: "Pushed me too hard",
    MisfitReason.NOT_CHALLENGING_ENOUGH: "Did not challenge me enough",
    MisfitReason.TOO_EXPENSIVE: "Too expensive",
    MisfitReason.GOALS_DISAGREED: "We didn't agree on goals",
    MisfitReason.HARD_TO_SCHEDULE: "Hard to find times that worked",
    MisfitReason.DID_NOT_UNDERSTAND_ME: "Didn't understand my background or identity",
}


class FitAnswersError(ValueError):
    """An answer that cannot be used; ``field`` names it (dotted for nested values).
    ``suggestions`` are answers that would work instead (places close to one not found)."""

    def __init__(self, field: str, message: str, *, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.suggestions = suggestions


@dataclass(frozen=True)
class Preference:
    weight: Weight = Weight.NOT_IMPORTANT
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class FitAnswers:
    """Every answer is optional: an empty profile is valid and still gives a list."""

    story: str = ""  # what brings them, in their own words
    hopes: str = ""  # what they hope will change
    concerns: tuple[str, ...] = ()  # Concern slugs
    preferences: Mapping[str, Preference] = field(default_factory=dict)  # PreferenceKey -> ...
    language_required: bool = False  # only therapists speaking one of the languages
    style: Mapping[str, int] = field(default_factory=dict)  # style_* -> 1..5, placed ones only
    style_weight: Weight = Weight.IMPORTANT
    budget_per_session: int | None = None  # whole currency units
    sessions_affordable: int | None = None
    availability: tuple[str, ...] = ()  # Availability values
    delivery: tuple[str, ...] = ()  # in_person | video | phone; empty = any
    place: str = ""  # as typed ("Toronto, ON"); geocoded when ranking
    radius_km: int | None = None  # None: the search's default
    did_not_fit: tuple[str, ...] = ()  # MisfitReason values, from past engagements

    def preference(self, key: str) -> Preference:
        return self.preferences.get(key, Preference())

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready document (what the API returns and the export contains)."""
        data = asdict(self)
        data["preferences"] = {
            key: {"weight": int(pref.weight), "values": list(pref.values)}
            for key, pref in sorted(self.preferences.items())
            if pref.weight or pref.values
        }
        data["style_weight"] = int(self.style_weight)
        for name in ("concerns", "availability", "delivery", "did_not_fit"):
            data[name] = list(data[name])
        data["style"] = dict(self.style)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_data(), sort_keys=True, separators=(",", ":"))

    @property
    def is_empty(self) -> bool:
        return self == FitAnswers()


ANSWER_KEYS = frozenset(FitAnswers.__dataclass_fields__)


def _text(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FitAnswersError(name, "Write this as text.")
    value = value.strip()
    if len(value) > limit:
        raise FitAnswersError(name, f"Keep this under {limit:,} characters.")
    if "\x00" in value or any("\ud800" <= character <= "\udfff" for character in value):
        # NUL and lone surrogates cannot be encoded for storage (PostgreSQL refuses NUL).
        raise FitAnswersError(name, "This text contains a character that cannot be stored.")
    return value


def _whole(data: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 6:
            value = int(value.strip())
        else:
            raise FitAnswersError(name, "Enter a whole number.")
    if not low <= value <= high:
        raise FitAnswersError(name, f"Enter a whole number from {low:,} to {high:,}.")
    return int(value)


def _choices(
    value: Any, name: str, allowed: frozenset[str] | tuple[str, ...], what: str
) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise FitAnswersError(name, f"Give a list of {what}.")
    if len(value) > MAX_VALUES:
        raise FitAnswersError(name, f"Choose at most {MAX_VALUES} {what}.")
    chosen: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            shown = str(item)[:40]
            raise FitAnswersError(name, f"“{shown}” is not one of the {what} we know.")
        if item not in chosen:
            chosen.append(item)
    return tuple(chosen)


def _weight(value: Any, name: str) -> Weight:
    if isinstance(value, bool) or not isinstance(value, int) or value not in set(Weight):
        raise FitAnswersError(name, "Choose how much this matters: 0, 1, 2 or 3.")
    return Weight(value)


def answers_from_data(data: Any, *, term_slugs: Mapping[str, frozenset[str]]) -> FitAnswers:
    """Check a fit-profile document and return it as FitAnswers, or raise FitAnswersError.

    ``term_slugs`` maps a taxonomy ("concern", "language", "faith", "lived_experience",
    "population") to its active slugs (``terms.active_slugs()``)."""
    if not isinstance(data, Mapping):
        raise FitAnswersError("", "A fit profile is a JSON object.")
    unknown = sorted(set(data) - ANSWER_KEYS)
    if unknown:
        raise FitAnswersError(str(unknown[0])[:60], "This is not a fit-profile field.")
    preferences: dict[str, Preference] = {}
    raw_preferences = data.get("preferences") or {}
    if not isinstance(raw_preferences, Mapping):
        raise FitAnswersError("preferences", "Give the preferences as an object.")
    for key, raw in raw_preferences.items():
        if key not in set(PreferenceKey):
            raise FitAnswersError(f"preferences.{str(key)[:40]}", "This is not a preference.")
        name = f"preferences.{key}"
        if not isinstance(raw, Mapping) or set(raw) - {"weight", "values"}:
            raise FitAnswersError(name, 'Give a preference as {"weight": 0-3, "values": [...]}.')
        weight = _weight(raw.get("weight", Weight.IMPORTANT), f"{name}.weight")
        if key == PreferenceKey.LGBTQ2S_AFFIRMING:
            if raw.get("values"):
                raise FitAnswersError(f"{name}.values", "This preference takes no values.")
            values: tuple[str, ...] = ()
        elif key == PreferenceKey.GENDER:
            values = _choices(
                raw.get("values"),
                f"{name}.values",
                tuple(v for v in GenderCategory.values if v != GenderCategory.UNDISCLOSED),
                "genders",
            )
        else:
            taxonomy = PREFERENCE_TAXONOMY[PreferenceKey(key)]
            values = _choices(raw.get("values"), f"{name}.values", term_slugs[taxonomy], "options")
        if weight and key != PreferenceKey.LGBTQ2S_AFFIRMING and not values:
            raise FitAnswersError(
                f"{name}.values", "Choose at least one option, or say it doesn't matter."
            )
        if weight or values:
            preferences[key] = Preference(weight=weight, values=values)
    language_required = data.get("language_required", False)
    if not isinstance(language_required, bool):
        raise FitAnswersError("language_required", "Answer true or false.")
    if language_required and not preferences.get(PreferenceKey.LANGUAGE, Preference()).values:
        raise FitAnswersError("language_required", "Choose the languages that are required.")
    raw_style = data.get("style") or {}
    if not isinstance(raw_style, Mapping):
        raise FitAnswersError("style", "Give the style as an object.")
    style: dict[str, int] = {}
    for dimension, placement in raw_style.items():
        if dimension not in STYLE_FIELDS:
            raise FitAnswersError(f"style.{str(dimension)[:40]}", "This is not a style dimension.")
        if (
            isinstance(placement, bool)
            or not isinstance(placement, int)
            or not (STYLE_MIN <= placement <= STYLE_MAX)
        ):
            raise FitAnswersError(
                f"style.{dimension}", f"Choose a whole number from {STYLE_MIN} to {STYLE_MAX}."
            )
        style[dimension] = placement
    radius = _whole(data, "radius_km", 1, int(MAX_RADIUS_KM))
    place = _text(data, "place", MAX_PLACE_LENGTH)
    return FitAnswers(
        story=_text(data, "story", MAX_STORY_LENGTH),
        hopes=_text(data, "hopes", MAX_HOPES_LENGTH),
        concerns=_choices(data.get("concerns"), "concerns", term_slugs["concern"], "concerns"),
        preferences=preferences,
        language_required=language_required,
        style={name: style[name] for name in STYLE_FIELDS if name in style},
        style_weight=_weight(data.get("style_weight", Weight.IMPORTANT), "style_weight"),
        budget_per_session=_whole(data, "budget_per_session", 0, MAX_BUDGET),
        sessions_affordable=_whole(data, "sessions_affordable", 1, MAX_SESSIONS),
        availability=_choices(
            data.get("availability"), "availability", tuple(Availability), "times"
        ),
        delivery=_choices(data.get("delivery"), "delivery", DELIVERY_MODES, "ways of meeting"),
        place=place,
        radius_km=radius,
        did_not_fit=_choices(
            data.get("did_not_fit"), "did_not_fit", tuple(MisfitReason), "reasons"
        ),
    )


def answers_from_json(text: str, *, term_slugs: Mapping[str, frozenset[str]]) -> FitAnswers:
    """A stored document. Taxonomy terms retired since are dropped, not refused: a person's
    profile must keep working when the reference data moves on."""
    data = json.loads(text) if text else {}
    for name in ("concerns",):
        data[name] = [slug for slug in data.get(name, []) if slug in term_slugs["concern"]]
    for key, raw in list(data.get("preferences", {}).items()):
        taxonomy = PREFERENCE_TAXONOMY.get(key)
        if taxonomy:
            raw["values"] = [slug for slug in raw.get("values", []) if slug in term_slugs[taxonomy]]
            if raw["weight"] and not raw["values"]:
                del data["preferences"][key]
    if data.get("language_required") and "language" not in data.get("preferences", {}):
        data["language_required"] = False
    return answers_from_data(data, term_slugs=term_slugs)
