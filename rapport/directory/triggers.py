"""SQLite triggers that keep the free-text index in step with the profiles (registered in
``DirectoryConfig.ready()``).

The index itself, an FTS5 table reading its text from directory_therapistprofile, is created by
migration directory.0003_search_index; these triggers tell it about every insert, delete and
change of the indexed columns. The trigger registry (rapport.core.triggers) installs them again
after every migrate, so a migration that rebuilds the profile table cannot lose them.
"""

from __future__ import annotations

from rapport.core.triggers import register_sqlite_trigger
from rapport.directory.search.text import TEXT_COLUMNS, TEXT_TABLE

PROFILE_TABLE = "directory_therapistprofile"


def register_directory_triggers() -> None:
    columns = ", ".join(TEXT_COLUMNS)
    new_values = ", ".join(f"new.{column}" for column in TEXT_COLUMNS)
    old_values = ", ".join(f"old.{column}" for column in TEXT_COLUMNS)
    # Built from constants only: no outside text reaches this SQL.
    add_new = f"INSERT INTO {TEXT_TABLE} (rowid, {columns}) VALUES (new.id, {new_values});"  # noqa: S608
    # An external-content FTS5 table is told about a removed row with its old values.
    remove_old = (
        f"INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}, rowid, {columns}) "  # noqa: S608
        f"VALUES ('delete', old.id, {old_values});"
    )
    statements = {
        "directory_therapist_text_insert": (f"AFTER INSERT ON {PROFILE_TABLE} BEGIN {add_new} END"),
        "directory_therapist_text_delete": (
            f"AFTER DELETE ON {PROFILE_TABLE} BEGIN {remove_old} END"
        ),
        "directory_therapist_text_update": (
            f"AFTER UPDATE OF {columns} ON {PROFILE_TABLE} BEGIN {remove_old} {add_new} END"
        ),
    }
    for name, body in statements.items():
        register_sqlite_trigger(
            name=name, table=PROFILE_TABLE, create_sql=f"CREATE TRIGGER {name} {body}"
        )
