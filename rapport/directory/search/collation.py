"""The order of names in the directory: alphabetical as a reader expects, on any database.

SQL's ``ORDER BY display_name`` compares code points on SQLite and under PostgreSQL's C
collation, which puts “Émilie”, “Øyvind” and “Łukasz” after “Zane” and “van Dijk” after
“Vargas”. The search engine sorts by this key instead (computed when its index is built), so
the name order is the same whichever database serves it.

The key compares letters without case or accents, the way a printed index files them: É with E,
Ö with O. Letters that Unicode does not split into a base letter and an accent (Ł, Ø, Æ, Œ, Đ,
Ð, Þ, ß, ı) are spelled out by hand. Apostrophes are ignored (O'Brien files as OBrien), a hyphen
or a full stop separates words like a space. Names that compare equal under the key keep the
engine's tie order (by id).
"""

from __future__ import annotations

import unicodedata

# After casefold(), which has already made ß "ss" and upper case lower.
_UNDECOMPOSED = str.maketrans({
    "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    "ħ": "h", "ŧ": "t", "ĸ": "k", "ŋ": "n",
})  # fmt: skip
_APOSTROPHES = frozenset("'\u2018\u2019\u02bc`´")
# The same rules for a plain ASCII name, in one translate() (most names; the index builds
# 100,000 keys at a time).
_ASCII_PUNCTUATION = str.maketrans(
    {
        chr(code): ("" if chr(code) in _APOSTROPHES else " ")
        for code in range(128)
        if not chr(code).isalnum()
    }
)


def name_sort_key(name: str) -> str:
    """A string that sorts ``name`` among others alphabetically (see the module docstring)."""
    if name.isascii():
        return " ".join(name.lower().translate(_ASCII_PUNCTUATION).split())
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char) or char in _APOSTROPHES:
            continue
        kept.append(char if char.isalnum() else " ")
    return " ".join("".join(kept).translate(_UNDECOMPOSED).split())
