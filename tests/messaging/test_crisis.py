"""Crisis language: English and French, folded, whole words only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapport.messaging.crisis import crisis_phrases, fold, has_crisis_language


@pytest.mark.parametrize(
    "text",
    [
        "Some days I want to die.",
        "I keep thinking about SUICIDE",
        "I might hurt myself tonight",
        "Self-harm again, sorry",
        "Je suis suicidaire depuis lundi",
        "J'ai envie de mourir",
        "Je veux mettre fin à mes jours",
        "Je pense à l'AUTOMUTILATION",
        "je ne m'en sortirai pas",
    ],
)
def test_crisis_language_in_english_and_french_is_found(text):
    assert has_crisis_language(text)


@pytest.mark.parametrize(
    "text",
    [
        "My skill myself-improvement plan is going well",  # "kill myself" inside "skill myself"
        "Can we move Thursday? I have a skills group.",
        "The dishwasher died, so I'm late.",
        "Je suis en train de finir le livre",  # "finir" is not "en finir"
        "The overdoses article we discussed",  # plural is a different word: not a whole match
        "Ça me tue de rater la séance",  # "me tue" is not "me tuer"
    ],
)
def test_ordinary_words_are_not_crisis_language(text):
    assert not has_crisis_language(text)


def test_folding_drops_case_accents_and_punctuation():
    assert fold("À  Mes-Jours!") == " a mes jours "


def test_the_list_is_data_with_both_languages():
    raw = json.loads(Path("rapport/messaging/crisis_words.json").read_text(encoding="utf-8"))
    assert raw["en"]
    assert raw["fr"]
    assert " suicidaire " in crisis_phrases()
