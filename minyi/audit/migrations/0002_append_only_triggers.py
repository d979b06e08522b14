"""Triggers that refuse UPDATE and DELETE of audit rows (minyi.audit.db has the SQL per vendor):
the table is append-only whatever the code or an operator's SQL tries. Only rows older than the
retention floor may be deleted (purge_audit)."""

from django.db import migrations


def create(apps, schema_editor):
    from minyi.audit import db

    for sql in db.create_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    from minyi.audit import db

    for sql in db.drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
