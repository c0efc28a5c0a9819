"""How long the place field's offline look-ups take: a postal or ZIP code, and the "Did you
mean …?" suggestions for a name that is not found.

    .venv/bin/python bench/place_speed.py [--repeats 200]

Prints the one-off cost of loading each data set in this process (the first suggestion builds
the list of served names; the first Canadian code reads pypostalcode's file; the first US code
loads the zipcodes package's data), then the median
and the slowest of --repeats look-ups of each kind, against a floor measured in the same run:
``geocode`` of a city name that is found (a dictionary look-up).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

TYPOS = ("Torono", "Vancuver", "Seatle", "Monreal", "Philadephia", "asdfgh", "Toronto, Ontaroi")
CODES = ("M5V 2T6", "H2X", "98101", "02139-1234", "Z9Z", "00000")


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _figures(label: str, calls: list[Callable[[], object]], repeats: int, floor: float) -> None:
    times = [_timed(call) for _ in range(repeats) for call in calls]
    median = statistics.median(times)
    print(
        f"{label:<28} median {median * 1000:7.3f} ms   slowest {max(times) * 1000:7.3f} ms"
        f"   {median / floor:8.1f}× the floor"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    arguments = parser.parse_args()

    from rapport.core import geo
    from rapport.core.postcodes import canadian_areas, us_area

    print(f"load served towns:           {_timed(geo.served_cities) * 1000:8.1f} ms")
    print(f"build the suggestion list:   {_timed(geo._suggestion_choices) * 1000:8.1f} ms")
    print(f"read the Canadian areas:     {_timed(canadian_areas) * 1000:8.1f} ms")
    print(f"first US ZIP code (loads):   {_timed(lambda: us_area('98101')) * 1000:8.1f} ms")
    us_area.cache_clear()

    def found_or_not(code: str) -> Callable[[], object]:
        def call() -> object:
            try:
                return geo.geocode(code)
            except geo.PlaceNotFound:
                return None

        return call

    floor_times = [_timed(lambda: geo.geocode("Toronto")) for _ in range(arguments.repeats)]
    floor = statistics.median(floor_times)
    print(f"floor: geocode('Toronto')    median {floor * 1000:7.3f} ms")
    # Cached per code after the first time: the first round shows the uncached cost.
    geo._postal_place.cache_clear()
    _figures("postal codes, first time", [found_or_not(code) for code in CODES], 1, floor)
    _figures(
        "postal codes, cached", [found_or_not(code) for code in CODES], arguments.repeats, floor
    )
    _figures(
        "suggestions for a typo",
        [functools.partial(geo.suggest_places, typed) for typed in TYPOS],
        arguments.repeats,
        floor,
    )


if __name__ == "__main__":
    main()
