"""Rows and cards of a result page read once a minute per index snapshot
(engine.cache.RecentRows).

A fresh search (a budget nobody asked for this minute) still shows mostly the people the last
search showed; their rows are not read again within the minute, and never across a minute or
an index version.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.directory.models import TherapistProfile
from rapport.directory.search.engine import reset_index
from rapport.directory.search.engine.cache import RecentRows
from rapport.directory.services import search_index_version_bump
from tests.factories import make_therapist

pytestmark = pytest.mark.usefixtures("reference_data")

NOON = dt.datetime(2026, 12, 7, 12, 0, 10, tzinfo=dt.UTC)


@pytest.fixture
def people(settings):
    settings.LISTING_FRESHNESS_DAYS = 365
    reset_index()
    yield [make_therapist(display_name=f"Row {n}", fee_minor=10_000 + n) for n in range(3)]
    reset_index()


def names(client, max_fee: int) -> tuple[list[str], int]:
    """The page's names and how many statements read therapist rows for it."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/therapists", {"max_fee": str(max_fee), "sort": "fee"})
    assert response.status_code == 200
    row_reads = [q for q in queries.captured_queries if "p.display_name" in q["sql"]]
    return [row["name"] for row in response.json()["results"]], len(row_reads)


def test_a_fresh_search_in_the_same_minute_reads_no_row_twice(client, people, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOON)
    first, reads = names(client, 200)
    assert first == ["Row 0", "Row 1", "Row 2"]
    assert reads == 1
    # Another budget: another answer (not the answer cache), the same three people.
    again, reads = names(client, 201)
    assert again == first
    assert reads == 0


def test_a_consultation_that_started_this_minute_is_not_shown_from_the_kept_row(
    client, people, monkeypatch
):
    # The row's text is kept for the minute; whether its next consultation is still ahead is
    # the request's own question.
    starts = NOON + dt.timedelta(seconds=30)
    TherapistProfile.objects.filter(pk=people[0].pk).update(next_consultation_at=starts)
    search_index_version_bump()
    monkeypatch.setattr(timezone, "now", lambda: NOON)
    before = client.get("/api/v1/therapists", {"max_fee": "200", "sort": "fee"}).json()
    assert before["results"][0]["next_consultation_at"] == "2026-12-07T12:00:40Z"

    monkeypatch.setattr(timezone, "now", lambda: NOON + dt.timedelta(seconds=40))
    with CaptureQueriesContext(connection) as queries:
        after = client.get("/api/v1/therapists", {"max_fee": "204", "sort": "fee"}).json()
    assert not [q for q in queries.captured_queries if "p.display_name" in q["sql"]]
    assert after["results"][0]["name"] == "Row 0"
    assert after["results"][0]["next_consultation_at"] is None


def test_a_new_minute_reads_the_rows_again(client, people, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOON)
    names(client, 200)
    # Changed without a version bump (as no service would): seen from the next minute on.
    TherapistProfile.objects.filter(pk=people[0].pk).update(pronouns="they/them")
    monkeypatch.setattr(timezone, "now", lambda: NOON + dt.timedelta(minutes=1))
    response = client.get("/api/v1/therapists", {"max_fee": "202", "sort": "fee"})
    assert response.json()["results"][0]["pronouns"] == "they/them"


def test_a_version_bump_drops_every_kept_row(client, people, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOON)
    names(client, 200)
    TherapistProfile.objects.filter(pk=people[1].pk).update(display_name="Renamed")
    search_index_version_bump()
    shown, reads = names(client, 203)
    assert "Renamed" in shown
    assert reads == 1


def test_the_cache_never_holds_more_than_its_capacity(monkeypatch):
    monkeypatch.setattr(RecentRows, "CAPACITY", 5)
    rows = RecentRows()
    asked: list[list[int]] = []

    def read(ids):
        asked.append(list(ids))
        return {id_: f"row {id_}" for id_ in ids if id_ != 99}  # 99 is gone

    minute = NOON.replace(second=0)
    assert rows.get_or_read([1, 2, 99], generation=minute, read=read) == {1: "row 1", 2: "row 2"}
    assert rows.get_or_read([2, 3], generation=minute, read=read) == {2: "row 2", 3: "row 3"}
    assert asked == [[1, 2, 99], [3]]
    rows.get_or_read([4, 5, 6, 7], generation=minute, read=read)  # over 5: starts again
    assert len(rows._rows) <= 5
    rows.get_or_read([1], generation=minute + dt.timedelta(minutes=1), read=read)
    assert asked[-1] == [1]


def card_reads(client, max_fee: int, **extra) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/therapists/", {"max_fee": str(max_fee), "sort": "fee", **extra})
    assert response.status_code == 200
    reads = [q for q in queries.captured_queries if "p.headline" in q["sql"]]
    return response.text, len(reads)


def test_the_search_page_reads_each_card_once_a_minute(client, people, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOON)
    TherapistProfile.objects.filter(pk=people[0].pk).update(
        next_consultation_at=NOON + dt.timedelta(days=2), time_zone="America/Toronto"
    )
    search_index_version_bump()
    page, reads = card_reads(client, 200)
    assert reads == 1
    assert "Row 0" in page
    page, reads = card_reads(client, 201)
    assert reads == 0
    assert "Row 2" in page
    assert "Eastern Time" in page  # the kept card still says when, in the therapist's zone


def _card(page: str, name: str) -> str:
    """The <article> of the card named ``name`` in a page."""
    start = page.rindex('<article class="card"', 0, page.index(f">{name}</a>"))
    return page[start : page.index("</article>", start) + len("</article>")]


def test_a_kept_card_is_rendered_once_and_the_save_form_for_each_reader(
    client, people, monkeypatch
):
    """Within the minute a card's reader-independent part is rendered once (kept on the
    card); the Save form still says what this reader saved, and the distance is the search's."""
    from django.test import Client

    from rapport.directory.templatetags import directory_cards

    monkeypatch.setattr(timezone, "now", lambda: NOON)
    first, _ = card_reads(client, 200)
    renders: list[str] = []
    real = directory_cards.render_to_string

    def counted(name: str, context: dict) -> str:
        renders.append(name)
        return real(name, context)

    monkeypatch.setattr(directory_cards, "render_to_string", counted)
    # Another reader saves "Row 1", then sees the page with another budget.
    reader = Client()
    public_id = str(people[1].public_id)
    saved = reader.post("/therapists/shortlist/add/", {"public_id": public_id, "name": "Row 1"})
    assert saved.status_code in (302, 303)
    theirs, reads = card_reads(reader, 201)
    assert reads == 0
    assert renders == []  # every card's static part came from the first page
    assert "Saved<span" in _card(theirs, "Row 1")
    assert "Saved<span" not in _card(first, "Row 1")
    assert "Saved<span" not in _card(theirs, "Row 0")

    # Apart from the Save form (and its CSRF token), the card is the same text.
    def without_save(card: str) -> str:
        return card[: card.index('<div class="card__save"')]

    assert without_save(_card(theirs, "Row 0")) == without_save(_card(first, "Row 0"))
    # The same card seen from a place (a distance) and from another: no new rendering, one
    # kept text per card whatever the distance; the distance escaped and where it belongs.
    card = next(kept for kept in _kept_cards() if kept.display_name == "Row 0")
    near = directory_cards.card_static(card, "3.2 km away")
    far = directory_cards.card_static(card, "<b>12 km</b> away")
    assert renders == []
    assert "<div><dt>Distance</dt><dd>3.2 km away</dd></div>" in near
    assert "&lt;b&gt;12 km&lt;/b&gt; away" in far
    assert "<!--distance-->" not in near
    assert near.replace("<div><dt>Distance</dt><dd>3.2 km away</dd></div>", "") == (
        directory_cards.card_static(card, "")
    )
    assert "km away" not in _card(first, "Row 0")


def _kept_cards() -> list:
    from rapport.directory.search.engine import current_index

    return list(current_index().recent_cards._rows.values())
