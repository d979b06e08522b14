from django.db import migrations

import minyi.core.crypto
from minyi.core.crypto_migrations import fill_derived


class Migration(migrations.Migration):
    dependencies = [
        ("duties", "0008_encrypt_appointment_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="phone_masked",
            field=minyi.core.crypto.MaskedPhoneField(
                max_length=16, source="phone", verbose_name="联系电话（遮蔽）"
            ),
        ),
        # The appointments booked before: the masked phone the list prints, from each
        # row's decrypted phone, in batches. The reverse has nothing to undo: the
        # AddField's reverse drops the column.
        fill_derived("duties.Appointment", {"phone_masked": "phone"}),
    ]
