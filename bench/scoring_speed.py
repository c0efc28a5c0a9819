"""How long scoring one check-in submission takes: validate the answers, score them (total,
subscales, bands, critical items) and, where the instrument has norms, the reliable change and
clinical significance against an earlier total.

    .venv/bin/python bench/scoring_speed.py [--runs 10000] [--seed 7]

Pure computation (no database, no Django). For each built-in and a larger synthetic
instrument (30 items, three subscales), --runs submissions with random
answers (about one in ten items left blank, so prorating and "no score" both happen) are timed
one by one after a warm-up pass, next to a floor measured in the same run: copying the answers
dict (the least any submission costs). Prints p50/p95/max in microseconds, the ratio to the
floor at the median, and whether p95 stays within 1 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapport.care.instruments import (
    Instrument,
    builtin_instruments,
    clinically_significant,
    load_definition,
    score,
    validate_answers,
)

P95_TARGET_MICROSECONDS = 1000.0


def synthetic_large() -> Instrument:
    """A larger made-up instrument than any built-in: 30 items answered 0–4, three 10-item
    subscales, every fifth item reversed, bands, a critical item and norms."""
    items = [
        {"id": f"i{n}", "text": f"Made-up line {n}.", "reverse_scored": n % 5 == 0}
        for n in range(1, 31)
    ]
    return load_definition(
        {
            "slug": "bench-large",
            "title": "Bench large",
            "version": "1",
            "language": "en",
            "instructions": "Made up for the benchmark.",
            "response_range": {"min": 0, "max": 4},
            "options": [{"value": v, "label": f"level {v}"} for v in range(5)],
            "items": items,
            "subscales": [
                {
                    "id": f"part-{part}",
                    "label": f"Part {part}",
                    "items": [f"i{n}" for n in range(part * 10 - 9, part * 10 + 1)],
                    "prorate": {"max_missing": 2},
                }
                for part in (1, 2, 3)
            ],
            "scoring": {
                "method": "sum",
                "prorate": {"max_missing": 4},
                "change_statistics": True,
                "bands": [
                    {"from": 0, "to": 39, "label": "low"},
                    {"from": 40, "to": 79, "label": "middle"},
                    {"from": 80, "to": 120, "label": "high"},
                ],
            },
            "critical_items": [{"item": "i30", "threshold": 3}],
            "norms": {
                "clinical": {"mean": 70, "sd": 15},
                "nonclinical": {"mean": 35, "sd": 12},
                "reliability": 0.9,
                "direction": "higher_is_worse",
            },
        }
    )


def random_answers(instrument: Instrument, generator: random.Random) -> dict[str, int | None]:
    answers: dict[str, int | None] = {}
    for item in instrument.items:
        if generator.random() < 0.1:
            answers[item.id] = None
        else:
            answers[item.id] = generator.choice(item.options).value
    return answers


def submission(instrument: Instrument, previous_total: float) -> Callable[[Any], Any]:
    def run(answers: dict[str, int | None]) -> Any:
        validate_answers(instrument, answers)
        scores = score(instrument, answers)
        if instrument.norms is not None and scores.total.value is not None:
            clinically_significant(instrument, previous_total, scores.total.value)
        return scores

    return run


def timings(function: Callable[[Any], Any], inputs: list[Any]) -> list[float]:
    for value in inputs[: min(len(inputs), 500)]:
        function(value)  # warm-up
    result = []
    clock = time.perf_counter_ns
    for value in inputs:
        start = clock()
        function(value)
        result.append((clock() - start) / 1000)
    return result


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered), p95, ordered[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    generator = random.Random(arguments.seed)

    print(f"{arguments.runs:,} submissions per instrument, times in µs (p50 / p95 / max)")
    within_target = True
    for instrument in (*builtin_instruments(), synthetic_large()):
        inputs = [random_answers(instrument, generator) for _ in range(arguments.runs)]
        midpoint = (instrument.total.minimum + instrument.total.maximum) / 2
        full = summary(timings(submission(instrument, midpoint), inputs))
        floor = summary(timings(dict, inputs))
        within_target = within_target and full[1] <= P95_TARGET_MICROSECONDS
        change = "validate + score + change" if instrument.norms else "validate + score"
        print(
            f"{instrument.slug:<20} {len(instrument.items):>2} items  {change:<26}"
            f"{full[0]:8.1f} / {full[1]:8.1f} / {full[2]:8.1f}"
        )
        print(
            f"{'':<20} floor (dict copy)                 "
            f"{floor[0]:8.1f} / {floor[1]:8.1f} / {floor[2]:8.1f}   "
            f"ratio at p50 {full[0] / floor[0]:.0f}×"
        )
    verdict = "yes" if within_target else "NO"
    print(f"p95 within {P95_TARGET_MICROSECONDS:.0f} µs for every instrument: {verdict}")
    return 0 if within_target else 1


if __name__ == "__main__":
    sys.exit(main())
