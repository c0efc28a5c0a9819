"""Make the audit log append-only in the database itself.

Code review and the read-only admin keep honest code from editing the log; these triggers also
stop a bug, a stray shell session or an injected query. DELETE is refused outright. UPDATE is
refused unless it only empties the columns that identify a person (who, and from which address),
which is what deleting an account and the retention purge need to do: the entry itself (what was
read or changed, and when) stays.

The column lists are written out, not derived from the model, because a migration must keep
meaning what it meant; tests/core/test_audit.py fails if auditlog ever adds a column that is in
neither list.
"""

from django.db import migrations

TABLE = "auditlog_logentry"
# Columns that may only ever be set to NULL once written.
ANONYMISABLE_COLUMNS = ("actor_id", "actor_email", "remote_addr", "remote_port")
# Columns that never change once written.
FIXED_COLUMNS = (
    "id",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "serialized_data",
    "action",
    "changes_text",
    "changes",
    "cid",
    "timestamp",
    "additional_data",
)
DELETE_REFUSAL = "the audit log is append-only: entries cannot be deleted"
UPDATE_REFUSAL = (
    "the audit log is append-only: an entry can only have its actor and address removed"
)


def _forbidden_update(distinct: str) -> str:
    """A SQL condition true when an UPDATE does more than empty the personal columns."""
    changed = [f"NEW.{column} {distinct} OLD.{column}" for column in FIXED_COLUMNS]
    changed += [
        f"(NEW.{column} IS NOT NULL AND NEW.{column} {distinct} OLD.{column})"
        for column in ANONYMISABLE_COLUMNS
    ]
    return "\n            OR ".join(changed)


SQLITE_CREATE = [
    f"""
    CREATE TRIGGER rapport_auditlog_no_delete BEFORE DELETE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, '{DELETE_REFUSAL}');
    END
    """,
    f"""
    CREATE TRIGGER rapport_auditlog_only_anonymise BEFORE UPDATE ON {TABLE}
    WHEN {_forbidden_update("IS NOT")}
    BEGIN
        SELECT RAISE(ABORT, '{UPDATE_REFUSAL}');
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS rapport_auditlog_no_delete",
    "DROP TRIGGER IF EXISTS rapport_auditlog_only_anonymise",
]

# restrict_violation (SQLSTATE 23001) makes the driver raise IntegrityError, as SQLite does.
POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION rapport_auditlog_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '{DELETE_REFUSAL}' USING ERRCODE = 'restrict_violation';
        END IF;
        IF {_forbidden_update("IS DISTINCT FROM")} THEN
            RAISE EXCEPTION '{UPDATE_REFUSAL}' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    f"""
    CREATE TRIGGER rapport_auditlog_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION rapport_auditlog_append_only()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS rapport_auditlog_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS rapport_auditlog_append_only()",
]


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise NotImplementedError(f"No audit log protection written for {vendor}.")
    for statement in statements_by_vendor[vendor]:
        schema_editor.execute(statement)


def protect(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE})


def unprotect(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_load_jurisdictions"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(protect, unprotect, elidable=False)]
