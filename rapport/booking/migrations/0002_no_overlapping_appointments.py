"""The database refuses two overlapping active appointments for one therapist.

PostgreSQL: an exclusion constraint over the [start, end) range (btree_gist lets the therapist
id take part with "="; it is a trusted extension, so the database owner may create it).

SQLite has no exclusion constraints. Triggers refuse an insert or update that would overlap an
active appointment of the same therapist; Rapport opens every SQLite transaction with BEGIN
IMMEDIATE (settings), so writers are serialised and the trigger's check cannot race. A refused
row raises IntegrityError on both databases, with "appointment_no_overlap" in the message.

On SQLite, a later migration that makes Django rebuild booking_appointment (adding a column
with a default, or a constraint) drops these triggers with the old table: such a migration must
create them again (see 0003). tests/booking/test_services.py checks the guard after every
migration has run.
"""

from django.db import migrations

ACTIVE = "('requested', 'confirmed')"

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""
    ALTER TABLE booking_appointment ADD CONSTRAINT appointment_no_overlap
    EXCLUDE USING gist (
        therapist_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (status IN {ACTIVE})
    """,
]
POSTGRES_BACKWARD = [
    "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap",
]


def _sqlite_trigger(event: str) -> str:
    # On UPDATE the row must not collide with itself, hence "id <> NEW.id".
    return f"""
    CREATE TRIGGER appointment_no_overlap_{event.lower()}
    BEFORE {event} ON booking_appointment
    WHEN NEW.status IN {ACTIVE}
    BEGIN
        SELECT RAISE(ABORT, 'appointment_no_overlap')
        WHERE EXISTS (
            SELECT 1 FROM booking_appointment AS other
            WHERE other.therapist_id = NEW.therapist_id
              AND other.id <> COALESCE(NEW.id, -1)
              AND other.status IN {ACTIVE}
              AND other.starts_at < NEW.ends_at
              AND NEW.starts_at < other.ends_at
        );
    END
    """


SQLITE_FORWARD = [_sqlite_trigger("INSERT"), _sqlite_trigger("UPDATE")]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS appointment_no_overlap_insert",
    "DROP TRIGGER IF EXISTS appointment_no_overlap_update",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
