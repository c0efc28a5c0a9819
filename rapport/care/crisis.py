"""The crisis card: the lines to call or text, for the client's country, kept as data
(``crisis_lines.json``).

Shown at once when a critical item is answered at or above its threshold, and wherever a person
may be writing about how they feel. Which country: the therapist's licence's (a client is seen
where the therapist is licensed), falling back to the default entry, which tells the person to
call their local emergency number.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rapport.care.models import Engagement

_DATA = Path(__file__).with_name("crisis_lines.json")


@dataclass(frozen=True)
class CrisisLine:
    name: str
    number: str
    call: bool
    text: bool
    hours: str

    @property
    def how(self) -> str:
        """The ways to reach the line, e.g. "Call or text"."""
        ways = [way for way, offered in (("call", self.call), ("text", self.text)) if offered]
        return " or ".join(ways).capitalize()


@dataclass(frozen=True)
class CrisisCard:
    country_code: str
    country: str
    lines: tuple[CrisisLine, ...]
    emergency: str


@functools.cache
def _entries() -> dict[str, CrisisCard]:
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    cards = {}
    for code, entry in raw.items():
        if code.startswith("_"):
            continue
        cards[code] = CrisisCard(
            country_code=code,
            country=entry["country"],
            lines=tuple(CrisisLine(**line) for line in entry["lines"]),
            emergency=entry["emergency"],
        )
    return cards


def crisis_card(country_code: str | None) -> CrisisCard:
    """The card for ``country_code`` (e.g. "CA"), or the default one."""
    entries = _entries()
    return entries.get((country_code or "").upper(), entries["default"])


def crisis_countries() -> tuple[str, ...]:
    return tuple(code for code in _entries() if code != "default")


def crisis_card_for(engagement: Engagement) -> CrisisCard:
    """The card for the client of ``engagement``: the country of the therapist's main licence
    (a client is seen where the therapist is licensed)."""
    from rapport.directory.selectors import therapist_main_licence

    licence = therapist_main_licence(therapist=engagement.therapist)
    return crisis_card(licence.jurisdiction.country_code if licence is not None else None)
