"""Leaning away from what did not fit with past therapists (never hiding anyone for it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from rapport.matching.answers import (
    STYLE_FIELDS,
    FitAnswers,
    MisfitReason,
    Preference,
    PreferenceKey,
    Weight,
)
from rapport.matching.misfits import misfit_settled


@dataclass(frozen=True)
class Leaning:
    """What past "did not fit" answers change: the answers ranked with, extra components, and
    the sentences that say so."""

    answers: FitAnswers
    affordable: bool  # lean towards lower fees / sliding scales
    soon: bool  # lean towards a free consultation within SOON_DAYS
    sentences: tuple[str, ...]
    # Style dimensions whose target a lean set, with why in the person's terms ("you found one
    # too directive"): "why this match" words those from the lean, never as what they asked.
    because: Mapping[str, str] = field(default_factory=dict)


def _with_style(
    style: dict[str, int],
    dimension: str,
    *,
    at_most: int | None = None,
    at_least: int | None = None,
) -> None:
    current = style.get(dimension, 3)
    if at_most is not None:
        style[dimension] = min(current, at_most)
    if at_least is not None:
        style[dimension] = max(current, at_least)


# reason -> (dimension, at_most, at_least, sentence, why in a card's words).
_STYLE_LEANS: dict[str, tuple[str, int | None, int | None, str, str]] = {
    MisfitReason.TOO_DIRECTIVE: (
        "style_direction",
        None,
        4,
        "Leaning towards therapists who let you lead, since one felt too directive.",
        "you found one too directive",
    ),
    MisfitReason.NOT_DIRECTIVE_ENOUGH: (
        "style_direction",
        2,
        None,
        "Leaning towards therapists who guide more, since you wanted more direction.",
        "you wanted more direction",
    ),
    MisfitReason.TOO_STRUCTURED: (
        "style_structure",
        None,
        4,
        "Leaning towards more exploratory therapists, since one felt too structured.",
        "you found one too structured",
    ),
    MisfitReason.NOT_STRUCTURED_ENOUGH: (
        "style_structure",
        2,
        None,
        "Leaning towards more structured therapists, since you wanted more structure.",
        "you wanted more structure",
    ),
    MisfitReason.TOO_CHALLENGING: (
        "style_challenge",
        2,
        None,
        "Leaning towards gentler therapists, since one pushed too hard.",
        "one pushed too hard",
    ),
    MisfitReason.NOT_CHALLENGING_ENOUGH: (
        "style_challenge",
        None,
        4,
        "Leaning towards therapists who challenge more, since you wanted to be challenged.",
        "you wanted to be challenged",
    ),
    MisfitReason.FELT_JUDGED: (
        "style_challenge",
        2,
        None,
        "Leaning towards gentler therapists, since you felt judged.",
        "you felt judged",
    ),
    MisfitReason.GOALS_DISAGREED: (
        "style_structure",
        2,
        None,
        "Leaning towards therapists who agree goals explicitly, since goals were not shared.",
        "goals were not shared",
    ),
}
_BACKGROUND = (
    PreferenceKey.LIVED_EXPERIENCE,
    PreferenceKey.LANGUAGE,
    PreferenceKey.FAITH,
    PreferenceKey.LGBTQ2S_AFFIRMING,
)


def lean_away(answers: FitAnswers) -> Leaning:
    """How the person's "did not fit" answers change what is ranked for (never the hard
    constraints: nobody is hidden for a past disappointment)."""
    style = dict(answers.style)
    preferences = dict(answers.preferences)
    sentences: list[str] = []
    affordable = soon = False
    because: dict[str, str] = {}
    # Settled first: a later answer replaces its opposite, so the list never leans both ways
    # (every write already settles them; this holds for anything read).
    for reason in misfit_settled(answers.did_not_fit):
        if reason in _STYLE_LEANS:
            dimension, at_most, at_least, sentence, why = _STYLE_LEANS[reason]
            before = style.get(dimension)
            _with_style(style, dimension, at_most=at_most, at_least=at_least)
            if style[dimension] != before:
                because[dimension] = why
        elif reason == MisfitReason.TOO_EXPENSIVE:
            affordable = True
            sentence = "Leaning towards lower fees and sliding scales, since cost got in the way."
        elif reason == MisfitReason.HARD_TO_SCHEDULE:
            soon = True
            sentence = "Leaning towards therapists with free times this week."
        elif reason == MisfitReason.DID_NOT_UNDERSTAND_ME:
            chosen = [key for key in _BACKGROUND if preferences.get(key, Preference()).weight]
            for key in chosen:
                pref = preferences[key]
                preferences[key] = replace(pref, weight=Weight(min(pref.weight + 1, 3)))
            sentence = (
                "Giving more weight to shared background and identity."
                if chosen
                else "Tell us what matters about your background (language, faith, lived "
                "experience) so we can weigh it."
            )
        else:
            continue
        if sentence not in sentences:
            sentences.append(sentence)
    # Only the dimensions whose target a lean actually moved (a wish already past the lean
    # stays the person's own).
    because = {name: why for name, why in because.items() if style[name] != answers.style.get(name)}
    style_weight = answers.style_weight
    if because and not style_weight:
        # Style "doesn't matter" to them: the lean weighs the dimension it moved and nothing
        # else; the other placements they gave stay unmatched, as they chose.
        style_weight = Weight.IMPORTANT
        style = {name: target for name, target in style.items() if name in because}
    leaned = replace(
        answers,
        style={name: style[name] for name in STYLE_FIELDS if name in style},
        style_weight=style_weight,
        preferences=preferences,
    )
    return Leaning(
        answers=leaned,
        affordable=affordable,
        soon=soon,
        sentences=tuple(sentences),
        because=because,
    )
