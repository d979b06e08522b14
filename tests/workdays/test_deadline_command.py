"""`manage.py deadline DATE N [--explain]`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("deadline", *args, stdout=out)
    return out.getvalue().splitlines()


def test_prints_only_the_due_date():
    assert run("2025-09-26", "10") == ["2025-10-16"]


def test_marks_a_provisional_result(unknown_year):
    assert run(f"{unknown_year}-09-26", "10") == [f"{unknown_year}-10-10 provisional"]


def test_explain_lists_each_day_and_why():
    lines = run("2025-09-26", "10", "--explain")
    assert lines[0] == "2025-10-16"
    assert lines[1:] == [
        "2025-09-27 周六 不计：周末",
        "2025-09-28 周日 计入：调休上班：国庆节",
        "2025-10-01 周三 不计：法定节假日：国庆节",
        "2025-10-02 周四 不计：法定节假日：国庆节",
        "2025-10-03 周五 不计：法定节假日：国庆节",
        "2025-10-04 周六 不计：法定节假日：国庆节",
        "2025-10-05 周日 不计：法定节假日：国庆节",
        "2025-10-06 周一 不计：法定节假日：中秋节",
        "2025-10-07 周二 不计：法定节假日：国庆节",
        "2025-10-08 周三 不计：法定节假日：国庆节",
        "2025-10-11 周六 计入：调休上班：国庆节",
        "2025-10-12 周日 不计：周末",
    ]


def test_explain_names_the_missing_year(unknown_year):
    lines = run(f"{unknown_year}-09-26", "10", "--explain")
    assert lines[0] == f"{unknown_year}-10-10 provisional"
    assert lines[-1].startswith(f"{unknown_year}年的节假日安排尚未完整录入")
    assert f"{unknown_year}-09-27 周六 不计：周末" in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2025-13-01", "10"), "收到日期“2025-13-01”无效"),
        (("2025-02-30", "10"), "收到日期“2025-02-30”无效"),
        (("20250926", "10"), "请按 YYYY-MM-DD 填写"),
        (("yesterday", "10"), "请按 YYYY-MM-DD 填写"),
        (("2025-09-26", "ten"), "工作日数“ten”不是整数"),
        (("2025-09-26", "0"), "工作日数必须不小于 1"),
        (("2025-09-26", "-3"), "工作日数必须不小于 1"),
        (("2025-09-26", "100000"), "过大"),
        (("9999-12-31", "1"), "超出可计算的日期范围"),
    ],
)
def test_bad_input_is_a_clear_chinese_error(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
