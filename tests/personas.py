"""Named personas shared by every test: the demo accounts on a small copy of the real
tree (盐田区 with 沙头角街道 and 梅沙街道), built the same way `make run` builds them.

- city_official: 市委组织部, sees the whole city
- district_official: 盐田区委组织部
- street_official: 沙头角街道组织部门
- outsider: 梅沙街道组织部门, a real official who must not see 沙头角's records
- liaison: full-time liaison of 沙头角社区党代表工作室
- representative: a city representative working at that studio
- handling_unit_staff: 沙头角街道城市管理办公室
"""

from __future__ import annotations

import pytest

from minyi.core import generations
from minyi.core.demo import build_demo
from minyi.org.models import Delegation, Group, Kind, Level, OrgDepartment, OrgUnit
from minyi.people.models import User

MINI_TREE = [
    # code, name, short name, level, parent code
    ("44", "广东省", "广东省", Level.PROVINCE, None),
    ("4403", "深圳市", "深圳市", Level.CITY, "44"),
    ("440308", "盐田区", "盐田区", Level.DISTRICT, "4403"),
    ("440303", "罗湖区", "罗湖区", Level.DISTRICT, "4403"),
    ("440308003", "沙头角街道", "沙头角街道", Level.STREET, "440308"),
    ("440308001", "梅沙街道", "梅沙街道", Level.STREET, "440308"),
    ("440303001", "桂园街道", "桂园街道", Level.STREET, "440303"),
    ("440308003006", "沙头角居委会", "沙头角社区", Level.COMMUNITY, "440308003"),
    ("440308003009", "田心居委会", "田心社区", Level.COMMUNITY, "440308003"),
    ("440308003003", "桥东居委会", "桥东社区", Level.COMMUNITY, "440308003"),
    ("440308001006", "大梅沙居委会", "大梅沙社区", Level.COMMUNITY, "440308001"),
    ("440308001002", "小梅沙居委会", "小梅沙社区", Level.COMMUNITY, "440308001"),
    ("440303001001", "大塘龙社区居民委员会", "大塘龙社区", Level.COMMUNITY, "440303001"),
]


def build_mini_tree() -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}
    for code, name, short, level, parent_code in MINI_TREE:
        unit = OrgUnit(code=code, name=name, short_name=short, level=level)
        unit.set_ancestors_from(units.get(parent_code) if parent_code else None)
        unit.save()
        units[code] = unit
    city = units["4403"]
    committee = OrgUnit(
        name="市卫生健康工委",
        short_name="市卫生健康工委",
        level=Level.DISTRICT,
        kind=Kind.SYSTEM_COMMITTEE,
    )
    committee.set_ancestors_from(city)
    committee.save()
    for code in ("4403", "440308", "440303", "440308003", "440308001", "440303001"):
        OrgDepartment.objects.create(unit=units[code], name=f"{units[code].name}组织部门")
    for district in ("440308", "440303"):
        Delegation.objects.create(unit=units[district], name=f"{units[district].name}代表团")
    for street in ("440308003", "440308001", "440303001"):
        unit = units[street]
        Group.objects.create(
            unit=unit,
            delegation=Delegation.objects.get(unit_id=unit.parent_id),
            name=f"{unit.name}代表组",
        )
    return units


@pytest.fixture
def world(db: None) -> dict[str, OrgUnit]:
    units = build_mini_tree()
    build_demo()
    bump_as_if_committed()
    return units


def bump_as_if_committed() -> None:
    """The shared cache as if the test's writes so far had committed: their pending
    generation bumps run, so that kept values are kept again (minyi.core.generations;
    a test's transaction never commits). Other commit hooks do not run."""
    for hook in generations.pending_bumps():
        hook()


def _persona(username: str):
    @pytest.fixture
    def fixture(world: dict[str, OrgUnit]) -> User:
        return User.objects.get(username=username)

    return fixture


admin_user = _persona("admin")
city_official = _persona("city")
district_official = _persona("yantian")
street_official = _persona("shatoujiao")
outsider = _persona("meisha")
liaison = _persona("liaison")
representative = _persona("rep")
handling_unit_staff = _persona("unit")

PERSONAS = {
    "anonymous": None,
    "admin": "admin",
    "city_official": "city",
    "district_official": "yantian",
    "street_official": "shatoujiao",
    "outsider": "meisha",
    "liaison": "liaison",
    "representative": "rep",
    "handling_unit_staff": "unit",
}
