"""A search near a place runs over the index cut to the rows that can meet the client there
(engine.nearby). That the answers are the same is test_search_property's claim, checked both
ways against the brute force; here: who the cut keeps, and when a cut is reused."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.conf import settings
from django.http import QueryDict

from rapport.core.geo import distance_km
from rapport.directory.models import TherapistProfile
from rapport.directory.search import engine
from rapport.directory.search.engine import nearby
from rapport.directory.search.engine.cache import NearbyIndexes
from rapport.directory.search.engine.index import epoch_microseconds
from rapport.directory.search.params import parse_search_query
from rapport.directory.seeding.demo import demo_directory_seed

SEEDED_AT = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
TODAY = SEEDED_AT.date()

pytestmark = pytest.mark.django_db


@pytest.fixture
def index(monkeypatch):
    demo_directory_seed(therapists=150, seed=20261207, now=SEEDED_AT)
    monkeypatch.setattr(nearby, "RESTRICT_AT_MOST", 1.0)
    monkeypatch.setattr(nearby, "CUT_PLACES_SEEN_BEFORE_ONLY", False)
    return engine.current_index()


def _query(index, text: str):
    return parse_search_query(QueryDict(text), page_size=20, index=index)


def _reachable_by_hand(query) -> set[int]:
    """Who can meet a client near the query's place: an office within the radius (for those
    who see clients in person), or video or phone with a licence there, read from the ORM."""
    reachable = set()
    for therapist in TherapistProfile.objects.prefetch_related("offices", "licences"):
        near = therapist.offers_in_person and any(
            distance_km(office.latitude, office.longitude, query.latitude, query.longitude)
            <= query.radius_km
            for office in therapist.offices.all()
        )
        licensed = any(
            licence.jurisdiction_id == query.jurisdiction_code
            and (licence.expires_on is None or licence.expires_on >= TODAY)
            for licence in therapist.licences.all()
        )
        if near or ((therapist.offers_video or therapist.offers_phone) and licensed):
            reachable.add(therapist.pk)
    return reachable


def test_the_cut_keeps_exactly_who_can_meet_the_client_there(index):
    query = _query(index, "near=Toronto&radius_km=25")

    cut = nearby.nearby_index(index, query, today=TODAY)

    kept = set(cut.ids.tolist())
    assert kept == _reachable_by_hand(query) & set(index.ids.tolist())
    assert 0 < cut.size < index.size
    # Still in name order, and each kept row's columns are its own.
    rows = index.rows_of_ids(cut.ids)
    assert np.array_equal(rows, np.sort(rows))
    assert np.array_equal(cut.fee, index.fee[rows])
    assert cut.nearby is None  # a cut is not cut again


def test_a_place_is_cut_once_and_reused_until_the_consultation_times_are_read_again(index):
    toronto = _query(index, "near=Toronto&radius_km=25&concern=anxiety")
    same_place = _query(index, "near=Toronto&radius_km=25&max_fee=150")
    wider = _query(index, "near=Toronto&radius_km=100")

    first = nearby.nearby_index(index, toronto, today=TODAY)
    assert nearby.nearby_index(index, same_place, today=TODAY) is first
    assert nearby.nearby_index(index, wider, today=TODAY) is not first
    assert nearby.nearby_index(index, toronto, today=TODAY + dt.timedelta(days=1)) is not first

    # The next-consultation column is re-read once it is old: the cut follows it.
    index.consultation_times.read_at -= settings.SEARCH_CONSULTATION_TIMES_MAX_AGE_SECONDS + 1
    soon = SEEDED_AT + dt.timedelta(hours=5)
    TherapistProfile.objects.filter(pk=int(first.ids[0])).update(next_consultation_at=soon)
    assert engine.current_index() is index
    again = nearby.nearby_index(index, toronto, today=TODAY)
    assert again is not first
    rows = index.rows_of_ids(again.ids)
    assert np.array_equal(again.consultation_times.values, index.consultation_times.values[rows])
    assert again.consultation_times.values[0] == epoch_microseconds(soon)


def test_the_whole_index_serves_a_search_without_a_place_or_with_most_rows_reachable(
    index, monkeypatch
):
    assert nearby.nearby_index(index, _query(index, "concern=anxiety"), today=TODAY) is index

    monkeypatch.setattr(nearby, "RESTRICT_AT_MOST", 0.0)
    assert index.nearby is not None
    index.nearby.clear()
    near = _query(index, "near=Toronto&radius_km=25")
    assert nearby.nearby_index(index, near, today=TODAY) is index


def test_a_search_near_a_place_answers_the_same_either_way(index, monkeypatch):
    now = SEEDED_AT + dt.timedelta(hours=1)
    places = index.nearby
    assert places is not None
    texts = (
        "near=Toronto&radius_km=25",
        "near=Toronto&radius_km=25&delivery=video&sort=fee",
        "near=Toronto&radius_km=25&concern=anxiety&sort=soonest&page=2&page_size=5",
        "near=Toronto&radius_km=25&accessibility=step-free&sort=distance",
        "near=Toronto&radius_km=50&delivery=in_person&sort=distance",
        "near=Toronto&radius_km=40&accessibility=step-free&sort=distance",
        "near=Vancouver&radius_km=30&delivery=video&sort=fee",
        "near=Montr%C3%A9al&radius_km=10&concern=anxiety&sort=soonest",
        "lat=60&lon=-40&radius_km=10",  # no jurisdiction, nobody reachable
    )
    queries = [_query(index, text) for text in texts]
    monkeypatch.setattr(nearby, "RESTRICT_AT_MOST", -1.0)
    whole = [engine.search(query, now=now, index=index) for query in queries]
    assert all(places.kept(key) is index for key in places.kept_keys())  # none cut
    places.clear()
    # Cut, each place once: the Toronto searches share one cut.
    monkeypatch.setattr(nearby, "RESTRICT_AT_MOST", 1.0)
    cut = [engine.search(query, now=now, index=index) for query in queries]
    assert len(places) == 6
    for text, restricted, answer in zip(texts, cut, whole, strict=True):
        assert (
            restricted.total,
            restricted.pages,
            restricted.hits,
            restricted.facets,
            restricted.page_past_end,
        ) == (answer.total, answer.pages, answer.hits, answer.facets, answer.page_past_end), text
    assert whole[0].total > 0


def test_the_places_kept_never_hold_more_rows_than_the_index_itself():
    places = NearbyIndexes()
    weights = {"a": 40, "b": 30, "c": 50, "d": 100, "e": 0, "whole": 0}

    def keep(key: str) -> None:
        places.keep(key, key, rows=weights[key], budget=100)

    keep("a")
    keep("b")
    assert places.kept("a") == "a"  # used again: now the newest
    assert places.kept("z") is None
    keep("c")  # 40 + 30 + 50 > 100: the oldest (b) goes
    assert places.kept_keys() == ["a", "c"]
    keep("d")  # alone at the budget: the rest goes
    assert places.kept_keys() == ["d"]
    for key in ("e", "whole"):
        keep(key)  # weigh nothing
    assert places.kept_keys() == ["d", "e", "whole"]
    for number in range(NearbyIndexes.CAPACITY + 2):
        weights[f"free {number}"] = 0
        keep(f"free {number}")
    assert len(places) == NearbyIndexes.CAPACITY


def test_a_place_is_cut_from_its_second_search_and_probes_do_not_count(index, monkeypatch):
    monkeypatch.setattr(nearby, "CUT_PLACES_SEEN_BEFORE_ONLY", True)
    places = index.nearby
    assert places is not None
    now = SEEDED_AT + dt.timedelta(hours=1)
    toronto = _query(index, "near=Toronto&radius_km=25")

    # Probing other radii (the "search within 50 km" suggestion) is not a search of the place.
    for _ in range(3):
        engine.search(_query(index, "near=Toronto&radius_km=50"), now=now, nearby=False)
    assert nearby.nearby_index(index, toronto, today=TODAY) is index  # first search: whole
    assert len(places) == 0
    cut = nearby.nearby_index(index, toronto, today=TODAY)  # second: cut and kept
    assert cut is not index
    assert places.kept_keys() == [
        (*nearby.place_key(toronto, TODAY), index.consultation_times.read_at)
    ]
    assert nearby.nearby_index(index, _query(index, "near=Toronto&radius_km=50"), today=TODAY) is (
        index
    )
