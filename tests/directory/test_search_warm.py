"""The start-up warm-up (rapport.directory.search.engine.warm), called by rapport/wsgi.py before
a server listens: after it, a process's first search has nothing left to load."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from rapport.core import geo
from rapport.directory.search import engine
from rapport.directory.search.engine import current, warm
from tests.factories import make_therapist

pytestmark = pytest.mark.usefixtures("reference_data")


@pytest.fixture
def keep_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # A server's warm-up closes its thread's connection; the test's holds its transaction.
    monkeypatch.setattr(warm.connections, "close_all", lambda: None)


@pytest.mark.usefixtures("keep_connection")
def test_it_builds_the_index_and_loads_the_place_tables() -> None:
    make_therapist(display_name="Ada Warm")
    engine.reset_index()

    seconds = warm.warm_up()

    assert seconds is not None
    assert seconds >= 0
    assert current._current is not None
    assert current._current.version == engine.index_version()
    assert geo._city_index.cache_info().currsize == 1
    assert geo._regions.cache_info().currsize == 1


@pytest.mark.usefixtures("keep_connection")
def test_a_database_not_migrated_yet_is_not_an_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreadable() -> None:
        raise OperationalError("no such table: directory_searchindexversion")

    monkeypatch.setattr(warm, "current_index", unreadable)

    assert warm.warm_up() is None
    assert "Search warm-up skipped" in caplog.text


@pytest.mark.usefixtures("keep_connection")
def test_any_other_fault_is_logged_and_the_server_still_starts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(name: str) -> None:
        raise ValueError(f"a template that cannot compile: {name}")

    monkeypatch.setattr(warm, "get_template", broken)

    assert warm.warm_up() is None
    assert "Search warm-up failed" in caplog.text
    assert "a template that cannot compile" in caplog.text  # the traceback is in the log
