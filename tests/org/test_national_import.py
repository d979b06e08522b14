"""The national per-level files: a small sample always, the full 620,573 villages on
request (MINYI_SCALE_TESTS=1)."""

import os
import time
from pathlib import Path

import pytest

from minyi.org.models import Delegation, Kind, Level, OrgDepartment, OrgUnit
from tests.org.divisions import (
    NATIONAL_DIR,
    NATIONAL_FILES,
    SAMPLE_DIR,
    SHENZHEN_CSV,
    import_divisions,
)

pytestmark = pytest.mark.django_db

SAMPLE = [SAMPLE_DIR / name for name in NATIONAL_FILES]


def test_it_imports_a_national_sample_through_the_command() -> None:
    out = import_divisions(*SAMPLE)
    assert "省：新建 2" in out
    assert "社区：新建 8，更新 0，未变 0" in out
    counts = {level: OrgUnit.objects.filter(level=level).count() for level in Level}
    assert counts == {"province": 2, "city": 2, "district": 3, "street": 6, "community": 8}
    village = OrgUnit.objects.get(code="110111001200")
    assert (village.name, village.short_name) == ("顾册村委会", "顾册村")
    assert [a.code for a in village.ancestors()] == ["11", "1101", "110111", "110111001"]
    assert village.parent == village.street
    assert OrgUnit.objects.get(code="440308403").kind == Kind.FUNCTIONAL_ZONE
    assert OrgUnit.objects.get(code="440308003").kind == Kind.ORDINARY


def test_the_files_may_be_given_in_any_order() -> None:
    import_divisions(*reversed(SAMPLE))
    assert OrgUnit.objects.communities().count() == 8


def test_a_second_national_run_changes_nothing() -> None:
    import_divisions(*SAMPLE)
    before = list(OrgUnit.objects.order_by("pk").values_list())
    out = import_divisions(*SAMPLE)
    assert list(OrgUnit.objects.order_by("pk").values_list()) == before
    assert "社区：新建 0，更新 0，未变 8" in out


def test_the_national_import_creates_no_departments_or_delegations() -> None:
    import_divisions(*SAMPLE)
    assert not OrgDepartment.objects.exists()
    assert not Delegation.objects.exists()
    assert not OrgUnit.objects.filter(name="大鹏新区").exists()


def test_shenzhen_and_national_files_share_units_by_code() -> None:
    import_divisions(*SAMPLE)
    shatoujiao = OrgUnit.objects.get(code="440308003")
    out = import_divisions(SHENZHEN_CSV)
    assert OrgUnit.objects.get(code="440308003").pk == shatoujiao.pk
    assert "社区：新建 785，更新 0，未变 3" in out
    assert OrgUnit.objects.filter(code__startswith="4403", level=Level.COMMUNITY).count() == 788
    assert OrgUnit.objects.communities().count() == 788 + 5


def test_a_later_national_import_keeps_the_dapeng_streets_moved(tmp_path: Path) -> None:
    import_divisions(SHENZHEN_CSV)
    streets = tmp_path / "streets.csv"
    streets.write_text(
        'code,name,areaCode,provinceCode,cityCode\n440307009,"葵涌街道",440307,44,4403\n',
        encoding="utf-8",
    )
    villages = tmp_path / "villages.csv"
    villages.write_text(
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '440307009999,"新设居委会",440307009,44,4403,440307\n',
        encoding="utf-8",
    )
    out = import_divisions(streets, villages)
    assert "街道：新建 0，更新 0，未变 1" in out
    kuichong = OrgUnit.objects.get(code="440307009")
    assert kuichong.parent and kuichong.district
    assert kuichong.parent.name == kuichong.district.name == "大鹏新区"
    new = OrgUnit.objects.get(code="440307009999")
    assert (new.short_name, new.street, new.district) == ("新设社区", kuichong, kuichong.parent)


@pytest.mark.slow
# Committed for real, so that PostgreSQL's deferred foreign-key checks are timed too.
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    os.environ.get("MINYI_SCALE_TESTS") != "1", reason="set MINYI_SCALE_TESTS=1 to run"
)
def test_it_imports_all_national_villages_in_under_two_minutes() -> None:
    start = time.monotonic()
    out = import_divisions(*(NATIONAL_DIR / name for name in NATIONAL_FILES))
    elapsed = time.monotonic() - start
    assert "社区：新建 620573，更新 0，未变 0" in out
    assert OrgUnit.objects.filter(level=Level.STREET).count() == 41352
    assert elapsed < 120, f"took {elapsed:.0f} s"
