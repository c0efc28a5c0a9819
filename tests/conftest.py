"""Fixtures shared across the suite."""

from __future__ import annotations

import pytest

from tests.factories import load_reference_data


@pytest.fixture
def reference_data(db: None) -> None:
    """Taxonomies and credentials, loaded from the same fixtures `rapport seed` uses."""
    load_reference_data()


@pytest.fixture
def admin_user(admin_user):
    """pytest-django's superuser, with the authenticator app every staff account needs before
    it can open /admin/ (rapport.accounts.middleware.MfaRequiredMiddleware)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(admin_user, generate_totp_secret())
    return admin_user


@pytest.fixture(autouse=True)
def _fresh_search_index():
    """Each test starts with no search index in memory: a test's rows are rolled back without
    the version bump a real change makes, so an index kept from another test would be stale."""
    from rapport.directory.search.engine import reset_index

    reset_index()
    yield
    reset_index()
