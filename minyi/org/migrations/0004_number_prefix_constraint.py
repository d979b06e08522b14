"""OrgUnit.number_prefix unique by a named constraint instead of unique=True: on
PostgreSQL unique=True also made a LIKE index, which the national import maintained
for nothing."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0003_community_number_prefix"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orgunit",
            name="number_prefix",
            field=models.CharField(
                blank=True, editable=False, max_length=120, null=True, verbose_name="编号前缀"
            ),
        ),
        migrations.AddConstraint(
            model_name="orgunit",
            constraint=models.UniqueConstraint(
                fields=("number_prefix",), name="orgunit_unique_number_prefix"
            ),
        ),
    ]
