"""Postal codes: their shape, and which province or state a code belongs to.

Public postal facts, kept offline like the rest of Rapport's geography:

- Canada Post gives each province or territory the first letter of its codes (the "postal
  district"); the format is letter-digit-letter, space, digit-letter-digit, and the letters D, F,
  I, O, Q and U never appear (W and Z never start a code).
- USPS gives each state ranges of three-digit ZIP prefixes ("sectional centers"). A ZIP code is
  five digits, or ZIP+4 ("12345-6789").

These rules refuse a code that cannot belong to the province or state given (an address typed
in the wrong field, a Toronto code on a Vancouver office); they do not prove a code exists.

``search_postal_code`` recognises a code typed where a place is asked for (the search's place
field): whether a code exists, and where it is, is ``rapport.core.postcodes``'s question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# Canada: the first letter of a postal code, by province or territory.
CANADA_FIRST_LETTERS: dict[str, str] = {
    "CA-NL": "A",
    "CA-NS": "B",
    "CA-PE": "C",
    "CA-NB": "E",
    "CA-QC": "GHJ",
    "CA-ON": "KLMNP",
    "CA-MB": "R",
    "CA-SK": "S",
    "CA-AB": "T",
    "CA-BC": "V",
    "CA-NT": "X",  # the Northwest Territories and Nunavut share X
    "CA-NU": "X",
    "CA-YT": "Y",
}

# United States: inclusive ranges of three-digit ZIP prefixes, by state (USPS sectional
# centers; military and territory prefixes are left out, as Rapport serves the 50 states and DC).
US_ZIP_PREFIXES: dict[str, tuple[tuple[int, int], ...]] = {
    "US-MA": ((10, 27), (55, 55)),
    "US-RI": ((28, 29),),
    "US-NH": ((30, 38),),
    "US-ME": ((39, 49),),
    "US-VT": ((50, 54), (56, 59)),
    "US-CT": ((60, 69),),
    "US-NJ": ((70, 89),),
    "US-NY": ((5, 5), (100, 149)),
    "US-PA": ((150, 196),),
    "US-DE": ((197, 199),),
    "US-DC": ((200, 200), (202, 205), (569, 569)),
    "US-VA": ((201, 201), (220, 246)),
    "US-MD": ((206, 219),),
    "US-WV": ((247, 268),),
    "US-NC": ((270, 289),),
    "US-SC": ((290, 299),),
    "US-GA": ((300, 319), (398, 399)),
    "US-FL": ((320, 339), (341, 349)),  # 340 is military mail
    "US-AL": ((350, 369),),
    "US-TN": ((370, 385),),
    "US-MS": ((386, 397),),
    "US-KY": ((400, 427),),
    "US-OH": ((430, 459),),
    "US-IN": ((460, 479),),
    "US-MI": ((480, 499),),
    "US-IA": ((500, 528),),
    "US-WI": ((530, 549),),
    "US-MN": ((550, 567),),
    "US-SD": ((570, 577),),
    "US-ND": ((580, 588),),
    "US-MT": ((590, 599),),
    "US-IL": ((600, 629),),
    "US-MO": ((630, 658),),
    "US-KS": ((660, 679),),
    "US-NE": ((680, 693),),
    "US-LA": ((700, 714),),
    "US-AR": ((716, 729),),
    "US-OK": ((730, 732), (734, 749)),
    "US-TX": ((733, 733), (750, 799), (885, 885)),
    "US-CO": ((800, 816),),
    "US-WY": ((820, 831),),
    "US-ID": ((832, 838),),
    "US-UT": ((840, 847),),
    "US-AZ": ((850, 865),),
    "US-NM": ((870, 884),),
    "US-NV": ((889, 898),),
    "US-CA": ((900, 961),),
    "US-HI": ((967, 968),),
    "US-OR": ((970, 979),),
    "US-WA": ((980, 994),),
    "US-AK": ((995, 999),),
}

# re.ASCII: \d means 0-9 only. Without it "１０００１" (full-width) or Arabic-Indic digits pass
# as a ZIP code, and the ZIP package's native code fails on them outside Python's exceptions.
_CANADIAN = re.compile(
    r"([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])\s*(\d[ABCEGHJ-NPRSTV-Z]\d)", re.ASCII
)
_US_ZIP = re.compile(r"(\d{5})(?:[\s-]?(\d{4}))?", re.ASCII)


# A code typed as a place. Any letters are taken in the Canadian shape, so a mistyped code
# ("Z9Z", whose letter starts no real code) is told it is unknown instead of being read as a
# place name; the first three characters (the "forward sortation area") are enough.
_SEARCH_CANADIAN = re.compile(r"([A-Z]\d[A-Z])(?:\s*(\d[A-Z]\d))?", re.ASCII)


@dataclass(frozen=True, slots=True)
class SearchPostalCode:
    """A postal code as typed into a place field, written the standard way."""

    country_code: str  # "CA" or "US"
    code: str  # as written: "M5V 2T6", "M5V", "98101", "98101-1234"
    area: str  # what locates it: the first three characters in Canada, five digits in the US


def search_postal_code(text: str) -> SearchPostalCode | None:
    """``text`` read as a whole postal code ("m5v2t6", "M5V", "98101-1234"), or None when it
    has another shape (a place name, a partial code)."""
    cleaned = " ".join(text.upper().split())
    canadian = _SEARCH_CANADIAN.fullmatch(cleaned)
    if canadian is not None:
        area, local = canadian.group(1), canadian.group(2)
        return SearchPostalCode("CA", f"{area} {local}" if local else area, area)
    american = _US_ZIP.fullmatch(cleaned)
    if american is not None:
        zip_code, plus_four = american.group(1), american.group(2)
        return SearchPostalCode("US", zip_code + (f"-{plus_four}" if plus_four else ""), zip_code)
    return None


class PostalCodeError(ValueError):
    """A postal code that is malformed, or that belongs elsewhere; the message says which."""


@cache
def _state_for_prefix() -> dict[int, str]:
    table: dict[int, str] = {}
    for state, ranges in US_ZIP_PREFIXES.items():
        for low, high in ranges:
            for prefix in range(low, high + 1):
                table[prefix] = state
    return table


def us_state_for_zip(zip_code: str) -> str | None:
    """The state (``"US-NY"``) whose range holds a five-digit ZIP code, or None."""
    return _state_for_prefix().get(int(zip_code[:3]))


def normalise_postal_code(*, postal_code: str, jurisdiction_code: str) -> str:
    """The code written the standard way ("M5V 2T6", "10001", "10001-1234"), checked against
    the province or state. Raises PostalCodeError with a sentence a person can act on."""
    cleaned = " ".join(postal_code.upper().split())
    country = jurisdiction_code[:2]
    if country == "CA":
        match = _CANADIAN.fullmatch(cleaned)
        if match is None:
            raise PostalCodeError(
                "Enter a Canadian postal code as letter, digit, letter, space, digit, letter, "
                'digit, like "M5V 2T6".'
            )
        letters = CANADA_FIRST_LETTERS.get(jurisdiction_code, "")
        if cleaned[0] not in letters:
            raise PostalCodeError(
                f"Postal codes in this province or territory start with "
                f"{_either(letters)}; {match.group(1)} is elsewhere in Canada."
            )
        return f"{match.group(1)} {match.group(2)}"
    if country == "US":
        match = _US_ZIP.fullmatch(cleaned)
        if match is None:
            raise PostalCodeError('Enter a ZIP code of five digits, or ZIP+4 like "10001-1234".')
        state = us_state_for_zip(match.group(1))
        if state != jurisdiction_code:
            raise PostalCodeError("This ZIP code belongs to another state.")
        return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")
    raise PostalCodeError("Rapport serves Canada and the United States only.")


def _either(letters: str) -> str:
    if len(letters) == 1:
        return letters
    return ", ".join(letters[:-1]) + f" or {letters[-1]}"
