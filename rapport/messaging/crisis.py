"""Crisis language in a message: a maintained list of words and phrases (``crisis_words.json``,
English and French), matched as whole words on folded text.

A match never blocks or delays a message; it only makes the sender's page show the crisis card
at once, with the reminder that messages are not read in real time. Folding makes "Suicidaire",
"suicidaire" and "SUICIDAIRE" alike, drops accents ("à" is "a") and treats punctuation as a
space (straight and typographic apostrophes alike), so "self-harm" matches "self harm" and
"can’t" matches "can't"; padding with spaces makes every match whole words, so "skill" never
reads as "kill". An entry ending in ``*`` matches word starts, for words that inflect
("suicid*": suicide, suicidal, suicidaire, suicidaires).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from rapport.care.crisis import CrisisCard, crisis_card, crisis_card_for
from rapport.directory.selectors import therapist_main_licence

if TYPE_CHECKING:
    from rapport.messaging.models import Thread

_DATA = Path(__file__).with_name("crisis_words.json")
_NOT_WORD = re.compile(r"[\W_]+")


# Apostrophes that are letters to Unicode (so not caught as punctuation below): "ʼ" (U+02BC)
# is what some keyboards type for "’".
_APOSTROPHES = str.maketrans(dict.fromkeys("\u02bc\u02bb\u02b9\u0060", " "))


def fold(text: str) -> str:
    """Lower case, no accents, runs of anything but letters and digits as one space, padded."""
    decomposed = unicodedata.normalize("NFKD", text).translate(_APOSTROPHES)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return f" {_NOT_WORD.sub(' ', bare.casefold()).strip()} "


def _folded_phrase(phrase: str) -> str:
    """A list entry as matched: folded and padded (whole words), or, for an entry ending in
    ``*``, without the padding after it, so its last word matches any word it starts."""
    if phrase.endswith("*"):
        return fold(phrase[:-1]).rstrip(" ")
    return fold(phrase)


@functools.cache
def crisis_phrases() -> tuple[str, ...]:
    """Every phrase of every language, folded (each with its padding spaces; a word start
    without the space after it)."""
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    phrases = {
        _folded_phrase(phrase)
        for language, entries in raw.items()
        if not language.startswith("_")
        for phrase in entries
    }
    return tuple(sorted(phrase for phrase in phrases if phrase.strip()))


def has_crisis_language(text: str) -> bool:
    folded = fold(text)
    return any(phrase in folded for phrase in crisis_phrases())


def crisis_card_for_thread(thread: Thread) -> CrisisCard:
    """The card for the thread's client: care's rule (the country of the therapist's main
    licence), for a consultation thread as for an engagement's."""
    if thread.engagement is not None:
        return crisis_card_for(thread.engagement)
    licence = therapist_main_licence(therapist=thread.therapist)
    return crisis_card(licence.jurisdiction.country_code if licence is not None else None)
