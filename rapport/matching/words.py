"""Fit-profile answers in words: the one set of labels the questionnaire, the person's own
profile page and the therapist's shared view all use, so a choice reads the same everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapport.directory.models import (
    STYLE_DIMENSIONS,
    Concern,
    Faith,
    GenderCategory,
    Language,
    LivedExperience,
    Population,
)
from rapport.directory.search.contract import DELIVERY_IN_PERSON, DELIVERY_PHONE, DELIVERY_VIDEO

DELIVERY_LABELS = {
    DELIVERY_IN_PERSON: "In person, at an office",
    DELIVERY_VIDEO: "By video",
    DELIVERY_PHONE: "By phone",
}
GENDER_CHOICES = [
    (value, label) for value, label in GenderCategory.choices if value != GenderCategory.UNDISCLOSED
]
TAXONOMY_MODELS: dict[str, Any] = {
    "concern": Concern,
    "language": Language,
    "faith": Faith,
    "lived_experience": LivedExperience,
    "population": Population,
}


def style_choices(low: str, high: str) -> list[tuple[str, str]]:
    """Five points between two poles, each in words (never a bare number), and no preference."""
    return [
        ("", "No preference"),
        ("1", low),
        ("2", f"Leaning towards “{low.lower()}”"),
        ("3", "In between"),
        ("4", f"Leaning towards “{high.lower()}”"),
        ("5", high),
    ]


def style_label(dimension: str, placement: int) -> str:
    """A placement in the same words the style question offers."""
    for name, low, high in STYLE_DIMENSIONS:
        if name == dimension:
            return dict(style_choices(low, high)).get(str(placement), str(placement))
    return str(placement)


def term_names(taxonomy: str, slugs: Sequence[str]) -> list[str]:
    """Taxonomy names in the order the person chose them (slugs unknown since are left out)."""
    if not slugs:
        return []
    model = TAXONOMY_MODELS[taxonomy]
    by_slug = dict(model.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return [by_slug[slug] for slug in slugs if slug in by_slug]
