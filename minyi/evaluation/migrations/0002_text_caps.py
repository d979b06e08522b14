"""Caps on free text (minyi/core/text_limits.py): state only. A TextField's max_length
is not a database constraint, and SQLite would otherwise rebuild each table to change
nothing; rows longer than a cap stay as they are."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="circular",
                    name="body",
                    field=models.TextField(max_length=20000, verbose_name="正文"),
                ),
                migrations.AlterField(
                    model_name="circular",
                    name="decision_note",
                    field=models.TextField(blank=True, max_length=2000, verbose_name="市委意见"),
                ),
                migrations.AlterField(
                    model_name="criterionscore",
                    name="reason",
                    field=models.TextField(blank=True, max_length=1000, verbose_name="调整理由"),
                ),
                migrations.AlterField(
                    model_name="studioassessment",
                    name="outcome_reason",
                    field=models.TextField(blank=True, max_length=2000, verbose_name="结果说明"),
                ),
            ],
        ),
    ]
