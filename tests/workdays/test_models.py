from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from minyi.workdays.models import CalendarYear, DayKind, SpecialDay

pytestmark = pytest.mark.django_db


def test_a_makeup_workday_must_be_on_a_weekend():
    day = SpecialDay(date=date(2031, 10, 8), kind=DayKind.MAKEUP_WORKDAY, name="国庆节")
    with pytest.raises(ValidationError) as error:
        day.full_clean()
    assert error.value.message_dict["date"] == [
        "调休上班日必须是周六或周日；工作日本来就要上班，请检查日期。"
    ]


def test_a_holiday_may_be_any_day():
    SpecialDay(date=date(2031, 10, 4), kind=DayKind.HOLIDAY, name="国庆节").full_clean()
    SpecialDay(date=date(2031, 10, 6), kind=DayKind.HOLIDAY, name="国庆节").full_clean()


def test_one_row_per_date_in_the_database():
    with pytest.raises(IntegrityError):
        SpecialDay.objects.create(date=date(2025, 10, 1), kind=DayKind.HOLIDAY, name="重复")


def test_kind_is_checked_in_the_database():
    with pytest.raises(IntegrityError):
        SpecialDay.objects.create(date=date(2031, 10, 1), kind="vacation", name="国庆节")


def test_year_is_derived_from_the_date_and_follows_it():
    day = SpecialDay.objects.create(date=date(2031, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    assert day.calendar_year.year == 2031
    assert day.calendar_year.complete is False
    day.date = date(2032, 1, 1)
    day.save()
    day.refresh_from_db()
    assert day.calendar_year.year == 2032


def test_one_calendar_year_row_per_year():
    with pytest.raises(IntegrityError):
        CalendarYear.objects.create(year=2025)


def test_year_range_is_checked_in_the_database():
    with pytest.raises(IntegrityError):
        CalendarYear.objects.create(year=20025)
