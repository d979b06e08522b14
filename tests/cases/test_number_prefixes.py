"""Number prefixes unique per community (minyi.org.prefixes): Shenzhen's as on the paper
form, longer ones where a street + community name recurs elsewhere, kept for ever once
a case was numbered under them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from minyi.cases.models import Case, CaseNumberCounter
from minyi.cases.numbering import number_prefix
from minyi.cases.services import case_register
from minyi.org.importing import import_files, short_name_of
from minyi.org.models import Level, OrgUnit
from minyi.org.prefixes import candidates
from minyi.org.services import unit_merge
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.cases.helpers import reporter_data
from tests.org.divisions import SHENZHEN_CSV

pytestmark = pytest.mark.django_db

# Two counties of one city, each with a 太平镇 and its 太平村: the national files'
# commonest clash (×21).
PROVINCES = "code,name\n51,四川省\n"
CITIES = "code,name,provinceCode\n5101,成都市,51\n"
AREAS = "code,name,cityCode,provinceCode\n510112,龙泉驿区,5101,51\n510121,金堂县,5101,51\n"
STREETS = (
    "code,name,areaCode,provinceCode,cityCode\n"
    "510112101,太平镇,510112,51,5101\n"
    "510121101,太平镇,510121,51,5101\n"
)
FIRST = "510112101201,太平村委会,510112101,51,5101,510112\n"
SECOND = "510121101201,太平村民委员会,510121101,51,5101,510121\n"
VILLAGES = "code,name,streetCode,provinceCode,cityCode,areaCode\n"


def import_national(tmp_path: Path, villages: str) -> None:
    files = {
        "provinces.csv": PROVINCES,
        "cities.csv": CITIES,
        "areas.csv": AREAS,
        "streets.csv": STREETS,
        "villages.csv": VILLAGES + villages,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = import_files([tmp_path / name for name in files])
    assert result.imported, result.bad_rows_report()


def studio_at(code: str) -> Studio:
    unit = OrgUnit.objects.get(code=code)
    return Studio.objects.create(
        name=f"{unit.short_name}党代表工作室", kind="community", unit=unit, host_organisation="党委"
    )


def register_at(studio: Studio, **overrides: Any) -> Case:
    return case_register(
        actor=User.objects.get(username="liaison"),
        studio=Studio.objects.select_related("unit").get(pk=studio.pk),
        representative=Representative.objects.get(name="演示代表·陈明"),
        data=reporter_data(**overrides),
    )


def test_every_shenzhen_community_keeps_the_prefix_of_the_paper_form() -> None:
    import_files([SHENZHEN_CSV])
    with SHENZHEN_CSV.open(encoding="utf-8") as text:
        expected = {row["community_code"]: row["street"] + short_name_of(row["community"])
                    for row in csv.DictReader(text)}  # fmt: skip
    found = dict(OrgUnit.objects.filter(code__in=expected).values_list("code", "number_prefix"))
    assert len(expected) == 788
    assert found == expected


def test_the_same_street_and_name_in_two_counties_are_two_sequences(
    world: Any, tmp_path: Path
) -> None:
    import_national(tmp_path, FIRST + SECOND)
    first, second = studio_at("510112101201"), studio_at("510121101201")
    assert number_prefix(first) == "太平镇太平村"
    assert number_prefix(second) == "金堂县太平镇太平村"
    numbers = [register_at(studio).number for studio in (first, second, second, first)]
    assert numbers == [
        "太平镇太平村2026001",
        "金堂县太平镇太平村2026001",
        "金堂县太平镇太平村2026002",
        "太平镇太平村2026002",
    ]
    counters = dict(CaseNumberCounter.objects.values_list("prefix", "last_serial"))
    assert counters["太平镇太平村"] == 2 and counters["金堂县太平镇太平村"] == 2


def test_a_later_import_of_a_clashing_community_leaves_the_existing_prefix(
    world: Any, tmp_path: Path
) -> None:
    import_national(tmp_path, SECOND)
    studio = studio_at("510121101201")
    assert register_at(studio).number == "太平镇太平村2026001"
    import_national(tmp_path, FIRST + SECOND)
    newcomer = OrgUnit.objects.get(code="510112101201")
    assert newcomer.number_prefix == "龙泉驿区太平镇太平村"
    assert OrgUnit.objects.get(code="510121101201").number_prefix == "太平镇太平村"
    assert register_at(studio).number == "太平镇太平村2026002"
    assert register_at(studio_at("510112101201")).number == "龙泉驿区太平镇太平村2026001"


def test_a_reimport_renames_a_prefix_never_numbered_under_and_keeps_a_numbered_one(
    world: Any, tmp_path: Path
) -> None:
    import_national(tmp_path, FIRST + SECOND)
    assert register_at(studio_at("510112101201")).number == "太平镇太平村2026001"
    renamed = FIRST.replace("太平村委会", "太和村委会") + SECOND.replace("太平村", "太和村")
    import_national(tmp_path, renamed)
    prefixes = dict(
        OrgUnit.objects.filter(code__startswith="51").values_list("code", "number_prefix")
    )
    assert prefixes["510112101201"] == "太平镇太平村"  # numbered: kept
    assert prefixes["510121101201"] == "太平镇太和村"  # never numbered: follows the name


def test_a_community_added_by_hand_gets_the_longer_form_too(world: Any) -> None:
    existing = OrgUnit.objects.get(code="440308003006")
    street = OrgUnit.objects.get(code="440308003")
    assert street.district_id is not None
    other_district = OrgUnit.objects.filter(level=Level.DISTRICT).exclude(pk=street.district_id)[0]
    twin_street = OrgUnit(name=street.name, short_name=street.name, level=Level.STREET)
    twin_street.set_ancestors_from(other_district)
    twin_street.save()
    twin = OrgUnit(name=existing.name, short_name=existing.short_name, level=Level.COMMUNITY)
    twin.set_ancestors_from(twin_street)
    twin.save()
    assert existing.number_prefix == f"{street.name}{existing.short_name}"
    assert twin.number_prefix == f"{other_district.name}{existing.number_prefix}"
    assert twin_street.number_prefix is None  # only communities are numbered by unit


def test_a_prefix_follows_a_rename_until_a_case_is_numbered_then_never(world: Any) -> None:
    unit = OrgUnit.objects.get(code="440308003006")
    studio = Studio.objects.get(unit=unit)
    unit.short_name = "沙头角新社区"
    unit.save()
    assert unit.number_prefix == "沙头角街道沙头角新社区"
    assert register_at(studio).number == "沙头角街道沙头角新社区2026001"
    unit.short_name = "中英街社区"
    unit.save()
    unit.refresh_from_db()
    assert unit.number_prefix == "沙头角街道沙头角新社区"
    assert register_at(studio).number == "沙头角街道沙头角新社区2026002"


def test_after_a_merge_the_studio_numbers_as_the_target_and_the_source_keeps_its_prefix(
    world: Any,
) -> None:
    source = OrgUnit.objects.get(code="440308003006")
    target = OrgUnit.objects.filter(level=Level.COMMUNITY, street=source.street_id).exclude(
        pk=source.pk
    )[0]
    studio = Studio.objects.get(unit=source)
    old = register_at(studio)
    unit_merge(source=source, target=target)
    source.refresh_from_db()
    assert source.number_prefix == old.number_prefix  # retired, still reserved
    moved = register_at(studio)
    assert moved.number_prefix == target.number_prefix != old.number_prefix
    assert Case.objects.get(pk=old.pk).number == old.number


def test_a_longer_form_skips_repeated_names_and_runs_out_into_numbers() -> None:
    names = ["东城街道", "东莞市", "东莞市", "广东省"]
    assert list(zip(range(5), candidates("兴塘社区", names), strict=False)) == [
        (0, "东城街道兴塘社区"),
        (1, "东莞市东城街道兴塘社区"),
        (2, "广东省东莞市东城街道兴塘社区"),
        (3, "广东省东莞市东城街道兴塘社区（2）"),
        (4, "广东省东莞市东城街道兴塘社区（3）"),
    ]
    assert list(candidates("兴塘社区", [None, "东莞市"])) == []


def test_the_migration_keeps_todays_prefixes_and_gives_the_sharers_their_own(
    world: Any, tmp_path: Path
) -> None:
    """Before the field, both 太平村 were numbered 太平镇太平村…, from one counter: the
    one numbered first keeps the prefix, the other's next numbers are its own."""
    import_national(tmp_path, FIRST + SECOND)
    first, second = studio_at("510112101201"), studio_at("510121101201")
    OrgUnit.objects.filter(code="510112101201").update(number_prefix=None)
    OrgUnit.objects.filter(code="510121101201").update(number_prefix="太平镇太平村")
    shared = register_at(second)  # the second county's was numbered first
    OrgUnit.objects.update(number_prefix=None)
    fill = migration_fill()
    fill(apps, connection.schema_editor())
    prefixes = dict(OrgUnit.objects.filter(level="community").values_list("code", "number_prefix"))
    assert prefixes["510121101201"] == "太平镇太平村"
    assert prefixes["510112101201"] == "龙泉驿区太平镇太平村"
    assert prefixes["440308003006"] == "沙头角街道沙头角社区"
    assert register_at(second).number == "太平镇太平村2026002"
    assert register_at(first).number == "龙泉驿区太平镇太平村2026001"
    assert Case.objects.get(pk=shared.pk).number == "太平镇太平村2026001"


def migration_fill() -> Any:
    from importlib import import_module

    return import_module("minyi.org.migrations.0003_community_number_prefix").fill
