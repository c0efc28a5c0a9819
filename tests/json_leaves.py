"""Looking for a value inside a JSON-ready structure.

A test that wants to show a score is absent must look for it as a value: as a substring of
the serialised text, "3.8" also turns up inside timestamps ("…:03.812Z") and so fails at
random.
"""

from __future__ import annotations


def leaves(value: object) -> list[object]:
    """Every scalar anywhere in a structure of dicts, lists and tuples (dict keys excluded)."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]
