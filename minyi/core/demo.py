"""Clearly fake demo people on the real Shenzhen tree, for `make run` and for tests.

Every name starts with 演示 and every phone number is in the 138-0000 block, so no
one can mistake a demo record for a real person. Idempotent: running it again
changes nothing. The tests' personas are these same accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from minyi.org.models import Group, HandlingUnit, OrgUnit
from minyi.people.models import (
    Liaison,
    LiaisonKind,
    Representative,
    RepresentativeCategory,
    RepresentativeLevel,
    Role,
    User,
)
from minyi.studios.models import Studio, StudioAssignment, StudioKind

DEMO_PASSWORD = "minyi-demo-2026"

# Official division codes of the units the demo uses.
CITY = "4403"
YANTIAN = "440308"
SHATOUJIAO_STREET = "440308003"
SHATOUJIAO = "440308003006"
TIANXIN = "440308003009"
MEISHA_STREET = "440308001"
DAMEISHA = "440308001006"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    description: str


DEMO_ACCOUNTS = [
    DemoAccount("admin", "系统管理员（超级用户）"),
    DemoAccount("city", "市委组织部工作人员（全市）"),
    DemoAccount("yantian", "盐田区委组织部工作人员（盐田区）"),
    DemoAccount("shatoujiao", "沙头角街道组织部门工作人员（沙头角街道）"),
    DemoAccount("meisha", "梅沙街道组织部门工作人员（梅沙街道，看不到沙头角）"),
    DemoAccount("liaison", "沙头角社区党代表工作室专职联络员"),
    DemoAccount("rep", "市党代表（进驻沙头角社区工作室）"),
    DemoAccount("secretary", "田心社区党委书记（无工作室，代行联络员）"),
    DemoAccount("unit", "沙头角街道城市管理办公室（承办单位）"),
    DemoAccount("housing", "盐田区住房和建设局（承办单位，区里交办的案件）"),
]


def _unit(code: str) -> OrgUnit:
    try:
        return OrgUnit.objects.get(code=code)
    except OrgUnit.DoesNotExist as exc:
        raise RuntimeError(
            f"演示数据需要区划代码为 {code} 的单元，请先运行 import_divisions 导入深圳市区划。"
        ) from exc


def _account(username: str, **fields: object) -> User:
    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _phone(n: int) -> str:
    return f"+86138000{n:05d}"


@transaction.atomic
def build_demo() -> None:
    city, yantian = _unit(CITY), _unit(YANTIAN)
    street, meisha_street = _unit(SHATOUJIAO_STREET), _unit(MEISHA_STREET)
    shatoujiao, tianxin = _unit(SHATOUJIAO), _unit(TIANXIN)
    dameisha = _unit(DAMEISHA)

    _account("admin", full_name="演示管理员", is_staff=True, is_superuser=True)
    _account("city", full_name="演示·市委组织部 王科长", role=Role.CITY_OFFICIAL, unit=city)
    _account(
        "yantian", full_name="演示·盐田区委组织部 刘干事", role=Role.DISTRICT_OFFICIAL, unit=yantian
    )
    _account(
        "shatoujiao", full_name="演示·沙头角街道 陈委员", role=Role.STREET_OFFICIAL, unit=street
    )
    _account(
        "meisha", full_name="演示·梅沙街道 黄委员", role=Role.STREET_OFFICIAL, unit=meisha_street
    )

    urban, _ = HandlingUnit.objects.get_or_create(
        area=street,
        name="沙头角街道城市管理办公室",
        defaults={
            "remit": "市容环境、占道经营、施工噪声",
            "contact_person": "演示·周主任",
            "phone": _phone(90),
        },
    )
    housing, _ = HandlingUnit.objects.get_or_create(
        area=yantian,
        name="盐田区住房和建设局",
        defaults={
            "remit": "住房保障、建筑工地管理",
            "contact_person": "演示·吴科长",
            "phone": _phone(91),
        },
    )
    HandlingUnit.objects.get_or_create(
        area=city,
        name="深圳市住房和建设局",
        defaults={
            "remit": "全市住房和建设政策",
            "contact_person": "演示·郑处长",
            "phone": _phone(92),
        },
    )
    _account(
        "unit", full_name="演示·城管办 周主任", role=Role.HANDLING_UNIT_STAFF, handling_unit=urban
    )
    # Journey 5: the district refers a case to its housing bureau, which answers it.
    _account(
        "housing",
        full_name="演示·区住建局 吴科长",
        role=Role.HANDLING_UNIT_STAFF,
        handling_unit=housing,
    )

    studio, _ = Studio.objects.get_or_create(
        unit=shatoujiao,
        name="沙头角社区党代表工作室",
        defaults={
            "kind": StudioKind.COMMUNITY,
            "host_organisation": "中共深圳市盐田区沙头角街道沙头角社区委员会",
            "address": "深圳市盐田区沙头角街道沙深路演示大厦 1 楼（演示地址）",
            "area_m2": Decimal(36),
            "opening_hours": "每周三 9:00—12:00；每两月第一个周六 9:00—12:00 党代表接待",
            "phone": "+8675500000001",
            "funding_source": "盐田区财政",
            "established_on": date(2018, 7, 1),
            "has_plaque": True,
            "has_representative_board": True,
            "has_desks": True,
            "has_filing_cabinets": True,
            "has_computer_network": True,
            "has_slogan_sign": True,
            "has_rules_posted": True,
        },
    )
    # A second studio that falls short, so the warnings have something to show.
    short_studio, _ = Studio.objects.get_or_create(
        unit=dameisha,
        name="大梅沙社区党代表工作室",
        defaults={
            "kind": StudioKind.COMMUNITY,
            "host_organisation": "中共深圳市盐田区梅沙街道大梅沙社区委员会",
            "address": "深圳市盐田区梅沙街道盐梅路演示大厦 8 楼（演示地址）",
            "area_m2": Decimal(15),
            "opening_hours": "每周五 14:30—17:30",
            "established_on": date(2019, 3, 1),
            "has_plaque": True,
            "has_desks": True,
        },
    )

    group = Group.objects.filter(unit=street).select_related("delegation").first()
    reps = [
        (
            "演示代表·陈明",
            RepresentativeLevel.CITY,
            RepresentativeCategory.DISTRICT,
            "盐田港集团（演示）",
            "工程师",
            [shatoujiao],
            date(2022, 3, 1),
        ),
        (
            "演示代表·林秀英",
            RepresentativeLevel.CITY,
            RepresentativeCategory.DISTRICT,
            "沙头角中学（演示）",
            "教师",
            [shatoujiao, tianxin],
            date(2022, 3, 1),
        ),
        (
            "演示代表·何建国",
            RepresentativeLevel.DISTRICT,
            RepresentativeCategory.DISTRICT,
            "盐田区人民医院（演示）",
            "医生",
            [shatoujiao],
            date(2022, 9, 1),
        ),
    ]
    created = []
    for index, (name, level, category, employer, position, communities, since) in enumerate(reps):
        rep, _ = Representative.objects.get_or_create(
            name=name,
            defaults={
                "level": level,
                "category": category,
                "unit": yantian,
                "employer": employer,
                "position": position,
                "phone": _phone(10 + index),
                "delegation": group.delegation
                if group and level == RepresentativeLevel.CITY
                else None,
                "group": group if level == RepresentativeLevel.CITY else None,
            },
        )
        if not rep.linked_communities.exists():
            rep.linked_communities.set(communities)
        _assign_once(studio, rep, since)
        created.append(rep)
    meisha_rep, _ = Representative.objects.get_or_create(
        name="演示代表·黄海",
        defaults={
            "level": RepresentativeLevel.CITY,
            "category": RepresentativeCategory.DISTRICT,
            "unit": yantian,
            "employer": "大梅沙景区（演示）",
            "position": "经理",
            "phone": _phone(20),
        },
    )
    if not meisha_rep.linked_communities.exists():
        meisha_rep.linked_communities.set([dameisha])
    _assign_once(short_studio, meisha_rep, date(2023, 6, 1))

    rep_user = _account("rep", full_name=created[0].name, role=Role.REPRESENTATIVE)
    Representative.objects.filter(pk=created[0].pk, user__isnull=True).update(user=rep_user)

    liaison_user = _account("liaison", full_name="演示联络员·林芳", role=Role.LIAISON)
    for name, kind, position, n, user in [
        ("演示联络员·林芳", LiaisonKind.FULL_TIME, "社区党委专职委员", 30, liaison_user),
        ("演示联络员·张伟", LiaisonKind.PART_TIME, "社区工作站工作人员", 31, None),
        ("演示联络员·李娜", LiaisonKind.PART_TIME, "社区居委会委员", 32, None),
    ]:
        Liaison.objects.get_or_create(
            name=name,
            studio=studio,
            defaults={"kind": kind, "position": position, "phone": _phone(n), "user": user},
        )
    Liaison.objects.get_or_create(
        name="演示联络员·赵敏",
        studio=short_studio,
        defaults={"kind": LiaisonKind.PART_TIME, "position": "社区工作站站长", "phone": _phone(33)},
    )
    # 田心社区 has no studio yet: its party secretary stands in as liaison (CM 7).
    if not tianxin.party_secretary:
        tianxin.party_secretary = "演示书记·吴刚"
        tianxin.save(update_fields=["party_secretary", "updated_at"])
    # An account for the stand-in, so that the demo shows CM 7 from their side: they
    # record the household visits of the representatives linked to 田心社区.
    secretary_user = _account("secretary", full_name="演示书记·吴刚", role=Role.LIAISON)
    stand_in, _ = Liaison.objects.get_or_create(
        name="演示书记·吴刚",
        community=tianxin,
        defaults={
            "kind": LiaisonKind.STAND_IN,
            "position": "田心社区党委书记",
            "phone": _phone(40),
            "user": secretary_user,
        },
    )
    if stand_in.user_id is None:  # a demo loaded before the stand-in had an account
        stand_in.user = secretary_user
        stand_in.save(update_fields=["user", "updated_at"])


def _assign_once(studio: Studio, rep: Representative, since: date) -> None:
    """Assign on the first run only: a pair may have several periods (one row each), and
    one who left since is not brought back by running the demo again. The first period
    starts on a day of the current term (a demo loaded before the day was set gets it
    now, where it is still blank), so the studio page shows a 进驻日期, not "—"."""
    periods = StudioAssignment.objects.filter(studio=studio, representative=rep)
    first = periods.order_by("pk").first()
    if first is None:
        StudioAssignment.objects.create(studio=studio, representative=rep, since=since)
    elif first.since is None and (first.until is None or since <= first.until):
        first.since = since
        first.save(update_fields=["since", "updated_at"])
