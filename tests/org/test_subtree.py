"""`OrgUnit.subtree_q` through a relation: the same rows as "this unit or beneath it",
asked as `unit_id IN (the subtree's units)` so that PostgreSQL can use the indexes. The
OR-across-a-join form it replaces read every studio nationally (docs/performance.md)."""

from __future__ import annotations

from typing import Any

import pytest

from minyi.org.models import HandlingUnit, OrgUnit
from minyi.studios.models import Studio

pytestmark = pytest.mark.django_db

YANTIAN, SHATOUJIAO_STREET, SHATOUJIAO = "440308", "440308003", "440308003006"


def expected(unit: OrgUnit) -> set[int]:
    """Studios of the unit or beneath it, worked out in Python from the pointers."""
    level = f"{unit.level}_id"
    return {
        s.pk
        for s in Studio.objects.select_related("unit")
        if s.unit_id == unit.pk or getattr(s.unit, level, None) == unit.pk
    }


@pytest.mark.parametrize("code", [YANTIAN, SHATOUJIAO_STREET, SHATOUJIAO])
def test_it_finds_the_unit_and_everything_beneath_it(world: Any, code: str) -> None:
    unit = OrgUnit.objects.get(code=code)
    found = set(Studio.objects.filter(unit.subtree_q("unit__")).values_list("pk", flat=True))
    assert found == expected(unit)
    assert found  # the mini tree has studios at each of these


def test_through_a_relation_it_is_one_in_over_the_units_not_an_or_across_a_join(
    world: Any,
) -> None:
    street = OrgUnit.objects.get(code=SHATOUJIAO_STREET)
    sql = str(Studio.objects.filter(street.subtree_q("unit__")).order_by().query)
    assert '"studios_studio"."unit_id" IN (SELECT' in sql
    assert "JOIN" not in sql  # the units are read in the sub-query, by their indexes
    sql = str(HandlingUnit.objects.filter(street.subtree_q("area__")).query)
    assert '"org_handlingunit"."area_id" IN (SELECT' in sql
