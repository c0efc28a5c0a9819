"""The SQLite trigger registry: every declared trigger is in the database after migrate, a
rebuilt table gets its triggers back at the next migrate, and the system check fails while one
is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapport.booking.models import Appointment
from rapport.core.triggers import (
    declared_sqlite_triggers,
    missing_sqlite_triggers,
    sqlite_triggers_install,
)
from tests.booking.factories import make_appointment
from tests.factories import load_reference_data, make_therapist

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="PostgreSQL keeps its guards in its migrations"
    ),
]

EXPECTED = {
    ("appointment_no_overlap_insert", "booking_appointment"),
    ("appointment_no_overlap_update", "booking_appointment"),
    ("directory_therapist_text_insert", "directory_therapistprofile"),
    ("directory_therapist_text_delete", "directory_therapistprofile"),
    ("directory_therapist_text_update", "directory_therapistprofile"),
    ("rapport_auditlog_no_delete", "auditlog_logentry"),
    ("rapport_auditlog_only_anonymise", "auditlog_logentry"),
}


def _triggers_in_database() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        return set(cursor.fetchall())


def _drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {name}")


def _trigger_errors() -> list[str]:
    return [message.msg for message in run_checks() if message.id == "rapport.E201"]


def test_every_declared_trigger_is_in_the_migrated_database():
    declared = {(trigger.name, trigger.table) for trigger in declared_sqlite_triggers()}
    assert declared == EXPECTED
    assert _triggers_in_database() == EXPECTED
    assert missing_sqlite_triggers() == []
    assert _trigger_errors() == []


def test_the_check_fails_while_a_trigger_is_missing_and_migrate_puts_it_back():
    _drop("appointment_no_overlap_insert")

    assert _trigger_errors() == [
        "The SQLite trigger 'appointment_no_overlap_insert' on 'booking_appointment' is "
        "missing from the 'default' database, so the rule it enforces is not enforced."
    ]
    with pytest.raises(SystemCheckError, match="appointment_no_overlap_insert"):
        call_command("check")

    # migrate's own checks do not stop it; it installs the trigger again.
    call_command("migrate", verbosity=0)
    assert _triggers_in_database() == EXPECTED
    assert _trigger_errors() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuilt_table_loses_its_triggers_until_they_are_installed_again():
    load_reference_data()
    therapist = make_therapist()
    first = make_appointment(therapist, timezone.now() + dt.timedelta(days=2))
    # What a migration that changes a column does on SQLite: a new table replaces the old.
    with connection.schema_editor() as editor:
        editor._remake_table(Appointment)  # type: ignore[attr-defined]
    assert {trigger.name for trigger in missing_sqlite_triggers()} == {
        "appointment_no_overlap_insert",
        "appointment_no_overlap_update",
    }

    assert sorted(sqlite_triggers_install()) == sorted(name for name, _table in EXPECTED)

    with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
        make_appointment(therapist, first.starts_at + dt.timedelta(minutes=5))
