from django.db import migrations

import rapport.core.fields
from rapport.core.crypto import decrypt, encrypt, is_decryptable

# SQLite changes a column's type by rebuilding the table, which drops the overlap triggers;
# the trigger registry (rapport.core.triggers) installs them again at the end of every migrate.
_REASON_COLUMNS = ("change_reason", "end_reason")


def _rewrite_reasons(schema_editor, convert):
    # Raw SQL: the model field would try to decrypt the plain text written before this
    # migration.
    with schema_editor.connection.cursor() as cursor:
        for column in _REASON_COLUMNS:
            cursor.execute(
                f"SELECT id, {column} FROM booking_appointment "  # noqa: S608 - constant names
                f"WHERE {column} IS NOT NULL AND {column} <> ''"
            )
            for pk, value in cursor.fetchall():
                converted = convert(value)
                if converted != value:
                    schema_editor.execute(
                        f"UPDATE booking_appointment SET {column} = %s WHERE id = %s",  # noqa: S608
                        [converted, pk],
                    )


def _encrypt_existing_reasons(apps, schema_editor):
    # A value that already opens under a configured key is left alone, so running this twice
    # (or after a partial run) never encrypts twice.
    _rewrite_reasons(
        schema_editor, lambda value: value if is_decryptable(value) else encrypt(value)
    )


def _decrypt_reasons(apps, schema_editor):
    # Backwards, the columns become plain text of at most 500 characters again.
    _rewrite_reasons(
        schema_editor, lambda value: decrypt(value) if is_decryptable(value) else value
    )


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0003_change_note"),
    ]

    operations = [
        migrations.AlterField(
            model_name="appointment",
            name="change_reason",
            field=rapport.core.fields.EncryptedTextField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="end_reason",
            field=rapport.core.fields.EncryptedTextField(blank=True, max_length=500),
        ),
        migrations.RunPython(_encrypt_existing_reasons, _decrypt_reasons),
    ]
