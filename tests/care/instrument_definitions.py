"""Synthetic definitions for the instrument tests. Their wording is made up for the tests (and
deliberately bland); their numbers are chosen so every expected result can be worked out by hand.
Each function returns a fresh dict, so a test may change it freely."""

from __future__ import annotations

from typing import Any

NINE_ITEM_BANDS = [
    {"from": 0, "to": 4, "label": "band A"},
    {"from": 5, "to": 9, "label": "band B"},
    {"from": 10, "to": 14, "label": "band C"},
    {"from": 15, "to": 19, "label": "band D"},
    {"from": 20, "to": 27, "label": "band E"},
]


def nine_item(threshold: int = 1) -> dict[str, Any]:
    """Nine items answered 0–3, summed (0–27), bands starting at 0/5/10/15/20, one missing item
    prorated, item q9 critical at `threshold`, and norms whose criterion c is 8.125."""
    return {
        "slug": "synthetic-nine",
        "title": "Synthetic nine",
        "version": "1",
        "language": "en",
        "instructions": "Pick one answer for each line.",
        "response_range": {"min": 0, "max": 3},
        "options": [
            {"value": 0, "label": "zero"},
            {"value": 1, "label": "one"},
            {"value": 2, "label": "two"},
            {"value": 3, "label": "three"},
        ],
        "items": [{"id": f"q{number}", "text": f"Line {number}."} for number in range(1, 10)],
        "scoring": {
            "method": "sum",
            "prorate": {"max_missing": 1},
            "change_statistics": True,
            "bands": [dict(band) for band in NINE_ITEM_BANDS],
        },
        "critical_items": [{"item": "q9", "threshold": threshold}],
        "norms": {
            "clinical": {"mean": 15, "sd": 5},
            "nonclinical": {"mean": 4, "sd": 3},
            "reliability": 0.84,
            "direction": "higher_is_worse",
        },
    }


TWELVE_ITEM_REVERSED = ("a4", "b2", "c3")


def twelve_item() -> dict[str, Any]:
    """Twelve items answered 1–5, three 4-item subscales (a, b, c), items a4, b2 and c3 reverse
    scored (6 − answer), mean scoring to two decimals; a subscale tolerates one missing item,
    the total two."""
    items = []
    for group in "abc":
        for number in range(1, 5):
            item_id = f"{group}{number}"
            item: dict[str, Any] = {"id": item_id, "text": f"Statement {item_id}."}
            if item_id in TWELVE_ITEM_REVERSED:
                item["reverse_scored"] = True
            items.append(item)
    subscale_bands = [
        {"from": 1.0, "to": 2.49, "label": "low"},
        {"from": 2.5, "to": 3.49, "label": "middle"},
        {"from": 3.5, "to": 5.0, "label": "high"},
    ]
    return {
        "slug": "synthetic-twelve",
        "title": "Synthetic twelve",
        "version": "1",
        "language": "en",
        "instructions": "How true is each statement?",
        "response_range": {"min": 1, "max": 5},
        "options": [{"value": value, "label": f"level {value}"} for value in range(1, 6)],
        "items": items,
        "subscales": [
            {
                "id": group,
                "label": f"Part {group.upper()}",
                "items": [f"{group}{number}" for number in range(1, 5)],
                "prorate": {"max_missing": 1},
                "bands": [dict(band) for band in subscale_bands],
            }
            for group in "abc"
        ],
        "scoring": {
            "method": "mean",
            "decimals": 2,
            "prorate": {"max_missing": 2},
            "bands": [
                {"from": 1, "to": 2.99, "label": "lower"},
                {"from": 3, "to": 5, "label": "upper"},
            ],
        },
    }


def twelve_item_summed_higher_is_better() -> dict[str, Any]:
    """The twelve items summed (12–60), higher is better, with norms whose criterion c is 27.2."""
    definition = twelve_item()
    definition["slug"] = "synthetic-twelve-sum"
    definition["scoring"] = {"method": "sum", "change_statistics": True}
    for subscale in definition["subscales"]:
        del subscale["bands"]
    definition["norms"] = {
        "clinical": {"mean": 20, "sd": 6},
        "nonclinical": {"mean": 32, "sd": 4},
        "reliability": 0.75,
        "direction": "higher_is_better",
    }
    return definition
