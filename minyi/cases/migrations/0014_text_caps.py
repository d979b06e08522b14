"""Caps on free text (minyi/core/text_limits.py): state only. A TextField's max_length
is not a database constraint, and SQLite would otherwise rebuild each table to change
nothing; rows longer than a cap stay as they are."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_withdrawn_state"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="answer",
                    name="text",
                    field=models.TextField(max_length=10000, verbose_name="答复内容"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="content",
                    field=models.TextField(max_length=10000, verbose_name="反映内容"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="extension_reason",
                    field=models.TextField(blank=True, max_length=1000, verbose_name="延期理由"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="spot_answer",
                    field=models.TextField(
                        blank=True, max_length=2000, verbose_name="当场答复内容"
                    ),
                ),
                migrations.AlterField(
                    model_name="consultation",
                    name="attendees",
                    field=models.TextField(max_length=1000, verbose_name="参加人员"),
                ),
                migrations.AlterField(
                    model_name="consultation",
                    name="minutes",
                    field=models.TextField(max_length=10000, verbose_name="协商纪要"),
                ),
                migrations.AlterField(
                    model_name="consultation",
                    name="outcome",
                    field=models.TextField(blank=True, max_length=2000, verbose_name="协商结果"),
                ),
                migrations.AlterField(
                    model_name="evaluation",
                    name="comment",
                    field=models.TextField(blank=True, max_length=1000, verbose_name="意见"),
                ),
            ],
        ),
    ]
