"""Importing the real Shenzhen table builds the party organisation's tree of Shenzhen."""

import pytest

from minyi.org.models import Delegation, Group, Kind, Level, OrgDepartment, OrgUnit
from tests.org.divisions import SHENZHEN_CSV, import_divisions

pytestmark = pytest.mark.django_db

SYSTEM_COMMITTEES = {
    "市直机关工委",
    "市两新组织工委",
    "市教育工委",
    "市卫生健康工委",
    "市国资委党委",
}


@pytest.fixture
def city() -> OrgUnit:
    import_divisions(SHENZHEN_CSV)
    return OrgUnit.objects.get(code="4403")


def test_it_puts_shenzhen_under_guangdong(city: OrgUnit) -> None:
    province = OrgUnit.objects.get(code="44")
    assert (province.name, province.level, province.parent) == ("广东省", Level.PROVINCE, None)
    assert (city.name, city.level, city.parent, city.province) == (
        "深圳市",
        Level.CITY,
        province,
        province,
    )


def test_it_imports_every_community_with_all_its_ancestors(city: OrgUnit) -> None:
    communities = OrgUnit.objects.communities()
    assert communities.count() == 788
    assert communities.filter(city=city, province=city.parent).count() == 788
    assert not communities.filter(district=None).exists()
    assert not communities.filter(street=None).exists()
    assert all(c.parent_id == c.street_id for c in communities)


def test_it_imports_the_districts_and_adds_the_partys_own(city: OrgUnit) -> None:
    districts = OrgUnit.objects.filter(parent=city, level=Level.DISTRICT)
    assert districts.exclude(code=None).count() == 9
    assert districts.filter(kind=Kind.ORDINARY).count() == 9
    dapeng = districts.get(name="大鹏新区")
    assert (dapeng.code, dapeng.kind) == (None, Kind.NEW_DISTRICT)
    shenshan = districts.get(name="深汕特别合作区")
    assert (shenshan.code, shenshan.kind) == (None, Kind.COOPERATION_ZONE)
    committees = districts.filter(kind=Kind.SYSTEM_COMMITTEE)
    assert set(committees.values_list("name", flat=True)) == SYSTEM_COMMITTEES
    assert not committees.exclude(code=None).exists()
    assert districts.count() == 9 + 2 + 5


def test_it_imports_79_street_level_units_and_the_four_shenshan_towns(city: OrgUnit) -> None:
    streets = OrgUnit.objects.filter(city=city, level=Level.STREET)
    assert streets.exclude(code=None).count() == 79
    assert set(streets.filter(kind=Kind.FUNCTIONAL_ZONE).values_list("name", flat=True)) == {
        "福田保税区",
        "前海合作区",
        "深圳市宝安国际机场",
        "深圳盐田综合保税区",
        "深圳坪山综合保税区",
    }
    towns = streets.filter(district__name="深汕特别合作区")
    assert set(towns.values_list("name", flat=True)) == {"鹅埠镇", "小漠镇", "鲘门镇", "赤石镇"}
    assert not towns.exclude(code=None).exists()
    assert all(t.parent_id == t.district_id for t in towns)
    assert streets.count() == 83


def test_it_moves_the_dapeng_streets_under_dapeng_new_district(city: OrgUnit) -> None:
    dapeng = OrgUnit.objects.get(name="大鹏新区")
    streets = OrgUnit.objects.filter(parent=dapeng)
    assert set(streets.values_list("name", flat=True)) == {"葵涌街道", "大鹏街道", "南澳街道"}
    assert all(s.district_id == dapeng.pk and s.city_id == city.pk for s in streets)
    communities = OrgUnit.objects.filter(street__in=streets)
    assert communities.count() > 0
    assert communities.filter(district=dapeng, city=city).count() == communities.count()
    longgang = OrgUnit.objects.get(code="440307")
    assert not OrgUnit.objects.filter(district=longgang, street__in=streets).exists()
    assert OrgUnit.objects.filter(parent=longgang).count() == 11


def test_shatoujiao_community_is_under_shatoujiao_street_in_yantian(city: OrgUnit) -> None:
    community = OrgUnit.objects.get(short_name="沙头角社区")
    assert (community.code, community.name) == ("440308003006", "沙头角居委会")
    assert community.parent and community.street and community.district
    assert community.parent.name == community.street.name == "沙头角街道"
    assert community.district.name == "盐田区"
    assert community.ancestors() == [city.parent, city, community.district, community.street]


def test_streets_and_districts_keep_their_name_as_short_name(city: OrgUnit) -> None:
    above_communities = OrgUnit.objects.exclude(level=Level.COMMUNITY)
    assert all(u.short_name == u.name for u in above_communities)
    assert OrgUnit.objects.get(code="440303001001").short_name == "大塘龙社区"


def test_it_creates_a_department_for_every_city_district_and_street_unit(city: OrgUnit) -> None:
    assert OrgDepartment.objects.count() == 1 + 16 + 83
    names = {d.unit.name: d.name for d in OrgDepartment.objects.select_related("unit")}
    assert names["深圳市"] == "中共深圳市委组织部"
    assert names["罗湖区"] == "中共罗湖区委组织部"
    assert names["大鹏新区"] == "大鹏新区党工委组织部"
    assert names["市直机关工委"] == "市直机关工委组织处"
    assert names["沙头角街道"] == "沙头角街道党工委组织部门"
    assert not OrgUnit.objects.communities().filter(department__isnull=False).exists()


def test_it_creates_delegations_and_groups_but_not_for_system_committees(city: OrgUnit) -> None:
    assert Delegation.objects.count() == 9 + 2
    assert not Delegation.objects.filter(unit__kind=Kind.SYSTEM_COMMITTEE).exists()
    assert Delegation.objects.get(unit__code="440303").name == "罗湖区代表团"
    assert Group.objects.count() == 83
    group = Group.objects.get(unit__name="沙头角街道")
    assert (group.name, group.delegation.name) == ("沙头角街道代表组", "盐田区代表团")
    kuichong = Group.objects.get(unit__name="葵涌街道")
    assert kuichong.delegation.name == "大鹏新区代表团"
    assert Group.objects.get(unit__name="鹅埠镇").delegation.name == "深汕特别合作区代表团"
    assert all(g.delegation.unit_id == g.unit.district_id for g in Group.objects.all())


def test_it_prints_a_summary_in_chinese() -> None:
    out = import_divisions(SHENZHEN_CSV)
    assert "导入完成" in out
    assert "社区：新建 788，更新 0，未变 0" in out
    assert "新建代表组：83" in out
