"""A year the package does not know: weekends only, flagged provisional, never a crash;
once an administrator enters and completes it, deadlines become final and change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from minyi.workdays.calendar import add_workdays, describe_missing_years, missing_calendar_years
from minyi.workdays.models import CalendarYear, DayKind, SpecialDay
from minyi.workdays.seeding import package_years
from minyi.workdays.services import mark_year_complete

pytestmark = pytest.mark.django_db

D = date.fromisoformat


def weekends_only_due(received: date, n: int) -> date:
    day, counted = received, 0
    while counted < n:
        day += timedelta(days=1)
        counted += day.weekday() < 5
    return day


def test_unknown_year_counts_weekends_only_and_says_so(unknown_year):
    received = date(unknown_year, 9, 26)  # a Friday in 2031
    deadline = add_workdays(received, 10)
    assert deadline.due == weekends_only_due(received, 10) == D("2031-10-10")
    assert deadline.provisional
    assert deadline.missing_years == (unknown_year,)
    assert all(reason == "周末" for _, reason in deadline.skipped)


def test_first_year_after_the_package_data_is_provisional():
    # Whatever the package version, the year after its last one is unknown.
    first_unknown = package_years().stop
    received = date(first_unknown - 1, 12, 31)
    deadline = add_workdays(received, 10)
    assert deadline.provisional
    assert deadline.missing_years == (first_unknown,)
    # The known December days still count by the real calendar: only new year is guessed.
    assert deadline.due.year == first_unknown


def test_crossing_into_2027_with_chinesecalendar_1_11():
    if 2027 in package_years():
        pytest.skip("this chinesecalendar knows 2027")
    deadline = add_workdays(D("2026-12-31"), 10)
    assert (deadline.due, deadline.provisional, deadline.missing_years) == (
        D("2027-01-14"),
        True,
        (2027,),
    )


def test_a_deadline_inside_a_known_year_ignores_unknown_years_elsewhere(unknown_year):
    assert not add_workdays(D("2026-12-01"), 10).provisional


def test_half_entered_year_stays_weekends_only_until_complete(unknown_year):
    received = date(unknown_year, 9, 26)
    SpecialDay.objects.create(date=date(unknown_year, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
    # The year row was created by entering the day, and is not complete yet.
    assert CalendarYear.objects.get(year=unknown_year).complete is False
    deadline = add_workdays(received, 10)
    assert deadline.due == D("2031-10-10")
    assert deadline.provisional


def test_entering_the_year_makes_the_deadline_final_and_moves_it(unknown_year, recomputed_years):
    received = date(unknown_year, 9, 26)
    before = add_workdays(received, 10)
    assert missing_calendar_years([unknown_year]) == (unknown_year,)
    assert "2031年的节假日安排尚未完整录入" in describe_missing_years(before.missing_years)

    # An assumed 2031 National Day schedule, entered as an administrator would.
    for day in range(1, 8):
        SpecialDay.objects.create(
            date=date(unknown_year, 10, day), kind=DayKind.HOLIDAY, name="国庆节"
        )
    SpecialDay.objects.create(
        date=date(unknown_year, 9, 27), kind=DayKind.MAKEUP_WORKDAY, name="国庆节"
    )
    mark_year_complete(unknown_year, source="测试：假定的2031年安排")

    after = add_workdays(received, 10)
    assert not after.provisional
    assert after.missing_years == ()
    # Sat 09-27 now counts, 10-01..10-07 do not: 09-27, 09-29, 09-30, 10-08..10-10,
    # 10-13..10-16.
    assert after.due == D("2031-10-16") != before.due
    assert missing_calendar_years([unknown_year]) == ()
    assert recomputed_years == [unknown_year]
