"""The default order without a place (the soonest free consultation), the other orders, and
their ties.

Many therapists share a next free time (the same first slot of a week, or no known time at
all). Ties by name would put the start of the alphabet first every day; they follow a seed that
rotates daily instead (``rapport.core.rotation``, shared with the matcher). Checked against the
rule restated in plain integers (``daily_tie_rank`` in the property test), not the engine's own
code.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from rapport.directory.models import TherapistProfile
from rapport.directory.search import engine
from rapport.directory.search.contract import SORT_SOONEST, SearchQuery
from tests.directory.test_search_property import daily_tie_rank
from tests.factories import make_office, make_therapist

pytestmark = pytest.mark.usefixtures("reference_data")

# A Monday noon, UTC; every day checked is a day after it.
DAY_ONE = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
TIED = [f"Tie {letter}" for letter in "ABCDEFGHIJKL"]  # name order is list order


@pytest.fixture
def directory(settings) -> dict[str, Any]:
    """12 therapists sharing one next free time, one with an earlier time, two with none."""
    # Every listing stays fresh across the month of days the tests look at.
    settings.LISTING_FRESHNESS_DAYS = 365
    shared = DAY_ONE + dt.timedelta(days=60)
    return {
        "earlier": make_therapist(
            display_name="Zed Earlier", next_consultation_at=DAY_ONE + dt.timedelta(days=3)
        ),
        "tied": [make_therapist(display_name=name, next_consultation_at=shared) for name in TIED],
        "none": [make_therapist(display_name=name) for name in ("Abe None", "Bea None")],
    }


def ordered_names(now: dt.datetime, **fields: Any) -> list[str]:
    fields.setdefault("page_size", 100)
    fields.setdefault("sort", SORT_SOONEST)
    result = engine.search(SearchQuery(**fields), now=now)
    by_id = dict(TherapistProfile.objects.values_list("id", "display_name"))
    return [by_id[hit.therapist_id] for hit in result.hits]


def expected_ties(people: list[TherapistProfile], now: dt.datetime) -> list[str]:
    return [
        person.display_name
        for person in sorted(people, key=lambda person: daily_tie_rank(person.pk, now))
    ]


def test_the_soonest_comes_first_and_ties_follow_the_days_order_not_the_name(directory):
    for day in range(3):
        now = DAY_ONE + dt.timedelta(days=day)
        names = ordered_names(now)
        assert names[0] == "Zed Earlier"  # the soonest time wins whatever the name
        assert names[1:13] == expected_ties(directory["tied"], now)
        # No known free time: last, tied among themselves by the same rule.
        assert names[13:] == expected_ties(directory["none"], now)
        assert names[1:13] != TIED


def test_the_order_holds_all_day_and_changes_from_day_to_day(directory):
    morning = DAY_ONE.replace(hour=0, minute=0, second=1)
    evening = DAY_ONE.replace(hour=23, minute=59, second=59)
    assert ordered_names(morning) == ordered_names(evening) == ordered_names(DAY_ONE)
    assert ordered_names(DAY_ONE) != ordered_names(DAY_ONE + dt.timedelta(days=1))

    firsts = [ordered_names(DAY_ONE + dt.timedelta(days=day))[1] for day in range(30)]
    # Over a month, first place among the tied moves around: most of the twelve get it, and
    # the start of the alphabet does not keep it (about 30/12 days each).
    assert len(set(firsts)) >= 8
    assert firsts.count("Tie A") < 10


@pytest.mark.parametrize("sort", [SORT_SOONEST, "fee", "name"])
def test_pages_of_one_day_neither_repeat_nor_lose_anyone(directory, sort):
    # A page is sorted on its own (only the rows that can reach it), and its edge falls inside
    # a tie here (12 share a time, all 15 a fee): the pages must still be the whole order cut.
    everyone = ordered_names(DAY_ONE, sort=sort)
    for page_size in (1, 4, 7):
        pages = [
            ordered_names(DAY_ONE, sort=sort, page=page, page_size=page_size)
            for page in range(1, 15 // page_size + 2)
        ]
        assert [name for page in pages for name in page] == everyone
    assert len(set(everyone)) == len(everyone) == 15


def test_the_search_page_pages_through_the_same_order(client, directory, settings, monkeypatch):
    settings.DIRECTORY_PAGE_SIZE = 4
    monkeypatch.setattr(timezone, "now", lambda: DAY_ONE)
    shown = []
    for page in ("1", "2", "3", "4"):
        response = client.get("/therapists/", {"page": page})
        assert response.status_code == 200
        shown += re.findall(r'class="card__name"[^>]*>\s*<a[^>]*>([^<]+)</a>', response.text)
    assert shown == ordered_names(DAY_ONE)


def test_name_order_is_by_name_and_equal_fees_follow_the_days_order(directory):
    by_name = ordered_names(DAY_ONE, sort="name")
    assert by_name == sorted(by_name)
    # The factory gives everyone the same fee: the whole list is one tie.
    everyone = [directory["earlier"], *directory["tied"], *directory["none"]]
    assert ordered_names(DAY_ONE, sort="fee") == expected_ties(everyone, DAY_ONE)


def test_offices_equally_far_follow_the_days_order_not_the_name(directory):
    # Offices sit at their town's centre, so every Toronto office is equally far from Toronto.
    everyone = [directory["earlier"], *directory["tied"], *directory["none"]]
    for person in everyone:
        person.offers_in_person = True
        person.save(update_fields=["offers_in_person"])
        make_office(person)  # at the same point for everyone, as for any office in one town
    near = {"latitude": 43.6532, "longitude": -79.3832, "jurisdiction_code": "CA-ON"}
    for day in range(2):
        now = DAY_ONE + dt.timedelta(days=day)
        assert ordered_names(now, sort="distance", **near) == expected_ties(everyone, now)
