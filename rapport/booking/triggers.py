"""The SQLite guard against double booking (registered in ``BookingConfig.ready()``).

SQLite has no exclusion constraints. These triggers refuse an insert or update that would
overlap an active appointment of the same therapist; Rapport opens every SQLite transaction
with BEGIN IMMEDIATE (settings), so writers are serialised and the trigger's check cannot race.
A refused row raises IntegrityError with "appointment_no_overlap" in the message, as
PostgreSQL's exclusion constraint (migration booking.0002) does. The trigger registry
(rapport.core.triggers) installs them again after every migrate, so a migration that rebuilds
booking_appointment cannot lose them.
"""

from __future__ import annotations

from rapport.booking.models import ACTIVE_STATUSES, AppointmentStatus
from rapport.core.triggers import register_sqlite_trigger

TABLE = "booking_appointment"


def _overlap_trigger(event: str) -> tuple[str, str]:
    name = f"appointment_no_overlap_{event.lower()}"
    active = (
        "(" + ", ".join(f"'{AppointmentStatus(status).value}'" for status in ACTIVE_STATUSES) + ")"
    )
    # On UPDATE the row must not collide with itself, hence "id <> NEW.id". Built from
    # constants only: no outside text reaches this SQL.
    create_sql = f"""
    CREATE TRIGGER {name}
    BEFORE {event} ON {TABLE}
    WHEN NEW.status IN {active}
    BEGIN
        SELECT RAISE(ABORT, 'appointment_no_overlap')
        WHERE EXISTS (
            SELECT 1 FROM {TABLE} AS other
            WHERE other.therapist_id = NEW.therapist_id
              AND other.id <> COALESCE(NEW.id, -1)
              AND other.status IN {active}
              AND other.starts_at < NEW.ends_at
              AND NEW.starts_at < other.ends_at
        );
    END
    """  # noqa: S608
    return name, create_sql


def register_booking_triggers() -> None:
    for event in ("INSERT", "UPDATE"):
        name, create_sql = _overlap_trigger(event)
        register_sqlite_trigger(name=name, table=TABLE, create_sql=create_sql)
