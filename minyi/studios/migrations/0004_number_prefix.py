"""The own number prefix of every studio not numbered by its community
(minyi.org.prefixes, `studio_number_prefix`).

Until now such a studio was numbered by its name, which need not be unique: two studios
of one name shared a sequence. A studio that has issued numbers under its name keeps it,
so that its counter and numbers go on as before; where several did, the one that
numbered under it first keeps it and the others get the longer form a newcomer would:
their numbers already issued stay as they are (`Case.number` is never rewritten), their
next ones are their own. A studio that has issued none gets its prefix at its first
number, as a new one does.
"""

from django.db import migrations, models
from django.db.models import F, Min

from minyi.org.prefixes import MAX_LENGTH, first_free_studio

ABOVE = ("street_id", "district_id", "city_id", "province_id")


def fill(apps, schema_editor):
    OrgUnit = apps.get_model("org", "OrgUnit")
    Studio = apps.get_model("studios", "Studio")
    Case = apps.get_model("cases", "Case")
    Counter = apps.get_model("cases", "CaseNumberCounter")
    own = Studio.objects.exclude(unit__level="community", unit__number_prefix__isnull=False)
    # The studios numbered under their name today, and when each was first.
    first_case = dict(
        Case.objects.filter(studio__in=own, number_prefix=F("studio__name"))
        .values("studio_id")
        .annotate(first=Min("pk"))
        .values_list("studio_id", "first")
    )
    if not first_case:
        return
    rows = list(
        own.filter(pk__in=first_case).values_list(
            "pk", "name", "unit_id", "unit__name", *(f"unit__{a}" for a in ABOVE)
        )
    )
    unit_prefixes = set(
        OrgUnit.objects.filter(number_prefix__isnull=False).values_list("number_prefix", flat=True)
    )
    keeps: dict[int, str] = {}
    for pk, name, *_ in sorted(rows, key=lambda row: first_case[row[0]]):
        # A community's stored prefix (org 0003) stays the community's.
        if name not in unit_prefixes and name not in keeps.values() and len(name) <= MAX_LENGTH:
            keeps[pk] = name
    taken = unit_prefixes | set(keeps.values()) | set(Counter.objects.values_list("prefix", flat=True))
    above_ids = {i for row in rows for i in row[4:] if i}
    names = dict(OrgUnit.objects.filter(pk__in=above_ids).values_list("pk", "name"))
    batch = []
    for pk, name, _unit, unit_name, *above in sorted(rows, key=lambda row: first_case[row[0]]):
        prefix = keeps.get(pk)
        if prefix is None:
            unit_names = [unit_name, *(names.get(i) for i in above)]
            prefix = first_free_studio(name, unit_names, taken)
        batch.append(Studio(pk=pk, number_prefix=prefix))
    Studio.objects.bulk_update(batch, ["number_prefix"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_number_prefix_constraint"),
        ("people", "0004_encrypt_phones"),
        ("studios", "0003_assignment_periods"),
        ("cases", "0011_encrypt_reporter_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="studio",
            name="number_prefix",
            field=models.CharField(
                blank=True, editable=False, max_length=120, null=True, verbose_name="编号前缀"
            ),
        ),
        migrations.AddConstraint(
            model_name="studio",
            constraint=models.UniqueConstraint(
                fields=("number_prefix",), name="studio_unique_number_prefix"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
