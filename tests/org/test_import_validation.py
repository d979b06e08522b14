"""Files the import refuses, rows it reports, and what --skip-invalid still imports."""

import gzip
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from minyi.org.models import Delegation, OrgDepartment, OrgUnit
from tests.org.divisions import (
    SAMPLE_DIR,
    SHENZHEN_CSV,
    import_divisions,
    shenzhen_lines,
    write_lines,
)

pytestmark = pytest.mark.django_db


def broken_shenzhen(tmp_path: Path) -> Path:
    """The real table with three bad rows, at file lines 3, 10 and 20."""
    lines = shenzhen_lines()
    lines[2] = lines[2].replace("440303001002", "44030300100X")
    lines[9] = lines[9].rsplit(",", 1)[0] + ","
    lines[19] = lines[19].rsplit(",", 1)[0]
    return write_lines(tmp_path / "broken.csv", lines)


def test_it_rejects_a_file_with_the_wrong_header_naming_the_expected_columns(
    tmp_path: Path,
) -> None:
    lines = shenzhen_lines()
    lines[0] = "区代码,区,街道代码,街道,社区代码,社区"
    with pytest.raises(CommandError) as error:
        import_divisions(write_lines(tmp_path / "header.csv", lines))
    message = str(error.value)
    assert "表头不对" in message
    assert "district_code,district,street_code,street,community_code,community" in message
    assert "code,name,streetCode,provinceCode,cityCode,areaCode" in message
    assert not OrgUnit.objects.exists()


def test_a_wrong_header_in_any_file_stops_the_whole_batch(tmp_path: Path) -> None:
    bad = write_lines(tmp_path / "bad.csv", ["code;name", "11;北京市"])
    with pytest.raises(CommandError, match="表头不对"):
        import_divisions(SHENZHEN_CSV, bad)
    assert not OrgUnit.objects.exists()


def test_it_reports_broken_rows_by_line_and_imports_nothing(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as error:
        import_divisions(broken_shenzhen(tmp_path))
    message = str(error.value)
    assert "发现 3 行有问题，未导入任何数据" in message
    assert "broken.csv 第 3 行：社区代码“44030300100X”应为 12 位数字" in message
    assert "第 10 行：社区名称为空" in message
    assert "第 20 行：应有 6 列，实际 5 列" in message
    assert "--skip-invalid" in message
    assert not OrgUnit.objects.exists()
    assert not OrgDepartment.objects.exists()


def test_skip_invalid_imports_only_the_good_rows_and_lists_the_bad(tmp_path: Path) -> None:
    out = import_divisions(broken_shenzhen(tmp_path), skip_invalid=True)
    assert "已跳过 3 行" in out
    assert "第 3 行" in out
    assert "第 10 行" in out
    assert "第 20 行" in out
    assert OrgUnit.objects.communities().count() == 785
    assert Delegation.objects.count() == 11


def test_it_lists_at_most_fifty_bad_rows_then_the_total(tmp_path: Path) -> None:
    lines = shenzhen_lines()
    for i in range(1, 61):
        lines[i] = lines[i].replace(",440303", ",990303")
    with pytest.raises(CommandError) as error:
        import_divisions(write_lines(tmp_path / "many.csv", lines))
    message = str(error.value)
    assert "第 51 行" in message
    assert "第 52 行" not in message
    assert "…共 60 行" in message


def test_a_street_not_under_its_district_code_is_reported(tmp_path: Path) -> None:
    lines = shenzhen_lines()
    lines[1] = lines[1].replace("440303,罗湖区,440303001", "440303,罗湖区,440304001")
    with pytest.raises(CommandError) as error:
        import_divisions(write_lines(tmp_path / "prefix.csv", lines))
    assert "第 2 行：街道代码“440304001”不在上级代码“440303”之下" in str(error.value)


def test_one_code_given_two_names_is_reported(tmp_path: Path) -> None:
    lines = shenzhen_lines()
    lines[5] = lines[5].replace("桂园街道", "桂圆街道")
    with pytest.raises(CommandError) as error:
        import_divisions(write_lines(tmp_path / "twice.csv", lines))
    assert "第 6 行：街道代码“440303001”与第 2 行的名称或上级不同" in str(error.value)


def test_a_national_row_with_an_unknown_parent_is_reported(tmp_path: Path) -> None:
    villages = tmp_path / "villages.csv.gz"
    with gzip.open(villages, "wt", encoding="utf-8") as out:
        out.write("code,name,streetCode,provinceCode,cityCode,areaCode\n")
        out.write('440308003006,"沙头角居委会",440308003,44,4403,440308\n')
        out.write('440308009001,"不存在居委会",440308009,44,4403,440308\n')
        out.write('440308001002,"小梅沙居委会",440308003,44,4403,440308\n')
    files = [SAMPLE_DIR / f for f in ("provinces.csv", "cities.csv", "areas.csv")]
    with pytest.raises(CommandError) as error:
        import_divisions(*files, SAMPLE_DIR / "streets.csv.gz", villages)
    message = str(error.value)
    assert "villages.csv.gz 第 3 行：社区的上级代码“440308009”不存在" in message
    assert "第 4 行：社区代码“440308001002”不在上级代码“440308003”之下" in message
    assert not OrgUnit.objects.exists()


def test_it_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"找不到文件：.*nowhere\.csv"):
        import_divisions(tmp_path / "nowhere.csv")


def test_it_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("\n".join(shenzhen_lines()[:3]).encode("gbk"))
    with pytest.raises(CommandError, match="UTF-8"):
        import_divisions(path)
    assert not OrgUnit.objects.exists()
