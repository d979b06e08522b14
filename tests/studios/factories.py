"""Studios for tests: a compliant one by default; pass fields to make it fall short."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from minyi.org.models import OrgUnit
from minyi.people.models import Liaison, LiaisonKind
from minyi.studios.models import FACILITIES, Studio, StudioKind

_serial = iter(range(1, 10_000))


def make_studio(unit: OrgUnit, *, full_time_liaison: bool = True, **fields: Any) -> Studio:
    n = next(_serial)
    values: dict[str, Any] = {
        "name": f"测试工作室{n:04d}",
        "kind": StudioKind.COMMUNITY,
        "host_organisation": f"测试党组织{n:04d}",
        "area_m2": Decimal(30),
        # Set up long ago, so it is judged on whole years (Studio.judged_from).
        "established_on": date(2020, 1, 1),
        **{name: True for name, _ in FACILITIES},
        **fields,
    }
    studio = Studio.objects.create(unit=unit, **values)
    if full_time_liaison:
        Liaison.objects.create(
            name=f"测试联络员{n:04d}",
            kind=LiaisonKind.FULL_TIME,
            studio=studio,
            phone=f"+86139000{n:05d}",
        )
    return studio


def studio_form_data(unit: OrgUnit, **overrides: Any) -> dict[str, Any]:
    """What a user types into the studio form: complete and valid unless overridden."""
    data: dict[str, Any] = {
        "name": "沙头角新村党代表工作室",
        "kind": StudioKind.COMMUNITY,
        "unit": unit.pk,
        "host_organisation": "中共深圳市盐田区沙头角街道沙头角社区委员会",
        "address": "沙头角街道测试路 2 号",
        "area_m2": "30",
        "opening_hours": "每周四 9:00—12:00",
        "phone": "0755-12345678",
        "funding_source": "盐田区财政",
        "established_on": "2024-03-01",
        **{name: "on" for name, _ in FACILITIES},
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
