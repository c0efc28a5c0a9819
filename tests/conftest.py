"""Fixtures shared across the suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import load_reference_data


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> None:
    """The test database, refused if a declared SQLite trigger is missing from it (the rules
    those triggers enforce would silently go untested)."""
    from rapport.core.triggers import missing_sqlite_triggers

    with django_db_blocker.unblock():
        missing = missing_sqlite_triggers()
        if missing:
            names = ", ".join(trigger.name for trigger in missing)
            pytest.fail(f"Declared SQLite triggers missing from the test database: {names}")
        # Once for the whole run, committed, so every test's rolled-back transaction starts
        # from it (a transactional test, which empties the tables, has it loaded again).
        load_reference_data()


def _reference_data_present() -> bool:
    from rapport.directory.models import Designation

    return Designation.objects.exists()


@pytest.fixture
def reference_data(db: None) -> None:
    """Taxonomies and credentials, as `rapport seed` loads them: already in the database since
    the session started, unless a transactional test emptied it since (then loaded again)."""
    if not _reference_data_present():
        load_reference_data()


@pytest.fixture
def admin_user(admin_user):
    """pytest-django's superuser, with the authenticator app every staff account needs before
    it can open /admin/ (rapport.accounts.middleware.MfaRequiredMiddleware)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(admin_user, generate_totp_secret())
    return admin_user


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache. It holds allauth's rate-limit counters (sign-ups
    per address a minute, confirmation mails per key): a worker running many sign-up tests in a
    row would otherwise be refused by limits meant for one person, depending on which tests
    happened to share that worker."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_search_index():
    """Each test starts with no search index in memory: a test's rows are rolled back without
    the version bump a real change makes, so an index kept from another test would be stale."""
    from rapport.directory.search.engine import reset_index

    reset_index()
    yield
    reset_index()


def _uses_transactional_database(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and bool(marker.kwargs.get("transaction")))
    )


@pytest.fixture(autouse=True)
def _audit_log_emptied_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A transactional test ends with Django emptying every table. On SQLite that is a DELETE,
    which the audit log's append-only trigger refuses (PostgreSQL's TRUNCATE fires no row
    trigger); so the log is emptied here first, with the trigger lifted for that one statement.
    Set up before the database fixture's own clean-up, so it runs first."""
    if not _uses_transactional_database(request):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    from rapport.core.audit import AUDIT_LOG_SQLITE_TRIGGERS, AUDIT_LOG_TABLE
    from rapport.core.triggers import sqlite_triggers_install

    with connection.cursor() as cursor:
        for name in AUDIT_LOG_SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DELETE FROM {AUDIT_LOG_TABLE}")  # noqa: S608
    sqlite_triggers_install()
