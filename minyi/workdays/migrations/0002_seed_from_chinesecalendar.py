"""Seed the calendar from the chinesecalendar package (only years not in the table).

Uses the historical models, and the same idempotent function as `seed_workdays`, so
running this on a database that already has rows changes none of them.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from minyi.workdays.seeding import seed_from_package

    seed_from_package(apps.get_model("workdays", "CalendarYear"), apps.get_model("workdays", "SpecialDay"))


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_calendar")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop, elidable=False)]
