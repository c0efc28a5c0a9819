"""Jurisdictions are reference data every licence and office points at, so they are loaded by a
migration: the table is complete on every database before anything can refer to it."""

from django.db import migrations


def load(apps, schema_editor):
    from rapport.core.jurisdictions import JURISDICTIONS

    Jurisdiction = apps.get_model("core", "Jurisdiction")
    for jurisdiction in JURISDICTIONS:
        Jurisdiction.objects.update_or_create(
            code=jurisdiction.code,
            defaults={"name": jurisdiction.name, "country_code": jurisdiction.country_code},
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
