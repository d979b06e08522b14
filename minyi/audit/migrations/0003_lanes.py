"""The trail becomes several independent hash chains ("lanes", minyi.audit.db.LANES): each row
says its lane, and (lane, id) finds a lane's head. Existing rows form lane 0, whose links are
unchanged, so they still verify."""

from django.db import migrations, models


def recreate_sqlite_triggers(apps, schema_editor):
    """SQLite cannot add a column with a default in place: Django copies the table into a new
    one and drops the old, and the append-only triggers go with the old table."""
    from minyi.audit import db

    if schema_editor.connection.vendor == "sqlite":
        for sql in db.create_sql("sqlite"):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        # Reversed last, after the column is removed (another copy of the table).
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="lane",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["lane", "id"], name="audit_lane_id"),
        ),
        migrations.RunPython(recreate_sqlite_triggers, migrations.RunPython.noop),
    ]
