"""Every community's number prefix, stored (minyi.org.prefixes).

Each community gets the prefix its cases are numbered under today, street + short name,
so that every counter and number goes on as before. Where several communities share
that today (one serial sequence for all of them), the one whose cases were numbered
under it first keeps it (the one with the smallest code, if none has cases), and the
others get the longer form a newcomer would: their numbers already issued keep the
shared prefix, their next ones are their own.
"""

from django.db import migrations, models
from django.db.models import Min

from minyi.org.prefixes import MAX_LENGTH, first_free

BATCH = 5000
ABOVE = ("street_id", "district_id", "city_id", "province_id")


def fill(apps, schema_editor):
    OrgUnit = apps.get_model("org", "OrgUnit")
    Case = apps.get_model("cases", "Case")
    Counter = apps.get_model("cases", "CaseNumberCounter")
    names = dict(
        OrgUnit.objects.exclude(level="community").values_list("pk", "name").iterator()
    )
    rows = list(
        OrgUnit.objects.filter(level="community", street__isnull=False)
        .values_list("pk", "code", "short_name", *ABOVE)
        .iterator()
    )
    today = {row[0]: f"{names.get(row[3], '')}{row[2]}" for row in rows}
    sharers: dict[str, list[int]] = {}
    for pk, prefix in today.items():
        sharers.setdefault(prefix, []).append(pk)
    shared = [prefix for prefix, pks in sharers.items() if len(pks) > 1]
    first_case = {
        (unit, prefix): first
        for unit, prefix, first in Case.objects.filter(number_prefix__in=shared)
        .values("studio__unit_id", "number_prefix")
        .annotate(first=Min("pk"))
        .values_list("studio__unit_id", "number_prefix", "first")
    }
    code_of = {row[0]: row[1] or "" for row in rows}
    keeps: dict[int, str] = {}
    for prefix, pks in sharers.items():
        if len(prefix) > MAX_LENGTH:
            continue  # could never be saved with a case; these get a fitting one or none
        keeper = min(
            pks, key=lambda pk: (first_case.get((pk, prefix), float("inf")), code_of[pk], pk)
        )
        keeps[keeper] = prefix
    taken = set(keeps.values()) | set(Counter.objects.values_list("prefix", flat=True))
    batch = []
    for pk, _code, short_name, *above in sorted(rows, key=lambda row: (row[1] or "", row[0])):
        prefix = keeps.get(pk) or first_free(short_name, [names.get(i) for i in above], taken)
        batch.append(OrgUnit(pk=pk, number_prefix=prefix))
        if len(batch) >= BATCH:
            OrgUnit.objects.bulk_update(batch, ["number_prefix"])
            batch.clear()
    OrgUnit.objects.bulk_update(batch, ["number_prefix"])


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0002_encrypt_phones"),
        ("cases", "0009_feedback_copy_claim"),
    ]

    operations = [
        migrations.AddField(
            model_name="orgunit",
            name="number_prefix",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=120,
                null=True,
                unique=True,
                verbose_name="编号前缀",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
