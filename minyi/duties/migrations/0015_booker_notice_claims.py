# A notice being sent is pending with claimed_at set (minyi.core.outbox), as an answer
# copy is; the "sending" status goes. A row left "sending" by a run that died keeps its
# claimed_at and attempt count, so the next run takes it over after the claim bound, or
# fails it if that was its last attempt, exactly as a crashed claim of the new kind.

from django.db import migrations, models


def sending_to_claimed(apps, schema_editor):
    BookerNotice = apps.get_model("duties", "BookerNotice")
    BookerNotice.objects.filter(status="sending").update(status="pending")


def claimed_to_sending(apps, schema_editor):
    BookerNotice = apps.get_model("duties", "BookerNotice")
    BookerNotice.objects.filter(status="pending", claimed_at__isnull=False).update(status="sending")


class Migration(migrations.Migration):
    dependencies = [
        ("duties", "0014_booker_notices"),
    ]

    operations = [
        migrations.RunPython(sending_to_claimed, claimed_to_sending, elidable=False),
        migrations.AlterField(
            model_name="bookernotice",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "待发送"),
                    ("sent", "已发短信"),
                    ("logged", "已写入日志，未发短信"),
                    ("failed", "未能发出"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
    ]
