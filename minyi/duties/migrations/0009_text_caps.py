"""Caps on free text (minyi/core/text_limits.py): state only. A TextField's max_length
is not a database constraint, and SQLite would otherwise rebuild each table to change
nothing; rows longer than a cap stay as they are."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("duties", "0008_encrypt_appointment_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activitymonth",
                    name="content",
                    field=models.TextField(max_length=10000, verbose_name="活动内容"),
                ),
                migrations.AlterField(
                    model_name="annualplan",
                    name="decision_note",
                    field=models.TextField(blank=True, max_length=1000, verbose_name="审批意见"),
                ),
                migrations.AlterField(
                    model_name="annualplan",
                    name="notes",
                    field=models.TextField(blank=True, max_length=2000, verbose_name="说明"),
                ),
                migrations.AlterField(
                    model_name="annualplan",
                    name="shortfall_reason",
                    field=models.TextField(
                        blank=True,
                        help_text="计划未达到办法规定的最低要求时，批准须写明理由。",
                        max_length=2000,
                        verbose_name="未达最低要求的理由",
                    ),
                ),
                migrations.AlterField(
                    model_name="appointment",
                    name="cancel_reason",
                    field=models.TextField(blank=True, max_length=1000, verbose_name="取消理由"),
                ),
                migrations.AlterField(
                    model_name="bimonthlyreport",
                    name="body",
                    field=models.TextField(max_length=20000, verbose_name="报告内容"),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="cancelled_reason",
                    field=models.TextField(blank=True, max_length=1000, verbose_name="取消理由"),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="late_reason",
                    field=models.TextField(
                        blank=True, max_length=1000, verbose_name="不足7天预告的理由"
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="summary",
                    field=models.TextField(blank=True, max_length=2000, verbose_name="活动情况"),
                ),
                migrations.AlterField(
                    model_name="householdvisit",
                    name="notes",
                    field=models.TextField(blank=True, max_length=2000, verbose_name="走访情况"),
                ),
            ],
        ),
    ]
