"""The rules a schema cannot say: unique ids, options inside the response range, bands that
cover every possible score in order without gaps or overlaps, subscales and critical items that
name real items, reachable thresholds, norms that fit the score range, prorating that leaves at
least one answer. Run only on data the schema accepted; collects problems, builds nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, cast

from rapport.care.instruments._numbers import exact, show, to_units
from rapport.care.instruments.change import cutoff_from_norms
from rapport.care.instruments.model import Direction, Norms, Sample
from rapport.care.instruments.schema import Path, Problems, path_text

TOTAL = "total"


def _number(value: Any) -> Fraction:
    return exact(value)


class RuleChecker:
    """The semantic rules, run on data the schema accepted. Collects problems; builds nothing."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: Problems = []
        self.range_min = int(data["response_range"]["min"])
        self.range_max = int(data["response_range"]["max"])
        self.decimals = int(data["scoring"].get("decimals", 0))
        self.method = data["scoring"]["method"]
        self.items_by_id: dict[str, Mapping[str, Any]] = {}
        self.items_sound = True

    def add(self, path: Path, message: str) -> None:
        self.problems.append((path_text(path), message))

    def run(self) -> Problems:
        data = self.data
        if self.range_min >= self.range_max:
            self.add(
                ("response_range", "max"),
                f"must be greater than min ({self.range_min}): answers need at least two values",
            )
        if "options" in data:
            self._check_options(("options",), data["options"])
        self._check_items()
        scored = [item_id for item_id, item in self.items_by_id.items() if self._scored(item)]
        if not scored:
            self.add(("items",), "at least one item must be scored (not optional)")
        # Score ranges come from the items' options: while those are wrong, the checks that
        # lean on a range (bands, norms, prorating) would only echo the same mistake.
        self.items_sound = not self.problems
        total_range = self.score_range(scored, self.max_missing(data["scoring"]))
        if self.items_sound:
            self._check_max_missing(("scoring",), data["scoring"], len(scored), "scored items")
            self._check_bands(("scoring", "bands"), data["scoring"].get("bands"), total_range)
        self._check_subscales()
        self._check_critical_items()
        self._check_norms(total_range)
        return self.problems

    @staticmethod
    def _scored(item: Mapping[str, Any]) -> bool:
        return not item.get("optional", False)

    def _options_of(self, item: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        return cast(Sequence[Mapping[str, Any]], item.get("options", self.data.get("options", [])))

    def _check_options(self, path: Path, options: Sequence[Mapping[str, Any]]) -> None:
        first_with: dict[int, int] = {}
        for index, option in enumerate(options):
            value = int(option["value"])
            where = (*path, index, "value")
            if value in first_with:
                self.add(where, f"{value} is already the value of options[{first_with[value]}]")
            else:
                first_with[value] = index
            if not self.range_min <= value <= self.range_max:
                self.add(
                    where,
                    f"{value} is outside response_range ({self.range_min} to {self.range_max})",
                )

    def _check_items(self) -> None:
        first_at: dict[str, int] = {}
        for index, item in enumerate(self.data["items"]):
            item_id = item["id"]
            if item_id in first_at:
                self.add(
                    ("items", index, "id"),
                    f"'{item_id}' is already the id of items[{first_at[item_id]}]",
                )
                continue
            first_at[item_id] = index
            self.items_by_id[item_id] = item
            if "options" in item:
                self._check_options(("items", index, "options"), item["options"])
            elif "options" not in self.data:
                self.add(
                    ("items", index, "options"),
                    "no response options: give them here or as the definition's shared options",
                )
            if item.get("optional", False) and item.get("reverse_scored", False):
                self.add(
                    ("items", index, "reverse_scored"),
                    "an optional item counts in no score, so it cannot be reverse-scored",
                )

    def _item_bounds(self, item: Mapping[str, Any]) -> tuple[int, int]:
        values = [int(option["value"]) for option in self._options_of(item)]
        if not values:
            return (0, 0)
        if item.get("reverse_scored", False):
            values = [self.range_min + self.range_max - value for value in values]
        return (min(values), max(values))

    def score_range(
        self, item_ids: Sequence[str], max_missing: int = 0
    ) -> tuple[Fraction, Fraction]:
        """The lowest and highest score the items can give, prorating included: with up to
        `max_missing` blank, the extremes are the means of the fewest items allowed, taken from
        those with the lowest minimums and the highest maximums (items whose options differ
        can push a prorated score past the all-answered range)."""
        if not item_ids:
            return (Fraction(0), Fraction(0))
        bounds = [self._item_bounds(self.items_by_id[item_id]) for item_id in item_ids]
        fewest = max(1, len(bounds) - max_missing)
        lows = sorted(low for low, _ in bounds)[:fewest]
        highs = sorted(high for _, high in bounds)[-fewest:]
        low, high = Fraction(sum(lows), fewest), Fraction(sum(highs), fewest)
        if self.method == "sum":
            low, high = low * len(bounds), high * len(bounds)
        return (low, high)

    @staticmethod
    def max_missing(holder: Mapping[str, Any]) -> int:
        return int(holder.get("prorate", {}).get("max_missing", 0))

    def _check_max_missing(
        self, path: Path, holder: Mapping[str, Any], count: int, what: str
    ) -> None:
        if count and self.max_missing(holder) >= count:
            self.add(
                (*path, "prorate", "max_missing"),
                f"must be smaller than the {count} {what}: a score needs at least one answer",
            )

    def _check_bands(
        self,
        path: Path,
        bands: Sequence[Mapping[str, Any]] | None,
        score_range: tuple[Fraction, Fraction],
    ) -> None:
        if not bands:
            return
        decimals = self.decimals
        low_units = to_units(score_range[0], decimals)
        high_units = to_units(score_range[1], decimals)
        previous_end: int | None = None
        for index, band in enumerate(bands):
            start, end = _number(band["from"]), _number(band["to"])
            start_units, end_units = start * 10**decimals, end * 10**decimals
            if start_units.denominator != 1 or end_units.denominator != 1:
                field = "from" if start_units.denominator != 1 else "to"
                self.add(
                    (*path, index, field),
                    f"has more decimal places than scoring.decimals ({decimals}) gives scores",
                )
                return
            first, last = int(start_units), int(end_units)
            if last < first:
                self.add((*path, index, "to"), f"must not be below from ({show(start)})")
                return
            if previous_end is None:
                if first != low_units:
                    self.add(
                        (*path, index, "from"),
                        f"the lowest possible score is {show(low_units / 10**decimals)}; "
                        "the first band must start there",
                    )
            elif first <= previous_end:
                self.add(
                    (*path, index, "from"),
                    f"overlaps the band before it, which ends at "
                    f"{show(previous_end / 10**decimals)} (bands go from the lowest score up)",
                )
            elif first != previous_end + 1:
                self.add(
                    (*path, index, "from"),
                    f"leaves a gap: the band before ends at {show(previous_end / 10**decimals)}, "
                    f"so this one must start at {show((previous_end + 1) / 10**decimals)}",
                )
            previous_end = last
        if previous_end is not None and previous_end != high_units:
            self.add(
                (*path, len(bands) - 1, "to"),
                f"the highest possible score is {show(high_units / 10**decimals)}; "
                "the last band must end there",
            )

    def _check_subscales(self) -> None:
        first_at: dict[str, int] = {}
        for index, subscale in enumerate(self.data.get("subscales", [])):
            path: Path = ("subscales", index)
            subscale_id = subscale["id"]
            if subscale_id == TOTAL:
                self.add((*path, "id"), f"'{TOTAL}' is the name of the whole instrument's score")
            elif subscale_id in first_at:
                self.add(
                    (*path, "id"),
                    f"'{subscale_id}' is already the id of subscales[{first_at[subscale_id]}]",
                )
            else:
                first_at[subscale_id] = index
            members: list[str] = []
            for position, item_id in enumerate(subscale["items"]):
                where = (*path, "items", position)
                item = self.items_by_id.get(item_id)
                if item is None:
                    self.add(where, f"no item has the id '{item_id}'")
                elif not self._scored(item):
                    self.add(where, f"'{item_id}' is optional: optional items count in no score")
                elif item_id in members:
                    self.add(where, f"'{item_id}' is named twice")
                else:
                    members.append(item_id)
            if len(members) != len(subscale["items"]):
                continue
            if self.items_sound:
                self._check_max_missing(path, subscale, len(members), "items of this subscale")
                self._check_bands(
                    (*path, "bands"),
                    subscale.get("bands"),
                    self.score_range(members, self.max_missing(subscale)),
                )

    def _check_critical_items(self) -> None:
        seen: set[str] = set()
        for index, critical in enumerate(self.data.get("critical_items", [])):
            path: Path = ("critical_items", index)
            item_id, threshold = critical["item"], int(critical["threshold"])
            item = self.items_by_id.get(item_id)
            if item is None:
                self.add((*path, "item"), f"no item has the id '{item_id}'")
                continue
            if item_id in seen:
                self.add((*path, "item"), f"'{item_id}' is already a critical item")
            seen.add(item_id)
            values = [int(option["value"]) for option in self._options_of(item)]
            if not values:
                continue
            if threshold > max(values):
                self.add(
                    (*path, "threshold"),
                    f"{threshold} can never be reached: the highest answer to '{item_id}' is "
                    f"{max(values)}",
                )
            elif threshold <= min(values):
                self.add(
                    (*path, "threshold"),
                    f"every answer to '{item_id}' would be critical: the lowest is {min(values)}",
                )

    def _check_norms(self, total_range: tuple[Fraction, Fraction]) -> None:
        raw = self.data.get("norms")
        if raw is None:
            if self.data["scoring"].get("change_statistics", False):
                self.add(
                    ("norms",),
                    "are required when scoring.change_statistics is true (clinical mean and SD, "
                    "reliability, direction)",
                )
            return
        criterion = raw.get("criterion")
        if criterion in ("b", "c") and "nonclinical" not in raw:
            self.add(
                ("norms", "nonclinical"),
                f"criterion {criterion} needs the non-clinical sample's mean and SD",
            )
            return
        if not self.items_sound:
            return
        low, high = total_range
        span = f"the possible totals ({show(low)} to {show(high)})"
        for sample in ("clinical", "nonclinical"):
            if sample in raw and not low <= _number(raw[sample]["mean"]) <= high:
                self.add(("norms", sample, "mean"), f"lies outside {span}")
        cutoff = cutoff_from_norms(build_norms(raw))
        if not low <= _number(cutoff.value) <= high:
            if cutoff.criterion == "published":
                self.add(("norms", "cutoff"), f"lies outside {span}")
            else:
                self.add(
                    ("norms",),
                    f"give a clinical cutoff (criterion {cutoff.criterion}: "
                    f"{show(cutoff.value)}) outside {span}",
                )


def build_norms(raw: Mapping[str, Any]) -> Norms:
    def sample(name: str) -> Sample | None:
        if name not in raw:
            return None
        return Sample(mean=float(raw[name]["mean"]), sd=float(raw[name]["sd"]))

    clinical = sample("clinical")
    assert clinical is not None  # the schema requires it
    nonclinical = sample("nonclinical")
    criterion = raw.get("criterion", "c" if nonclinical is not None else "a")
    cutoff = raw.get("cutoff")
    return Norms(
        clinical=clinical,
        nonclinical=nonclinical,
        reliability=float(raw["reliability"]),
        direction=Direction(raw["direction"]),
        criterion=criterion,
        cutoff=None if cutoff is None else float(cutoff),
        source=raw.get("source", ""),
    )
