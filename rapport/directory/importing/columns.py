"""Every field an import file may hold, in one place: the reader refuses a CSV header naming
anything else (a misspelt column would otherwise be dropped without a word), and the format
document (docs/import-format.md) describes exactly these, which a test checks.

A field is a CSV column and a JSON Lines key of the same name. Licences and offices repeat: in
JSON Lines they are lists of objects (``"licences": [{"jurisdiction": "CA-ON", ...}]``), in CSV
numbered column groups (``licence_1_jurisdiction``, ``licence_2_jurisdiction`` …). Apps above
the directory add their own fields through row parts (``parts.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    required: bool = False


# Required in every row, new or already imported: a row describes a whole listing.
REQUIRED = (
    "external_id",
    "email",
    "display_name",
    "designation",
    "practice_start_year",
    "fee",
    "currency",
    "time_zone",
    "languages",
)

OPTIONAL = (
    "pronouns",
    "gender_category",
    "gender_description",
    "cultural_background",
    "faiths",
    "identifies_as_lgbtq2s",
    "lgbtq2s_affirming",
    "lived_experiences",
    "headline",
    "about",
    "approach",
    "first_session",
    "concerns",
    "modalities",
    "populations",
    "style_structure",
    "style_direction",
    "style_challenge",
    "style_time_focus",
    "style_humour",
    "sliding_scale_min",
    "accepts_insurance",
    "direct_billing",
    "insurance_note",
    "session_minutes",
    "consultation_minutes",
    "offers_in_person",
    "offers_video",
    "offers_phone",
    "accepting_new_clients",
    "is_listed",
    "between_session_contact",
    "reply_within_hours",
    "contact_hours",
)

PROFILE_COLUMNS: tuple[Column, ...] = tuple(
    [Column(name, required=True) for name in REQUIRED] + [Column(name) for name in OPTIONAL]
)

# Repeating groups: the JSON key of the list, the CSV prefix, and the keys of each item.
LICENCE_KEYS = ("jurisdiction", "regulator", "designation", "number", "expires_on")
OFFICE_KEYS = (
    "label",
    "street_address",
    "city",
    "jurisdiction",
    "postal_code",
    "accessibility_features",
    "accessibility_note",
)
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "licences": ("licence", LICENCE_KEYS),
    "offices": ("office", OFFICE_KEYS),
}
GROUP_BY_PREFIX = {prefix: (key, keys) for key, (prefix, keys) in GROUPS.items()}
# Enough for any real practice; a bound keeps a hostile header from making huge lists.
MAX_GROUP_ITEMS = 20

_GROUP_COLUMN = re.compile(r"^(?P<prefix>[a-z]+)_(?P<number>[0-9]{1,3})_(?P<key>[a-z_]+)$")


def group_column(name: str) -> tuple[str, int, str] | None:
    """``("licences", 0, "number")`` for the CSV column ``licence_1_number``; None for a name
    that is not a numbered column of a known group (the caller reports it)."""
    match = _GROUP_COLUMN.match(name)
    if match is None or match["prefix"] not in GROUP_BY_PREFIX:
        return None
    group, keys = GROUP_BY_PREFIX[match["prefix"]]
    number = int(match["number"])
    if match["key"] not in keys or not 1 <= number <= MAX_GROUP_ITEMS:
        return None
    return group, number - 1, match["key"]


# A problem with a whole group ("no licence at all") is shown at the first item's main column.
_FIRST_COLUMN = {"licences": "licence_1_number", "offices": "office_1_street_address"}


def csv_field_name(path: tuple[str | int, ...]) -> str:
    """How a CSV file names a field: ``licence_2_number`` for ("licences", 1, "number")."""
    if len(path) == 3 and path[0] in GROUPS:
        prefix, _ = GROUPS[str(path[0])]
        return f"{prefix}_{int(path[1]) + 1}_{path[2]}"
    if len(path) == 1 and path[0] in _FIRST_COLUMN:
        return _FIRST_COLUMN[str(path[0])]
    if len(path) == 2 and path[0] in GROUPS:
        prefix, _ = GROUPS[str(path[0])]
        return f"{prefix}_{int(path[1]) + 1}"
    return str(path[0]) if path else ""


def json_field_name(path: tuple[str | int, ...]) -> str:
    """How a JSON Lines file names a field: ``licences[1].number``."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else part
    return name
