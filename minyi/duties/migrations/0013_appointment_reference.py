from django.db import migrations, models

import minyi.duties.references


def fill_references(apps, schema_editor):
    # Each booking made before gets its own: a callable default on AddField is called
    # once for the whole table.
    Appointment = apps.get_model("duties", "Appointment")
    taken: set[str] = set()
    for appointment in Appointment.objects.only("pk").order_by("pk").iterator():
        reference = minyi.duties.references.new_reference()
        while reference in taken:
            reference = minyi.duties.references.new_reference()
        taken.add(reference)
        Appointment.objects.filter(pk=appointment.pk).update(reference=reference)


class Migration(migrations.Migration):
    dependencies = [
        ("duties", "0012_session_submission_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="reference",
            field=models.CharField(default="", editable=False, max_length=6, verbose_name="预约号"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_references, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appointment",
            name="reference",
            field=models.CharField(
                default=minyi.duties.references.new_reference,
                editable=False,
                max_length=6,
                unique=True,
                verbose_name="预约号",
            ),
        ),
    ]
