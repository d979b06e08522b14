"""Seeding from chinesecalendar: complete, idempotent, and never over an admin's edits."""

from __future__ import annotations

from datetime import date
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from minyi.workdays.calendar import add_workdays
from minyi.workdays.models import CalendarYear, DayKind, SpecialDay
from minyi.workdays.seeding import package_years

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list, list]:
    years = list(CalendarYear.objects.order_by("year").values_list("year", "complete", "source"))
    days = list(SpecialDay.objects.order_by("date").values_list("date", "kind", "name"))
    return years, days


def test_the_migration_seeded_every_package_year_as_complete():
    years = package_years()
    assert list(CalendarYear.objects.order_by("year").values_list("year", flat=True)) == list(years)
    assert not CalendarYear.objects.filter(complete=False).exists()
    assert "chinesecalendar" in CalendarYear.objects.get(year=2026).source
    assert SpecialDay.objects.filter(kind=DayKind.HOLIDAY).count() == len(chinese_calendar.holidays)
    # Make-up days would be lost through get_workdays(include_weekends=False); not here.
    assert set(
        SpecialDay.objects.filter(kind=DayKind.MAKEUP_WORKDAY).values_list("date", flat=True)
    ) == set(chinese_calendar.workdays)


def test_seeded_2026_schedule_matches_the_package():
    days = dict(SpecialDay.objects.filter(date__year=2026).values_list("date", "name"))
    assert days[date(2026, 2, 15)] == days[date(2026, 2, 23)] == "春节"
    assert days[date(2026, 6, 19)] == "端午节"
    assert days[date(2026, 9, 25)] == "中秋节"
    makeup = SpecialDay.objects.filter(date__year=2026, kind=DayKind.MAKEUP_WORKDAY)
    assert sorted(makeup.values_list("date", flat=True)) == sorted(
        d for d in chinese_calendar.workdays if d.year == 2026
    )


def test_every_seeded_day_agrees_with_the_package():
    for d, kind in SpecialDay.objects.values_list("date", "kind"):
        assert chinese_calendar.is_workday(d) is (kind == DayKind.MAKEUP_WORKDAY)


def test_reseeding_changes_nothing(recomputed_years):
    before = snapshot()
    call_command("seed_workdays", stdout=StringIO())
    call_command("seed_workdays", stdout=StringIO())
    assert snapshot() == before
    assert recomputed_years == []


def test_reseeding_keeps_an_administrators_corrections(recomputed_years):
    # Say the administrator learned that 2025-10-08 was worked after all, renamed a
    # holiday, and unticked 2024 while re-checking it.
    SpecialDay.objects.filter(date=date(2025, 10, 8)).delete()
    SpecialDay.objects.filter(date=date(2025, 10, 6)).update(name="中秋节（已核对）")
    CalendarYear.objects.filter(year=2024).update(complete=False)
    corrected = snapshot()

    call_command("seed_workdays", stdout=StringIO())

    assert snapshot() == corrected
    assert add_workdays(date(2025, 9, 30), 1).due == date(2025, 10, 8)
    assert recomputed_years == []


def test_seeding_recreates_a_deleted_year_and_announces_it(recomputed_years):
    CalendarYear.objects.filter(year=2025).delete()  # cascades to its days
    assert add_workdays(date(2025, 9, 26), 10).provisional

    call_command("seed_workdays", stdout=StringIO())

    assert CalendarYear.objects.get(year=2025).complete
    assert add_workdays(date(2025, 9, 26), 10).due == date(2025, 10, 16)
    assert recomputed_years == [2025]


def test_fill_year_only_adds_missing_days_and_keeps_the_flag(recomputed_years):
    SpecialDay.objects.filter(date__in=[date(2026, 10, 1), date(2026, 10, 2)]).delete()
    SpecialDay.objects.filter(date=date(2026, 10, 3)).update(name="改过的名字")
    CalendarYear.objects.filter(year=2026).update(complete=False)

    out = StringIO()
    call_command("seed_workdays", "--fill-year", "2026", stdout=out)

    assert "补入2天" in out.getvalue()
    assert SpecialDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert SpecialDay.objects.get(date=date(2026, 10, 3)).name == "改过的名字"
    assert CalendarYear.objects.get(year=2026).complete is False
    assert recomputed_years == []  # the year is still incomplete: nothing to recompute


def test_fill_year_refuses_a_year_the_package_does_not_know(unknown_year):
    with pytest.raises(CommandError, match="没有2031年的数据"):
        call_command("seed_workdays", "--fill-year", str(unknown_year), stdout=StringIO())
