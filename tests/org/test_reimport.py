"""Importing again: names follow the codes, and nothing the organisation changed by hand
(moves, deletions avoided, its own units and bodies) is undone."""

from pathlib import Path

import pytest

from minyi.org.models import Delegation, Group, Level, OrgDepartment, OrgUnit
from tests.org.divisions import SHENZHEN_CSV, import_divisions, shenzhen_lines, write_lines

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[tuple]]:
    return {
        "units": list(
            OrgUnit.objects.order_by("pk").values_list(
                "pk",
                "code",
                "name",
                "short_name",
                "kind",
                "parent",
                "district",
                "street",
                "updated_at",
            )
        ),
        "departments": list(OrgDepartment.objects.order_by("pk").values_list("pk", "name")),
        "delegations": list(Delegation.objects.order_by("pk").values_list("pk", "name")),
        "groups": list(Group.objects.order_by("pk").values_list("pk", "name", "delegation")),
    }


def move(unit: OrgUnit, to: OrgUnit) -> None:
    """What the tree editor does when a user moves a street."""
    unit.set_ancestors_from(to)
    unit.save()
    OrgUnit.objects.filter(street=unit).update(district=to)


def test_a_second_run_creates_and_changes_nothing() -> None:
    import_divisions(SHENZHEN_CSV)
    before = snapshot()
    out = import_divisions(SHENZHEN_CSV)
    assert snapshot() == before
    assert "社区：新建 0，更新 0，未变 788" in out
    assert "新建代表" not in out
    assert "新建组织部门" not in out


def test_a_street_moved_by_hand_stays_moved() -> None:
    import_divisions(SHENZHEN_CSV)
    longgang = OrgUnit.objects.get(code="440307")
    nanao = OrgUnit.objects.get(name="南澳街道")
    move(nanao, longgang)
    import_divisions(SHENZHEN_CSV)
    nanao.refresh_from_db()
    assert nanao.parent == nanao.district == longgang
    assert OrgUnit.objects.filter(street=nanao).exclude(district=longgang).count() == 0
    assert OrgUnit.objects.filter(name="大鹏新区").count() == 1


def test_a_unit_moved_elsewhere_is_not_pulled_back_by_its_code() -> None:
    import_divisions(SHENZHEN_CSV)
    luohu = OrgUnit.objects.get(code="440303")
    shatoujiao = OrgUnit.objects.get(name="沙头角街道")
    move(shatoujiao, luohu)
    import_divisions(SHENZHEN_CSV)
    shatoujiao.refresh_from_db()
    assert shatoujiao.parent == luohu
    assert OrgUnit.objects.get(code="440308003006").district == luohu


def test_a_renamed_unit_is_updated_by_its_code(tmp_path: Path) -> None:
    import_divisions(SHENZHEN_CSV)
    kuichong = OrgUnit.objects.get(code="440307009")
    lines = [
        line.replace("沙头角居委会", "沙头角社区居民委员会").replace("葵涌街道", "葵涌新街道")
        for line in shenzhen_lines()
    ]
    out = import_divisions(write_lines(tmp_path / "renamed.csv", lines))
    community = OrgUnit.objects.get(code="440308003006")
    assert (community.name, community.short_name) == ("沙头角社区居民委员会", "沙头角社区")
    renamed = OrgUnit.objects.get(code="440307009")
    assert (renamed.pk, renamed.name, renamed.short_name) == (
        kuichong.pk,
        "葵涌新街道",
        "葵涌新街道",
    )
    assert renamed.parent is not None and renamed.parent.name == "大鹏新区"
    assert "街道：新建 0，更新 1，未变 78" in out
    assert "社区：新建 0，更新 1，未变 787" in out


def test_a_unit_missing_from_a_later_file_is_kept(tmp_path: Path) -> None:
    import_divisions(SHENZHEN_CSV)
    lines = [line for line in shenzhen_lines() if "440308003" not in line]
    import_divisions(write_lines(tmp_path / "shorter.csv", lines))
    assert OrgUnit.objects.filter(code__startswith="440308003").count() == 8
    assert OrgUnit.objects.communities().count() == 788


def test_the_partys_own_units_and_bodies_are_created_once_and_kept_as_edited() -> None:
    import_divisions(SHENZHEN_CSV)
    department = OrgDepartment.objects.get(unit__name="沙头角街道")
    department.name = "沙头角街道党工委组织办"
    department.save()
    OrgUnit.objects.filter(name="鹅埠镇").update(short_name="鹅埠")
    import_divisions(SHENZHEN_CSV)
    assert OrgDepartment.objects.get(pk=department.pk).name == "沙头角街道党工委组织办"
    assert OrgUnit.objects.filter(name="鹅埠镇").count() == 1
    assert OrgUnit.objects.filter(level=Level.DISTRICT, name="深汕特别合作区").count() == 1
    assert OrgUnit.objects.filter(name="市直机关工委").count() == 1


def test_missing_bodies_are_added_again() -> None:
    import_divisions(SHENZHEN_CSV)
    Group.objects.filter(unit__name="沙头角街道").delete()
    out = import_divisions(SHENZHEN_CSV)
    assert Group.objects.get(unit__name="沙头角街道").delegation.name == "盐田区代表团"
    assert "新建代表组：1" in out
