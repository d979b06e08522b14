"""Caps on free text (minyi/core/text_limits.py): state only. A TextField's max_length
is not a database constraint, and SQLite would otherwise rebuild each table to change
nothing; rows longer than a cap stay as they are."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_number_prefix_constraint"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="handlingunit",
                    name="remit",
                    field=models.TextField(blank=True, max_length=2000, verbose_name="职责范围"),
                ),
            ],
        ),
    ]
