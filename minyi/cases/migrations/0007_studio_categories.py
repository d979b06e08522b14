"""The categories used at each studio, filled from the cases already registered (one
scan, once); from now on case_register keeps it up to date."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    StudioCategory = apps.get_model("cases", "StudioCategory")
    pairs = (
        Case.objects.exclude(category="")
        .order_by()
        .values_list("studio_id", "category")
        .distinct()
        .iterator(chunk_size=5000)
    )
    StudioCategory.objects.bulk_create(
        (StudioCategory(studio_id=studio, name=name) for studio, name in pairs),
        batch_size=5000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_answer_timeliness'),
        ('studios', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='StudioCategory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50, verbose_name='类别')),
                ('studio', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='case_categories', to='studios.studio')),
            ],
            options={
                'verbose_name': '工作室使用过的类别',
                'verbose_name_plural': '工作室使用过的类别',
                'constraints': [models.UniqueConstraint(fields=('studio', 'name'), name='studiocategory_unique')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
