"""A case's area columns (`Case.area`, `province` … `street`): set at registration
from the studio's unit (`OrgUnit.area_pointers`), and kept equal to the studio's unit
when the organisation changes, so that `Case.objects.for_user` can scope on them
instead of joining case → studio → unit.

The invariant: a case's area columns are `case.studio.unit.area_pointers()`. A case
follows its studio when a studio moves to another unit or a unit moves under another
parent (docs/decisions.md, "A case follows its studio's area"). Every change here is one
UPDATE, whatever the number of cases.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import F, OuterRef, Subquery, When

from minyi.audit.trail import record_bulk
from minyi.org.models import ANCESTOR_LEVELS, OrgUnit

AREA_COLUMNS = ("area_id", *(f"{level}_id" for level in ANCESTOR_LEVELS))


def cases_follow_studio(studio: Any) -> int:
    """After a studio moved to another unit: its cases take the new unit's area."""
    from minyi.cases.models import Case

    moved = Case.objects.filter(studio=studio).update(**studio.unit.area_pointers())
    record_bulk(Case, moved, fields=AREA_COLUMNS, cause=f"工作室迁移 studios.studio#{studio.pk}")
    return moved


def cases_follow_unit(unit: OrgUnit) -> int:
    """After `unit` moved under another parent (its ancestor pointers already saved):
    the cases of its studios and of every studio beneath it take its new ancestors.
    The columns at and below the unit's level stay as they are."""
    from minyi.cases.models import Case

    above = (
        ANCESTOR_LEVELS[: ANCESTOR_LEVELS.index(unit.level)]
        if unit.level in ANCESTOR_LEVELS
        else ANCESTOR_LEVELS
    )
    columns = [f"{level}_id" for level in above]
    if not columns:
        return 0
    moved = Case.objects.filter(unit.area_q()).update(
        **{column: getattr(unit, column) for column in columns}
    )
    record_bulk(Case, moved, fields=columns, cause=f"调整上级 org.orgunit#{unit.pk}")
    return moved


def cases_follow_merge(source: OrgUnit, target: OrgUnit) -> int:
    """After the studios of `source` moved to `target` (a merge): their cases too."""
    from minyi.cases.models import Case

    moved = Case.objects.filter(area_id=source.pk).update(**target.area_pointers())
    record_bulk(
        Case, moved, fields=AREA_COLUMNS, cause=f"合并 org.orgunit#{source.pk} → #{target.pk}"
    )
    return moved


def backfill_areas(case_model: Any, studio_model: Any, conn: Any = connection) -> int:
    """Set the area columns of every case that has none, from its studio's unit, in
    one UPDATE. Takes the models so that the migration that adds the columns can pass
    its historical ones. On PostgreSQL one UPDATE … FROM joins each case to its studio
    and unit once; elsewhere a correlated subquery per column (SQLite, 50,000 cases in
    a few seconds)."""
    if conn.vendor == "postgresql":
        return _backfill_postgresql(case_model, studio_model, conn)
    unit = studio_model.objects.filter(pk=OuterRef("studio_id"))
    values: dict[str, Any] = {"area_id": Subquery(unit.values("unit_id")[:1])}
    for level in ANCESTOR_LEVELS:
        own_or_above = SqlCase(
            When(unit__level=level, then=F("unit_id")), default=F(f"unit__{level}_id")
        )
        values[f"{level}_id"] = Subquery(unit.annotate(v=own_or_above).values("v")[:1])
    return case_model.objects.using(conn.alias).filter(area__isnull=True).update(**values)


def _backfill_postgresql(case_model: Any, studio_model: Any, conn: Any) -> int:
    unit_table = studio_model._meta.get_field("unit").related_model._meta.db_table
    sets = ", ".join(
        f"{level}_id = CASE WHEN u.level = %s THEN u.id ELSE u.{level}_id END"
        for level in ANCESTOR_LEVELS
    )
    sql = f"""
        UPDATE {case_model._meta.db_table} AS c
           SET area_id = u.id, {sets}
          FROM {studio_model._meta.db_table} AS s
          JOIN {unit_table} AS u ON u.id = s.unit_id
         WHERE s.id = c.studio_id AND c.area_id IS NULL
    """  # noqa: S608 (table names from the models, levels as parameters)
    with conn.cursor() as cursor:
        cursor.execute(sql, [str(level) for level in ANCESTOR_LEVELS])
        return cursor.rowcount
