"""The builders most tests share, re-exported from each app's factories module (the app's own
builders live in ``tests/<app>/factories.py``)."""

from __future__ import annotations

from tests.accounts.factories import TEST_PASSWORD, make_therapist_user, make_user
from tests.directory.factories import (
    load_reference_data,
    make_licence,
    make_office,
    make_therapist,
    make_therapist_with_account,
)

__all__ = [
    "TEST_PASSWORD",
    "load_reference_data",
    "make_licence",
    "make_office",
    "make_therapist",
    "make_therapist_user",
    "make_therapist_with_account",
    "make_user",
]
