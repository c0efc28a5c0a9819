"""SQLite triggers that no migration can lose: declared once, installed after every migrate.

SQLite changes a column or a constraint by building a new table and dropping the old one, and
the old table's triggers go with it. A guard written only in the migration that first created
it (no overlapping appointments, the append-only audit log, the free-text index kept in step)
would silently disappear the next time Django rebuilds its table — including the table of a
third-party app upgraded years later. So each app declares its SQLite triggers here once, in
``AppConfig.ready()``:

- after every ``migrate`` (``post_migrate``), each declared trigger whose table exists is
  dropped if present and created again from its declaration, so the database always carries
  the current definition;
- a system check (``rapport check``, and the test suite at start) fails when a declared trigger
  is missing from a database whose table exists.

PostgreSQL never rebuilds tables behind our back; its constraints and triggers stay in their
migrations.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import DatabaseError

_NAME = re.compile(r"\A[a-z_][a-z0-9_]*\Z")


@dataclass(frozen=True)
class SqliteTrigger:
    """One trigger: its name, the table it belongs to, and its full CREATE TRIGGER statement."""

    name: str
    table: str
    create_sql: str


_triggers: dict[str, SqliteTrigger] = {}

# Set while `migrate` runs: it checks the project before migrating, and a missing trigger must
# not stop the one command that installs it again.
_migrating = contextvars.ContextVar("rapport_migrating", default=False)


@contextmanager
def migrating() -> Iterator[None]:
    token = _migrating.set(True)
    try:
        yield
    finally:
        _migrating.reset(token)


def register_sqlite_trigger(*, name: str, table: str, create_sql: str) -> None:
    """Declare a trigger (from an app's ``AppConfig.ready()``). Declaring a name again replaces
    its definition."""
    if not _NAME.match(name) or not _NAME.match(table):
        raise ValueError(f"Trigger and table names must be plain identifiers: {name!r}, {table!r}")
    if f"create trigger {name} " not in " ".join(create_sql.lower().split()) + " ":
        raise ValueError(f"The statement for {name!r} must be its CREATE TRIGGER {name} ...")
    _triggers[name] = SqliteTrigger(name=name, table=table, create_sql=create_sql)


def declared_sqlite_triggers() -> list[SqliteTrigger]:
    return sorted(_triggers.values(), key=lambda trigger: trigger.name)


def _existing(connection: BaseDatabaseWrapper, kind: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
        return {row[0] for row in cursor.fetchall()}


def _applicable(
    connection: BaseDatabaseWrapper, triggers: Iterable[SqliteTrigger]
) -> list[SqliteTrigger]:
    tables = _existing(connection, "table")
    return [trigger for trigger in triggers if trigger.table in tables]


def sqlite_triggers_install(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Drop (if present) and create every declared trigger whose table exists; returns their
    names. Does nothing on other databases."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    installed = []
    with connection.cursor() as cursor:
        for trigger in _applicable(connection, declared_sqlite_triggers()):
            cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger.name}"')
            cursor.execute(trigger.create_sql)
            installed.append(trigger.name)
    return installed


def missing_sqlite_triggers(*, using: str = DEFAULT_DB_ALIAS) -> list[SqliteTrigger]:
    """Declared triggers absent from the database although their table is there."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    present = _existing(connection, "trigger")
    return [
        trigger
        for trigger in _applicable(connection, declared_sqlite_triggers())
        if trigger.name not in present
    ]


def install_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver (connected by CoreConfig, sent once per migrate)."""
    sqlite_triggers_install(using=using)


def check_sqlite_triggers(**kwargs: Any) -> list[checks.CheckMessage]:
    """System check: every declared trigger is in each SQLite database that has its table."""
    errors: list[checks.CheckMessage] = []
    if _migrating.get():
        return errors
    for alias in kwargs.get("databases") or [DEFAULT_DB_ALIAS]:
        try:
            missing = missing_sqlite_triggers(using=alias)
        except DatabaseError:
            # No database yet (a fresh clone before `migrate`): nothing can be missing from it.
            continue
        errors.extend(
            checks.Error(
                f"The SQLite trigger {trigger.name!r} on {trigger.table!r} is missing from the "
                f"{alias!r} database, so the rule it enforces is not enforced.",
                hint="Run `rapport migrate`, which installs every declared trigger again.",
                id="rapport.E201",
            )
            for trigger in missing
        )
    return errors
