"""What a loaded instrument is: frozen values built once from a checked definition.

Nothing here validates: `rapport.care.instruments.definition.load_definition` builds these only
from a definition that passed the schema and every semantic check, so scoring can trust them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

ScoringMethod = Literal["sum", "mean"]


class Direction(StrEnum):
    """Which way a total moves when someone is doing better."""

    HIGHER_IS_BETTER = "higher_is_better"
    HIGHER_IS_WORSE = "higher_is_worse"


@dataclass(frozen=True, slots=True)
class ResponseOption:
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class Item:
    """One question. An optional item may be left blank and counts in no score (a safety item
    read on its own, for example); every other item is scored, and blank ones are "missing"."""

    id: str
    text: str
    options: tuple[ResponseOption, ...]
    reverse_scored: bool = False
    optional: bool = False

    @property
    def scored(self) -> bool:
        return not self.optional

    def label_for(self, value: int) -> str:
        for option in self.options:
            if option.value == value:
                return option.label
        raise KeyError(value)


@dataclass(frozen=True, slots=True)
class Band:
    """A named stretch of scores, both ends included (`lower` ≤ score ≤ `upper`)."""

    lower: float
    upper: float
    label: str


@dataclass(frozen=True, slots=True)
class Scale:
    """Something scored: the total (id "total") or one subscale."""

    id: str
    label: str
    item_ids: tuple[str, ...]
    max_missing: int
    bands: tuple[Band, ...]
    # The lowest and highest score the answers can give (prorating included), before rounding.
    minimum: float
    maximum: float


@dataclass(frozen=True, slots=True)
class CriticalItem:
    """An item whose answer at or above `threshold` (the raw answer value, before any reverse
    scoring) needs someone's attention today."""

    item_id: str
    threshold: int


@dataclass(frozen=True, slots=True)
class Sample:
    mean: float
    sd: float


@dataclass(frozen=True, slots=True)
class Norms:
    """What Jacobson–Truax change statistics need. `cutoff` is a published cutoff the definition
    gives; without one the cutoff comes from `criterion` (see `clinical_cutoff`)."""

    clinical: Sample
    nonclinical: Sample | None
    reliability: float
    direction: Direction
    criterion: Literal["a", "b", "c"]
    cutoff: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Instrument:
    """A loaded, checked definition. `version` is the label its author gave; `content_hash`
    identifies its content (see docs/instruments.md, "Versions"). Answers stored with both keep
    meaning what they meant when they were given."""

    slug: str
    title: str
    version: str
    language: str
    instructions: str
    licence: str
    response_min: int
    response_max: int
    items: tuple[Item, ...]
    method: ScoringMethod
    decimals: int
    total: Scale
    subscales: tuple[Scale, ...]
    change_statistics: bool
    critical_items: tuple[CriticalItem, ...]
    norms: Norms | None
    content_hash: str
    # Lookups for scoring; derived from `items`, so left out of comparisons and repr.
    items_by_id: Mapping[str, Item] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False, repr=False
    )
    option_values: Mapping[str, frozenset[int]] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.items_by_id:
            object.__setattr__(
                self, "items_by_id", MappingProxyType({item.id: item for item in self.items})
            )
        if not self.option_values:
            object.__setattr__(
                self,
                "option_values",
                MappingProxyType(
                    {item.id: frozenset(o.value for o in item.options) for item in self.items}
                ),
            )

    @property
    def key(self) -> tuple[str, str]:
        """(slug, version): what a stored answer names to find its definition again."""
        return (self.slug, self.version)

    def scale(self, scale_id: str) -> Scale:
        if scale_id == self.total.id:
            return self.total
        for subscale in self.subscales:
            if subscale.id == scale_id:
                return subscale
        raise KeyError(scale_id)
